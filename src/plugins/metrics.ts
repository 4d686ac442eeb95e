import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { Registry } from 'prom-client'
import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { ProblemError } from '../errors.js'
import { problems } from '../http/common-schemas.js'
import { DATABASE_GAUGES } from '../metrics/database-gauges.js'
import { checkReadiness } from '../system/readiness.js'

const digest = (text: string) => createHash('sha256').update(text).digest()

/**
 * Prometheus metrics at /metrics. Request latency is per replica; the business gauges
 * (src/metrics/database-gauges.ts) are read from the database at scrape time, so every replica
 * reports the same cluster-wide values.
 * Guarded by its own bearer token, METRICS_TOKEN (Prometheus sends it with `authorization:
 * credentials_file`), not by an API key: a scraper needs no role, and the counts of overdue
 * complaints are not for the public. Without METRICS_TOKEN the endpoint is off.
 */
export default fp(async function metrics(app: FastifyInstance, opts: { schema: string }) {
  // without METRICS_TOKEN nothing can read the metrics: prom-client (12 MB) is not loaded and no
  // request is timed; the route still answers, 404, as documented
  const { METRICS_TOKEN } = app.services.config
  const registry = METRICS_TOKEN === undefined ? undefined : await collectors(app, opts.schema)
  const token = METRICS_TOKEN === undefined ? undefined : digest(METRICS_TOKEN)
  app.get('/metrics', {
    schema: {
      operationId: 'metrics', tags: ['system'], summary: 'Prometheus metrics',
      description: 'Needs `Authorization: Bearer <METRICS_TOKEN>` (not an API key). 404 when the service runs without METRICS_TOKEN.',
      security: [{ metricsToken: [] }],
      response: { 200: { description: 'The metrics in the Prometheus text format.', content: { 'text/plain': { schema: Type.String() } } }, ...problems(404) },
    },
    onRequest: async (request, reply) => {
      if (!token) throw new ProblemError({ status: 404, code: 'not-found', title: 'Not Found', detail: 'metrics are off: start the service with METRICS_TOKEN set' })
      const sent = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1]
      if (sent && timingSafeEqual(digest(sent), token)) return
      reply.header('www-authenticate', 'Bearer realm="metrics"')
      throw new ProblemError({ status: 401, code: 'unauthorized', title: 'Unauthorized', detail: 'send METRICS_TOKEN as `Authorization: Bearer <token>`' })
    },
  // onRequest refuses every request when there is no token, so a request that gets here has a registry
  }, async (_req, reply) => reply.type(registry!.contentType).send(await registry!.metrics()))
}, { name: 'metrics' })

/** the request-latency histogram and the gauges, in a registry of this app's own */
async function collectors(app: FastifyInstance, schema: string): Promise<Registry> {
  const { Gauge, Histogram, Registry } = await import('prom-client')
  const registry = new Registry()
  const s = app.services

  const latency = new Histogram({
    name: 'http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  })
  app.addHook('onResponse', async (req, reply) => {
    latency.observe({ method: req.method, route: req.routeOptions.url ?? 'unknown', status_code: reply.statusCode }, reply.elapsedTime / 1000)
  })

  new Gauge({
    name: 'complaint_ready', help: '1 when the database answers and no migration is pending (what /readyz says), else 0', registers: [registry],
    async collect() {
      const readiness = await checkReadiness(s.db, schema, (err) => app.log.warn({ err }, 'readiness check failed'))
      this.set(readiness.status === 'ready' ? 1 : 0)
    },
  })
  for (const gauge of DATABASE_GAUGES) {
    new Gauge({
      name: gauge.name, help: gauge.help, labelNames: gauge.labelNames ?? [], registers: [registry],
      async collect() {
        // series that no longer exist go; a database that does not answer leaves the gauge empty
        // rather than failing the scrape, so complaint_ready and the request metrics still arrive
        this.reset()
        try {
          for (const sample of await gauge.read(s, s.clock.now())) this.set(sample.labels ?? {}, sample.value)
        } catch (err) {
          app.log.warn({ err, metric: gauge.name }, 'metric not collected')
        }
      },
    })
  }
  return registry
}
