import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import { sql } from 'kysely'
import { Gauge, Histogram, Registry } from 'prom-client'
import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { calendarCoverage, toLocal } from '../domain/calendar.js'
import { ProblemError } from '../errors.js'
import { problems } from '../http/common-schemas.js'
import { CLOCK_KEYS, CLOCK_SQL, runningClock } from '../sla/clock-sql.js'

const digest = (text: string) => createHash('sha256').update(text).digest()

/**
 * Prometheus metrics at /metrics. Request latency is per replica; the business gauges are read from
 * the database at scrape time, so every replica reports the same cluster-wide values.
 * Guarded by its own bearer token, METRICS_TOKEN (Prometheus sends it with `authorization:
 * credentials_file`), not by an API key: a scraper needs no role, and the counts of overdue
 * complaints are not for the public. Without METRICS_TOKEN the endpoint is off.
 */
export default fp(async function metrics(app: FastifyInstance) {
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
    name: 'complaint_sla_breaches_recorded', help: 'breaches recorded, by clock', labelNames: ['clock'], registers: [registry],
    async collect() {
      const rows = await s.db.selectFrom('breaches').select(['clock', sql<number>`count(*)::int`.as('n')]).groupBy('clock').execute()
      for (const clock of Object.keys(CLOCK_SQL)) this.set({ clock }, rows.find((r) => r.clock === clock)?.n ?? 0)
    },
  })
  new Gauge({
    name: 'complaint_clocks_overdue', help: 'running clocks past their deadline now, by clock', labelNames: ['clock'], registers: [registry],
    async collect() {
      const now = s.clock.now()
      for (const clock of CLOCK_KEYS) {
        const row = await sql<{ n: number }>`select count(*)::int as n from complaints where ${runningClock(clock, 'due', now)}`.execute(s.db)
        this.set({ clock }, row.rows[0]?.n ?? 0)
      }
    },
  })
  new Gauge({
    name: 'outbox_lag_seconds', help: 'age of the oldest event not yet delivered: not fanned out, or a delivery still pending or retrying (0 when none)', registers: [registry],
    async collect() {
      const row = await sql<{ oldest: Date | null }>`select least(
          (select min(occurred_at) from outbox_events where dispatched_at is null),
          (select min(occurred_at) from webhook_deliveries where status in ('pending', 'sending', 'retrying'))) as oldest`.execute(s.db)
      const oldest = row.rows[0]?.oldest
      this.set(oldest ? Math.max(0, (s.clock.now().getTime() - new Date(oldest).getTime()) / 1000) : 0)
    },
  })
  new Gauge({
    name: 'webhook_deliveries', help: 'webhook deliveries by status (pending, sending, retrying, succeeded, dead)', labelNames: ['status'], registers: [registry],
    async collect() {
      const rows = await s.db.selectFrom('webhook_deliveries').select(['status', sql<number>`count(*)::int`.as('n')]).groupBy('status').execute()
      for (const status of ['pending', 'sending', 'retrying', 'succeeded', 'dead']) this.set({ status }, rows.find((r) => r.status === status)?.n ?? 0)
    },
  })
  new Gauge({
    name: 'calendar_coverage_days_left', help: 'days until the business calendar runs out of holiday data and overrides', registers: [registry],
    async collect() {
      const calendar = await s.sla.calendar()
      this.set(calendarCoverage(calendar.overrides.keys(), toLocal(s.clock.now(), calendar.timeZone).date).daysLeft)
    },
  })

  const token = s.config.METRICS_TOKEN === undefined ? undefined : digest(s.config.METRICS_TOKEN)
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
  }, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()))
}, { name: 'metrics' })
