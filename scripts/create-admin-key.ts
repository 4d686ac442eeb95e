// npm run create-admin-key [-- "name"]: creates an admin API key and prints it once.
// On the embedded database stop the service first (PGlite allows one process per data directory).
import { insertKey } from '../src/access/keys.js'
import { audited } from '../src/audit/audit.js'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/open.js'

const name = process.argv[2] ?? 'admin (create-admin-key)'
const handle = await openDatabase(loadConfig())
const now = new Date()
const context = { actor: { type: 'system' as const, id: null, role: null, name: 'npm run create-admin-key' }, operation: 'createApiKey', requestId: null }
const { secret, id } = await audited(handle.db, context, now, async (trx) => {
  const { row, secret } = await insertKey(trx, { name, role: 'admin' }, now, null)
  return { result: { secret, id: row.id }, change: { entityType: 'api_key', entityId: row.id, before: null, after: { id: row.id, name, role: 'admin' } } }
})
await handle.close()
console.log(`created admin key ${id} (${name}); it is shown only now:\n${secret}`)
