import pg from 'pg'

/** pg's own parser of `timestamptz` text (postgres-date): the fallback for every form the fast path does not read */
const pgTimestamptz = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (text: string) => Date

/** the value of two ASCII digits at i, or NaN */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48
  const b = s.charCodeAt(i + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN
}

/**
 * `timestamptz` as Postgres writes it with DateStyle ISO — `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]]`,
 * the offset being the session's time zone — read into a Date, as pg's parser does but without its
 * regular expressions and parseFloat: a list page reads some 25 instants per complaint, and this parse was
 * the largest single cost in a CPU profile of one. Anything else (years before 1000 or after 9999, BC,
 * infinity, another DateStyle) goes to pg's parser, so the result is always what pg would give. Like
 * pg's, the fraction is cut to whole milliseconds.
 */
export const parseTimestamptz = (text: string): Date => readIsoTimestamptz(text) ?? pgTimestamptz(text)

/** the fast path of parseTimestamptz: undefined for any text not in the common form */
export function readIsoTimestamptz(s: string): Date | undefined {
  const year = two(s, 0) * 100 + two(s, 2)
  if (!(year >= 1000) || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined
  let i = 19
  let ms = 0
  if (s.charCodeAt(i) === 46) {
    let scale = 100
    for (i = 20; ; i++) {
      const c = s.charCodeAt(i) - 48
      if (!(c >= 0 && c <= 9)) break
      ms += c * scale
      scale /= 10
    }
    if (i === 20) return undefined
  }
  const sign = s.charCodeAt(i) === 43 ? 1 : s.charCodeAt(i) === 45 ? -1 : 0
  let offset = two(s, i + 1) * 3600
  i += 3
  for (let unit = 60; unit >= 1 && s.charCodeAt(i) === 58; unit /= 60, i += 3) offset += two(s, i + 1) * unit
  const local = Date.UTC(year, two(s, 5) - 1, two(s, 8), two(s, 11), two(s, 14), two(s, 17), Math.trunc(ms))
  if (sign === 0 || i !== s.length || Number.isNaN(local) || Number.isNaN(offset)) return undefined
  return new Date(local - sign * offset * 1000)
}
