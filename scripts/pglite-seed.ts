// Part of `npm run build`: the seed a new embedded database starts from (src/db/create-db.ts,
// PGLITE_SEED) — a PGlite cluster initialised and migrated here, in memory, and dumped to
// dist/pglite-seed.tar.gz. It holds the schema and the reference data of the migrations, nothing of an
// installation's own (keys, the secrets key and complaints are made at first start), and no template
// databases. Made again only when what it is made from changed (below): the build runs in tests while
// other tests start databases from the seed, and both files are replaced whole (replaceFile).
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { Kysely } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import { PGLITE_SEED } from '../src/db/create-db.js'
import { migrateToLatest } from '../src/db/migrate.js'
import type { Database } from '../src/db/types.js'
import { BUILD_DIR } from '../src/layout.js'
import { replaceFile } from './replace-file.js'

const started = performance.now()
/**
 * What the seed is made from, as one digest: the PGlite and Kysely releases, the compiled migrations,
 * the code that applies them and this script. The same digest as the last seed's: nothing to do (a
 * build with nothing changed takes 5 s instead of 11: `npm ci`'s build is followed by the one that
 * test/process/npm-scripts.test.ts starts).
 */
const compiled = (...parts: string[]) => path.join(BUILD_DIR, ...parts)
const migrationsDir = compiled('migrations')
const files = [
  ...readdirSync(migrationsDir).filter((f) => f.endsWith('.js')).sort().map((f) => path.join(migrationsDir, f)),
  compiled('src', 'db', 'migrate.js'),
  compiled('src', 'db', 'migration-provider.js'),
  fileURLToPath(import.meta.url),
]
/** an installed package's version, from the package.json above its entry point (not every package exports it) */
function versionOf(name: string): string {
  for (let dir = path.dirname(createRequire(import.meta.url).resolve(name)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json')
    const pkg = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version: string } : null
    if (pkg?.name === name) return pkg.version
  }
  throw new Error(`no package.json of ${name} above its entry point`)
}
const digest = createHash('sha256')
for (const name of ['@electric-sql/pglite', 'kysely']) digest.update(`${name} ${versionOf(name)}\0`)
for (const file of files) digest.update(`${path.relative(BUILD_DIR, file)}\0${readFileSync(file, 'utf8')}\0`)
const stamp = `${digest.digest('hex')}\n`
const STAMP = `${PGLITE_SEED}.inputs`
if (existsSync(PGLITE_SEED) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === stamp) {
  console.log(`embedded database seed: unchanged (${path.relative(process.cwd(), STAMP)})`)
  process.exit(0)
}

const pglite = await PGlite.create()
const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) })
const applied = await migrateToLatest(db)
// The service lives in the database `postgres`; the template databases are there only for CREATE
// DATABASE, which an embedded installation never runs. Each is some 300 files that a first start would
// write into the new data directory, on a file system where opening a file is slow: without them the
// seed is 593 files instead of 1,199 and a first start to ready took 2.8 s instead of 3.4 s (medians of
// 5, alternated; README: Performance).
for (const name of ['template0', 'template1']) {
  await pglite.query(`alter database ${name} is_template false`)
  await pglite.query(`drop database ${name}`)
}
const dump = await pglite.dumpDataDir('gzip')
replaceFile(PGLITE_SEED, Buffer.from(await dump.arrayBuffer()))
replaceFile(STAMP, stamp)
await db.destroy()
console.log(`embedded database seed: ${applied.length} migrations, ${(dump.size / 2 ** 20).toFixed(1)} MB, ${Math.round(performance.now() - started)} ms`)
