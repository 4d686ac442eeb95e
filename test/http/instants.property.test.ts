import fc from 'fast-check'
import t from 'tap'
import { LIFECYCLE_ROUTES } from '../../src/complaints/routes.js'
import { CHANNELS } from '../../src/domain/vocabulary.js'
import type { Action } from '../../src/domain/lifecycle.js'
import { recordDueSoon, runSlaSweep } from '../../src/jobs/sla-sweep.js'
import { gap, shanghaiInstant } from '../arbitraries.js'
import { createEventChecker } from '../contract.js'
import { clearComplaints, testApp, webComplaint } from '../helper.js'

/**
 * Correct at every instant: complaints received at arbitrary instants — any millisecond, inside and
 * outside working hours, over lunch, on public holidays and 调休 working weekends — walk the lifecycle
 * through the real routes, with the scheduler's sweep running in between. Every response must be
 * the documented 2xx or 4xx and match its schema; every action a complaint lists in `allowedActions`
 * must succeed with a valid body; an action it does not list must be refused with 409 or 422 (or, for
 * a repeated acknowledgement, change nothing).
 */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300)
const DEPARTMENTS = ['general-affairs', 'sales', 'marketing', 'finance', 'service-station']
const routes = new Map(LIFECYCLE_ROUTES.map((r) => [r.action, r.path]))
/** the path of an action on the complaint as last read (a CAPA review names the first measure waiting for one) */
const pathOf = (action: Action, c: { capa: { measures: Array<{ id: string; review?: unknown }> } | null }) =>
  routes.get(action)!.replace(':measureId', c.capa?.measures.find((m) => !m.review)?.id ?? c.capa?.measures[0]?.id ?? 'none')

interface Choices { level: number; department: number; satisfied: boolean; approve: boolean; score: number }
const choices = fc.record({ level: fc.nat(3), department: fc.nat(4), satisfied: fc.boolean(), approve: fc.boolean(), score: fc.integer({ min: 1, max: 5 }) })

/** a body the action accepts, given the complaint as last read */
function validBody(action: Action, c: { departmentId: string | null }, k: Choices): unknown {
  const level = (['general', 'moderate', 'strong', 'irrational'] as const)[k.level]
  switch (action) {
    case 'acknowledge': return { via: 'sms' }
    // a department that signed keeps the complaint: re-assessment names the same department
    case 'assess': return { categoryId: 'service_quality', level, departmentId: c.departmentId ?? DEPARTMENTS[k.department], ...(level === 'irrational' ? { followUpMode: 'watch' } : {}) }
    case 'handover': return {}
    case 'sign': return { signedBy: '李娜' }
    case 'add_note': return { kind: 'fact', body: '客户称维修后异响依旧。' }
    case 'record_investigation': return { rootCause: '刹车片批次错误', capa: { measures: [{ type: 'corrective', action: '更换原厂刹车片 5N0-698-451' }] } }
    case 'reply': return { body: '周五免费更换刹车片。', via: 'phone' }
    case 'request_closure': return { resultSummary: '已更换刹车片，试车无异响。', rootCause: '刹车片批次错误' }
    case 'record_callback': return { satisfied: k.satisfied, satisfaction: k.score }
    case 'close': return {}
    case 'request_deferral': return { reason: '等待厂家检测报告。' }
    case 'review_deferral': return { approved: k.approve, followUpMode: 'monitor' }
    case 'withdraw': case 'reopen': case 'pause': return { reason: '客户要求。' }
    case 'resume': return {}
    case 'link_external_ids': return { externalIds: [{ system: 'wukong', customerId: '1024' }] }
    case 'review_capa': return { outcome: (['effective', 'partially_effective', 'not_effective'] as const)[k.score % 3], evidence: '30天内同类抱怨0起。' }
    default: throw new Error(`no body for ${action}`)
  }
}

t.test('every response at arbitrary instants is a documented 2xx/4xx; listed actions succeed, others are refused', async (t) => {
  // thousands of requests in seconds: the per-key rate limit is not what this test is about
  const api = await testApp(t, { env: { RATE_LIMIT_PER_MINUTE: '1000000' } })
  let requests = 0
  // every event the steps and sweeps emit must be what the document's `webhooks` promise subscribers
  const checkEvent = createEventChecker()
  const wrongEvents: string[] = []
  let events = 0
  const checkEvents = async () => {
    const rows = await api.db.selectFrom('outbox_events').select('payload').execute()
    events += rows.length
    wrongEvents.push(...rows.flatMap((e) => checkEvent(e.payload as { type: string })))
  }
  const step = fc.record({ after: gap, sweep: fc.boolean(), pick: fc.nat(), refused: fc.option(fc.nat(), { freq: 4 }), choices })
  const scenario = fc.record({
    at: shanghaiInstant,
    channel: fc.constantFrom(...CHANNELS),
    backdate: fc.option(fc.integer({ min: 0, max: 30 * 86_400_000 }), { freq: 3 }),
    steps: fc.array(step, { minLength: 1, maxLength: 7 }),
  })

  let run = 0
  await fc.assert(fc.asyncProperty(scenario, async ({ at, channel, backdate, steps }) => {
    // the sweep and the list see up to 25 complaints of other runs, at other instants; more only cost time
    if (run++ % 25 === 0) {
      await checkEvents()
      await clearComplaints(api.db)
    }
    api.clock.set(at.toISOString())
    const fail = (what: string, res: { status: number; json: unknown }) => {
      throw new Error(`${what} at ${api.clock.now().toISOString()} → ${res.status} ${JSON.stringify(res.json).slice(0, 500)}`)
    }
    const receivedAt = backdate === null ? undefined : new Date(at.getTime() - backdate).toISOString()
    const created = await api.call('POST', '/v1/complaints', webComplaint({ channel, ...(receivedAt ? { receivedAt } : {}) }))
    requests++
    if (created.status !== 201) fail('receive', created)
    const id = created.json.id as string

    for (const s of steps) {
      api.clock.set(new Date(api.clock.now().getTime() + s.after).toISOString())
      if (s.sweep) {
        await runSlaSweep(api.app.services, api.clock.now())
        await recordDueSoon(api.app.services, api.clock.now())
      }
      const current = await api.call('GET', `/v1/complaints/${id}`)
      requests++
      if (current.status !== 200) fail('get', current)
      const c = current.json as { version: number; departmentId: string | null; allowedActions: Action[]; capa: { measures: Array<{ id: string; review?: unknown }> } | null }
      if (s.refused !== null) {
        const others = [...routes.keys()].filter((a) => !c.allowedActions.includes(a))
        const action = others[s.refused % others.length]!
        const res = await api.call('POST', `/v1/complaints/${id}/${pathOf(action, c)}`, validBody(action, c, s.choices))
        requests++
        // refused, or a repeat that changes nothing (acknowledging twice: docs/lifecycle.md)
        const unchanged = res.status === 200 && res.json.version === c.version
        // a department key does not see a complaint no department has been given yet
        const unassigned = res.status === 404 && c.departmentId === null
        if (res.status !== 409 && res.status !== 422 && !unchanged && !unassigned) fail(`${action} (not listed in ${c.allowedActions.join(',')})`, res)
      }
      if (c.allowedActions.length === 0) continue
      const action = c.allowedActions[s.pick % c.allowedActions.length]!
      const res = await api.call('POST', `/v1/complaints/${id}/${pathOf(action, c)}`, validBody(action, c, s.choices), { 'if-match': `"${c.version}"` })
      requests++
      if (res.status !== 200) fail(`${action} (listed)`, res)
    }
    const list = await api.call('GET', '/v1/complaints?limit=20')
    const timeline = await api.call('GET', `/v1/complaints/${id}/timeline`)
    requests += 2
    if (list.status !== 200) fail('list', list)
    if (timeline.status !== 200) fail('timeline', timeline)
    if (api.violations.length > 0) throw new Error(`responses that break the OpenAPI document:\n${api.violations.slice(0, 10).join('\n')}`)
  }), { numRuns: RUNS })
  await checkEvents()
  t.equal(api.violations.length, 0, `${requests} responses over ${RUNS} generated instants, all as documented`)
  t.same(wrongEvents.slice(0, 10), [], `${events} events, each matching its webhook schema`)
})
