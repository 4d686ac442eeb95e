import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import pg from 'pg'
import { appendAll, appendMaking, insertRows, placeholder } from '../../src/db/batches.js'
import { createDb, type DbHandle } from '../../src/db/create-db.js'
import { executePrepared, MAX_PREPARED, preparedName } from '../../src/db/prepared.js'
import type { Database } from '../../src/db/types.js'

// Named prepared statements (src/db/prepared.ts) are a Postgres session's: the embedded database has none.
const url = process.env.DATABASE_URL
const skip = url ? false : 'prepared statements are sent only to real Postgres (DATABASE_URL)'

/** a pool of one connection in a schema of its own with one table, so every statement runs on the same session */
async function scratch(t: Test, preparedStatements: boolean): Promise<DbHandle> {
  const schema = `prep_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`create schema ${schema}`)
  await admin.query(`create table ${schema}.audit_log (id bigint generated always as identity primary key, operation text not null, after jsonb)`)
  const handle = await createDb({ databaseUrl: url, schema, poolSize: 1, preparedStatements })
  t.teardown(async () => {
    await handle.close()
    await admin.query(`drop schema ${schema} cascade`)
    await admin.end()
  })
  return handle
}

const prepared = async (db: Kysely<Database>) =>
  (await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements order by name`.execute(db)).rows

const rows = (tag: string, n: number) => Array.from({ length: n }, (_, i) => ({ operation: tag, after: { i, text: '刹车 "异响"' } }))

t.test('an append is parsed once per connection and then only bound and executed', { skip }, async (t) => {
  const { db } = await scratch(t, true)
  await insertRows(db, { table: 'audit_log', rows: rows('one', 3) })
  const after1 = await prepared(db)
  t.equal(after1.length, 1, 'one named statement on the connection after the first append')
  t.match(after1[0]!.name, /^cs_[A-Za-z0-9_-]{32}$/)
  t.match(after1[0]!.statement, /^insert into "audit_log"/)
  t.equal(preparedName(after1[0]!.statement), after1[0]!.name, 'named by its text')

  // another batch of other rows: the same text, so the same statement, now only bound (pg sends no Parse)
  await insertRows(db, { table: 'audit_log', rows: rows('two', 5) })
  t.same((await prepared(db)).map((p) => p.name), [after1[0]!.name], 'still the one statement')
  const written = await sql<{ operation: string; n: number }>`select operation, count(*)::int as n from audit_log group by operation order by operation`.execute(db)
  t.same(written.rows, [{ operation: 'one', n: 3 }, { operation: 'two', n: 5 }], 'every row of both batches written')
})

t.test('a migration that changes the table between two runs: Postgres plans the statement again, nothing fails', { skip }, async (t) => {
  const { db } = await scratch(t, true)
  await insertRows(db, { table: 'audit_log', rows: rows('before', 2) })
  await sql`alter table audit_log add column note text not null default 'added'`.execute(db)
  await sql`alter table audit_log alter column operation type varchar(40)`.execute(db)
  await insertRows(db, { table: 'audit_log', rows: rows('after', 2) })
  const written = await sql<{ operation: string; note: string }>`select operation, note from audit_log order by id`.execute(db)
  t.same(written.rows.map((r) => [r.operation, r.note]), [['before', 'added'], ['before', 'added'], ['after', 'added'], ['after', 'added']])
  t.equal((await prepared(db)).length, 1, 'the same named statement served both')
})

t.test('DB_PREPARED_STATEMENTS off: the same appends go unnamed', { skip }, async (t) => {
  const { db } = await scratch(t, false)
  await insertRows(db, { table: 'audit_log', rows: rows('one', 2) })
  await appendAll(db, [{ table: 'audit_log', rows: rows('two', 1) }])
  t.same(await prepared(db), [], 'no named statement on the connection')
  t.equal((await sql<{ n: number }>`select count(*)::int as n from audit_log`.execute(db)).rows[0]!.n, 3)
})

t.test('a made value (the intake\'s number) comes back from the prepared statement every time', { skip }, async (t) => {
  const { db } = await scratch(t, true)
  await sql`create table counters (id int primary key, last_value int not null)`.execute(db)
  const take = sql<{ value: string }>`insert into counters (id, last_value) values (1, 1) on conflict (id) do update set last_value = counters.last_value + 1 returning 'N-' || last_value as value`
  const made: string[] = []
  for (let i = 0; i < 4; i++) {
    const ph = placeholder('ref')
    made.push(await appendMaking(db, { placeholder: ph, statement: take }, [{ table: 'audit_log', rows: [{ operation: ph, after: { ref: ph } }] }]))
  }
  t.same(made, ['N-1', 'N-2', 'N-3', 'N-4'], 'each run made the next value')
  const written = await sql<{ operation: string; after: { ref: string } }>`select operation, after from audit_log order by id`.execute(db)
  t.same(written.rows.map((r) => [r.operation, r.after.ref]), made.map((m) => [m, m]), 'and the rows carry it where the placeholder was')
  t.equal((await prepared(db)).length, 1, 'one statement, parsed once, run four times')
})

t.test(`at most ${MAX_PREPARED} texts are prepared in a process; the rest go unnamed`, { skip }, async (t) => {
  const { db } = await scratch(t, true)
  for (let i = 0; i < MAX_PREPARED + 5; i++) await executePrepared(sql`select ${sql.lit(i)}::int as i`, db)
  const names = await prepared(db)
  t.ok(names.length <= MAX_PREPARED, `${names.length} named statements`)
  t.equal(preparedName(`select ${MAX_PREPARED + 4}::int as i`), undefined, 'a text past the limit has no name')
  t.same((await executePrepared(sql<{ i: number }>`select ${sql.lit(MAX_PREPARED + 4)}::int as i`, db)).rows, [{ i: MAX_PREPARED + 4 }], 'and runs as any statement does')
})
