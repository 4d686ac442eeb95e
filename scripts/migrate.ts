// npm run migrate: applies pending migrations to DATABASE_URL, or to the PGlite data directory,
// and names what it applied
import { loadConfig } from '../src/config.js'
import { migrationNames } from '../src/db/migrate.js'
import { openDatabase } from '../src/db/open.js'

const handle = await openDatabase(loadConfig())
// a new embedded database starts from the install-time seed: say so, and which migrations it brought
const seeded = handle.seeded ? (await migrationNames(handle.db)).filter((name) => !handle.applied.includes(name)) : []
await handle.close()
const list = (names: string[]) => names.map((name) => `  ${name}`)
const plural = (n: number) => `${n} migration${n === 1 ? '' : 's'}`
console.log([
  ...(seeded.length > 0 ? [`${handle.backend}: created a new database from the install-time seed, with ${plural(seeded.length)}:`, ...list(seeded)] : []),
  ...(handle.applied.length > 0 ? [`${handle.backend}: applied ${plural(handle.applied.length)}:`, ...list(handle.applied)]
    : [`${handle.backend}: nothing ${seeded.length > 0 ? 'more ' : ''}to apply, the database is up to date`]),
].join('\n'))
