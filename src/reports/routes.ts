import Negotiator from 'negotiator'
import { sql } from 'kysely'
import { Type, type TSchema } from 'typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { audited } from '../audit/audit.js'
import { periodOf, type Period } from '../domain/reports.js'
import { notFound, unprocessable } from '../errors.js'
import { json, noContent, problems } from '../http/common-schemas.js'
import { decodeCursor, page } from '../http/keyset.js'
import { auditContext } from '../plugins/auth.js'
import { computeReport, defaultPeriod, reportablePeriod, storedReportOf, type ReportKind } from './reports.js'
import { toCsv, toHtml } from './render.js'
import * as repo from './repository.js'
import * as S from './schemas.js'

/**
 * Reports over HTTP: the weekly and monthly reports computed live for any past period, the published
 * (stored) ones, and the denominators complaint rates are computed against. Every report comes as
 * JSON (the contract), CSV (`Accept: text/csv`, UTF-8 with BOM) or a printable HTML page with charts
 * (`Accept: text/html`).
 */

const FORMATS = ['application/json', 'text/csv', 'text/html'] as const

/** a report in each form the route offers, chosen by `Accept` (JSON when nothing else is asked for) */
const reportResponse = (description: string, schema: TSchema) => ({
  description: `${description} JSON by default; \`Accept: text/csv\` gives the figures as CSV (UTF-8 with BOM, one row per figure), \`Accept: text/html\` a printable page with the charts as inline SVG.`,
  content: {
    'application/json': { schema },
    'text/csv': { schema: Type.String({ description: 'columns: section, key, label, kind, value, note (monthly also previous, difference, relative_change)' }) },
    'text/html': { schema: Type.String({ description: 'a printable page: charts (inline SVG) and every figure in tables' }) },
  },
})

async function sendReport(req: FastifyRequest, reply: FastifyReply, report: S.Report) {
  const format = new Negotiator(req.raw).mediaType([...FORMATS]) ?? 'application/json'
  reply.header('vary', 'accept')
  if (format === 'text/csv') return reply.type('text/csv; charset=utf-8').send(toCsv(report))
  if (format === 'text/html') return reply.type('text/html; charset=utf-8').send(await toHtml(report))
  return reply.type('application/json; charset=utf-8').send(report)
}

const denominatorDto = (d: { category_id: string; period: 'week' | 'month'; period_start: string; kind: 'orders' | 'customers' | 'vehicles'; value: number; updated_at: Date }) => ({
  categoryId: d.category_id, period: d.period, periodStart: d.period_start, kind: d.kind, value: d.value, updatedAt: d.updated_at.toISOString(),
})

export default async function reportRoutes(app: FastifyInstance) {
  const { services } = app
  const tags = ['reports']
  const tz = () => services.config.BUSINESS_TIMEZONE

  async function live(kind: ReportKind, requested: Period | undefined, field: string) {
    const now = services.clock.now()
    const p = reportablePeriod(requested ?? defaultPeriod(services, kind, now), now, field)
    return computeReport(services, kind, p, now)
  }

  app.get('/v1/reports/weekly', {
    schema: {
      operationId: 'getWeeklyReport', tags, summary: 'Weekly report (周报), computed now',
      description: 'The figures of a week’s cohort (complaints received Monday 00:00 to Monday 00:00, business time zone), computed from the data as it stands now: a complaint edited since changes the figures, unlike the published report of the same week (`GET /v1/reports/{id}`). Any week that has ended; 422 for one that has not. Figures: docs/reports.md.',
      querystring: S.WeeklyQuery,
      response: { 200: reportResponse('The weekly report.', S.WeeklyReportSchema), ...problems(422) },
    },
  }, async (req, reply) => {
    const { week } = req.query as { week?: string }
    const p = week === undefined ? undefined : periodOf('week', week, tz())
    if (p === null) throw unprocessable('/querystring/week', `${week} is not a Monday: a week starts on Monday`)
    return sendReport(req, reply, await live('weekly', p, '/querystring/week'))
  })

  app.get('/v1/reports/monthly', {
    schema: {
      operationId: 'getMonthlyReport', tags, summary: 'Monthly analysis report (月度抱怨/投诉分析报告), computed now',
      description: 'Every weekly figure over a calendar month (business time zone), plus top root causes, CAPA status and effectiveness reviews (with the overdue ones), satisfaction, repeat complaints, the reopen rate, and the change of every figure against the previous month. Computed from the data as it stands now; any month that has ended (422 otherwise).',
      querystring: S.MonthlyQuery,
      response: { 200: reportResponse('The monthly analysis report.', S.MonthlyReportSchema), ...problems(422) },
    },
  }, async (req, reply) => {
    const { month } = req.query as { month?: string }
    return sendReport(req, reply, await live('monthly', month === undefined ? undefined : periodOf('month', `${month}-01`, tz())!, '/querystring/month'))
  })

  app.get('/v1/reports', {
    schema: {
      operationId: 'listStoredReports', tags, summary: 'Published reports',
      description: 'The reports the scheduled jobs published (weekly every Friday for the previous week, monthly on the 1st for the previous month), newest first. A published report never changes.',
      querystring: S.ListReportsQuery,
      response: { 200: json('A page of published reports.', S.StoredReportPage) },
    },
  }, async (req) => {
    const q = req.query as { kind?: ReportKind; limit?: number; cursor?: string }
    const limit = q.limit ?? 50
    const rows = await repo.listStoredReports(services.db, { kind: q.kind, limit, after: q.cursor ? decodeCursor(q.cursor) : undefined })
    const { items, nextCursor } = page(rows, limit)
    return {
      items: items.map((r) => ({ id: r.id, kind: r.kind, periodStart: r.period_start, periodEnd: r.period_end, generatedAt: r.generated_at.toISOString() })),
      nextCursor,
    }
  })

  app.get('/v1/reports/:id', {
    schema: {
      operationId: 'getStoredReport', tags, summary: 'A published report, as it was published',
      description: 'The figures as the job computed them at `generatedAt`; later edits of the complaints do not change them (compute a report now with `/v1/reports/weekly` or `/monthly`).',
      params: Type.Object({ id: Type.String({ format: 'uuid', description: 'report id' }) }, { additionalProperties: false }),
      response: { 200: reportResponse('The published report.', S.StoredReportSchema), ...problems(404) },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const row = await repo.findStoredReport(services.db, { id })
    if (!row) throw notFound('report', id)
    return sendReport(req, reply, storedReportOf(row))
  })

  // ---- denominators (办法 §7.7.2 客户抱怨率) ----

  app.get('/v1/admin/denominators', {
    schema: {
      operationId: 'listDenominators', tags, summary: 'Denominators of the complaint rates',
      description: 'What the organisation posted per category and period (orders, customers or vehicles). A period without one shows its complaint rate as missing, never as 0.',
      querystring: S.DenominatorQuery,
      response: { 200: json('The posted denominators, by period then category.', S.DenominatorList) },
    },
  }, async (req) => {
    const q = req.query as { period?: 'week' | 'month'; from?: string; to?: string }
    let query = services.db.selectFrom('denominators').select(['category_id', 'period', sql<string>`to_char(period_start, 'YYYY-MM-DD')`.as('period_start'), 'kind', 'value', 'updated_at'])
    if (q.period) query = query.where('period', '=', q.period)
    if (q.from) query = query.where('period_start', '>=', sql<string>`${q.from}::date`)
    if (q.to) query = query.where('period_start', '<=', sql<string>`${q.to}::date`)
    const rows = await query.orderBy('period').orderBy('period_start').orderBy('category_id').execute()
    return { items: rows.map(denominatorDto) }
  })

  /** the period and category a denominator is for, checked: 422 naming the parameter otherwise */
  async function denominatorKey(params: { period: 'week' | 'month'; periodStart: string; categoryId: string }) {
    if (!periodOf(params.period, params.periodStart, tz())) {
      throw unprocessable('/params/periodStart', params.period === 'week' ? 'a week starts on a Monday' : 'a month starts on the 1st')
    }
    const category = await services.db.selectFrom('categories').select('id').where('id', '=', params.categoryId).executeTakeFirst()
    if (!category) throw unprocessable('/params/categoryId', `category ${params.categoryId} does not exist`)
    return params
  }

  app.put('/v1/admin/denominators/:period/:periodStart/:categoryId', {
    schema: {
      operationId: 'setDenominator', tags, summary: 'Post the denominator of a category for a week or month',
      description: 'Creates or replaces it. Reports computed after this use it; published reports keep the figures they were published with.',
      params: S.DenominatorParams, body: S.DenominatorBody,
      response: { 200: json('The denominator as stored.', S.DenominatorSchema), ...problems(422) },
    },
  }, async (req) => {
    const key = await denominatorKey(req.params as { period: 'week' | 'month'; periodStart: string; categoryId: string })
    const body = req.body as { kind: 'orders' | 'customers' | 'vehicles'; value: number }
    const now = services.clock.now()
    return audited(services.db, auditContext(req), now, async (trx) => {
      const before = await trx.selectFrom('denominators').select(['kind', 'value']).where('period', '=', key.period)
        .where('period_start', '=', sql<string>`${key.periodStart}::date`).where('category_id', '=', key.categoryId).executeTakeFirst()
      const row = await trx.insertInto('denominators')
        .values({ category_id: key.categoryId, period: key.period, period_start: key.periodStart, kind: body.kind, value: body.value, created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['period', 'period_start', 'category_id']).doUpdateSet({ kind: body.kind, value: body.value, updated_at: now }))
        .returning(['category_id', 'period', sql<string>`to_char(period_start, 'YYYY-MM-DD')`.as('period_start'), 'kind', 'value', 'updated_at'])
        .executeTakeFirstOrThrow()
      return { result: denominatorDto(row), change: { entityType: 'denominator', entityId: `${key.period}/${key.periodStart}/${key.categoryId}`, before: before ?? null, after: { kind: body.kind, value: body.value } } }
    })
  })

  app.delete('/v1/admin/denominators/:period/:periodStart/:categoryId', {
    schema: {
      operationId: 'deleteDenominator', tags, summary: 'Withdraw a posted denominator',
      description: 'The period’s complaint rate for the category becomes missing again.',
      params: S.DenominatorParams,
      response: { 204: noContent('Withdrawn.'), ...problems(404) },
    },
  }, async (req, reply) => {
    const key = req.params as { period: 'week' | 'month'; periodStart: string; categoryId: string }
    await audited(services.db, auditContext(req), services.clock.now(), async (trx) => {
      const gone = await trx.deleteFrom('denominators').where('period', '=', key.period)
        .where('period_start', '=', sql<string>`${key.periodStart}::date`).where('category_id', '=', key.categoryId)
        .returning(['kind', 'value']).executeTakeFirst()
      if (!gone) throw notFound('denominator', `${key.period}/${key.periodStart}/${key.categoryId}`)
      return { result: undefined, change: { entityType: 'denominator', entityId: `${key.period}/${key.periodStart}/${key.categoryId}`, before: gone, after: null } }
    })
    return reply.code(204).send()
  })

}
