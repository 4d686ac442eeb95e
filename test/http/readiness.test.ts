import { sql } from 'kysely'
import t from 'tap'
import { neighbourSession, tableChurn, testApp } from '../helper.js'

/**
 * /readyz says whether this replica's database answers and has every migration this build carries.
 * It is what a load balancer polls, so it must answer from our own bookkeeping alone: not wait on
 * locks other work holds, and not trip over tables other sessions create and drop.
 */

t.test('a pending migration: 503 naming it, with Retry-After; ready again once it is applied', async (t) => {
  const api = await testApp(t)
  const ready = await api.call('GET', '/readyz')
  t.equal(ready.status, 200)
  t.same(ready.json, { status: 'ready', database: 'ok', pendingMigrations: [] })

  // forget the latest migration in this test's own schema, as a database one release behind would
  const { rows: [last] } = await sql<{ name: string; timestamp: string }>`select name, timestamp from kysely_migration order by name desc limit 1`.execute(api.db)
  t.ok(last, 'the database records its migrations')
  await sql`delete from kysely_migration where name = ${last!.name}`.execute(api.db)
  let restored = false
  const restore = async () => {
    if (restored) return
    restored = true
    await sql`insert into kysely_migration (name, timestamp) values (${last!.name}, ${last!.timestamp})`.execute(api.db)
  }
  t.teardown(restore)

  const behind = await api.call('GET', '/readyz')
  t.equal(behind.status, 503)
  t.same(behind.json, { status: 'not_ready', database: 'ok', pendingMigrations: [last!.name] })
  t.equal(behind.headers['retry-after'], '5', 'when to ask again, as every 503')
  await restore()
  t.equal((await api.call('GET', '/readyz')).status, 200, 'ready once the migration is recorded')
})

t.test('ready at once while another session holds an exclusive lock on a table, ours or anyone else’s', { skip: process.env.DATABASE_URL ? false : 'the embedded database has one connection: no other session can hold a lock' }, async (t) => {
  const api = await testApp(t)
  const schema = (await sql<{ schema: string }>`select current_schema() as schema`.execute(api.db)).rows[0]!.schema
  const other = `${schema}_neighbour`
  const session = await neighbourSession(t, other)
  await session.query(`create table ${other}.busy (id serial primary key, note text)`)
  // an ALTER TABLE, a VACUUM FULL or a migration of another application holds such a lock for as long as it runs
  await session.query(`begin; lock table ${other}.busy in access exclusive mode; lock table ${schema}.complaints in access exclusive mode`)

  const started = performance.now()
  const answer = await Promise.race([
    api.call('GET', '/readyz'),
    new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 5_000).unref()),
  ])
  t.not(answer, 'waiting', `/readyz answered while the locks were held (${Math.round(performance.now() - started)} ms)`)
  if (answer !== 'waiting') t.same(answer.json, { status: 'ready', database: 'ok', pendingMigrations: [] })
  await session.query('rollback')
})

t.test('ready throughout while another session creates and drops tables', { skip: process.env.DATABASE_URL ? false : 'the embedded database has one connection' }, async (t) => {
  const api = await testApp(t)
  const schema = (await sql<{ schema: string }>`select current_schema() as schema`.execute(api.db)).rows[0]!.schema
  const stop = await tableChurn(t, `${schema}_churn`)
  const statuses = new Map<number, number>()
  const until = performance.now() + 3_000
  while (performance.now() < until) {
    const res = await api.call('GET', '/readyz')
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
  }
  await stop()
  t.same([...statuses.keys()], [200], `every answer 200 (${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')})`)
})
