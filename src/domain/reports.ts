import { businessMinutesBetween, fromLocal, standardDayMinutes, toLocal, type BusinessCalendar } from './calendar.js'
import { addDays } from './capa.js'

/**
 * The formulas of the reports (docs/reports.md) that are not plain SQL: periods in the business time
 * zone, ratios whose denominator may be missing, means and the continuous p90 of business minutes,
 * distributions, and the change of every figure against the previous period. Pure: no SQL, no I/O.
 */

// ---- periods ----

export type PeriodKind = 'week' | 'month'

export interface Period {
  kind: PeriodKind
  /** first day, YYYY-MM-DD in the business time zone */
  start: string
  /** last day, inclusive */
  end: string
  /** the first instant of the period and the first instant after it (exclusive) */
  from: Date
  to: Date
  /** every day of the period */
  days: string[]
}

const weekdayOf = (date: string) => {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay()
}

/** the Monday of the week `date` falls in */
export const mondayOf = (date: string) => addDays(date, -((weekdayOf(date) + 6) % 7))

const firstOfNextMonth = (date: string) => {
  const [y, m] = date.split('-').map(Number) as [number, number]
  return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10)
}

/** the week (Monday to Sunday) or calendar month starting on `start`; null when `start` does not begin one */
export function periodOf(kind: PeriodKind, start: string, timeZone: string): Period | null {
  if (kind === 'week' && weekdayOf(start) !== 1) return null
  if (kind === 'month' && !start.endsWith('-01')) return null
  const next = kind === 'week' ? addDays(start, 7) : firstOfNextMonth(start)
  const days: string[] = []
  for (let d = start; d < next; d = addDays(d, 1)) days.push(d)
  return { kind, start, end: addDays(next, -1), from: fromLocal(start, 0, timeZone), to: fromLocal(next, 0, timeZone), days }
}

/** the period of `kind` that contains the instant */
export function periodContaining(kind: PeriodKind, at: Date, timeZone: string): Period {
  const today = toLocal(at, timeZone).date
  return periodOf(kind, kind === 'week' ? mondayOf(today) : `${today.slice(0, 7)}-01`, timeZone)!
}

/** the period just before `p` (the previous week, or the previous month) */
export function previousPeriod(p: Period, timeZone: string): Period {
  const dayBefore = addDays(p.start, -1)
  return periodOf(p.kind, p.kind === 'week' ? mondayOf(dayBefore) : `${dayBefore.slice(0, 7)}-01`, timeZone)!
}

/** the last complete period before the instant: what the Friday and the 1st-of-the-month jobs report on */
export const lastCompletePeriod = (kind: PeriodKind, at: Date, timeZone: string) => previousPeriod(periodContaining(kind, at, timeZone), timeZone)

// ---- ratios, means, percentiles ----

/** a fraction, or missing (null) when nothing could be counted against it — never 0 for "no denominator" */
export interface Ratio {
  numerator: number
  denominator: number
  ratio: number | null
}
export const ratio = (numerator: number, denominator: number): Ratio => ({ numerator, denominator, ratio: denominator === 0 ? null : numerator / denominator })

const round = (x: number, decimals: number) => {
  const f = 10 ** decimals
  return Math.round(x * f) / f
}

/** arithmetic mean, rounded to `decimals`; null when there is no value */
export function mean(values: readonly number[], decimals = 1): number | null {
  if (values.length === 0) return null
  return round(values.reduce((s, v) => s + v, 0) / values.length, decimals)
}

/** continuous percentile with linear interpolation between ranks, as PostgreSQL's percentile_cont */
export function percentileCont(values: readonly number[], fraction: number, decimals = 1): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const h = (sorted.length - 1) * fraction
  const lower = Math.floor(h)
  const upper = Math.min(lower + 1, sorted.length - 1)
  return round(sorted[lower]! + (h - lower) * (sorted[upper]! - sorted[lower]!), decimals)
}

/** complaints of a category per 1,000 of the posted denominator; missing without one */
export const perThousand = (complaints: number, denominator: number | null) =>
  denominator === null || denominator === 0 ? null : round((complaints * 1000) / denominator, 4)

// ---- business time ----

export interface Duration {
  /** complaints that have the value */
  complaints: number
  meanBusinessMinutes: number | null
  p90BusinessMinutes: number | null
}

/**
 * Business minutes of each (start, end) pair on the calendar. Pauses are not subtracted: the figure is
 * the time the customer experienced (docs/reports.md). Cost: one walk of the calendar per pair, over
 * the working days between its ends.
 */
export const businessMinutes = (pairs: ReadonlyArray<readonly [Date, Date]>, cal: BusinessCalendar) =>
  pairs.map(([start, end]) => businessMinutesBetween(start, end, cal))

export const duration = (minutes: readonly number[]): Duration => ({
  complaints: minutes.length, meanBusinessMinutes: mean(minutes), p90BusinessMinutes: percentileCont(minutes, 0.9),
})

/** the buckets of the time-to-close distribution, in business days (a business day = the calendar's standard day) */
export const CLOSE_TIME_BUCKETS = [
  { key: 'le1', label: '≤1个工作日', upToDays: 1 },
  { key: '1to3', label: '1–3个工作日', upToDays: 3 },
  { key: '3to5', label: '3–5个工作日', upToDays: 5 },
  { key: '5to10', label: '5–10个工作日', upToDays: 10 },
  { key: 'gt10', label: '>10个工作日', upToDays: Infinity },
] as const

/** how many durations fall in each bucket: a duration of exactly N business days is in the bucket up to N */
export function closeTimeDistribution(minutes: readonly number[], cal: BusinessCalendar) {
  const day = standardDayMinutes(cal)
  return CLOSE_TIME_BUCKETS.map((b, i) => {
    const lower = i === 0 ? -Infinity : CLOSE_TIME_BUCKETS[i - 1]!.upToDays * day
    return { bucket: b.key, label: b.label, count: minutes.filter((m) => m > lower && m <= b.upToDays * day).length }
  })
}

// ---- root causes ----

/**
 * How root-cause texts are grouped: the same words are the same cause. Surrounding and repeated
 * white space, trailing punctuation and Latin letter case do not make a different cause; anything
 * else does (no taxonomy: rootCause is free text). The SQL of the report applies the same rule.
 */
export function normaliseRootCause(text: string): string {
  return text.trim().replace(/\s+/g, ' ').replace(/[\s。．.;；,，!！]+$/u, '').toLowerCase()
}

// ---- figures as one flat list: CSV rows, HTML tables and the change against the previous period ----

export type FigureKind = 'count' | 'ratio' | 'rate' | 'minutes' | 'score'

export interface Figure {
  key: string
  section: string
  label: string
  kind: FigureKind
  value: number | null
  /** a missing value's reason, or what a rate is per */
  note: string | null
  /** false for figures that have no counterpart in another period (per-day counts) */
  comparable: boolean
}

export interface Change {
  key: string
  label: string
  kind: FigureKind
  current: number | null
  previous: number | null
  /** counts, minutes, rates and scores: current − previous; ratios: percentage points */
  difference: number | null
  /** counts only: (current − previous) ÷ previous; missing when the previous count is 0 */
  relativeChange: number | null
}

/**
 * The change of each comparable figure against the previous period: counts by difference and
 * relative change, ratios by percentage points, minutes, rates and scores by difference. A figure
 * missing in either period, or absent from the previous one, gives a missing change.
 */
export function changes(current: readonly Figure[], previous: readonly Figure[]): Change[] {
  const before = new Map(previous.map((f) => [f.key, f]))
  return current.filter((f) => f.comparable).map((f) => {
    const prev = before.get(f.key)?.value ?? null
    const both = f.value !== null && prev !== null
    const difference = !both ? null : f.kind === 'ratio' ? round((f.value! - prev!) * 100, 4) : round(f.value! - prev!, 4)
    const relativeChange = both && f.kind === 'count' && prev !== 0 ? round((f.value! - prev!) / prev!, 4) : null
    return { key: f.key, label: f.label, kind: f.kind, current: f.value, previous: prev, difference, relativeChange }
  })
}
