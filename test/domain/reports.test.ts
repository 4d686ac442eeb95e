import fc from 'fast-check'
import t from 'tap'
import { defaultCalendar, toLocal } from '../../src/domain/calendar.js'
import { addDays, capaStatus, nextReviewDue, scheduleMeasures } from '../../src/domain/capa.js'
import {
  businessMinutes, changes, closeTimeDistribution, lastCompletePeriod, mean, normaliseRootCause, percentileCont, periodContaining, periodOf, perThousand,
  previousPeriod, ratio, type Figure,
} from '../../src/domain/reports.js'
import { ANONYMISED, anonymiseJson, retentionCutoff } from '../../src/domain/retention.js'
import { shanghaiInstant } from '../arbitraries.js'

const TZ = 'Asia/Shanghai'

t.test('a ratio with nothing to count against is missing, never 0', async (t) => {
  t.same(ratio(1, 8), { numerator: 1, denominator: 8, ratio: 0.125 })
  t.same(ratio(0, 0), { numerator: 0, denominator: 0, ratio: null })
  t.equal(perThousand(3, null), null, 'no posted denominator: no rate')
  t.equal(perThousand(3, 1200), 2.5)
})

t.test('p90 is continuous, as PostgreSQL’s percentile_cont(0.9); the mean is over the values present', async (t) => {
  t.equal(percentileCont([0, 60, 90, 480], 0.9), 363, '90 + 0.7 × (480 − 90)')
  t.equal(percentileCont([110, 125, 660], 0.9), 553)
  t.equal(percentileCont([42], 0.9), 42, 'one value is its own p90')
  t.equal(percentileCont([], 0.9), null, 'no value: missing')
  t.equal(percentileCont([10, 20], 0.5), 15)
  t.equal(mean([110, 125, 660]), 298.3, 'one decimal')
  t.equal(mean([]), null)
})

t.test('business minutes of each (start, end) pair: working hours only, pauses not subtracted', async (t) => {
  const cal = defaultCalendar(TZ)
  const at = (s: string) => new Date(`${s}+08:00`)
  t.same(businessMinutes([
    [at('2026-11-16T00:00:00'), at('2026-11-17T09:30:00')], // Monday 09:00–18:00 less lunch, then 30
    [at('2026-11-20T16:00:00'), at('2026-11-20T17:50:00')],
    [at('2026-11-22T10:00:00'), at('2026-11-23T08:45:00')], // Sunday to before Monday's opening
    [at('2026-09-30T17:00:00'), at('2026-10-08T09:10:00')], // across National Day (1–7 October): 60 + 10
  ], cal), [480, 110, 0, 70])
  t.same(closeTimeDistribution([0, 450, 451, 1350, 2250, 4500, 4501], cal).map((b) => b.count), [2, 2, 1, 1, 1], 'a duration of exactly N business days is in the bucket up to N')
})

t.test('periods: Monday–Sunday weeks and calendar months in the business time zone', async (t) => {
  t.equal(periodOf('week', '2026-11-17', TZ), null, 'a week starts on a Monday')
  t.equal(periodOf('month', '2026-11-02', TZ), null, 'a month on the 1st')
  const week = periodOf('week', '2026-11-16', TZ)!
  t.same([week.from.toISOString(), week.to.toISOString(), week.end, week.days.length], ['2026-11-15T16:00:00.000Z', '2026-11-22T16:00:00.000Z', '2026-11-22', 7])
  const feb = periodOf('month', '2028-02-01', TZ)!
  t.same([feb.end, feb.days.length], ['2028-02-29', 29], 'a leap February')
  t.equal(previousPeriod(periodOf('month', '2026-01-01', TZ)!, TZ).start, '2025-12-01')
  t.equal(previousPeriod(periodOf('week', '2026-01-05', TZ)!, TZ).start, '2025-12-29', 'across the year')
  t.equal(lastCompletePeriod('week', new Date('2026-11-27T00:00:00Z'), TZ).start, '2026-11-16', 'on Friday 27 November: the week of 16 November')
  t.equal(lastCompletePeriod('week', new Date('2026-11-22T15:59:59.999Z'), TZ).start, '2026-11-09', 'Sunday 23:59:59.999 in Shanghai: that week is not over')
})

t.test('at any instant, the period containing it holds it, starts on a Monday or the 1st, and follows the previous one', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(shanghaiInstant, fc.constantFrom('week' as const, 'month' as const), (at, kind) => {
    const p = periodContaining(kind, at, TZ)
    const before = previousPeriod(p, TZ)
    const last = lastCompletePeriod(kind, at, TZ)
    const localDay = toLocal(at, TZ).date
    return p.from <= at && at < p.to
      && p.days.includes(localDay)
      && (kind === 'week' ? new Date(`${p.start}T00:00:00Z`).getUTCDay() === 1 : p.start.endsWith('-01'))
      && before.to.getTime() === p.from.getTime() && addDays(before.end, 1) === p.start
      && last.to <= at && last.start === before.start
  }), { numRuns: 500 }), '500 arbitrary instants of 2026, holidays and 调休 weekends included')
})

t.test('the change against the previous period: counts by difference and relative change, ratios in percentage points', async (t) => {
  const fig = (key: string, kind: Figure['kind'], value: number | null, comparable = true): Figure => ({ key, section: 's', label: key, kind, value, note: null, comparable })
  t.same(changes(
    [fig('received', 'count', 6), fig('new', 'count', 2), fig('r', 'ratio', 0.5), fig('m', 'minutes', 120.5), fig('gone', 'count', null), fig('day', 'count', 1, false)],
    [fig('received', 'count', 4), fig('r', 'ratio', 0.75), fig('m', 'minutes', 100), fig('gone', 'count', 3)],
  ), [
    { key: 'received', label: 'received', kind: 'count', current: 6, previous: 4, difference: 2, relativeChange: 0.5 },
    { key: 'new', label: 'new', kind: 'count', current: 2, previous: null, difference: null, relativeChange: null },
    { key: 'r', label: 'r', kind: 'ratio', current: 0.5, previous: 0.75, difference: -25, relativeChange: null },
    { key: 'm', label: 'm', kind: 'minutes', current: 120.5, previous: 100, difference: 20.5, relativeChange: null },
    { key: 'gone', label: 'gone', kind: 'count', current: null, previous: 3, difference: null, relativeChange: null },
  ])
  t.same(changes([fig('n', 'count', 3)], [fig('n', 'count', 0)])[0]!.relativeChange, null, 'no relative change against 0')
})

t.test('root causes: the same words are the same cause', async (t) => {
  t.equal(normaliseRootCause('  配件系统允许订购已替代的刹车片料号。 '), '配件系统允许订购已替代的刹车片料号')
  t.equal(normaliseRootCause('Wrong  Pad batch.'), 'wrong pad batch')
  t.not(normaliseRootCause('刹车片批次错误'), normaliseRootCause('刹车盘批次错误'))
})

t.test('CAPA measures: stable ids, review due dates, kept when recorded again', async (t) => {
  let n = 0
  const id = () => `m${++n}`
  const first = scheduleMeasures([{ type: 'corrective', action: '更换刹车片', dueDate: '2026-12-01' }, { type: 'preventive', action: '停用料号' }], [], '2026-11-20', 30, id)
  t.same(first.map((m) => [m.id, m.reviewDueDate]), [['m1', '2026-12-31'], ['m2', '2026-12-20']])
  const reviewed = first.map((m) => (m.id === 'm2' ? { ...m, review: { outcome: 'effective' as const, evidence: 'ok', reviewedAt: '2026-12-21T00:00:00Z' } } : m))
  t.equal(nextReviewDue(reviewed), '2026-12-31')
  t.equal(capaStatus(reviewed), 'open')
  const again = scheduleMeasures([{ type: 'preventive', action: '停用料号' }, { type: 'corrective', action: '更换刹车片', dueDate: '2026-12-05' }, { type: 'corrective', action: '复查制动盘' }], reviewed, '2026-11-25', 30, id)
  t.same(again.map((m) => [m.id, m.reviewDueDate, m.review?.outcome ?? null]), [['m2', '2026-12-20', 'effective'], ['m1', '2027-01-04', null], ['m3', '2026-12-25', null]],
    'an unchanged measure keeps id and review; a moved due date moves the review')
  t.equal(capaStatus([{ ...again[0]! }]), 'reviewed')
})

t.test('retention: personal data out of any JSON document, figures kept', async (t) => {
  t.equal(retentionCutoff(new Date('2026-11-27T02:00:00Z'), 2).toISOString(), '2024-11-27T02:00:00.000Z')
  const payload = {
    data: {
      complaint: {
        complainant: { name: '张伟', kind: 'person', phone: '13800138000', email: 'z@example.com', idNumber: '310101', address: '上海', externalIds: [{ system: 'wukong', customerId: '1024' }] },
        subject: { product: '帕萨特', vin: 'LSVAU2180N2183294', plate: '沪A12345' },
        description: '客户张伟说', desiredOutcomeNote: null, level: 'general', satisfaction: 4, rootCause: '批次错误', attachments: [{ url: 'https://x/y.jpg' }],
        capa: { status: 'reviewed', measures: [{ id: 'm1', action: '更换', review: { outcome: 'effective', evidence: '张伟确认' } }] },
      },
      facts: { comment: '张伟来电', upgrade: { reason: 'closure limit passed' }, first: true },
    },
  }
  t.same(anonymiseJson(payload), {
    data: {
      complaint: {
        complainant: { name: ANONYMISED, kind: 'person', phone: null, email: null, idNumber: null, address: null, externalIds: [] },
        subject: { product: '帕萨特' },
        description: ANONYMISED, desiredOutcomeNote: null, level: 'general', satisfaction: 4, rootCause: '批次错误', attachments: [],
        capa: { status: 'reviewed', measures: [{ id: 'm1', action: '更换', review: { outcome: 'effective', evidence: ANONYMISED } }] },
      },
      facts: { comment: ANONYMISED, upgrade: { reason: ANONYMISED }, first: true },
    },
  })
  t.same(anonymiseJson({ callbackComment: '满意', satisfaction: 5, complainantExternalIds: [{ system: 'w', customerId: '1' }] }), { callbackComment: ANONYMISED, satisfaction: 5, complainantExternalIds: [] })
})
