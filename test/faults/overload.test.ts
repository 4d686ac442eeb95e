import t from 'tap'
import { call, freshDatabase, roleKeys, startServer } from './support.js'

/**
 * Overload: a burst far beyond what one database connection serves gets 503 with Retry-After at once
 * for what cannot wait (the queue for a connection is bounded) instead of queueing without bound, never
 * a 500; and a burst beyond a key's rate limit gets 429 with Retry-After.
 */
t.test('a saturated pool sheds load with 503 + Retry-After; a burst over the rate limit gets 429', async (t) => {
  const { url } = await freshDatabase(t)
  const server = await startServer(t, url, { DB_POOL_SIZE: '1', OVERLOAD_MAX_WAITING_QUERIES: '5', DB_CONNECT_TIMEOUT_MS: '2000' })
  const keys = await roleKeys(server.base)
  const answers = await Promise.all(Array.from({ length: 300 }, () => call(server.base, keys.cs, 'GET', '/v1/complaints?limit=200')))
  const statuses = [...new Set(answers.map((a) => a.status))].sort()
  t.comment(`statuses: ${statuses.join(', ')}; slowest ${Math.round(Math.max(...answers.map((a) => a.ms)))} ms`)
  t.ok(answers.some((a) => a.status === 503), 'some requests are shed')
  t.ok(statuses.every((s) => s === 200 || s === 503), 'each is served or shed: no 500, no dropped connection')
  const shed = answers.filter((a) => a.status === 503)
  t.ok(shed.every((a) => Number(a.headers.get('retry-after')) > 0 && String(a.headers.get('content-type')).startsWith('application/problem+json')), 'with Retry-After, as problem+json')
  t.ok(Math.max(...answers.map((a) => a.ms)) < 30_000, 'nothing waits without bound')
  server.signal('SIGTERM')
  await server.exited

  const limited = await startServer(t, url, { RATE_LIMIT_PER_MINUTE: '40' })
  const burst = await Promise.all(Array.from({ length: 100 }, () => call(limited.base, keys.cs, 'GET', '/v1/complaints?limit=1')))
  const tooMany = burst.filter((a) => a.status === 429)
  t.equal(burst.filter((a) => a.status === 200).length, 40, 'the limit is served')
  t.equal(tooMany.length, 60, 'the rest is refused')
  t.ok(tooMany.every((a) => Number(a.headers.get('retry-after')) > 0), 'each 429 says when to retry')
  limited.signal('SIGTERM')
  await limited.exited
})
