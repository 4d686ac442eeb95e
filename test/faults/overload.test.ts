import t from 'tap'
import { call, freshDatabase, n, report, roleKeys, startServer } from './support.js'

const tally = { shed: 0, served: 0, limited: 0 }
report(t, {
  name: 'overload', fault: 'Overload',
  tried: '300 concurrent list requests on a pool of 1 connection (at most 5 waiting); then 100 concurrent requests against a limit of 40 a minute',
  cases: () => `400 requests: ${n(tally.served)} served, ${n(tally.shed)} shed with 503 + Retry-After, ${tally.limited} refused with 429; no other answer`,
})

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
  tally.shed = shed.length
  tally.served = answers.filter((a) => a.status === 200).length
  t.ok(shed.every((a) => Number(a.headers.get('retry-after')) > 0 && String(a.headers.get('content-type')).startsWith('application/problem+json')), 'with Retry-After, as problem+json')
  t.ok(Math.max(...answers.map((a) => a.ms)) < 30_000, 'nothing waits without bound')
  server.signal('SIGTERM')
  await server.exited

  const limited = await startServer(t, url, { RATE_LIMIT_PER_MINUTE: '40' })
  const burst = await Promise.all(Array.from({ length: 100 }, () => call(limited.base, keys.cs, 'GET', '/v1/complaints?limit=1')))
  const tooMany = burst.filter((a) => a.status === 429)
  tally.limited = tooMany.length
  tally.served += burst.filter((a) => a.status === 200).length
  t.equal(burst.filter((a) => a.status === 200).length, 40, 'the limit is served')
  t.equal(tooMany.length, 60, 'the rest is refused')
  t.ok(tooMany.every((a) => Number(a.headers.get('retry-after')) > 0), 'each 429 says when to retry')
  limited.signal('SIGTERM')
  await limited.exited
})
