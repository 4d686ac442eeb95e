import t from 'tap'
import { testApp, webComplaint, type TestApp } from '../helper.js'

const BAD_KEY = `cpk_${'x'.repeat(40)}`

/** GET /v1/complaints from `address`, with `key` (default: a key that does not exist) */
async function list(api: TestApp, opts: { address?: string; key?: string | null; headers?: Record<string, string> } = {}) {
  const key = opts.key === undefined ? BAD_KEY : opts.key
  const res = await api.app.inject({
    method: 'GET', url: '/v1/complaints', remoteAddress: opts.address ?? '192.0.2.10',
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...opts.headers },
  })
  return { status: res.statusCode, headers: res.headers, json: res.json() }
}

t.test('key guessing is throttled per client address before authentication: the request after the limit is 429 with Retry-After', async (t) => {
  const api = await testApp(t, { env: { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '5' } })
  const statuses = []
  for (let i = 0; i < 6; i++) statuses.push((await list(api)).status)
  t.same(statuses, [401, 401, 401, 401, 401, 429], 'five guesses, then 429')
  const limited = await list(api)
  t.equal(limited.status, 429)
  t.match(limited.headers['content-type'], /^application\/problem\+json/)
  t.equal(limited.headers['retry-after'], '60', 'the seconds left in the minute')
  t.match(limited.json, { status: 429, title: 'Too Many Requests', type: /rate-limited$/ })
  t.equal((await list(api, { key: null })).status, 429, 'with no key at all too')
  t.equal((await list(api, { key: await api.keyFor('cs_agent') })).status, 429, 'until the minute ends the address is refused before any key is read, a valid one included')

  t.equal((await list(api, { address: '192.0.2.11' })).status, 401, 'another address has its own count')
  for (const url of ['/healthz', '/readyz']) {
    const probe = await api.app.inject({ method: 'GET', url, remoteAddress: '192.0.2.10' })
    t.equal(probe.statusCode, 200, `${url} is never throttled`)
  }
  api.clock.advanceMinutes(0.5)
  t.equal((await list(api)).headers['retry-after'], '30')
  api.clock.advanceMinutes(0.5)
  t.equal((await list(api)).status, 401, 'a new minute, a new count')
})

t.test('requests with a valid key do not use up their address’s budget; they count against the key, failed validations included', async (t) => {
  const api = await testApp(t, { env: { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '3', RATE_LIMIT_PER_MINUTE: '8' } })
  const key = await api.keyFor('cs_agent')
  for (let i = 0; i < 4; i++) t.equal((await list(api, { key })).status, 200)
  t.equal((await list(api)).status, 401, 'the address has its whole budget for requests without a key')
  const bodies = []
  for (let i = 0; i < 5; i++) {
    const res = await api.app.inject({ method: 'POST', url: '/v1/complaints', remoteAddress: '192.0.2.10', headers: { authorization: `Bearer ${key}` }, payload: webComplaint({ channel: 'carrier pigeon' }) })
    bodies.push(res.statusCode)
  }
  t.same(bodies, [400, 400, 400, 400, 429], 'requests that fail validation count against the key: 4 lists and 4 bad bodies, then 429')
})

t.test('the client address comes from X-Forwarded-For only when TRUST_PROXY names the proxy', async (t) => {
  const direct = await testApp(t, { env: { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2' } })
  const spoofed = []
  for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) spoofed.push((await list(direct, { headers: { 'x-forwarded-for': ip } })).status)
  t.same(spoofed, [401, 401, 429], 'a client cannot escape the limit by sending X-Forwarded-For')

  const behindProxy = await testApp(t, { env: { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2', TRUST_PROXY: '10.0.0.0/8' } })
  const viaProxy = (ip: string) => list(behindProxy, { address: '10.1.1.1', headers: { 'x-forwarded-for': ip } })
  t.same([(await viaProxy('198.51.100.1')).status, (await viaProxy('198.51.100.1')).status, (await viaProxy('198.51.100.1')).status], [401, 401, 429])
  t.equal((await viaProxy('198.51.100.2')).status, 401, 'clients behind the load balancer are counted apart')
})
