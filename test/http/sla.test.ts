import { sql, type KyselyPlugin, type RawNode } from 'kysely'
import t from 'tap'
import { createRunCoordinator } from '../../src/jobs/coordinator.js'
import { escalateOverdue, recordBreaches, recordDueSoon, runSlaSweep } from '../../src/jobs/sla-sweep.js'
import { countingStatements, metricsHeaders, testApp, webComplaint, type TestApp } from '../helper.js'
import { DEFAULT_SLA_POLICY } from '../../src/domain/sla.js'

/** a complaint assessed to the service station at the test clock's current time */
async function assessedComplaint(api: TestApp, level = 'general', over: Record<string, unknown> = {}) {
  const c = (await api.call('POST', '/v1/complaints', webComplaint(over))).json
  return (await api.call('POST', `/v1/complaints/${c.id}/assess`, { categoryId: 'service_quality', level, departmentId: 'service-station', ...(level === 'irrational' ? { followUpMode: 'watch' } : {}) })).json
}

/**
 * These tests check the rules' exact figures, so they start at one chosen instant (Thursday 26 Nov
 * 2026, 10:00 in Shanghai); the property tests (test/http/instants.property.test.ts) run the same
 * paths at arbitrary instants.
 */
const THU_10 = '2026-11-26T02:00:00Z'

const breachesOf = async (api: TestApp, id: string) =>
  api.db.selectFrom('breaches').select(['clock', 'cycle']).where('complaint_id', '=', id).orderBy('id').execute()

t.test('the sweep records each breach once, with a timeline entry and an sla.breached event', async (t) => {
  const api = await testApp(t, { now: THU_10 }) // Thu 2026-11-26 10:00 Shanghai
  const c = await assessedComplaint(api, 'moderate') // handover: 4 business hours, lunch excluded → 15:30
  api.clock.set('2026-11-26T08:00:00Z') // 16:00 Shanghai
  const first = await recordBreaches(api.app.services, api.clock.now())
  t.same(first, { handover: 1, first_reply: 0, closure: 0, callback: 0 })
  const again = await recordBreaches(api.app.services, api.clock.now())
  t.same(again, { handover: 0, first_reply: 0, closure: 0, callback: 0 }, 'running the sweep twice records nothing new')
  t.same(await breachesOf(api, c.id), [{ clock: 'handover', cycle: 1 }])
  const timeline = (await api.call('GET', `/v1/complaints/${c.id}/timeline`)).json.items
  t.same(timeline.filter((e: { action: string }) => e.action === 'sla_breached').map((e: { data: unknown; actor: { name: string } }) => [e.data, e.actor.name]), [
    [{ clock: 'handover', cycle: 1, dueAt: '2026-11-26T07:30:00.000Z' }, 'scheduler'],
  ])
  const events = await api.db.selectFrom('outbox_events').select(['type', 'payload']).where('type', '=', 'sla.breached').execute()
  t.equal(events.length, 1)
  t.same((events[0]!.payload as any).data.complaint.complainant.externalIds, [{ system: 'wukong', customerId: '1024' }])

  const view = (await api.call('GET', `/v1/complaints/${c.id}`)).json
  const handover = view.clocks.find((k: { clock: string }) => k.clock === 'handover')
  t.equal(handover.state, 'breached')
  t.equal(handover.remainingBusinessMinutes, -30)
  t.same((await api.call('GET', '/v1/complaints?overdue=true')).json.items.map((x: { id: string }) => x.id), [c.id])

  await api.call('POST', `/v1/complaints/${c.id}/handover`, {})
  await api.call('POST', `/v1/complaints/${c.id}/sign`, { signedBy: '李娜' })
  const signed = (await api.call('GET', `/v1/complaints/${c.id}`)).json.clocks
  t.same(signed.map((k: { clock: string; state: string }) => [k.clock, k.state]), [['handover', 'breached'], ['first_reply', 'running'], ['closure', 'running'], ['callback', 'not_started']])
})

t.test('the sweep is one set-based statement per clock, however many complaints', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  for (let i = 0; i < 12; i++) await assessedComplaint(api, i % 2 ? 'moderate' : 'strong')
  api.clock.set('2026-12-15T02:00:00Z')
  const { db, statements: queries } = countingStatements(api.db)
  const services = { ...api.app.services, db }
  const result = await recordBreaches(services, api.clock.now())
  t.equal(result.handover + result.closure, 24, 'every complaint breached handover and closure')
  // each clock: its batch's planner setting (ORDERED_WALK) and one statement; a clock with breaches, one
  // more for their timeline entries and events
  t.equal(queries.length, 4 * 2 + 2, 'one statement per clock, then one of timeline entries and events for each clock with breaches')
  queries.length = 0
  const warned = await recordDueSoon(services, api.clock.now())
  t.same(warned, { handover: 0, first_reply: 0, closure: 0, callback: 0 }, 'every threshold is past its deadline: nothing to warn of')
  t.equal(queries.length, 4 * 2, 'due-soon: its planner setting and one statement per clock')
})

t.test('a backlog of breaches is recorded in bounded batches, each once, each batch its own transaction', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  const ids: string[] = []
  for (let i = 0; i < 12; i++) ids.push((await assessedComplaint(api, i % 2 ? 'moderate' : 'strong')).id)
  api.clock.set('2026-12-15T02:00:00Z')
  const { db, statements: queries } = countingStatements(api.db)
  const result = await recordBreaches({ ...api.app.services, db }, api.clock.now(), 5)
  t.same(result, { handover: 12, first_reply: 0, closure: 12, callback: 0 }, 'all 24 breaches in one run')
  // 5 + 5 + 2 for handover and for closure, each batch its planner setting, its statement and one of
  // timeline entries and events; the planner setting and one statement each for the two clocks with nothing to record
  t.equal(queries.length, 2 * 3 * 3 + 2 * 2, `${queries.length} statements`)
  const breaches = await api.db.selectFrom('breaches').select(['complaint_id', 'clock']).execute()
  t.equal(breaches.length, 24)
  t.equal(new Set(breaches.map((b) => `${b.complaint_id}/${b.clock}`)).size, 24, 'none twice')
  t.same(new Set(breaches.map((b) => b.complaint_id)), new Set(ids))
  const events = await api.db.selectFrom('outbox_events').select('id').where('type', '=', 'sla.breached').execute()
  t.equal(events.length, 24, 'one event each')
  t.same(await recordBreaches(api.app.services, api.clock.now(), 5), { handover: 0, first_reply: 0, closure: 0, callback: 0 }, 'a second run finds nothing')
})

t.test('batches in flight together never skip or repeat a breach: thresholds to the microsecond, and ties', async (t) => {
  // the next batch starts from where the last one ended before that one has committed, so the cursor
  // must be exact: deadlines written by SQL (an import, a migration) carry microseconds a Date drops
  const api = await testApp(t, { now: THU_10 })
  const ids: string[] = []
  for (let i = 0; i < 15; i++) ids.push((await assessedComplaint(api, 'moderate')).id)
  for (const [i, id] of ids.entries()) {
    await sql`update complaints set handover_due_at = '2026-11-27 01:00:00.000001+00'::timestamptz + ${i % 4} * interval '1 microsecond' where id = ${id}`.execute(api.db)
  }
  api.clock.set('2026-11-27T02:00:00Z')
  const result = await recordBreaches(api.app.services, api.clock.now(), 2)
  t.equal(result.handover, 15, 'all 15 in one run, two at a time')
  const rows = await api.db.selectFrom('breaches').select(['complaint_id', 'due_at']).where('clock', '=', 'handover').execute()
  t.same(new Set(rows.map((r) => r.complaint_id)), new Set(ids), 'each complaint')
  t.equal(rows.length, 15, 'once')
  const events = await api.db.selectFrom('outbox_events').select('id').where('type', '=', 'sla.breached').execute()
  t.equal(events.length, 15, 'one event each')
})

t.test('a batch that fails ends the sweep with its error; batches in flight finish whole, and the next run records the rest', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  for (let i = 0; i < 12; i++) await assessedComplaint(api, 'moderate')
  api.clock.set('2026-11-27T02:00:00Z')
  let outboxInserts = 0
  const failing: KyselyPlugin = {
    transformQuery: (args) => {
      const node = args.node
      // the batch's timeline entries and events are one appendAll statement (`with "append_0" as (insert into …)`,
      // its table names in the statement's text): fail the third statement that writes the outbox
      const writesOutbox = node.kind === 'RawNode' && /^\s*(with|insert into)\b/.test((node as RawNode).sqlFragments[0] ?? '') &&
        JSON.stringify(node).includes('outbox_events')
      if (writesOutbox && ++outboxInserts === 3) throw new Error('the database went away')
      return node
    },
    transformResult: async (args) => args.result,
  }
  await t.rejects(recordBreaches({ ...api.app.services, db: api.db.withPlugin(failing) }, api.clock.now(), 2), /the database went away/)
  const counts = async () => ({
    breaches: (await api.db.selectFrom('breaches').select('id').execute()).length,
    timeline: (await api.db.selectFrom('complaint_timeline').select('id').where('action', '=', 'sla_breached').execute()).length,
    events: (await api.db.selectFrom('outbox_events').select('id').where('type', '=', 'sla.breached').execute()).length,
  })
  const partial = await counts()
  t.ok(partial.breaches < 12 && partial.breaches % 2 === 0, `whole batches only: ${partial.breaches} breaches`)
  t.same(partial, { breaches: partial.breaches, timeline: partial.breaches, events: partial.breaches }, 'each recorded breach with its timeline entry and its event, nothing half written')
  const rest = await recordBreaches(api.app.services, api.clock.now(), 2)
  t.equal(rest.handover, 12 - partial.breaches, 'the next run records the rest')
  t.same(await counts(), { breaches: 12, timeline: 12, events: 12 })
})

t.test('escalation: general → moderate → strong through two missed closure deadlines, deadlines recomputed', async (t) => {
  const api = await testApp(t, { now: THU_10 }) // Thu 26 Nov 10:00
  let c = await assessedComplaint(api, 'general')
  t.equal(c.deadlines.closureDueAt, '2026-12-01T02:00:00.000Z', 'general: 3 business days → Tue 1 Dec 10:00')

  api.clock.set('2026-12-01T02:01:00Z')
  const first = await runSlaSweep(api.app.services, api.clock.now())
  t.equal(first.escalated, 1)
  c = (await api.call('GET', `/v1/complaints/${c.id}`)).json
  t.equal(c.level, 'moderate')
  t.equal(c.clockCycle, 2)
  t.equal(c.clockStartedAt, '2026-12-01T02:01:00.000Z', 'clocks restart at the upgrade')
  t.equal(c.deadlines.closureDueAt, '2026-12-04T02:01:00.000Z', 'moderate: 3 business days from the upgrade')
  t.equal(c.deadlines.handoverDueAt, '2026-12-01T07:31:00.000Z', 'moderate: handover 4 business hours from the restart (10:01 → 15:31)')

  api.clock.set('2026-12-04T02:02:00Z')
  await runSlaSweep(api.app.services, api.clock.now())
  c = (await api.call('GET', `/v1/complaints/${c.id}`)).json
  t.equal(c.level, 'strong')
  t.equal(c.clockCycle, 3)
  t.equal(c.deadlines.closureDueAt, '2026-12-07T02:02:00.000Z', 'strong: 3 calendar days')

  api.clock.set('2026-12-07T02:03:00Z')
  await runSlaSweep(api.app.services, api.clock.now())
  c = (await api.call('GET', `/v1/complaints/${c.id}`)).json
  t.equal(c.level, 'strong', 'strong stays strong')
  t.equal(c.clockCycle, 4)

  const closureBreaches = (await breachesOf(api, c.id)).filter((b) => b.clock === 'closure')
  t.same(closureBreaches.map((b) => b.cycle), [1, 2, 3], 'each missed cycle is on record once')
  const upgrades = (await api.call('GET', `/v1/complaints/${c.id}/timeline`)).json.items.filter((e: { action: string }) => e.action === 'escalate')
  t.same(upgrades.map((e: { data: any }) => [e.data.upgrade.from, e.data.upgrade.to, e.data.upgrade.flagManagement]), [
    ['general', 'moderate', false], ['moderate', 'strong', false], ['strong', 'strong', true],
  ])
  t.match(upgrades[0].data.upgrade.reason, /closure limit passed/)
  const flagged = await api.db.selectFrom('outbox_events').select('type').where('type', '=', 'complaint.management_flagged').execute()
  t.equal(flagged.length, 1, 'management is flagged when a strong complaint fails again')
  const audit = (await api.call('GET', `/v1/audit?entityId=${c.id}&operation=escalate`, undefined, {}, 'auditor')).json.items
  t.equal(audit.length, 3)
  t.equal(audit[0].actorName, 'scheduler')
})

t.test('deferred, paused and closure-requested complaints do not escalate', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  const paused = await assessedComplaint(api)
  await api.call('POST', `/v1/complaints/${paused.id}/pause`, { reason: 'waiting for the customer’s invoice copy' })
  const requested = await assessedComplaint(api)
  await api.call('POST', `/v1/complaints/${requested.id}/handover`, {})
  await api.call('POST', `/v1/complaints/${requested.id}/sign`, { signedBy: 'x' })
  await api.call('POST', `/v1/complaints/${requested.id}/replies`, { body: 'ok' })
  await api.call('POST', `/v1/complaints/${requested.id}/closure-request`, { resultSummary: 'done', rootCause: 'a cause' })
  api.clock.set('2026-12-10T02:00:00Z')
  const result = await runSlaSweep(api.app.services, api.clock.now())
  t.equal(result.escalated, 0)
  t.same(result.breaches, { handover: 0, first_reply: 0, closure: 0, callback: 1 }, 'the callback clock did run out')
  const view = (await api.call('GET', `/v1/complaints/${paused.id}`)).json
  t.ok(view.clocks.every((k: { state: string }) => ['paused', 'not_started'].includes(k.state)), 'a paused complaint’s clocks say so')
})

t.test('pause and resume: the pause is recorded and excluded from the deadlines', async (t) => {
  const api = await testApp(t, { now: THU_10 }) // Thu 10:00
  const c = await assessedComplaint(api, 'moderate') // handover due 15:30 Shanghai = 07:30Z
  api.clock.set('2026-11-26T03:00:00Z') // 11:00
  const paused = await api.call('POST', `/v1/complaints/${c.id}/pause`, { reason: 'customer abroad until afternoon' })
  t.equal(paused.json.pausedAt, '2026-11-26T03:00:00.000Z')
  t.equal((await api.call('POST', `/v1/complaints/${c.id}/pause`, { reason: 'again' })).status, 409)
  api.clock.set('2026-11-26T06:30:00Z') // 14:30: 2 business hours paused (lunch excluded)
  const resumed = await api.call('POST', `/v1/complaints/${c.id}/resume`, {})
  t.equal(resumed.json.pausedAt, null)
  t.equal(resumed.json.deadlines.handoverDueAt, '2026-11-26T09:30:00.000Z', '15:30 + 2 business hours = 17:30')
  t.equal((await api.call('POST', `/v1/complaints/${c.id}/resume`, {})).status, 409)
  const timeline = (await api.call('GET', `/v1/complaints/${c.id}/timeline`)).json.items.map((e: { action: string }) => e.action)
  t.same(timeline.slice(-2), ['pause', 'resume'])
})

t.test('due-soon: one warning per clock and cycle at 80% of the limit', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  const c = await assessedComplaint(api, 'strong', { channel: 'phone' }) // handover 30 min: warn at 10:24
  api.clock.set('2026-11-26T02:25:00Z')
  t.same(await recordDueSoon(api.app.services, api.clock.now()), { handover: 1, first_reply: 0, closure: 0, callback: 0 })
  t.same(await recordDueSoon(api.app.services, api.clock.now()), { handover: 0, first_reply: 0, closure: 0, callback: 0 })
  const events = await api.db.selectFrom('outbox_events').select('type').where('complaint_id', '=', c.id).where('type', '=', 'sla.due_soon').execute()
  t.equal(events.length, 1)
})

t.test('a backlog of due-soon warnings with one threshold instant is taken in batches by (instant, id), each once', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  // received at the same instant, so every handover warning falls due at 10:24 to the millisecond:
  // the batches must page through a tie, which only the id orders
  const ids: string[] = []
  for (let i = 0; i < 12; i++) ids.push((await assessedComplaint(api, 'strong', { channel: 'phone' })).id)
  api.clock.set('2026-11-26T02:25:00Z')
  t.same(await recordDueSoon(api.app.services, api.clock.now(), 5), { handover: 12, first_reply: 0, closure: 0, callback: 0 }, 'all 12 in one run')
  const notices = await api.db.selectFrom('due_soon_notices').select(['complaint_id']).where('clock', '=', 'handover').execute()
  t.same(new Set(notices.map((n) => n.complaint_id)), new Set(ids))
  t.equal(notices.length, 12, 'none twice')
  t.same(await recordDueSoon(api.app.services, api.clock.now(), 5), { handover: 0, first_reply: 0, closure: 0, callback: 0 }, 'a second run finds nothing')
})

t.test('two coordinators on one database: one run per tick, no overlap, a dead holder’s lease expires', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  let now = new Date('2026-11-26T02:00:00Z')
  const clock = () => now
  const a = createRunCoordinator(api.db, clock, 'replica-a')
  const b = createRunCoordinator(api.db, clock, 'replica-b')
  const tick1 = 'sla-sweep:2026-11-26T02:00:00.000Z'
  const [ra, rb] = await Promise.all([a.shouldRun(tick1, 60_000), b.shouldRun(tick1, 60_000)])
  t.same([ra, rb].sort(), [false, true], 'exactly one replica runs the tick')
  const winner = ra ? a : b
  const loser = ra ? b : a
  await winner.onComplete!(tick1)
  t.equal(await loser.shouldRun(tick1, 60_000), false, 'a finished tick is not run again')

  now = new Date('2026-11-26T02:01:00Z')
  const tick2 = 'sla-sweep:2026-11-26T02:01:00.000Z'
  t.equal(await a.shouldRun(tick2, 5 * 60_000), true, 'replica a takes the next tick, and then dies without finishing')
  now = new Date('2026-11-26T02:02:00Z')
  t.equal(await b.shouldRun('sla-sweep:2026-11-26T02:02:00.000Z', 5 * 60_000), false, 'its lease still holds: no overlap')
  now = new Date('2026-11-26T02:07:00Z')
  t.equal(await b.shouldRun('sla-sweep:2026-11-26T02:07:00.000Z', 5 * 60_000), true, 'after the lease expired, b takes over')
  t.equal(await a.shouldRun('due-soon:2026-11-26T02:07:00.000Z', 60_000), true, 'leases are per job')
})

t.test('jobs run on demand through the API, under their lease', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  await assessedComplaint(api, 'strong')
  api.clock.set('2026-11-26T03:00:00Z')
  const run = await api.call('POST', '/v1/admin/jobs/sla-sweep/run', {})
  t.equal(run.status, 200)
  t.same(run.json.result.breaches.handover, 1)
  t.equal((await api.call('POST', '/v1/admin/jobs/nope/run', {})).status, 400)
  await api.app.jobs.coordinator.acquire('due-soon', 60_000)
  t.equal((await api.call('POST', '/v1/admin/jobs/due-soon/run', {})).status, 409, 'not while another run holds the lease')
  const jobs = (await api.call('GET', '/v1/admin/jobs')).json.items
  t.same(jobs.map((j: { name: string }) => j.name), ['sla-sweep', 'due-soon', 'calendar-coverage', 'penalties', 'penalty-bulletin', 'housekeeping', 'weekly-report', 'monthly-report', 'capa-review-due', 'retention', 'wukong-pull'])
  t.ok(jobs.find((j: { name: string }) => j.name === 'due-soon').leaseHolder)
  const coverage = await api.call('POST', '/v1/admin/jobs/calendar-coverage/run', {})
  t.equal(coverage.json.result.daysLeft, 35)
  await api.call('POST', '/v1/complaints', webComplaint(), { 'idempotency-key': 'old' })
  api.clock.advanceMinutes(25 * 60)
  await api.call('POST', '/v1/complaints', webComplaint(), { 'idempotency-key': 'fresh' })
  await api.db.insertInto('job_ticks').values({ key: 'sla-sweep:old', job: 'sla-sweep', holder: 'gone', claimed_at: new Date(api.clock.now().getTime() - 8 * 86_400_000) }).execute()
  const swept = await api.call('POST', '/v1/admin/jobs/housekeeping/run', {})
  t.equal(swept.json.result.prunedIdempotencyKeys, 1, 'keys older than 24 hours go, fresh ones stay')
  t.equal(swept.json.result.prunedTicks, 1, 'ticks older than a week go')
})

t.test('SLA policy versions: new complaints use the new version, existing ones keep theirs', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  const before = await assessedComplaint(api, 'moderate')
  const current = (await api.call('GET', '/v1/admin/sla-policies')).json.items[0]
  t.equal(current.version, 1)
  t.equal(current.policy.callback.amount, 720, 'the 12-hour callback limit')
  const { version: _v, ...defaults } = DEFAULT_SLA_POLICY
  t.same(current.policy, defaults, 'the seeded version 1 is the default the domain module documents')
  const policy = { ...current.policy, levels: { ...current.policy.levels, moderate: { ...current.policy.levels.moderate, handover: { unit: 'business_minutes', amount: 60 } } } }
  const created = await api.call('POST', '/v1/admin/sla-policies', { policy, note: 'moderate: hand over within 1 business hour' })
  t.equal(created.status, 201)
  t.equal(created.json.version, 2)
  const bad = await api.call('POST', '/v1/admin/sla-policies', { policy: { ...policy, dueSoonRatio: 2 } })
  t.equal(bad.status, 400)
  t.equal(bad.json.errors[0].field, '/body/policy/dueSoonRatio')

  const after = await assessedComplaint(api, 'moderate')
  t.equal(after.slaPolicyVersion, 2)
  t.equal(after.deadlines.handoverDueAt, '2026-11-26T03:00:00.000Z', 'the new version: 1 business hour')
  const old = await api.call('POST', `/v1/complaints/${before.id}/assess`, { categoryId: 'service_quality', level: 'moderate', departmentId: 'service-station', comment: 'again' })
  t.equal(old.json.slaPolicyVersion, 1)
  t.equal(old.json.deadlines.handoverDueAt, '2026-11-26T07:30:00.000Z', 'the old complaint keeps 4 business hours')
})

t.test('the calendar endpoint: coverage warning until next year’s overrides are posted; overrides move new deadlines', async (t) => {
  const api = await testApp(t, { now: THU_10 }) // 2026-11-26: 35 days before the holiday data ends
  const cal = (await api.call('GET', '/v1/admin/calendar')).json
  t.equal(cal.timeZone, 'Asia/Shanghai')
  t.same(cal.workingHours, [{ from: '09:00', to: '12:00' }, { from: '13:30', to: '18:00' }])
  t.equal(cal.coverage.coveredThrough, 2026)
  t.match(cal.coverage.warning, /2026-12-31/)
  const metrics = await api.app.inject({ method: 'GET', url: '/metrics', headers: metricsHeaders })
  t.match(metrics.body, `complaint_calendar_coverage_end_timestamp_seconds ${Date.parse('2027-01-01T00:00:00+08:00') / 1000}\n`, 'the data ends with 2026')

  const posted = await api.call('PUT', '/v1/admin/calendar/overrides/2027-01-01', { working: false, note: '2027 元旦' })
  t.equal(posted.status, 200)
  t.equal(posted.json.coverage.coveredThrough, 2027)
  t.equal(posted.json.coverage.warning, null)

  await api.call('PUT', '/v1/admin/calendar/overrides/2026-11-27', { working: false, note: 'company anniversary' })
  const c = await assessedComplaint(api, 'general') // Thu 10:00, Fri off now
  t.equal(c.deadlines.closureDueAt, '2026-12-02T02:00:00.000Z', '3 business days skip the Friday off: Wed 2 Dec 10:00')
  const removed = await api.call('DELETE', '/v1/admin/calendar/overrides/2026-11-27')
  t.same(removed.json.overrides.map((o: { date: string }) => o.date), ['2027-01-01'])
  t.equal((await api.call('PUT', '/v1/admin/calendar/overrides/2027-02-30', { working: true })).status, 400)
})

t.test('metrics: breaches, overdue clocks and outbox lag', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  await assessedComplaint(api, 'strong')
  api.clock.set('2026-11-26T03:00:00Z')
  await recordBreaches(api.app.services, api.clock.now())
  const body = (await api.app.inject({ method: 'GET', url: '/metrics', headers: metricsHeaders })).body
  t.match(body, /complaint_sla_breaches_last_hour\{department="service-station",clock="handover"\} 1\n/)
  t.match(body, /complaint_clocks_overdue\{department="service-station",clock="handover"\} 1\n/)
  t.match(body, /complaint_outbox_lag_seconds 3600\n/)
  t.match(body, /http_request_duration_seconds_bucket/)
})

t.test('a clock stopped after its deadline is a breach even before the sweep runs', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  const c = await assessedComplaint(api, 'moderate') // handover due 15:30
  api.clock.set('2026-11-26T08:00:00Z') // 16:00, no sweep in between
  await api.call('POST', `/v1/complaints/${c.id}/handover`, {})
  await api.call('POST', `/v1/complaints/${c.id}/sign`, { signedBy: '李娜' })
  t.same(await breachesOf(api, c.id), [{ clock: 'handover', cycle: 1 }])
  const events = await api.db.selectFrom('outbox_events').select('type').where('complaint_id', '=', c.id).where('type', '=', 'sla.breached').execute()
  t.equal(events.length, 1)
  t.same(await recordBreaches(api.app.services, api.clock.now()), { handover: 0, first_reply: 0, closure: 0, callback: 0 }, 'and the sweep does not record it again')
})

t.test('a major complaint escalates as a strong one; the sweep re-checks the deadline under the lock', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  const c = (await api.call('POST', '/v1/complaints', webComplaint({ channel: 'media' }))).json // major, not assessed: strong limits
  t.equal(c.deadlines.closureDueAt, '2026-11-29T02:00:00.000Z', 'strong: 3 calendar days')
  api.clock.set('2026-11-29T02:01:00Z')
  await runSlaSweep(api.app.services, api.clock.now())
  const after = (await api.call('GET', `/v1/complaints/${c.id}`)).json
  t.equal(after.level, 'strong')
  const flagged = await api.db.selectFrom('outbox_events').select('type').where('complaint_id', '=', c.id).where('type', '=', 'complaint.management_flagged').execute()
  t.equal(flagged.length, 1, 'flagged to management at once')
  const early = await assessedComplaint(api, 'general')
  const { runAction } = await import('../../src/complaints/commands.js')
  await t.rejects(runAction(api.app.services, 'escalate', early.id, { reason: 'test' }, { audit: { actor: { type: 'system', id: null, role: null, name: 't' }, operation: 'escalate', requestId: null } }), /past its deadline/)
})

t.test('an upgrade map cannot go down', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  const current = (await api.call('GET', '/v1/admin/sla-policies')).json.items[0]
  const res = await api.call('POST', '/v1/admin/sla-policies', { policy: { ...current.policy, upgradeMap: { general: 'moderate', moderate: 'strong', strong: 'general' } } })
  t.equal(res.status, 422)
  t.equal(res.json.errors[0].field, '/body/policy/upgradeMap/strong')
})

t.test('seed 002 §3.11: a complaint whose closure limit expired closes second-time, even inside the cycle its upgrade started', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  let c = await assessedComplaint(api, 'general') // closure due Tue 1 Dec 10:00
  api.clock.set('2026-12-01T02:00:30.250Z')
  t.equal((await runSlaSweep(api.app.services, api.clock.now())).escalated, 1)
  c = (await api.call('GET', `/v1/complaints/${c.id}`)).json
  t.equal(c.closureLimitMissed, true)
  t.equal(c.clockCycle, 2)
  for (const [path, body] of [
    ['handover', {}], ['sign', { signedBy: '李娜' }], ['replies', { body: '已处理' }],
    ['closure-request', { resultSummary: '已更换刹车片', rootCause: '刹车片批次错误' }], ['closure-callback', { satisfied: true, satisfaction: 4 }], ['close', {}],
  ] as const) {
    api.clock.advanceMinutes(7)
    const res = await api.call('POST', `/v1/complaints/${c.id}/${path}`, body)
    t.equal(res.status, 200, path)
    c = res.json
  }
  t.ok(Date.parse(c.closureRequestedAt) < Date.parse(c.deadlines.closureDueAt), 'the closure request came inside the new cycle’s limit')
  t.equal(c.closureType, 'second_time', 'any expiry of the closure limit makes it second-time')
  const close = (await api.call('GET', `/v1/complaints/${c.id}/timeline`)).json.items.at(-1)
  t.same(close.data.secondTimeBecause, ['closure_limit_expired'])
})

t.test('escalation is set-based in bounded batches: a backlog clears in one run, one transaction per batch', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  const ids: string[] = []
  for (let i = 0; i < 25; i++) ids.push((await assessedComplaint(api, i % 3 === 0 ? 'moderate' : 'general')).id)
  api.clock.set('2026-12-10T02:00:00.123Z')
  const { db, statements } = countingStatements(api.db, (node) => {
    const raw = node as { kind: string; sqlFragments?: readonly string[] }
    return raw.kind === 'RawNode' && raw.sqlFragments?.[0]?.trimStart().startsWith('update complaints') ? 'UpdateComplaints' : raw.kind
  })
  const result = await escalateOverdue({ ...api.app.services, db }, api.clock.now(), 10)
  t.equal(result.escalated, 25, 'every overdue complaint upgraded in one run')
  t.same(new Set(result.ids), new Set(ids))
  t.equal(statements.filter((k) => k === 'UpdateQueryNode').length, 0, 'no complaint updated on its own')
  t.equal(statements.filter((k) => k === 'UpdateComplaints').length, 3, 'one update of the complaints per batch')
  // per batch: the locking select; the batch's update; the overdue closure clocks' breaches; then their
  // timeline entries and events with the steps' timeline entries, audit entries and events, one statement
  t.same(statements, Array.from({ length: 3 }, () => ['SelectQueryNode', 'UpdateComplaints', 'InsertQueryNode', 'RawNode']).flat(),
    `${statements.length} statements for 25 complaints in 3 batches of at most 10`)
  const levels = await api.db.selectFrom('complaints').select(['level', 'clock_cycle', 'closure_limit_missed']).where('id', 'in', ids).execute()
  t.ok(levels.every((c) => c.clock_cycle === 2 && c.closure_limit_missed), 'each in a new cycle, its closure limit marked missed')
  t.same([...new Set(levels.map((c) => c.level))].sort(), ['moderate', 'strong'])
  const timeline = await api.db.selectFrom('complaint_timeline').select('complaint_id').where('action', '=', 'escalate').execute()
  t.equal(timeline.length, 25, 'one timeline entry each')
  t.equal((await escalateOverdue(api.app.services, api.clock.now(), 10)).escalated, 0, 'a second run finds nothing')
})
