import t from 'tap'
import { checkInvariants } from '../invariants.js'
import { call, complaintBody, eventually, freshDatabase, n, receiver, report, roleKeys, startServer } from './support.js'

const tally = { events: 0, ticks: 0 }
report(t, {
  name: 'replicas', fault: 'Two replicas on one database',
  tried: 'two servers, both running the scheduler and the dispatcher; 120 overdue complaints received through both',
  cases: () => `120 complaints escalated once each; ${n(tally.ticks)} sweep tick(s), each run by one replica; ${n(tally.events)} events, each delivered once`,
})

/**
 * Two replicas on one Postgres, both running the scheduler and the webhook dispatcher: every job runs
 * once per tick (a complaint is escalated once, a breach recorded once), and every event is delivered
 * once — no replica sends what the other is sending.
 */
t.test('two replicas: each job once per tick, each delivery once', async (t) => {
  const { url, db } = await freshDatabase(t)
  const env = { SCHEDULER_ENABLED: 'true', WEBHOOK_DISPATCHER_ENABLED: 'true', WEBHOOK_POLL_MS: '100' }
  const a = await startServer(t, url, env)
  const b = await startServer(t, url, env)
  const keys = await roleKeys(a.base)
  const hooks = await receiver(t)
  t.equal((await call(a.base, keys.admin, 'POST', '/v1/webhooks', { url: hooks.url, eventTypes: ['*'] })).status, 201)
  // complaints received two weeks ago through both replicas: the next sweep tick finds every one overdue
  const receivedAt = new Date(Date.now() - 14 * 86_400_000).toISOString()
  const ids: string[] = []
  for (let i = 0; i < 120; i++) {
    const replica = i % 2 ? a : b
    const c = await call(replica.base, keys.cs, 'POST', '/v1/complaints', { ...complaintBody(i), channel: 'letter', receivedAt })
    t.equal(c.status, 201)
    ids.push(c.json.id)
  }
  // the next minute's tick of sla-sweep, whichever replica takes it
  await eventually(async () => {
    const done = await db.selectFrom('complaints').select('id').where('clock_cycle', '>=', 2).execute()
    return done.length === ids.length ? true : undefined
  }, 150_000, 'a sweep tick to escalate every complaint')
  const cycles = await db.selectFrom('complaints').select('clock_cycle').distinct().execute()
  t.same(cycles, [{ clock_cycle: 2 }], 'each complaint escalated exactly once, though two schedulers ran')
  const ticks = await db.selectFrom('job_ticks').select(['job', 'holder']).where('job', '=', 'sla-sweep').execute()
  tally.ticks = ticks.length
  t.ok(ticks.length >= 1, `${ticks.length} sla-sweep ticks, each claimed by one replica (${[...new Set(ticks.map((x) => x.holder))].length} holders)`)

  const events = await eventually(async () => {
    const rows = await db.selectFrom('outbox_events').select('event_id').execute()
    const delivered = new Set(hooks.received.map((r) => r.id))
    return rows.length > 0 && rows.every((r) => delivered.has(r.event_id)) ? rows.length : undefined
  }, 120_000, 'every event to be delivered')
  const perId = new Map<string, number>()
  for (const r of hooks.received) perId.set(r.id, (perId.get(r.id) ?? 0) + 1)
  tally.events = events
  t.equal(hooks.received.length, events, `${events} events, ${hooks.received.length} deliveries: none sent twice`)
  t.same([...perId].filter(([, n]) => n > 1), [])
  t.same(await checkInvariants(db), [])
  a.signal('SIGTERM')
  b.signal('SIGTERM')
  t.same([(await a.exited).code, (await b.exited).code], [0, 0], 'both stop cleanly')
})
