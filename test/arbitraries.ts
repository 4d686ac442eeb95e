import { createRequire } from 'node:module'
import fc from 'fast-check'

/**
 * Instants for property tests: any millisecond of 2026 in Shanghai, biased towards the days and hours
 * where business-time arithmetic turns — public holidays and 调休 working weekends from the holiday
 * data itself, ordinary weekdays and weekends, the opening and closing of each working block, lunch,
 * the night — so that no time-dependent path is tested at one hand-picked minute only.
 */
const data = createRequire(import.meta.url)('chinese-days/dist/chinese-days.json') as { holidays: Record<string, string>; workdays: Record<string, string> }
const YEAR = '2026'
const HOLIDAYS = Object.keys(data.holidays).filter((d) => d.startsWith(YEAR))
const ADJUSTED_WORKDAYS = Object.keys(data.workdays).filter((d) => d.startsWith(YEAR))

const DAY_MS = 86_400_000
const dayOfYear = fc.integer({ min: 0, max: 364 }).map((n) => new Date(Date.UTC(2026, 0, 1) + n * DAY_MS).toISOString().slice(0, 10))
const weekday = (date: string) => new Date(`${date}T00:00:00Z`).getUTCDay()

export const localDay = fc.oneof(
  { arbitrary: fc.constantFrom(...HOLIDAYS), weight: 2 },
  { arbitrary: fc.constantFrom(...ADJUSTED_WORKDAYS), weight: 2 },
  { arbitrary: dayOfYear.filter((d) => weekday(d) !== 0 && weekday(d) !== 6), weight: 3 },
  { arbitrary: dayOfYear.filter((d) => weekday(d) === 0 || weekday(d) === 6), weight: 1 },
  { arbitrary: dayOfYear, weight: 2 },
)

const H = 3_600_000
/** the turning points of the default working day: 09:00, 12:00, 13:30, 18:00, midnight */
const EDGES = [9 * H, 12 * H, 13.5 * H, 18 * H, 0]
export const localTimeOfDay = fc.oneof(
  fc.integer({ min: 0, max: DAY_MS - 1 }),
  fc.tuple(fc.constantFrom(...EDGES), fc.integer({ min: -90_000, max: 90_000 })).map(([edge, d]) => (edge + d + DAY_MS) % DAY_MS),
  fc.integer({ min: 12 * H, max: 13.5 * H - 1 }), // lunch
  fc.integer({ min: 9 * H, max: 18 * H - 1 }), // the working day
)

/** an instant given as a Shanghai date and a time of day to the millisecond */
export const shanghaiInstant = fc.tuple(localDay, localTimeOfDay).map(([day, ms]) => new Date(Date.parse(`${day}T00:00:00+08:00`) + ms))

/** a step later: a moment, an hour, or days, to the millisecond */
export const gap = fc.oneof(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: H }), fc.integer({ min: 0, max: 4 * DAY_MS }))
