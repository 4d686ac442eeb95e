import fc from 'fast-check'
import t from 'tap'
import { addBusinessMinutes, businessMinutesBetween, defaultCalendar } from '../../src/domain/calendar.js'

const cal = defaultCalendar('Asia/Shanghai', new Map([['2026-11-27', false], ['2026-11-28', true]]))
// instants across 2026, including the holidays, weekends and 调休 days of the data, to the millisecond
const instant = fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2026-12-20T00:00:00Z') }).map((ms) => new Date(ms))
const minutes = fc.integer({ min: 0, max: 6000 })
const close = (a: number, b: number) => Math.abs(a - b) < 1e-6

t.test('addBusinessMinutes and businessMinutesBetween are inverse', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(instant, minutes, (start, n) => close(businessMinutesBetween(start, addBusinessMinutes(start, n, cal), cal), n)), { numRuns: 300 }), 'holds for 300 random cases (fast-check prints a counterexample otherwise)')
  // the other way round: counting the business minutes up to an instant and adding them back never
  // passes it, and lands on it when the instant is inside working hours
  t.doesNotThrow(() => fc.assert(fc.property(instant, instant, (a, b) => {
    const [start, end] = a <= b ? [a, b] : [b, a]
    const back = addBusinessMinutes(start, businessMinutesBetween(start, end, cal), cal)
    return back.getTime() <= end.getTime() || close(businessMinutesBetween(end, back, cal), 0)
  }), { numRuns: 300 }), 'holds for 300 random cases (fast-check prints a counterexample otherwise)')
})

t.test('both are monotonic', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(instant, minutes, minutes, (start, x, y) => {
    const [n1, n2] = x <= y ? [x, y] : [y, x]
    return addBusinessMinutes(start, n1, cal) <= addBusinessMinutes(start, n2, cal)
  }), { numRuns: 300 }), 'holds for 300 random cases (fast-check prints a counterexample otherwise)')
  t.doesNotThrow(() => fc.assert(fc.property(instant, instant, minutes, (a, b, n) => {
    const [s1, s2] = a <= b ? [a, b] : [b, a]
    return addBusinessMinutes(s1, n, cal) <= addBusinessMinutes(s2, n, cal)
  }), { numRuns: 300 }), 'holds for 300 random cases (fast-check prints a counterexample otherwise)')
  t.doesNotThrow(() => fc.assert(fc.property(instant, instant, instant, (s, a, b) => {
    const [t1, t2] = a <= b ? [a, b] : [b, a]
    return businessMinutesBetween(s, t1, cal) <= businessMinutesBetween(s, t2, cal) + 1e-9
  }), { numRuns: 300 }), 'holds for 300 random cases (fast-check prints a counterexample otherwise)')
})
