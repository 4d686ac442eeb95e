import { parse as parseCsv } from 'csv-parse/sync'
import t from 'tap'
import { announceDueReviews } from '../../src/jobs/reports.js'
import { createEventChecker } from '../contract.js'
import { testApp, type TestApp } from '../helper.js'
import { at, local, step } from '../reports-fixture.js'

/**
 * The monthly analysis report of November 2026 against October, and the CAPA effectiveness review:
 * measures get ids and review due dates, reviews are recorded once, overdue ones are listed and
 * announced once each.
 */
const person = (name: string, phone: string, email: string, plate: string) => ({
  channel: 'phone', complainant: { name, phone, email }, subject: { product: '帕萨特', plate }, description: '刹车异响。',
})

async function receive(api: TestApp, when: string, body: unknown) {
  await at(api, when)
  const res = await api.call('POST', '/v1/complaints', body)
  return res.json.id as string
}

/** assessed, signed, replied and investigated the same morning; closed first-time if `close` */
async function worked(api: TestApp, id: string, day: string, investigation: unknown, close: boolean) {
  await step(api, id, `${day}T09:10:00`, 'assess', { categoryId: 'product_quality', level: 'general', departmentId: 'service-station' })
  await step(api, id, `${day}T09:10:00`, 'handover')
  await step(api, id, `${day}T09:20:00`, 'sign', { signedBy: '李娜' })
  await step(api, id, `${day}T09:30:00`, 'replies', { body: '周五更换刹车片。' })
  const c = await step(api, id, `${day}T09:40:00`, 'investigation', investigation)
  if (!close) return c
  await step(api, id, `${day}T10:00:00`, 'closure-request', { resultSummary: '已更换。' })
  await step(api, id, `${day}T10:10:00`, 'closure-callback', { satisfied: true, satisfaction: 5 })
  return step(api, id, `${day}T10:20:00`, 'close')
}

t.test('the monthly report: root causes, CAPA reviews, repeats, reopen rate and the change against October', async (t) => {
  const api = await testApp(t, { now: local('2026-10-12T09:00:00') })
  // October: O1 closed first-time; O2 (li.na@example.com) left open
  const o1 = await receive(api, '2026-10-12T09:00:00', person('赵强', '13900000001', 'zhao.qiang@example.com', '沪B00001'))
  await worked(api, o1, '2026-10-12', { rootCause: '客户期望过高' }, true)
  await receive(api, '2026-10-20T09:00:00', person('李娜', '13900000002', 'li.na@example.com', '沪B00002'))

  // November: M1 and M2 the same phone (M2 written +86 138 0013 8000), M3 the email of O2 in capitals, M4 new
  const m1 = await receive(api, '2026-11-02T09:00:00', person('张伟', '13800138000', 'zhang.wei@example.com', '沪A12345'))
  const c1 = await worked(api, m1, '2026-11-02', {
    rootCause: '配件系统允许订购已替代的刹车片料号。',
    capa: { measures: [{ type: 'corrective', action: '为该车更换原厂刹车片 5N0-698-451', dueDate: '2026-10-20' }, { type: 'preventive', action: '在配件系统中停用已替代料号' }] },
  }, true)
  t.same(c1.capa.measures.map((m: { reviewDueDate: string }) => m.reviewDueDate), ['2026-11-19', '2026-12-02'],
    'a review is due 30 days after the measure’s due date, or after the investigation when it has none')
  t.match(c1.capa.measures[0].id, /^[0-9a-f-]{36}$/, 'each measure has a stable id')
  t.ok(c1.allowedActions.includes('review_capa'))
  const m2 = await receive(api, '2026-11-09T09:00:00', person('张伟', '+86 138 0013 8000', 'zw@example.com', '沪C99999'))
  const c2 = await worked(api, m2, '2026-11-09', { rootCause: '  配件系统允许订购已替代的刹车片料号 ', capa: { measures: [{ type: 'corrective', action: '更换刹车片并复查制动盘', dueDate: '2026-10-25' }] } }, true)
  await step(api, m2, '2026-11-10T09:00:00', 'reopen', { reason: '异响复现' })
  const m3 = await receive(api, '2026-11-16T09:00:00', person('李娜', '13900000003', 'LI.NA@example.com', '沪B00003'))
  await worked(api, m3, '2026-11-16', { rootCause: '客户期望过高' }, false)
  await receive(api, '2026-11-23T09:00:00', person('钱城', '13900000004', 'qian.cheng@example.com', '沪B00004'))

  // the review-due job: M1's corrective review was due 19 November
  await at(api, '2026-11-20T08:00:00')
  t.same(await announceDueReviews(api.app.services, api.clock.now()), { announced: 1 })
  t.same(await announceDueReviews(api.app.services, api.clock.now()), { announced: 0 }, 'once per measure')
  await at(api, '2026-11-25T08:00:00')
  t.same(await announceDueReviews(api.app.services, api.clock.now()), { announced: 1 }, 'M2’s, due 24 November')
  const notices = await api.db.selectFrom('outbox_events').select('payload').where('type', '=', 'capa.review_due').orderBy('id').execute()
  t.same(notices.map((n) => (n.payload as any).data.measure.reviewDueDate), ['2026-11-19', '2026-11-24'])
  t.match((notices[0]!.payload as any).data, { complaint: { id: m1, departmentId: 'service-station' }, measure: { id: c1.capa.measures[0].id, type: 'corrective' } })
  const checkEvent = createEventChecker()
  t.same(notices.flatMap((n) => checkEvent(n.payload as { type: string })), [], 'capa.review_due payloads match the document')

  // reviews: M2's corrective effective, M1's preventive not effective; M1's corrective stays overdue
  await at(api, '2026-11-26T09:00:00')
  const review = (id: string, measureId: string, body: unknown, as: 'cs_manager' | 'management' | 'department' = 'cs_manager') =>
    api.call('POST', `/v1/complaints/${id}/capa/${measureId}/review`, body, {}, as)
  const r2 = await review(m2, c2.capa.measures[0].id, { outcome: 'effective', evidence: '30天内同类抱怨0起。' })
  t.equal(r2.status, 200)
  t.match(r2.json.capa, { status: 'reviewed', measures: [{ review: { outcome: 'effective', evidence: '30天内同类抱怨0起。', reviewedAt: '2026-11-26T01:00:00.000Z' } }] })
  t.notOk(r2.json.allowedActions.includes('review_capa'), 'nothing left to review')
  t.equal((await review(m2, c2.capa.measures[0].id, { outcome: 'not_effective', evidence: 'x' })).status, 409, 'a review is recorded once')
  t.equal((await review(m1, c1.capa.measures[1].id, { outcome: 'not_effective', evidence: '停用后仍可下单。' }, 'management')).status, 200, 'after closure, by management')
  t.equal((await review(m1, 'no-such-measure', { outcome: 'effective', evidence: 'x' })).status, 404)
  t.equal((await review(m1, c1.capa.measures[0].id, { outcome: 'effective', evidence: 'x' }, 'department')).status, 403, 'not by the department that acted')
  const none = await review(m3, 'x', { outcome: 'effective', evidence: 'x' })
  t.equal(none.status, 422)
  t.equal(none.json.errors[0].field, '/complaint/capa', 'a complaint without a CAPA has nothing to review')
  const m4id = (await api.db.selectFrom('complaints').select('id').where('complainant_name', '=', '钱城').executeTakeFirstOrThrow()).id
  t.equal((await review(m4id, 'x', { outcome: 'effective', evidence: 'x' })).status, 409, 'nor one just received (the step does not fit its state)')
  const timeline = (await api.call('GET', `/v1/complaints/${m1}/timeline`)).json.items
  t.match(timeline.at(-1), { action: 'review_capa', data: { measureId: c1.capa.measures[1].id, effectiveness: 'not_effective' } }, 'the review is on the timeline')

  await at(api, '2026-12-01T09:00:00')
  const res = await api.call('GET', '/v1/reports/monthly?month=2026-11', undefined, {}, 'management')
  t.equal(res.status, 200)
  const f = res.json.figures
  t.equal(f.received, 4)
  t.same(f.topRootCauses, [{ rootCause: '配件系统允许订购已替代的刹车片料号', count: 2 }, { rootCause: '客户期望过高', count: 1 }],
    'the same words are the same cause, whatever the spaces and the full stop')
  t.same(f.capa.complaints, { open: 1, reviewed: 1 })
  t.same(f.capa.measures, { corrective: 2, preventive: 1 })
  t.same(f.capa.reviews, { effective: 1, partially_effective: 0, not_effective: 1, not_reviewed: 1 })
  t.same(f.capa.shareEffective, { numerator: 1, denominator: 2, ratio: 0.5 })
  t.same(f.capa.overdueReviews.map((o: { reference: string; measureId: string; reviewDueDate: string }) => [o.measureId, o.reviewDueDate]), [[c1.capa.measures[0].id, '2026-11-19']],
    'the review due before the month ended and not recorded')
  t.same(f.repeats, { numerator: 2, denominator: 4, ratio: 0.5 }, 'M2 (same phone, written differently) and M3 (O2’s email) are repeats')
  t.same(f.reopenRate, { numerator: 1, denominator: 2, ratio: 0.5 })
  t.same(f.firstTimeClosure, { numerator: 1, denominator: 2, ratio: 0.5 })
  t.same(res.json.previousPeriod.start, '2026-10-01')
  const change = (key: string) => res.json.changes.find((c: { key: string }) => c.key === key)
  t.same(change('received'), { key: 'received', label: '受理抱怨数', kind: 'count', current: 4, previous: 2, difference: 2, relativeChange: 1 })
  t.same(change('firstTimeClosure.ratio'), { key: 'firstTimeClosure.ratio', label: '一次关闭率', kind: 'ratio', current: 0.5, previous: 1, difference: -50, relativeChange: null }, 'ratios change in percentage points')
  t.same(change('repeats.count'), { key: 'repeats.count', label: '重复抱怨数', kind: 'count', current: 2, previous: 0, difference: 2, relativeChange: null }, 'no relative change against 0')
  t.same(change('timeToClosure.mean'), { key: 'timeToClosure.mean', label: '关闭 平均', kind: 'minutes', current: 80, previous: 80, difference: 0, relativeChange: null })
  t.equal(change('perDay.2026-11-02.general'), undefined, 'per-day counts have no counterpart in another month')

  const csv = await api.app.inject({ method: 'GET', url: '/v1/reports/monthly?month=2026-11', headers: { accept: 'text/csv', authorization: `Bearer ${await api.keyFor('management')}` } })
  const rows = parseCsv(csv.body, { columns: true, bom: true }) as Array<Record<string, string>>
  t.match(rows.find((r) => r.key === 'received'), { value: '4', previous: '2', difference: '2', relative_change: '1' })
  t.match(rows.find((r) => r.key === 'capa.shareEffective.ratio'), { value: '0.5' })
  t.match(rows.find((r) => r.key === `overdue.${c1.capa.measures[0].id}`), { note: 'review due 2026-11-19' })
  t.equal(api.violations.length, 0)
})

t.test('the monthly job publishes the previous month once, on the 1st', async (t) => {
  const api = await testApp(t, { now: local('2026-12-01T08:00:00') })
  const run = await api.call('POST', '/v1/admin/jobs/monthly-report/run', undefined, {}, 'admin')
  t.match(run.json.result, { published: true, period: { start: '2026-11-01', end: '2026-11-30' } })
  const stored = await api.call('GET', `/v1/reports/${run.json.result.id}`)
  t.match(stored.json, { kind: 'monthly', stored: true, id: run.json.result.id, previousPeriod: { start: '2026-10-01' } })
  t.equal(stored.json.figures.received, 0)
  t.same(stored.json.figures.irrational.firstStage, { numerator: 0, denominator: 0, ratio: null }, 'an empty month has missing ratios, never 0')
  const html = await api.app.inject({ method: 'GET', url: `/v1/reports/${run.json.result.id}`, headers: { accept: 'text/html', authorization: `Bearer ${await api.keyFor('auditor')}` } })
  t.match(html.body, /月度抱怨\/投诉分析报告 2026-11-01 – 2026-11-30/)
  const events = await api.db.selectFrom('outbox_events').select('type').execute()
  t.same(events.map((e) => e.type), ['report.monthly_ready'])
  t.equal((await api.call('GET', '/v1/reports/00000000-0000-4000-8000-000000000000')).status, 404)
})
