import fp from 'fastify-plugin'
import { sql } from 'kysely'
import { Gauge, Histogram, Registry } from 'prom-client'
import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { calendarCoverage, toLocal } from '../domain/calendar.js'
import { CLOCK_KEYS, CLOCK_SQL, runningClock } from '../sla/clock-sql.js'

/**
 * Prometheus metrics at /metrics. Request latency is per replica; the business gauges are read from
 * the database at scrape time, so every replica reports the same cluster-wide values.
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

  app.get('/metrics', {
    schema: { operationId: 'metrics', tags: ['system'], summary: 'Prometheus metrics', response: { 200: Type.String() } },
  }, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()))
}, { name: 'metrics' })
