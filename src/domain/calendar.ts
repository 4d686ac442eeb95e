import { createRequire } from 'node:module'

/**
 * The business calendar and the one clock calculator of the service (docs/time-limits.md).
 * Every limit is "start + N minutes" in one of two units: business minutes (only minutes inside
 * working hours on working days) or calendar minutes (every minute).
 */

/** a working-hour block in minutes after local midnight, e.g. [540, 720] = 09:00–12:00 */
export type Block = readonly [number, number]

export interface BusinessCalendar {
  timeZone: string
  blocks: readonly Block[]
  /** YYYY-MM-DD → true (working day, e.g. 调休 Saturday) or false (day off); beats the holiday data */
  overrides: ReadonlyMap<string, boolean>
}

export const DEFAULT_BLOCKS: readonly Block[] = [
  [9 * 60, 12 * 60],
  [13 * 60 + 30, 18 * 60],
]

export function defaultCalendar(timeZone = 'Asia/Shanghai', overrides: ReadonlyMap<string, boolean> = new Map()): BusinessCalendar {
  return { timeZone, blocks: DEFAULT_BLOCKS, overrides }
}

/** business minutes in a standard working day (7.5 h = 450 by default) */
export const standardDayMinutes = (cal: BusinessCalendar) => cal.blocks.reduce((sum, [s, e]) => sum + (e - s), 0)

const MINUTE = 60_000
const MAX_DAYS_SCANNED = 3660

interface LocalDay {
  date: string // YYYY-MM-DD in the calendar's time zone
  minute: number // minutes (with fraction) after local midnight
}

const DAY = 86_400_000

const formatters = new Map<string, Intl.DateTimeFormat>()
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** offset of the zone from UTC at instant t, in ms, as Intl says (slow: a formatToParts call) */
function intlOffset(t: number, timeZone: string): number {
  const p: Record<string, string> = {}
  for (const part of formatter(timeZone).formatToParts(new Date(t))) p[part.type] = part.value
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second))
  return asUtc - (t - (t % 1000 + 1000) % 1000)
}

/**
 * The zone's offset per UTC day: a day whose offset is the same at its first and last millisecond (every
 * day of Asia/Shanghai, all but two a year of a zone with summer time) keeps one number, so the calendar
 * asks Intl twice per day it ever touches instead of at every instant; a day with a transition asks
 * Intl each time.
 */
const offsetsByZone = new Map<string, Map<number, number | null>>()
function offsetAt(t: number, timeZone: string): number {
  let days = offsetsByZone.get(timeZone)
  if (!days) offsetsByZone.set(timeZone, (days = new Map()))
  const day = Math.floor(t / DAY)
  let offset = days.get(day)
  if (offset === undefined) {
    const first = intlOffset(day * DAY, timeZone)
    offset = first === intlOffset(day * DAY + DAY - 1, timeZone) ? first : null
    days.set(day, offset)
  }
  return offset ?? intlOffset(t, timeZone)
}

/** YYYY-MM-DD of a day number (days since 1970-01-01), memoised: the key of a day in the holiday data and the overrides */
const dayStrings = new Map<number, string>()
function dayString(day: number): string {
  let text = dayStrings.get(day)
  if (text === undefined) dayStrings.set(day, (text = new Date(day * DAY).toISOString().slice(0, 10)))
  return text
}
const dayNumber = (date: string) => Math.round(Date.parse(`${date}T00:00:00Z`) / DAY)

/** the local day (as a day number) and the minutes after its midnight of instant t */
function localDay(t: number, timeZone: string): { day: number; minute: number } {
  const local = t + offsetAt(t, timeZone)
  const day = Math.floor(local / DAY)
  return { day, minute: (local - day * DAY) / MINUTE }
}

export function toLocal(t: Date, timeZone: string): LocalDay {
  const { day, minute } = localDay(t.getTime(), timeZone)
  return { date: dayString(day), minute }
}

function instantOf(day: number, minute: number, timeZone: string): Date {
  const naive = day * DAY + Math.round(minute * MINUTE)
  let t = naive - offsetAt(naive, timeZone)
  t = naive - offsetAt(t, timeZone) // second pass settles offsets that change that day
  return new Date(t)
}

/** the instant of `minute` minutes after local midnight of `date` in the zone */
export function fromLocal(date: string, minute: number, timeZone: string): Date {
  return instantOf(dayNumber(date), minute, timeZone)
}

/**
 * Chinese public holidays and adjusted working days (调休) from the maintained `chinese-days` data.
 * Its functions read dates in the server's own time zone (west of UTC a Monday turns into a Sunday),
 * so the service reads the package's data table and decides weekdays itself.
 */
interface HolidayData {
  holidays: Record<string, string>
  workdays: Record<string, string>
}
const holidayData = createRequire(import.meta.url)('chinese-days/dist/chinese-days.json') as HolidayData

/** the years the holiday data covers; beyond them only weekends and overrides count */
export const HOLIDAY_DATA_YEARS = (() => {
  const years = Object.keys(holidayData.holidays).map((d) => Number(d.slice(0, 4)))
  return { first: Math.min(...years), last: Math.max(...years) }
})()

function workingDay(day: number, cal: BusinessCalendar): boolean {
  const date = dayString(day)
  const override = cal.overrides.get(date)
  if (override !== undefined) return override
  if (date in holidayData.workdays) return true
  if (date in holidayData.holidays) return false
  const weekday = (day + 4) % 7 // 1970-01-01 was a Thursday
  return weekday !== 0 && weekday !== 6
}

export const isWorkingDay = (date: string, cal: BusinessCalendar): boolean => workingDay(dayNumber(date), cal)

/** Walks working time forward from `start`; calls visit(day, from, to) for each working stretch. */
function walk(start: Date, cal: BusinessCalendar, visit: (day: number, from: number, to: number) => boolean): void {
  let { day, minute } = localDay(start.getTime(), cal.timeZone)
  for (let i = 0; i < MAX_DAYS_SCANNED; i++, day++, minute = 0) {
    if (!workingDay(day, cal)) continue
    for (const [s, e] of cal.blocks) {
      if (minute >= e) continue
      if (visit(day, Math.max(minute, s), e)) return
    }
  }
  throw new Error(`no working time within ${MAX_DAYS_SCANNED} days of ${start.toISOString()}: check the calendar overrides`)
}

/** start + N business minutes. With N = 0 this is the next opening (or start itself inside working hours). */
export function addBusinessMinutes(start: Date, minutes: number, cal: BusinessCalendar): Date {
  let remaining = minutes
  let result: Date | undefined
  walk(start, cal, (day, from, to) => {
    // a limit that uses up a block exactly ends at that block's close, not at the next opening: the
    // deadline is the earliest instant at which the limit has elapsed (3 business days from a 09:00
    // start end at 18:00 of the third day). N = 0 never reaches a close: `from` is before `to`.
    if (remaining <= to - from) {
      result = instantOf(day, from + remaining, cal.timeZone)
      return true
    }
    remaining -= to - from
    return false
  })
  return result as Date
}

/** business minutes between two instants (0 when end <= start) */
export function businessMinutesBetween(start: Date, end: Date, cal: BusinessCalendar): number {
  if (end <= start) return 0
  const endLocal = localDay(end.getTime(), cal.timeZone)
  let total = 0
  walk(start, cal, (day, from, to) => {
    if (day > endLocal.day) return true
    if (day === endLocal.day) {
      if (from >= endLocal.minute) return true
      total += Math.min(to, endLocal.minute) - from
      return to >= endLocal.minute
    }
    total += to - from
    return false
  })
  return total
}

export const nextOpening = (t: Date, cal: BusinessCalendar) => addBusinessMinutes(t, 0, cal)

/** close of the working day on which `t` falls, or of the next working day if `t` is after hours */
export function endOfBusinessDay(t: Date, cal: BusinessCalendar): Date {
  const opening = nextOpening(t, cal)
  const { day } = localDay(opening.getTime(), cal.timeZone)
  const last = cal.blocks[cal.blocks.length - 1]
  if (!last) throw new Error('calendar has no working-hour blocks')
  return instantOf(day, last[1], cal.timeZone)
}

export interface CalendarCoverage {
  holidayDataYears: { first: number; last: number }
  /** the last year whose holidays are known: the package's data, extended by years with overrides */
  coveredThrough: number
  daysLeft: number
  /** set from `warnDays` before the covered range ends, until the next year's overrides are posted */
  warning: string | null
}

/**
 * Which years the calendar knows. The holiday package answers "ordinary day" for years it has no
 * data for, so beyond its last year the service relies on overrides: a year with at least one
 * override counts as posted (the State Council's list always has entries).
 */
export function calendarCoverage(overrideDays: Iterable<string>, today: string, warnDays = 60): CalendarCoverage {
  const overrideYears = new Set([...overrideDays].map((d) => Number(d.slice(0, 4))))
  let coveredThrough = HOLIDAY_DATA_YEARS.last
  while (overrideYears.has(coveredThrough + 1)) coveredThrough++
  const end = `${coveredThrough}-12-31`
  const daysLeft = Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000)
  const warning = daysLeft <= warnDays
    ? `public holidays are known only through ${end} (${daysLeft} days left): post the ${coveredThrough + 1} holidays and adjusted working days: POST /v1/admin/calendar/overrides/import with a published .ics calendar, or PUT /v1/admin/calendar/overrides/{date}`
    : null
  return { holidayDataYears: HOLIDAY_DATA_YEARS, coveredThrough, daysLeft, warning }
}
