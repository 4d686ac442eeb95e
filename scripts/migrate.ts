// npm run migrate: applies pending migrations to DATABASE_URL, or to the PGlite data directory
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/open.js'
import { migrateToLatest } from '../src/db/migrate.js'

const config = loadConfig()
const handle = await openDatabase(config)
// openDatabase already migrated; a second run proves nothing is left pending
const left = await migrateToLatest(handle.db, handle.schema)
console.log(`${handle.backend}: migrations up to date${left.length ? ` (applied ${left.join(', ')})` : ''}`)
await handle.close()
