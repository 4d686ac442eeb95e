// npm run migrate: applies pending migrations to DATABASE_URL, or to the PGlite data directory,
// and names what it applied
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/open.js'

const handle = await openDatabase(loadConfig())
await handle.close()
console.log(handle.applied.length > 0
  ? [`${handle.backend}: applied ${handle.applied.length} migration${handle.applied.length === 1 ? '' : 's'}:`, ...handle.applied.map((name) => `  ${name}`)].join('\n')
  : `${handle.backend}: nothing to apply, the database is up to date`)
