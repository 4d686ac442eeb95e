import t from 'tap'
import { checkInvariants } from '../invariants.js'
import { call, complaintBody, eventually, freshDatabase, n, receiver, report, roleKeys, sleep, startServer, type Answer } from './support.js'

const tally = { accepted: 0, refused: 0 }
report(t, {
  name: 'shutdown', fault: 'Shutdown (SIGTERM) under load',
  tried: '10 clients receiving complaints, with the scheduler and dispatcher running; SIGTERM at a random moment',
  cases: () => `1 stop; ${n(tally.accepted)} requests accepted, answered and stored, ${n(tally.refused)} found the listener closed (none half-accepted); exit 0`,
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
