import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'
import { METRICS_TOKEN, metricsHeaders, testApp } from '../helper.js'

t.test('GET /metrics needs METRICS_TOKEN as a bearer token: no token, a wrong one or an API key is 401', async (t) => {
  const api = await testApp(t) // started with METRICS_TOKEN
  const adminKey = await api.keyFor('admin')
  for (const [what, headers] of [
    ['no credential', {}],
    ['a wrong token', { authorization: 'Bearer not-the-metrics-token' }],
    ['an admin API key', { authorization: `Bearer ${adminKey}` }],
    ['the token in another scheme', { authorization: `Basic ${METRICS_TOKEN}` }],
  ] as const) {
    const res = await api.app.inject({ method: 'GET', url: '/metrics', headers })
    t.equal(res.statusCode, 401, what)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.equal(res.headers['www-authenticate'], 'Bearer realm="metrics"')
    t.notMatch(res.body, /http_request_duration_seconds/, `${what}: no metrics`)
  }
  const ok = await api.app.inject({ method: 'GET', url: '/metrics', headers: metricsHeaders })
  t.equal(ok.statusCode, 200)
  t.match(ok.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.match(ok.body, /http_request_duration_seconds_bucket/)
})

t.test('without METRICS_TOKEN the endpoint is off: 404', async (t) => {
  const api = await testApp(t, { env: { METRICS_TOKEN: '' } })
  const res = await api.app.inject({ method: 'GET', url: '/metrics', headers: metricsHeaders })
  t.equal(res.statusCode, 404)
  t.match(res.json().detail, /METRICS_TOKEN/)
})

t.test('a METRICS_TOKEN under 16 characters stops the start, without printing it', async (t) => {
  let error: unknown
  try {
    loadConfig({ METRICS_TOKEN: 'short-secret' })
  } catch (err) {
    error = err
  }
  t.ok(error instanceof ConfigError)
  t.match((error as Error).message, /METRICS_TOKEN: .*\(got \[secret\]\)/)
  t.notMatch((error as Error).message, /short-secret/)
})

t.test('the document agrees: only health, readiness and tracking need no credential; /metrics names its own scheme', async (t) => {
  const api = await testApp(t)
  const doc = api.app.swagger() as any
  const open = Object.values<any>(doc.paths).flatMap((item) => Object.values<any>(item)).filter((op) => Array.isArray(op.security) && op.security.length === 0)
  t.same(open.map((op) => op.operationId).sort(), ['healthz', 'readyz', 'trackComplaint'], 'as the README lists them (with /docs and /openapi.json, which are not operations)')
  t.same(doc.paths['/metrics'].get.security, [{ metricsToken: [] }])
  t.equal(doc.components.securitySchemes.metricsToken.scheme, 'bearer')
  t.same(Object.keys(doc.paths['/metrics'].get.responses).sort(), ['200', '401', '404', '414', '429', '500', '503'], 'a wrong token is 401, no token configured 404; no 403: the token has no roles')
})
