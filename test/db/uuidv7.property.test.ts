import fc from 'fast-check'
import t from 'tap'
import { uuidv7 } from '../../src/db/uuidv7.js'

/** RFC 9562 §5.7: 48-bit big-endian Unix milliseconds, version 7, variant 10, 74 random bits */
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300) * 10
const anyMs = fc.oneof(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2100, 0, 1) }))

t.test('an event id is a UUIDv7 whose first 48 bits are the instant it was made for', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(anyMs, (ms) => {
    const id = uuidv7(ms)
    return V7.test(id) && Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16) === ms
  }), { numRuns: RUNS }), `${RUNS} instants`)
})

t.test('ids sort as their instants do, as text (the outbox and the webhook-id rely on it)', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(anyMs, anyMs, (a, b) => {
    const [x, y] = [uuidv7(a), uuidv7(b)]
    return a === b || (a < b) === (x < y)
  }), { numRuns: RUNS }), `${RUNS} pairs`)
})

t.test('ids made in the same millisecond differ in their random bits', async (t) => {
  const ms = Date.UTC(2026, 10, 28, 12)
  const ids = Array.from({ length: 10_000 }, () => uuidv7(ms))
  t.equal(new Set(ids).size, ids.length, 'no two alike')
  t.equal(new Set(ids.map((id) => id.slice(0, 13))).size, 1, 'one time prefix')
  // every random hex digit takes every value somewhere among 10,000 ids: none is fixed or left out
  const random = ids.map((id) => id.slice(15).replace(/-/g, ''))
  for (let i = 0; i < random[0]!.length; i++) {
    const digits = new Set(random.map((r) => r[i]))
    t.equal(digits.size, i === 3 ? 4 : 16, `random digit ${i}: ${i === 3 ? 'the variant digit takes 8, 9, a and b' : 'all 16 values'}`)
  }
})
