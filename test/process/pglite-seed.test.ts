import { spawn } from 'node:child_process'
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import t from 'tap'
import { createDb, PGLITE_SEED } from '../../src/db/create-db.js'
import { migrateToLatest, migrationsPending } from '../../src/db/migrate.js'
import { BUILD_DIR } from '../../src/layout.js'

/**
 * A new embedded data directory starts from the seed `npm run build` makes (dist/pglite-seed.tar.gz)
 * instead of running initdb: it ends up migrated and holding the migrations' reference data, keeps
 * what is written to it, and a directory that already holds a database is opened, never re-seeded.
 */
t.test('a new data directory starts from the install-time seed, is migrated, and keeps its data', async (t) => {
  t.ok(existsSync(PGLITE_SEED), `npm run build (run by npm ci) made the seed, ${PGLITE_SEED}`)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seed-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))

  const first = await createDb({ dataDir: dir })
  t.ok(existsSync(path.join(dir, 'PG_VERSION')), 'the directory holds a cluster')
  t.same(await migrationsPending(first.db), [], 'the seed is migrated to the latest migration')
  t.same(await migrateToLatest(first.db), [], 'so opening applies nothing')
  const databases = await sql<{ datname: string }>`select datname from pg_database order by datname`.execute(first.db)
  t.same(databases.rows.map((r) => r.datname), ['postgres'], 'no template databases: nothing in an embedded installation creates a database')
  t.equal(readdirSync(path.join(dir, 'base')).length, 1, 'so the directory holds the files of one database')
  const policies = await sql<{ n: number }>`select count(*)::int as n from sla_policies`.execute(first.db)
  t.equal(policies.rows[0]!.n, 1, 'with the reference data the migrations insert')
  await sql`insert into departments (id, name, name_zh) values ('seed-test', 'Seed test', '种子测试')`.execute(first.db)
  await first.close()

  const again = await createDb({ dataDir: dir })
  const kept = await sql<{ n: number }>`select count(*)::int as n from departments where id = 'seed-test'`.execute(again.db)
  t.equal(kept.rows[0]!.n, 1, 'reopened, not re-seeded: what was written is there')
  await again.close()
})

t.test('a start stopped while the seed was being written seeds again: PG_VERSION, the mark of a cluster, is written last', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seed-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // what an interrupted first start leaves: some of the cluster's files, one of them cut short, no PG_VERSION
  mkdirSync(path.join(dir, 'global'))
  writeFileSync(path.join(dir, 'global', 'pg_control'), 'cut short')
  const db = await createDb({ dataDir: dir })
  t.equal(db.seeded, true, 'the directory was seeded')
  t.same(await migrationsPending(db.db), [], 'and opens as a migrated database')
  t.equal(readFileSync(path.join(dir, 'PG_VERSION'), 'utf8').trim(), '17', 'PG_VERSION is in place once the rest is')
  await db.close()
})

/** the compiled seed script, run as `npm run build` runs it, from `root` (a build directory) */
function runSeedScript(root: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', `exec env -u NODE_OPTIONS -u NODE_V8_COVERAGE "${process.execPath}" scripts/pglite-seed.js`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('exit', (code) => resolve({ code, output }))
  })
}

t.test('the build makes the seed again only when what it is made from changed, and replaces it whole', async (t) => {
  const stamp = `${PGLITE_SEED}.inputs`
  t.ok(existsSync(stamp), 'the build wrote the digest of the seed’s inputs beside it')
  const before = statSync(PGLITE_SEED).mtimeMs
  const again = await runSeedScript(BUILD_DIR)
  t.equal(again.code, 0)
  t.match(again.output, 'embedded database seed: unchanged', 'nothing changed: nothing to do')
  t.equal(statSync(PGLITE_SEED).mtimeMs, before, 'and the seed is not rewritten')

  // a copy of the build beside the repository's node_modules, with a migration changed: made again
  const scratch = path.join(BUILD_DIR, '..', '.tap')
  mkdirSync(scratch, { recursive: true })
  const copy = mkdtempSync(path.join(scratch, 'seed-build-'))
  t.teardown(() => rmSync(copy, { recursive: true, force: true }))
  for (const dir of ['src', 'scripts', 'migrations']) cpSync(path.join(BUILD_DIR, dir), path.join(copy, dir), { recursive: true })
  cpSync(PGLITE_SEED, path.join(copy, 'pglite-seed.tar.gz'))
  cpSync(stamp, path.join(copy, 'pglite-seed.tar.gz.inputs'))
  const migration = readdirSync(path.join(copy, 'migrations')).filter((f) => f.endsWith('.js')).sort().at(-1)!
  appendFileSync(path.join(copy, 'migrations', migration), '\n// changed\n')
  const changed = await runSeedScript(copy)
  t.equal(changed.code, 0, changed.output)
  t.match(changed.output, /embedded database seed: \d+ migrations/, 'a changed migration: the seed is made again')
  t.not(readFileSync(path.join(copy, 'pglite-seed.tar.gz.inputs'), 'utf8'), readFileSync(stamp, 'utf8'), 'under a new digest')
  t.same(readdirSync(copy).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left behind')
})
