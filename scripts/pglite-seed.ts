// Part of `npm run build`: the seed a new embedded database starts from (src/db/create-db.ts,
// PGLITE_SEED) — a PGlite cluster initialised and migrated here, in memory, and dumped to
// dist/pglite-seed.tar.gz. It holds the schema and the reference data of the migrations, nothing of an
// installation's own (keys, the secrets key and complaints are made at first start), and no template
// databases.
import { writeFileSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { Kysely } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import { PGLITE_SEED } from '../src/db/create-db.js'
import { migrateToLatest } from '../src/db/migrate.js'
import type { Database } from '../src/db/types.js'

const started = performance.now()
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
writeFileSync(PGLITE_SEED, Buffer.from(await dump.arrayBuffer()))
await db.destroy()
console.log(`embedded database seed: ${applied.length} migrations, ${(dump.size / 2 ** 20).toFixed(1)} MB, ${Math.round(performance.now() - started)} ms`)
