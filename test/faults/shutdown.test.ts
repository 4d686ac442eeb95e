import t from 'tap'
import { sql } from 'kysely'
import pg from 'pg'
import { checkInvariants } from '../invariants.js'
import { call, complaintBody, eventually, freshDatabase, n, receiver, report, roleKeys, sleep, startServer, type Answer } from './support.js'

const tally = { accepted: 0, refused: 0, abandoned: 0 }
report(t, {
  name: 'shutdown', fault: 'Shutdown (SIGTERM) under load',
  tried: '10 clients receiving complaints, with the scheduler and dispatcher running; SIGTERM at a random moment; SIGTERM while requests whose clients hung up wait on a lock',
  cases: () => `2 stops; ${n(tally.accepted)} requests accepted, answered and stored, ${n(tally.refused)} found the listener closed (none half-accepted); ` +
    `${n(tally.abandoned)} requests whose clients hung up while they waited: none ran on a closed database; exit 0`,
})

/**
 * SIGTERM under load: the server stops accepting, answers what it accepted, stops its scheduler and
 * dispatcher, closes the database and exits 0. No accepted request is lost: every 201 is stored, and no
 * request that reached the server is cut off mid-way.
 */
t.test('SIGTERM under load: no accepted request lost; scheduler and dispatcher stop cleanly', async (t) => {
  const { url, db } = await freshDatabase(t)
  const server = await startServer(t, url, { SCHEDULER_ENABLED: 'true', WEBHOOK_DISPATCHER_ENABLED: 'true', WEBHOOK_POLL_MS: '100', SHUTDOWN_GRACE_MS: '20000' })
  const keys = await roleKeys(server.base)
  const hooks = await receiver(t)
  await call(server.base, keys.admin, 'POST', '/v1/webhooks', { url: hooks.url, eventTypes: ['*'] })
  const answers: Array<Answer & { key: string }> = []
  let stop = false
  let n = 0
  const worker = async () => {
    while (!stop) {
      // each request its own Idempotency-Key: the key row commits with the complaint, so the database
      // tells whether a request the client got no answer to was ever accepted
      const key = `shutdown-${n}`
      const res = await call(server.base, keys.cs, 'POST', '/v1/complaints', complaintBody(n++), { 'idempotency-key': key })
      answers.push({ ...res, key })
      if (res.status === 0) break // the listener is closed: nothing more is accepted
    }
  }
  const workers = Array.from({ length: 10 }, worker)
  await eventually(async () => (answers.filter((a) => a.status === 201).length >= 20 ? true : undefined), 60_000, 'load to start')
  await sleep(Math.random() * 500)
  server.signal('SIGTERM')
  const exit = await server.exited
  stop = true
  await Promise.all(workers)

  t.equal(exit.code, 0, 'exits 0')
  const statuses = new Map<number, number>()
  for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1)
  t.comment(`answers: ${[...statuses].map(([s, k]) => `${s}×${k}`).join(' ')}`)
  const unanswered = answers.filter((a) => a.status === 0)
  const accepted = await db.selectFrom('idempotency_keys').select('key').where('key', 'in', unanswered.length ? unanswered.map((a) => a.key) : ['none']).execute()
  t.same(accepted, [], `none of the ${unanswered.length} unanswered requests was accepted: each found the listener closed`)
  t.same([...statuses.keys()].filter((s) => s !== 201 && s !== 503 && s !== 0), [], 'accepted requests were answered: 201, or 503 while draining')
  const stored = new Set((await db.selectFrom('complaints').select('id').execute()).map((c) => c.id))
  const created = answers.filter((a) => a.status === 201).map((a) => a.json.id as string)
  tally.accepted = created.length
  tally.refused = unanswered.length
  t.same(created.filter((id) => !stored.has(id)), [], `all ${created.length} acknowledged complaints are stored`)
  t.notMatch(server.out.text, /"level":50/, 'no error logged while stopping (jobs, dispatcher, database)')
  t.match(server.out.text, /shutting down/)
  t.same(await checkInvariants(db), [])
})

/**
 * Requests whose client hung up keep running after the connection is gone, and Fastify's close does not
 * wait for them (it waits for connections): the database must stay open until they are done, or their
 * next statement fails ("driver has already been destroyed", an error logged at every stop under load).
 * Here they are held inside their first statement — the key lookup waits on a lock of `api_keys` — while
 * their clients hang up and SIGTERM arrives; the lock goes once the server has begun to stop. The reads
 * go on to their handler and finish; the intakes, whose bodies were never read, never start (Fastify
 * reads a body after the key check, from a request already gone) and must not hold the stop up.
 */
t.test('SIGTERM while requests whose clients hung up are still running: they finish, then the database closes', async (t) => {
  const { url, db } = await freshDatabase(t)
  const server = await startServer(t, url, { SHUTDOWN_GRACE_MS: '20000' })
  const keys = await roleKeys(server.base)
  const existing = await call(server.base, keys.cs, 'POST', '/v1/complaints', complaintBody(0))
  t.equal(existing.status, 201)
  const locker = new pg.Client({ connectionString: url })
  await locker.connect()
  t.teardown(() => locker.end())
  await locker.query('begin')
  await locker.query('lock table api_keys in access exclusive mode')
  const send = (i: number) => {
    const client = new AbortController()
    const read = i % 2 === 0
    const key = `gone-${i}`
    const answer = fetch(read ? `${server.base}/v1/complaints/${existing.json.id}` : `${server.base}/v1/complaints`, {
      method: read ? 'GET' : 'POST', signal: client.signal,
      headers: { authorization: `Bearer ${keys.cs}`, ...(read ? {} : { 'content-type': 'application/json', 'idempotency-key': key }) },
      body: read ? undefined : JSON.stringify(complaintBody(i)),
    }).then(() => 'answered', () => 'hung up')
    return { client, answer, key }
  }
  const gone = Array.from({ length: 6 }, (_, i) => send(i))
  const waiting = async () => {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(db)
    return rows[0]!.n >= gone.length ? true : undefined
  }
  await eventually(waiting, 30_000, 'the requests to wait on the lock')
  for (const g of gone) g.client.abort()
  t.same(await Promise.all(gone.map((g) => g.answer)), gone.map(() => 'hung up'), 'every client hung up before its answer')
  server.signal('SIGTERM')
  await eventually(async () => (/shutting down/.test(server.out.text) ? true : undefined), 10_000, 'the server to begin stopping')
  await sleep(300)
  await locker.query('commit')
  const exit = await server.exited

  t.equal(exit.code, 0, 'exits 0, without waiting out SHUTDOWN_GRACE_MS for intakes that never start')
  t.notMatch(server.out.text, /"level":50/, 'no error logged: no statement ran on a closed database')
  const stored = await db.selectFrom('idempotency_keys').select('key').where('key', 'like', 'gone-%').execute()
  tally.abandoned = gone.length
  t.same(stored, [], 'the intakes whose clients left before their bodies were read were not carried out')
  t.same(await checkInvariants(db), [])
})
