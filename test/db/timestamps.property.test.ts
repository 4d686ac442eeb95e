import fc from 'fast-check'
import { sql } from 'kysely'
import pg from 'pg'
import t from 'tap'
import { parseTimestamptz, readIsoTimestamptz } from '../../src/db/timestamps.js'
import { isoString } from '../../src/http/instants.js'
import { testDatabase } from '../helper.js'

/**
 * The two conversions every instant of a response goes through — Postgres text to Date when read
 * (src/db/timestamps.ts), Date to RFC 3339 when written (isoString) — are faster versions of pg's parser
 * and of Date.prototype.toISOString. They must give exactly what those give, for every instant.
 */
const pgParser = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (text: string) => Date | number
const same = (a: Date | number, b: Date | number) => (typeof a === 'number' || typeof b === 'number' ? a === b : Object.is(a.getTime(), b.getTime()))
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300) * 30

const anyInstant = fc.oneof(
  fc.integer({ min: -8.64e15, max: 8.64e15 }),
  fc.integer({ min: Date.UTC(1000, 0, 1) - 86_400_000, max: Date.UTC(10_000, 0, 1) + 86_400_000 }),
  fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(3000, 0, 1) }),
).map((ms) => new Date(ms))

t.test('isoString is toISOString for every representable instant, and throws as it does for an invalid date', async (t) => {
  fc.assert(fc.property(anyInstant, (d) => isoString(d) === d.toISOString()), { numRuns: RUNS })
  for (const ms of [Date.UTC(1000, 0, 1), Date.UTC(1000, 0, 1) - 1, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10_000, 0, 1), 0, -1, 951_782_400_000 /* 2000-02-29 */]) {
    t.equal(isoString(new Date(ms)), new Date(ms).toISOString(), new Date(ms).toISOString())
  }
  t.throws(() => isoString(new Date(Number.NaN)), RangeError)
})

const digits = (n: number, width: number) => String(n).padStart(width, '0')
/** text in Postgres' ISO output form, including the forms it writes rarely (BC, 5-digit years, offsets with seconds) */
const pgText = fc.record({
  year: fc.oneof(fc.integer({ min: 1900, max: 2999 }), fc.integer({ min: 1, max: 12_000 })),
  month: fc.integer({ min: 1, max: 12 }), day: fc.integer({ min: 1, max: 28 }),
  hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }), second: fc.integer({ min: 0, max: 59 }),
  fraction: fc.option(fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 6 })),
  sign: fc.constantFrom('+', '-'), offsetHours: fc.integer({ min: 0, max: 15 }),
  offsetMinutes: fc.option(fc.integer({ min: 0, max: 59 })), offsetSeconds: fc.option(fc.integer({ min: 0, max: 59 })),
  bc: fc.boolean(),
}).map((p) => `${digits(p.year, 4)}-${digits(p.month, 2)}-${digits(p.day, 2)} ${digits(p.hour, 2)}:${digits(p.minute, 2)}:${digits(p.second, 2)}`
  + (p.fraction === null ? '' : `.${p.fraction}`)
  + `${p.sign}${digits(p.offsetHours, 2)}${p.offsetMinutes === null ? '' : `:${digits(p.offsetMinutes, 2)}${p.offsetSeconds === null ? '' : `:${digits(p.offsetSeconds, 2)}`}`}`
  + (p.bc ? ' BC' : ''))

t.test('parseTimestamptz gives what pg gives for any text in Postgres\' ISO form, and reads the common form itself', async (t) => {
  fc.assert(fc.property(pgText, (text) => {
    const ours = parseTimestamptz(text)
    if (!same(ours, pgParser(text))) return false
    // the fast path takes every instant of years 1000–9999 (all the service writes): it must not fall back
    const common = /^\d{4}-/.test(text) && !text.startsWith('0') && !text.endsWith(' BC')
    return common === (readIsoTimestamptz(text) !== undefined)
  }), { numRuns: RUNS })
  for (const text of ['infinity', '-infinity', '0001-01-01 00:00:00+00 BC', '10000-01-01 00:00:00+00', '1900-01-01 08:05:43+08:05:43', '2026-11-28 09:30:00.1+08', '2026-11-28 09:30:00.999999-03:30']) {
    t.ok(same(parseTimestamptz(text), pgParser(text)), text)
  }
  t.equal(readIsoTimestamptz('2026-11-28 09:30:00.123456+08')?.toISOString(), '2026-11-28T01:30:00.123Z', 'the fraction is cut to milliseconds, the offset applied')
  t.equal(readIsoTimestamptz('2026-11-28T09:30:00+08'), undefined, 'another form is left to pg')
})

t.test('what Postgres writes in any session time zone reads back as the instant it stored', async (t) => {
  const { db } = await testDatabase()
  // zones with offsets in whole hours, half and three-quarter hours, negative, and local mean time with seconds (before 1928 in Shanghai, 1937 in Amsterdam)
  const zones = ['UTC', 'Asia/Shanghai', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Chatham', 'Europe/Amsterdam', 'America/Los_Angeles']
  let fast = 0
  let runs = 0
  await fc.assert(fc.asyncProperty(fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(3000, 0, 1) - 1 }), fc.integer({ min: 0, max: 999 }), fc.constantFrom(...zones), async (ms, micros, zone) => {
    const stored = `${new Date(ms).toISOString().slice(0, -1)}${digits(micros, 3)}Z`
    const text = await db.transaction().execute(async (trx) => {
      await sql`select set_config('TimeZone', ${zone}, true)`.execute(trx)
      return (await sql<{ text: string }>`select (${stored}::timestamptz)::text as text`.execute(trx)).rows[0]!.text
    })
    runs++
    if (readIsoTimestamptz(text) !== undefined) fast++
    return parseTimestamptz(text).getTime() === ms
  }), { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) })
  t.equal(fast, runs, 'every text of years 1900–2999 was read by the fast path')
})
