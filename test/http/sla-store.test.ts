import t from 'tap'
import { createSlaStore } from '../../src/sla/store.js'
import { countingStatements, testDatabase } from '../helper.js'

const counted = async () => {
  const { db, statements } = countingStatements((await testDatabase()).db)
  return { db, queries: statements }
}

/**
 * The SLA store caches the calendar and the current policy version for 30 s. When the cache runs out
 * under load, the callers that find it stale at the same moment — a list page asks once per complaint,
 * all at once — share one read instead of queueing one each for a pool connection (2,500 queries every
 * 30 s at 50 concurrent pages of 50, which made the overload guard shed requests in npm run bench).
 */
t.test('concurrent callers with a stale cache share one read of the calendar and of the current version', async (t) => {
  const { db, queries } = await counted()
  let clock = Date.parse('2026-11-26T02:00:00Z')
  const store = createSlaStore(db, { timeZone: 'Asia/Shanghai', now: () => clock })

  const calendars = await Promise.all(Array.from({ length: 50 }, () => store.calendar()))
  t.equal(queries.length, 1, '50 concurrent first reads: one statement')
  t.ok(calendars.every((c) => c.timeZone === 'Asia/Shanghai' && c.overrides instanceof Map), 'all 50 get the calendar')
  await Promise.all(Array.from({ length: 50 }, () => store.calendar()))
  t.equal(queries.length, 1, 'within the TTL: from the cache')

  clock += 30_001
  await Promise.all(Array.from({ length: 50 }, () => store.calendar()))
  t.equal(queries.length, 2, 'the TTL passed: 50 concurrent callers, one more statement')

  const versions = await Promise.all(Array.from({ length: 50 }, () => store.currentVersion()))
  t.same(new Set(versions), new Set([1]))
  t.equal(queries.length, 3, 'the current version the same way')
  await Promise.all(Array.from({ length: 20 }, () => store.policy(1)))
  t.equal(queries.length, 4, 'and a policy version not yet cached')
})

t.test('a change made through the store is not answered from a read started before it', async (t) => {
  const { db, queries } = await counted()
  const store = createSlaStore(db, { timeZone: 'Asia/Shanghai' })
  const before = store.calendar()
  store.invalidate()
  const after = store.calendar()
  await Promise.all([before, after])
  t.equal(queries.length, 2, 'the read after invalidate() is a new one, not the one in flight')
  await store.calendar()
  t.equal(queries.length, 2, 'and it is the one that filled the cache')
})
