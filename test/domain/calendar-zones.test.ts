import fc from 'fast-check'
import t from 'tap'
import { fromLocal, toLocal } from '../../src/domain/calendar.js'

/**
 * The calendar reads local time from a per-day cache of the zone's offset instead of asking Intl at
 * every instant. At arbitrary instants — summer-time transitions included — it must say what Intl says.
 */
const ZONES = ['Asia/Shanghai', 'America/Los_Angeles', 'Europe/Berlin', 'Australia/Adelaide', 'Asia/Kathmandu']
const instant = fc.integer({ min: Date.parse('2024-01-01T00:00:00Z'), max: Date.parse('2027-12-31T00:00:00Z') })

function reference(ms: number, timeZone: string) {
  const p: Record<string, string> = {}
  const f = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value
  return { date: `${p.year}-${p.month}-${p.day}`, minute: Number(p.hour) * 60 + Number(p.minute) + Number(p.second) / 60 + (ms % 1000) / 60_000 }
}

t.test('toLocal agrees with Intl at any instant, in zones with and without summer time', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(instant, fc.constantFrom(...ZONES), (ms, zone) => {
    const got = toLocal(new Date(ms), zone)
    const want = reference(ms, zone)
    return got.date === want.date && Math.abs(got.minute - want.minute) < 1e-6
  }), { numRuns: 2000 }), '2000 random instants and zones (fast-check prints a counterexample otherwise)')
})

t.test('fromLocal inverts toLocal wherever the local time exists once', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(instant, fc.constantFrom(...ZONES), (ms, zone) => {
    const { date, minute } = toLocal(new Date(ms), zone)
    const back = fromLocal(date, minute, zone).getTime()
    // in the repeated hour of an autumn transition the local time names two instants: either is right
    return back === ms || toLocal(new Date(back), zone).date === date
  }), { numRuns: 2000 }), '2000 random instants and zones')
})
