import t, { type Test } from 'tap'
import { createRunCoordinator } from '../../src/jobs/coordinator.js'
import { runPenalties } from '../../src/jobs/penalties.js'
import { runSlaSweep } from '../../src/jobs/sla-sweep.js'
import { createEventChecker } from '../contract.js'
import { testApp, webComplaint, type TestApp } from '../helper.js'

/**
 * The penalty rules through the service: the scheduler's jobs run at chosen instants of the injected
 * clock, steps go through the routes, and every response is checked against the OpenAPI document.
 * The worked example is the complaint of docs/escalation.md and docs/penalties.md (2026, Shanghai).
 */
const sh = (local: string) => new Date(`${local}+08:00`).toISOString()

async function sweepAndIssue(api: TestApp, local: string) {
  api.clock.set(sh(local))
  await runSlaSweep(api.app.services, api.clock.now())
  return runPenalties(api.app.services, api.clock.now())
}

const noticesOf = async (api: TestApp, complaintId: string) =>
  (await api.call('GET', `/v1/penalty-notices?complaintId=${complaintId}&limit=200`)).json.items.reverse() as Array<Record<string, any>>

const brief = (n: Record<string, any>) => [n.number, n.kind, n.cycle ?? n.month, n.level, n.amountFen]

async function walkThrough(t: Test, growth: 'linear' | 'compound') {
  const api = await testApp(t, { now: sh('2026-09-24T17:00:00') })
  if (growth === 'compound') {
    const current = (await api.call('GET', '/v1/admin/penalty-rules')).json.items[0]
    const v2 = await api.call('POST', '/v1/admin/penalty-rules', { rules: { ...current.rules, monthlyGrowth: 'compound' }, note: '超月未关闭按倍数复利递增' })
    t.equal(v2.status, 201)
  }
  api.clock.set(sh('2026-09-24T17:30:00'))
  const c = (await api.call('POST', '/v1/complaints', webComplaint())).json
  api.clock.set(sh('2026-09-24T17:35:00'))
  await api.call('POST', `/v1/complaints/${c.id}/assess`, { categoryId: 'service_quality', level: 'general', departmentId: 'service-station' })
  api.clock.set(sh('2026-09-24T17:45:00'))
  await api.call('POST', `/v1/complaints/${c.id}/handover`, {})

  t.same(await sweepAndIssue(api, '2026-09-24T18:01:00'), { issued: 1, unassigned: 0, complaints: 1 }, 'handover due 18:00, not signed: one notice')
  api.clock.set(sh('2026-09-28T09:30:00'))
  await api.call('POST', `/v1/complaints/${c.id}/sign`, { signedBy: '李娜' })
  api.clock.set(sh('2026-09-29T10:15:00')) // first reply due Tue 29 Sep 09:30
  await api.call('POST', `/v1/complaints/${c.id}/replies`, { body: '周五免费更换刹车片。' })
  await sweepAndIssue(api, '2026-09-29T10:16:00')
  await sweepAndIssue(api, '2026-09-30T17:31:00') // closure due Wed 30 Sep 17:30: breach, upgrade to moderate
  await sweepAndIssue(api, '2026-10-10T17:32:00') // cycle 2 due Sat 10 Oct 17:31: breach, upgrade to strong
  t.same((await noticesOf(api, c.id)).map(brief), [
    ['PN-2026-000001', 'handover_late', 1, 'general', 5_000],
    ['PN-2026-000002', 'first_reply_late', 1, 'general', 5_000],
    ['PN-2026-000003', 'closure_limit', 1, 'general', 20_000],
    ['PN-2026-000004', 'closure_limit', 2, 'moderate', 50_000],
  ], 'handover 50, first reply 50, closure 200 at general, then 500 at moderate after the upgrade')

  // one, two and three full months since receipt at 17:30 on the 24th; the sweep keeps upgrading the strong cycles
  for (const month of ['2026-10-24', '2026-11-24', '2026-12-24']) await sweepAndIssue(api, `${month}T17:31:00`)
  const monthly = (await noticesOf(api, c.id)).filter((n) => n.kind === 'monthly')
  const strong = 100_000
  t.same(monthly.map((n) => [n.month, n.level, n.factor, n.amountFen, n.owedAt]), [
    [1, 'strong', 2, 2 * strong, sh('2026-10-24T17:30:00')],
    [2, 'strong', 4, 4 * strong, sh('2026-11-24T17:30:00')],
    [3, 'strong', growth === 'linear' ? 6 : 8, (growth === 'linear' ? 6 : 8) * strong, sh('2026-12-24T17:30:00')],
  ], growth === 'linear' ? 'linear: 2 ×, 4 ×, 6 × the strong standard' : 'compound: 2 ×, 4 ×, 8 × the strong standard')
  t.ok(monthly.every((n) => n.rulesVersion === (growth === 'linear' ? 1 : 2)), 'each notice records the rule version it used')
  const closures = (await noticesOf(api, c.id)).filter((n) => n.kind === 'closure_limit')
  t.same(closures.slice(2).map((n) => [n.cycle, n.level, n.amountFen]), [[3, 'strong', strong], [4, 'strong', strong], [5, 'strong', strong]],
    'a strong complaint left open pays the strong standard for every cycle that expires')

  api.clock.set(sh('2026-12-24T17:40:00'))
  for (const [path, body] of [['closure-request', { resultSummary: '已更换刹车片，试车无异响。', rootCause: '刹车片批次错误' }], ['closure-callback', { satisfied: true, satisfaction: 4 }], ['close', {}]] as const) {
    api.clock.advanceMinutes(5)
    t.equal((await api.call('POST', `/v1/complaints/${c.id}/${path}`, body)).status, 200, path)
  }
  const before = (await noticesOf(api, c.id)).length
  await sweepAndIssue(api, '2027-01-24T17:31:00')
  await sweepAndIssue(api, '2027-03-01T09:00:00')
  t.equal((await noticesOf(api, c.id)).length, before, 'closed: no further notice')

  const checkEvent = createEventChecker()
  const events = await api.db.selectFrom('outbox_events').select(['type', 'payload']).where('type', 'like', 'penalty.%').execute()
  t.equal(events.length, before, 'one penalty.issued per notice')
  t.same(events.flatMap((e) => checkEvent(e.payload as { type: string })), [], 'each matching its webhook schema')
}

t.test('one complaint walks through every kind of notice, linear monthly multiplier', (t) => walkThrough(t, 'linear'))
t.test('the same walk with the compound monthly multiplier', (t) => walkThrough(t, 'compound'))

/** a general complaint assessed to `department` at the clock's time, never signed: its handover limit runs out */
async function unsigned(api: TestApp, departmentId: string | null, level = 'general') {
  const c = (await api.call('POST', '/v1/complaints', webComplaint())).json
  if (departmentId) await api.call('POST', `/v1/complaints/${c.id}/assess`, { categoryId: 'service_quality', level, departmentId })
  return c as { id: string; reference: string }
}

t.test('every job run twice, and two replicas running the penalties job at once, issue each notice once', async (t) => {
  const api = await testApp(t, { now: sh('2026-11-16T10:00:00') }) // Monday
  for (let i = 0; i < 6; i++) await unsigned(api, i % 2 ? 'sales' : 'service-station', i % 3 ? 'general' : 'strong')
  api.clock.set(sh('2026-11-16T19:00:00'))
  await runSlaSweep(api.app.services, api.clock.now())
  const s = api.app.services
  const [a, b] = await Promise.all([runPenalties(s, api.clock.now()), runPenalties(s, api.clock.now())])
  t.equal(a.issued + b.issued, 6, `two runs at once: ${a.issued} + ${b.issued} notices, six in all`)
  t.same(await runPenalties(s, api.clock.now()), { issued: 0, unassigned: 0, complaints: 0 }, 'a third run finds nothing to do')
  const numbers = (await api.db.selectFrom('penalty_notices').select('number').orderBy('number').execute()).map((r) => r.number)
  t.same(numbers, ['000001', '000002', '000003', '000004', '000005', '000006'].map((n) => `PN-2026-${n}`), 'numbered without gaps or repeats')

  // two coordinators on one database: one of them runs the tick
  api.clock.set(sh('2026-11-19T19:05:00')) // every closure limit has passed: 3 calendar days (strong), 3 business days (general)
  await runSlaSweep(s, api.clock.now())
  const now = () => api.clock.now()
  const replicas = [createRunCoordinator(api.db, now, 'replica-a'), createRunCoordinator(api.db, now, 'replica-b')]
  const tick = `penalties:${api.clock.now().toISOString()}`
  const ran = await Promise.all(replicas.map(async (r) => ((await r.shouldRun(tick, 60_000)) ? runPenalties(s, api.clock.now()) : null)))
  t.equal(ran.filter((r) => r !== null).length, 1, 'exactly one replica runs the tick')
  t.equal(ran.find((r) => r !== null)!.issued, 6, 'the six closures')
  const keys = await api.db.selectFrom('penalty_notices').select(['complaint_id', 'kind', 'period']).execute()
  t.equal(new Set(keys.map((k) => `${k.complaint_id}:${k.kind}:${k.period}`)).size, keys.length, 'no key twice')

  api.clock.set(sh('2026-11-27T17:00:00'))
  const first = await api.call('POST', '/v1/admin/jobs/penalty-bulletin/run', {}, {}, 'admin')
  const second = await api.call('POST', '/v1/admin/jobs/penalty-bulletin/run', {}, {}, 'admin')
  t.same(second.json.result, first.json.result, 'the bulletin job run twice draws up the same draft')
  t.equal(first.json.result.notices, 12)
  t.equal((await api.db.selectFrom('penalty_bulletins').select('id').execute()).length, 1)
  t.same((await api.call('POST', '/v1/admin/jobs/penalties/run', {}, {}, 'admin')).json.result.issued, 0)
})

t.test('the Friday bulletin sums its notices; only management signs; a signed bulletin never changes', async (t) => {
  const api = await testApp(t, { now: sh('2026-11-17T10:00:00') }) // Tuesday
  const ss = await unsigned(api, 'service-station')
  await unsigned(api, 'service-station')
  const sales = await unsigned(api, 'sales', 'moderate')
  const nobody = await unsigned(api, null) // never assessed: no department to charge
  await sweepAndIssue(api, '2026-11-17T18:30:00') // handover limits: end of the business day, 4 business hours
  await sweepAndIssue(api, '2026-11-20T18:30:00') // closure limits (3 business days): Fri 20 Nov, the general ones at 10:00
  api.clock.set(sh('2026-11-27T17:00:00')) // the Friday run, for Mon 16 – Sun 22 November
  const run = await api.call('POST', '/v1/admin/jobs/penalty-bulletin/run', {}, {}, 'admin')
  t.equal(run.json.result.weekStart, '2026-11-16')
  const id = run.json.result.bulletinId

  const bulletin = (await api.call('GET', `/v1/penalty-bulletins/${id}`)).json
  t.equal(bulletin.status, 'draft')
  const listed = await api.db.selectFrom('penalty_notices').select(['department_id', 'kind', 'amount_fen', 'status']).where('bulletin_id', '=', id).execute()
  const charged = listed.filter((n) => n.status !== 'unassigned')
  t.equal(bulletin.totals.totalFen, charged.reduce((sum, n) => sum + n.amount_fen, 0), 'the total is the sum of its notices')
  t.equal(bulletin.totals.notices, charged.length)
  for (const line of bulletin.lines) {
    const mine = charged.filter((n) => n.department_id === line.departmentId)
    t.equal(line.totalFen, mine.reduce((sum, n) => sum + n.amount_fen, 0), `${line.departmentId}: its line is the sum of its notices`)
    for (const [kind, figures] of Object.entries<{ notices: number; amountFen: number }>(line.kinds)) {
      t.equal(figures.notices, mine.filter((n) => n.kind === kind).length, `${line.departmentId} ${kind} count`)
    }
  }
  t.same(bulletin.lines.map((l: { departmentId: string; totalFen: number }) => [l.departmentId, l.totalFen]), [['sales', 5_000 + 50_000], ['service-station', 2 * (5_000 + 20_000)]])
  t.same(bulletin.unassigned.map((u: { complaintReference: string; kind: string }) => [u.complaintReference, u.kind]), [[nobody.reference, 'closure_limit'], [nobody.reference, 'handover_late']],
    'the unassigned complaint’s breaches are listed for the CS centre, outside the totals')

  for (const role of ['cs_manager', 'finance', 'admin', 'department:service-station'] as const) {
    t.equal((await api.call('POST', `/v1/penalty-bulletins/${id}/sign`, {}, {}, role)).status, 403, `${role} may not sign`)
  }
  t.equal((await api.call('POST', `/v1/penalty-bulletins/${id}/lines/sales/fulfil`, {}, {}, 'finance')).status, 409, 'nothing is collected before the signature')
  const signed = await api.call('POST', `/v1/penalty-bulletins/${id}/sign`, { comment: '同意，按通报执行' }, {}, 'management')
  t.equal(signed.status, 200)
  t.equal(signed.json.status, 'signed')
  t.same(signed.json.lines, bulletin.lines, 'the signed figures are the draft’s')
  const statuses = await api.db.selectFrom('penalty_notices').select('status').where('bulletin_id', '=', id).where('status', '<>', 'unassigned').execute()
  t.ok(statuses.every((n) => n.status === 'confirmed'), 'its notices are confirmed')
  const published = await api.db.selectFrom('outbox_events').select('payload').where('type', '=', 'bulletin.published').execute()
  t.equal(published.length, 1)
  t.same(createEventChecker()(published[0]!.payload as { type: string }), [])

  t.equal((await api.call('POST', `/v1/penalty-bulletins/${id}/sign`, {}, {}, 'management')).status, 409, 'signing twice')
  t.equal((await api.call('POST', '/v1/penalty-bulletins', { weekStart: '2026-11-16' })).status, 409, 'drawing a signed week up again')
  // paged one at a time: every notice once, in the order of one page of all (issued in batches, so
  // several share an instant), a department key's pages only its own
  const pages = async (query: string, as?: 'department:sales') => {
    const ids: string[] = []
    let cursor: string | null = null
    do {
      const res = await api.call('GET', `/v1/penalty-notices?${query}${cursor ? `&cursor=${cursor}` : ''}`, undefined, {}, as)
      ids.push(...res.json.items.map((n: { id: string }) => n.id))
      cursor = res.json.nextCursor
    } while (cursor && ids.length < 500)
    return ids
  }
  const all = await pages('limit=200')
  t.ok(all.length > 1)
  t.same(await pages('limit=1'), all, 'pages of one notice: each once, in order')
  const salesOwn = await pages('limit=200', 'department:sales')
  t.ok(salesOwn.length > 0 && salesOwn.length < all.length)
  t.same(await pages('limit=1', 'department:sales'), salesOwn, 'a department’s pages of one')
  const ssNotice = (await noticesOf(api, ss.id))[0]!
  t.equal((await api.call('POST', `/v1/penalty-notices/${ssNotice.id}/contest`, { reason: '系统故障' }, {}, 'department:service-station')).status, 409, 'a confirmed notice cannot be contested')
  t.equal((await api.call('POST', `/v1/penalty-notices/${ssNotice.id}/waive`, { reason: '系统故障' }, {}, 'cs_manager')).status, 409, 'nor waived')
  await t.rejects(api.db.updateTable('penalty_bulletin_lines').set({ amount_fen: 1 }).where('bulletin_id', '=', id).execute(), /cannot change/, 'the database refuses too')
  await t.rejects(api.db.updateTable('penalty_bulletins').set({ total_fen: 1 }).where('id', '=', id).execute(), /signed and cannot change/)

  // finance collects a department's line: every notice of it becomes fulfilled; the bulletin's figures stay
  const line = await api.call('POST', `/v1/penalty-bulletins/${id}/lines/service-station/fulfil`, { note: '财务凭证 2026-11-0153' }, {}, 'finance')
  t.equal(line.status, 200)
  t.same(line.json.items.map((n: { status: string }) => n.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'])
  t.equal((await api.call('POST', `/v1/penalty-bulletins/${id}/lines/service-station/fulfil`, {}, {}, 'finance')).status, 409, 'fulfilled already')
  t.equal((await api.call('POST', `/v1/penalty-bulletins/${id}/lines/marketing/fulfil`, {}, {}, 'finance')).status, 404, 'no such line')
  const salesNotice = (await noticesOf(api, sales.id))[0]!
  const one = await api.call('POST', `/v1/penalty-notices/${salesNotice.id}/fulfil`, {}, {}, 'finance')
  t.same([one.status, one.json.status, one.json.history.map((h: { status: string }) => h.status)], [200, 'fulfilled', ['issued', 'confirmed', 'fulfilled']])
  t.same((await api.call('GET', `/v1/penalty-bulletins/${id}`)).json.totals, bulletin.totals, 'fulfilment does not touch the bulletin')

  const ledger = (await api.call('GET', `/v1/penalty-ledger?from=${encodeURIComponent(sh('2026-11-01T00:00:00'))}`, undefined, {}, 'finance')).json.items
  t.same(ledger.map((l: any) => [l.departmentId, l.issuedFen, l.confirmedFen, l.fulfilledFen, l.outstandingFen, l.unassigned]), [
    ['sales', 55_000, 55_000, 5_000, 50_000, 0], ['service-station', 50_000, 50_000, 50_000, 0, 0], [null, 0, 0, 0, 0, 2],
  ])
  const own = (await api.call('GET', '/v1/penalty-ledger', undefined, {}, 'department:sales')).json.items
  t.same(own.map((l: { departmentId: string }) => l.departmentId), ['sales'], 'a department sees its own line')
})

t.test('contest, uphold and waive: a disputed notice leaves the draft and returns once upheld', async (t) => {
  const api = await testApp(t, { now: sh('2026-11-17T10:00:00') })
  const c = await unsigned(api, 'service-station')
  const other = await unsigned(api, 'service-station')
  await sweepAndIssue(api, '2026-11-17T18:30:00')
  const [notice] = await noticesOf(api, c.id)
  const [second] = await noticesOf(api, other.id)
  api.clock.set(sh('2026-11-27T17:00:00'))
  const draft = (await api.call('POST', '/v1/penalty-bulletins', { weekStart: '2026-11-16' })).json
  t.equal(draft.totals.totalFen, 10_000)

  t.equal((await api.call('POST', `/v1/penalty-notices/${notice!.id}/contest`, { reason: 'x' }, {}, 'department:sales')).status, 404, 'another department’s notice does not exist for it')
  const bad = await api.call('POST', `/v1/penalty-notices/${notice!.id}/contest`, {}, {}, 'department:service-station')
  t.same([bad.status, bad.json.errors[0].field], [400, '/body/reason'], 'a contest needs a reason')
  const contested = await api.call('POST', `/v1/penalty-notices/${notice!.id}/contest`, { reason: '客户留错电话，非我部延误' }, {}, 'department:service-station')
  t.same([contested.json.status, contested.json.bulletinId], ['contested', null], 'it leaves the draft')
  t.equal((await api.call('GET', `/v1/penalty-bulletins/${draft.id}`)).json.totals.totalFen, 5_000, 'whose figures are drawn up again')
  t.equal((await api.call('POST', `/v1/penalty-notices/${notice!.id}/contest`, { reason: 'again' }, {}, 'department:service-station')).status, 409, 'once')

  const noReason = await api.call('POST', `/v1/penalty-notices/${second!.id}/waive`, {}, {}, 'cs_manager')
  t.same([noReason.status, noReason.json.errors[0].field], [400, '/body/reason'], 'a waive without a reason is refused')
  t.equal((await api.call('POST', `/v1/penalty-notices/${second!.id}/waive`, { reason: '   ' }, {}, 'department:service-station')).status, 403, 'a department does not waive')
  const waived = await api.call('POST', `/v1/penalty-notices/${second!.id}/waive`, { reason: '系统故障，IT工单 #4471' }, {}, 'cs_manager')
  t.same([waived.json.status, waived.json.history.at(-1).reason, waived.json.history.at(-1).actor.role], ['waived', '系统故障，IT工单 #4471', 'cs_manager'])
  t.equal((await api.call('GET', `/v1/penalty-bulletins/${draft.id}`)).json.totals.totalFen, 0)

  t.equal((await api.call('POST', `/v1/penalty-notices/${notice!.id}/uphold`, { reason: '签收记录显示已接通' }, {}, 'cs_manager')).json.status, 'upheld')
  const again = (await api.call('POST', '/v1/penalty-bulletins', { weekStart: '2026-11-16' })).json
  t.same([again.id, again.totals.totalFen, again.totals.notices], [draft.id, 5_000, 1], 'drawn up again, the same draft takes the upheld notice, not the waived one')
  const audit = (await api.call('GET', `/v1/audit?entityType=penalty_notice&entityId=${notice!.id}`, undefined, {}, 'auditor')).json.items
  t.same(audit.map((a: { operation: string }) => a.operation).reverse(), ['issuePenaltyNotices', 'contestPenaltyNotice', 'upholdPenaltyNotice'], 'every change is on the audit log')
  const types = (await api.db.selectFrom('outbox_events').select('type').where('complaint_id', '=', c.id).where('type', 'like', 'penalty.%').orderBy('id').execute()).map((e) => e.type)
  t.same(types, ['penalty.issued', 'penalty.contested', 'penalty.upheld'])
})

t.test('breaking input gets a clear 4xx', async (t) => {
  const api = await testApp(t, { now: sh('2026-11-26T10:00:00') })
  const rules = (await api.call('GET', '/v1/admin/penalty-rules')).json.items[0].rules
  const negative = await api.call('POST', '/v1/admin/penalty-rules', { rules: { ...rules, closureStandardFen: { ...rules.closureStandardFen, moderate: -100 } } })
  t.same([negative.status, negative.json.errors[0].field], [400, '/body/rules/closureStandardFen/moderate'], 'a negative amount')
  const zero = await api.call('POST', '/v1/admin/penalty-rules', { rules: { ...rules, monthlyMultiplier: 0 } })
  t.same([zero.status, zero.json.errors[0].field], [400, '/body/rules/monthlyMultiplier'], 'a multiplier of 0')
  const fraction = await api.call('POST', '/v1/admin/penalty-rules', { rules: { ...rules, handoverLateFen: 50.5 } })
  t.same([fraction.status, fraction.json.errors[0].field], [400, '/body/rules/handoverLateFen'], 'fen are whole')
  const future = await api.call('POST', '/v1/penalty-bulletins', { weekStart: '2026-11-30' })
  t.same([future.status, future.json.errors[0].field], [422, '/body/weekStart'], 'a bulletin for a future week')
  t.equal((await api.call('POST', '/v1/penalty-bulletins', { weekStart: '2026-11-23' })).status, 422, 'nor for the week still running')
  const tuesday = await api.call('POST', '/v1/penalty-bulletins', { weekStart: '2026-11-17' })
  t.same([tuesday.status, tuesday.json.errors[0].field], [422, '/body/weekStart'], 'a week starts on a Monday')
  t.equal((await api.call('POST', '/v1/penalty-bulletins', { weekStart: '2026-11-16' })).status, 200, 'last week is fine')
  t.equal((await api.call('GET', '/v1/penalty-bulletins/0195f7a4-8888-7000-8000-000000000009')).status, 404)
  t.equal((await api.call('GET', '/v1/penalty-notices?cursor=nope')).status, 400)
  const created = await api.call('POST', '/v1/admin/penalty-rules', { rules: { ...rules, monthlyMultiplier: 3 }, note: '按3倍递增' })
  t.same([created.status, created.json.version, created.json.current], [201, 2, true])
})

t.test('the CSV and the printable page hold the JSON figures; every value is escaped', async (t) => {
  const api = await testApp(t, { now: sh('2026-11-17T10:00:00') })
  await api.call('POST', '/v1/admin/departments', { id: 'after-sales', name: 'After "sales", Ltd', nameZh: '<b>售后</b>部 & =HYPERLINK("x")' }, {}, 'admin')
  await unsigned(api, 'after-sales', 'strong')
  await unsigned(api, 'service-station')
  await sweepAndIssue(api, '2026-11-17T18:30:00')
  await sweepAndIssue(api, '2026-11-20T18:30:00')
  api.clock.set(sh('2026-11-27T17:00:00'))
  const draft = (await api.call('POST', '/v1/penalty-bulletins', { weekStart: '2026-11-16' })).json
  await api.call('POST', `/v1/penalty-bulletins/${draft.id}/sign`, {}, {}, 'management')
  const json = (await api.call('GET', `/v1/penalty-bulletins/${draft.id}`)).json
  const { parse } = await import('csv-parse/sync')
  const { parseDocument, DomUtils } = await import('htmlparser2')

  const csv = await api.call('GET', `/v1/penalty-bulletins/${draft.id}`, undefined, { accept: 'text/csv' })
  t.match(csv.headers['content-type'], /^text\/csv; charset=utf-8/)
  t.match(csv.headers['content-disposition'], /penalty-bulletin-2026-11-16\.csv/)
  t.ok((csv.json as string).startsWith('\uFEFF'), 'a byte order mark, for Excel')
  const rows: string[][] = parse(csv.json as string, { bom: true })
  t.equal(rows[0]![1], '执行部门')
  const kinds = ['handover_late', 'first_reply_late', 'closure_limit', 'monthly']
  const figures = (k: any, notices: number, total: number) => [...kinds.flatMap((kind) => [k[kind].notices, k[kind].amountFen]), notices, total].map(String)
  t.same(rows.slice(1), [
    ...json.lines.map((l: any) => [l.departmentId, l.departmentNameZh ?? l.departmentName, ...figures(l.kinds, l.notices, l.totalFen)]),
    ['', '合计', ...figures(json.totals.kinds, json.totals.notices, json.totals.totalFen)],
  ].map((r: string[]) => r.map((v) => (/^[=+\-@]/.test(v) ? `'${v}` : v))), 'the CSV rows are the JSON lines and totals (a formula-like name defused)')

  const html = await api.call('GET', `/v1/penalty-bulletins/${draft.id}`, undefined, { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' })
  t.match(html.headers['content-type'], /^text\/html; charset=utf-8/)
  const page = html.json as string
  t.notMatch(page, /<b>售后/, 'the department name is escaped')
  const dom = parseDocument(page)
  t.equal(DomUtils.textContent(DomUtils.getElementsByTagName('h1', dom)[0]!), '《执行部门抱怨闭环处理处罚通报》')
  const text = (el: any) => DomUtils.textContent(el).trim()
  const yuan = (s: string) => Math.round(Number(s.replace(/,/g, '')) * 100)
  const cellsOf = (tr: any) => DomUtils.getElementsByTagName((name: string) => name === 'td' || name === 'th', tr.children, false).map(text)
  const bodyRows = DomUtils.getElementsByTagName('tr', DomUtils.getElementsByTagName('tbody', dom)).map(cellsOf)
  const asJson = (cells: string[]) => cells.slice(1).map((v, i) => (i % 2 === 0 ? Number(v) : yuan(v)))
  t.same(bodyRows.map((r) => r[0]), json.lines.map((l: any) => l.departmentNameZh ?? l.departmentName), 'one row per department')
  t.same(bodyRows.map(asJson), json.lines.map((l: any) => figures(l.kinds, l.notices, l.totalFen).map(Number)), 'the same counts and amounts (CNY on the page, fen in JSON)')
  const totalRow = cellsOf(DomUtils.getElementsByTagName('tr', DomUtils.getElementsByTagName('tfoot', dom))[0])
  t.same(asJson(totalRow), figures(json.totals.kinds, json.totals.notices, json.totals.totalFen).map(Number), 'and the same totals')
  t.match(page, /总经理签发/, 'a signature line for the general manager')
  t.equal((await api.call('GET', `/v1/penalty-bulletins/${draft.id}`, undefined, { accept: '*/*' })).headers['content-type'], 'application/json; charset=utf-8', 'JSON by default')
})

t.test('PENALTIES_FROM: penalties started on an installation with a past owe nothing for that past', async (t) => {
  const api = await testApp(t, { now: sh('2026-11-16T10:00:00'), env: { PENALTIES_FROM: sh('2026-11-18T00:00:00') } })
  const early = await unsigned(api, 'service-station') // handover due Mon 16 Nov 18:00: before penalties started
  await runSlaSweep(api.app.services, new Date(sh('2026-11-16T18:01:00')))
  api.clock.set(sh('2026-11-18T10:00:00'))
  const later = await unsigned(api, 'sales') // handover due Wed 18 Nov 18:00
  const issued = await sweepAndIssue(api, '2026-11-18T18:30:00')
  t.equal(issued.issued, 1)
  t.same((await noticesOf(api, early.id)).length, 0, 'the breach of 16 November is not fined')
  t.same((await noticesOf(api, later.id)).map((n) => n.kind), ['handover_late'])
  const { loadConfig } = await import('../../src/config.js')
  t.throws(() => loadConfig({ PENALTIES_FROM: '2026-13-40T00:00:00Z' }), /PENALTIES_FROM: is not an instant/)
  t.throws(() => loadConfig({ PENALTY_BULLETIN_CRON: 'every friday' }), /PENALTY_BULLETIN_CRON/)
  t.equal(loadConfig({ PENALTY_BULLETIN_CRON: '0 9 * * 1' }).PENALTY_BULLETIN_CRON, '0 9 * * 1')
})
