// Part of `npm run build`: the seed a new embedded database starts from (src/db/create-db.ts,
// PGLITE_SEED) — a PGlite cluster initialised and migrated here, in memory, and dumped to
// dist/pglite-seed.tar.gz. It holds the schema and the reference data of the migrations, nothing of an
// installation's own (keys, the secrets key and complaints are made at first start).
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
const dump = await pglite.dumpDataDir('gzip')
writeFileSync(PGLITE_SEED, Buffer.from(await dump.arrayBuffer()))
await db.destroy()
console.log(`embedded database seed: ${applied.length} migrations, ${(dump.size / 2 ** 20).toFixed(1)} MB, ${Math.round(performance.now() - started)} ms`)
