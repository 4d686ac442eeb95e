// npm run create-admin-key [-- "name"]: creates an admin API key and prints it once.
// On the embedded database stop the service first (PGlite allows one process per data directory).
import { insertKey } from '../src/access/keys.js'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/open.js'

const name = process.argv[2] ?? 'admin (create-admin-key)'
const handle = await openDatabase(loadConfig())
const { secret, row } = await handle.db.transaction().execute((trx) => insertKey(trx, { name, role: 'admin' }, new Date(), null))
await handle.close()
console.log(`created admin key ${row.id} (${name}); it is shown only now:\n${secret}`)
