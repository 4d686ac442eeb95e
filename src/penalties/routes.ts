import negotiate from '@fastify/accept-negotiator'
import { sql } from 'kysely'
import { Type } from 'typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { audited } from '../audit/audit.js'
import type { NoticeAction } from '../domain/penalties.js'
import { notFound } from '../errors.js'
import { decodeCursor, encodeCursor } from '../http/keyset.js'
import { json, named, problems, Uuid } from '../http/common-schemas.js'
import { auditContext, departmentScope } from '../plugins/auth.js'
import { bulletinDto, drawUpBulletin, findBulletin, fulfilLine, signBulletin } from './bulletins.js'
import { bulletinCsv, bulletinHtml } from './documents.js'
import { changeNotice, noticeDto } from './penalties.js'
import * as repo from './repository.js'
import * as S from './schemas.js'

const strict = { additionalProperties: false } as const
const IdParams = Type.Object({ id: Uuid() }, strict)
const NoticeList = named('PenaltyNoticeList', Type.Object({ items: Type.Array(S.PenaltyNoticeSchema) }, {
  description: 'the notices the step changed',
  examples: [{ items: [{ ...S.noticeExample, status: 'fulfilled' }] }],
}))

/** the forms of a bulletin, by `Accept`: JSON unless the caller asks for the CSV or the printable page */
const BULLETIN_FORMS = ['application/json', 'text/csv', 'text/html'] as const
const bulletinResponse = {
  description: 'The bulletin: JSON; `Accept: text/csv` for a spreadsheet (UTF-8 with BOM, amounts in fen); `Accept: text/html` for the printable document with the signature line (amounts in CNY).',
  headers: { 'content-disposition': { type: 'string' } },
  content: {
    'application/json': { schema: S.PenaltyBulletinSchema },
    'text/csv': { schema: Type.String({ description: 'one row per department and a total row; counts and fen per kind' }) },
    'text/html': { schema: Type.String({ description: '《执行部门抱怨闭环处理处罚通报》 as a printable page' }) },
  },
}

/** penalty rules, notices, the ledger and the weekly bulletin (docs/penalties.md, seed 002 §7.6–§7.9) */
export default async function penaltyRoutes(app: FastifyInstance) {
  const { services } = app
  const tags = ['penalties']
  const timeZone = services.config.BUSINESS_TIMEZONE

  // ---- rules, versioned like the SLA policies ----

  async function versions() {
    const rows = await services.db.selectFrom('penalty_rules').selectAll().orderBy('version', 'desc').execute()
    return rows.map((r, i) => ({
      version: r.version, current: i === 0, effectiveFrom: r.created_at.toISOString(), note: r.note, createdBy: r.created_by, rules: r.rules as S.PenaltyRulesInput,
    }))
  }

  app.get('/v1/admin/penalty-rules', {
    schema: { operationId: 'listPenaltyRules', tags, summary: 'Penalty rule versions, newest (current) first', response: { 200: json('Every version, newest first.', S.PenaltyRulesList) } },
  }, async () => ({ items: await versions() }))

  app.post('/v1/admin/penalty-rules', {
    schema: {
      operationId: 'createPenaltyRules', tags, summary: 'Publish a new version of the penalty rules',
      description: 'Applies to notices owed from now on (a deadline that passes, a month that completes); notices already owed keep the version they were computed with.',
      body: S.CreatePenaltyRulesBody, response: { 201: json('The new version, now current.', S.PenaltyRulesVersion) },
    },
  }, async (req, reply) => {
    const { rules, note } = req.body as { rules: S.PenaltyRulesInput; note?: string }
    const now = services.clock.now()
    const version = await audited(services.db, auditContext(req), now, async (trx) => {
      await sql`lock table penalty_rules in share row exclusive mode`.execute(trx)
      const { v } = await trx.selectFrom('penalty_rules').select((eb) => eb.fn.max('version').as('v')).executeTakeFirstOrThrow()
      const next = Number(v) + 1
      await trx.insertInto('penalty_rules').values({ version: next, rules: JSON.stringify(rules), note: note ?? null, created_at: now, created_by: req.principal?.name ?? null }).execute()
      return { result: next, change: { entityType: 'penalty_rules', entityId: String(next), before: null, after: { version: next, rules, note } } }
    })
    return reply.code(201).send((await versions()).find((v) => v.version === version)!)
  })

  // ---- notices ----

  async function visibleNotice(req: FastifyRequest, id: string) {
    const n = await repo.findNotice(services.db, id)
    const scope = departmentScope(req)
    if (!n || (scope && n.department_id !== scope)) throw notFound('penalty notice', id)
    return n
  }

  app.get('/v1/penalty-notices', {
    schema: {
      operationId: 'listPenaltyNotices', tags, summary: 'Penalty notices by department, status, kind and period',
      description: 'Newest first (by issue time), keyset pagination: pass `nextCursor` back as `cursor`. A department key sees its own department’s notices only. `status=unassigned` lists the findings no department could be charged for.',
      querystring: S.NoticeListQuery, response: { 200: json('A page of notices, newest first.', S.PenaltyNoticePage) },
    },
  }, async (req) => {
    const q = req.query as S.NoticeListQuery
    const scope = departmentScope(req)
    if (scope && q.departmentId && q.departmentId !== scope) return { items: [], nextCursor: null }
    const limit = q.limit ?? 50
    const rows = await repo.listNotices(services.db, { ...q, departmentId: scope ?? q.departmentId, cursor: q.cursor ? decodeCursor(q.cursor) : undefined, limit })
    const items = rows.slice(0, limit)
    const last = items.at(-1)
    return { items: items.map(noticeDto), nextCursor: rows.length > limit && last ? encodeCursor(last.issued_at, last.id) : null }
  })

  app.get('/v1/penalty-notices/:id', {
    schema: { operationId: 'getPenaltyNotice', tags, summary: 'One penalty notice with its history', params: IdParams, response: { 200: json('The notice.', S.PenaltyNoticeSchema), ...problems(404) } },
  }, async (req) => noticeDto(await visibleNotice(req, (req.params as { id: string }).id)))

  const steps: Array<{ action: NoticeAction; path: string; operationId: string; summary: string; description: string; body: typeof S.NoticeReasonBody | typeof S.FulfilBody }> = [
    { action: 'contest', path: 'contest', operationId: 'contestPenaltyNotice', body: S.NoticeReasonBody, summary: 'The department disputes a notice',
      description: 'Only an `issued` notice of the key’s own department. A contested notice leaves the draft bulletin that listed it and waits for a CS manager’s decision (`penalty.contested`).' },
    { action: 'waive', path: 'waive', operationId: 'waivePenaltyNotice', body: S.NoticeReasonBody, summary: 'Waive a notice (CS manager)',
      description: 'An `issued` or `contested` notice is waived with a reason: nothing is collected, it never appears in a bulletin (`penalty.waived`).' },
    { action: 'uphold', path: 'uphold', operationId: 'upholdPenaltyNotice', body: S.NoticeReasonBody, summary: 'Uphold a contested notice (CS manager)',
      description: 'The dispute is rejected with a reason; the notice goes into the next bulletin drawn up (`penalty.upheld`).' },
    { action: 'fulfil', path: 'fulfil', operationId: 'fulfilPenaltyNotice', body: S.FulfilBody, summary: 'Record that a confirmed notice was collected (finance)',
      description: 'Seed 002 §7.9: finance (财务部) or general affairs (综合管理部) collects. Only a `confirmed` notice — one in a signed bulletin (`penalty.fulfilled`).' },
  ]
  for (const step of steps) {
    app.post(`/v1/penalty-notices/:id/${step.path}`, {
      schema: {
        operationId: step.operationId, tags, summary: step.summary, description: step.description, params: IdParams, body: step.body,
        response: { 200: json('The notice after the step.', S.PenaltyNoticeSchema), ...problems(404, 409) },
      },
    }, async (req) => {
      const body = req.body as { reason?: string; note?: string }
      return changeNotice(services, step.action, (req.params as { id: string }).id, body.reason ?? body.note ?? null, { audit: auditContext(req), departmentScope: departmentScope(req) })
    })
  }

  app.get('/v1/penalty-ledger', {
    schema: {
      operationId: 'getPenaltyLedger', tags, summary: 'Per department: issued, waived, pending, confirmed, fulfilled and outstanding, in fen',
      description: 'Notices issued in the period (`from`, `to`; both optional), by where they stand now. A department key sees its own line only. The line with `departmentId: null` counts the findings no department could be charged for.',
      querystring: S.LedgerQuery, response: { 200: json('The ledger.', S.PenaltyLedger) },
    },
  }, async (req) => {
    const q = req.query as { from?: string; to?: string; departmentId?: string }
    const scope = departmentScope(req)
    const rows = scope && q.departmentId && q.departmentId !== scope ? [] : await repo.ledger(services.db, { ...q, departmentId: scope ?? q.departmentId })
    return {
      from: q.from ? new Date(q.from).toISOString() : null, to: q.to ? new Date(q.to).toISOString() : null,
      items: rows.map((r) => ({
        departmentId: r.department_id, notices: r.notices, issuedFen: r.issued_fen, waivedFen: r.waived_fen, pendingFen: r.pending_fen,
        confirmedFen: r.confirmed_fen, fulfilledFen: r.fulfilled_fen, outstandingFen: r.outstanding_fen, unassigned: r.unassigned,
      })),
    }
  })

  // ---- the weekly bulletin ----

  app.get('/v1/penalty-bulletins', {
    schema: { operationId: 'listPenaltyBulletins', tags, summary: 'Weekly penalty bulletins, newest week first', querystring: S.BulletinListQuery, response: { 200: json('The bulletins.', S.PenaltyBulletinList) } },
  }, async (req) => {
    const { limit } = req.query as { limit?: number }
    const rows = await services.db.selectFrom('penalty_bulletins').selectAll().orderBy('week_start', 'desc').limit(limit ?? 20).execute()
    return { items: await Promise.all(rows.map((b) => bulletinDto(services.db, b, timeZone))) }
  })

  app.post('/v1/penalty-bulletins', {
    schema: {
      operationId: 'drawUpPenaltyBulletin', tags, summary: 'Draw up (or again) the draft bulletin of a past week',
      description: 'What the Friday job does for the previous week, for any week that has ended: every notice issued before the week’s end that is issued or upheld and in no other bulletin, summed per department. A draft is replaced; a signed bulletin is 409; a week that has not ended is 422.',
      body: S.GenerateBulletinBody, response: { 200: json('The draft.', S.PenaltyBulletinSchema), ...problems(409, 422) },
    },
  }, async (req) => drawUpBulletin(services, (req.body as { weekStart: string }).weekStart, auditContext(req)))

  app.get('/v1/penalty-bulletins/:id', {
    schema: { operationId: 'getPenaltyBulletin', tags, summary: 'One bulletin as JSON, CSV or a printable page', params: IdParams, response: { 200: bulletinResponse, ...problems(404) } },
  }, async (req, reply) => {
    const dto = await bulletinDto(services.db, await findBulletin(services.db, (req.params as { id: string }).id), timeZone)
    const form = negotiate(req.headers.accept ?? '', [...BULLETIN_FORMS]) ?? 'application/json'
    if (form === 'text/csv') {
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="penalty-bulletin-${dto.weekStart}.csv"`).send(bulletinCsv(dto))
    }
    if (form === 'text/html') return reply.type('text/html; charset=utf-8').send(bulletinHtml(dto, timeZone))
    return dto
  })

  app.post('/v1/penalty-bulletins/:id/sign', {
    schema: {
      operationId: 'signPenaltyBulletin', tags, summary: 'The general manager signs the bulletin (总经理签发)',
      description: 'Every notice it lists becomes `confirmed`; the bulletin is published (`bulletin.published`) and neither it nor its lines change afterwards (409).',
      params: IdParams, body: S.SignBulletinBody, response: { 200: json('The signed bulletin.', S.PenaltyBulletinSchema), ...problems(404, 409) },
    },
  }, async (req) => signBulletin(services, (req.params as { id: string }).id, (req.body as { comment?: string }).comment ?? null, auditContext(req)))

  app.post('/v1/penalty-bulletins/:id/lines/:departmentId/fulfil', {
    schema: {
      operationId: 'fulfilPenaltyBulletinLine', tags, summary: 'Record that a department’s line of a signed bulletin was collected (finance)',
      description: 'Every confirmed notice of that department in the bulletin becomes `fulfilled`. The bulletin’s figures do not change.',
      params: S.BulletinLineParams, body: S.FulfilBody, response: { 200: json('The notices fulfilled.', NoticeList), ...problems(404, 409) },
    },
  }, async (req) => {
    const { id, departmentId } = req.params as { id: string; departmentId: string }
    return { items: await fulfilLine(services, id, departmentId, (req.body as { note?: string }).note ?? null, auditContext(req)) }
  })
}
