/**
 * The one range of dates and instants the API accepts, in bodies, query strings, path parameters and
 * cursors: RFC 3339 with an explicit offset, seconds 00–59 (no leap second: JavaScript and the
 * database cannot represent 23:59:60), from 1900-01-01 up to, not including, 3000-01-01 UTC. Outside it
 * a value is a 400 naming the field, never a 500 from the database.
 */
export const INSTANT_MIN = Date.UTC(1900, 0, 1)
export const INSTANT_MAX_EXCLUSIVE = Date.UTC(3000, 0, 1)
export const INSTANT_RANGE_TEXT = 'RFC 3339 with an offset (e.g. `2026-11-28T09:30:00+08:00`), from 1900-01-01 to 2999-12-31, no leap seconds'

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/i
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

const daysInMonth = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate()
const validDate = (y: number, m: number, d: number) => m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m)
const inRange = (ms: number) => ms >= INSTANT_MIN && ms < INSTANT_MAX_EXCLUSIVE

/** the instant an RFC 3339 date-time stands for, or null when it is malformed, impossible or out of range */
export function parseInstant(text: string): Date | null {
  const m = RFC3339.exec(text)
  if (!m) return null
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return null
  if (m[8]!.toUpperCase() !== 'Z' && (Number(m[9]) > 23 || Number(m[10]) > 59)) return null
  const ms = Date.parse(text.toUpperCase())
  return Number.isNaN(ms) || !inRange(ms) ? null : new Date(ms)
}

/** a calendar date YYYY-MM-DD that exists, in the same range of years */
export function isValidDate(text: string): boolean {
  const m = DATE.exec(text)
  if (!m) return false
  const [y, mo, d] = m.slice(1).map(Number) as [number, number, number]
  // years, not Date.UTC: it reads years 0–99 as 1900–1999
  return y >= 1900 && y <= 2999 && validDate(y, mo, d)
}
