import { timingSafeEqual } from 'node:crypto'
import { Type, type TSchema } from 'typebox'
import type { FastifyInstance } from 'fastify'
import type { Action } from '../domain/lifecycle.js'
import { notFound } from '../errors.js'
import { IdParams, IfMatchHeaders, json, problems } from '../http/common-schemas.js'
import { auditContext, departmentScope } from '../plugins/auth.js'
import { seesPii } from '../access/pii.js'
import type { Complaint, Database } from '../db/types.js'
import type { Kysely } from 'kysely'
import type { FastifyRequest } from 'fastify'
import { idempotent } from '../http/idempotency.js'
import { logComplaint, sendSerialised, serialised } from '../http/respond.js'
import { hashToken, receiveComplaint, runAction, visibleIn } from './commands.js'
import { etagOf, toComplaintDto, toNoteDto, toReplyDto, toTimelineDto, toTrackingDto } from './representation.js'
import * as repo from './repository.js'
import * as S from './schemas.js'

interface LifecycleRoute {
  action: Action
  path: string
  operationId: string
  summary: string
  description: string
  body: TSchema
  /** path parameters beyond the complaint id (default IdParams); they join the body as the action's input */
  params?: TSchema
}

/** Every lifecycle step: one row here, one schema, one domain decision — and the same handler. */
export const LIFECYCLE_ROUTES: LifecycleRoute[] = [
  { action: 'acknowledge', path: 'acknowledge', operationId: 'acknowledgeComplaint', body: S.AcknowledgeBody,
    summary: 'Acknowledge receipt (ISO 10002 7.4)', description: 'Records how and when the complainant was told the complaint was received. A second call changes nothing.' },
  { action: 'assess', path: 'assess', operationId: 'assessComplaint', body: S.AssessBody,
    summary: 'Assess: category, level, nature, department (7.5)', description: 'Sets category, level (一般/中级/强烈/非理性), nature, handling department and receiver (default: the department’s default receiver) and the major flag. Irrational complaints need a follow-up mode. External complaints (media, consumer association, government) are always major and notify PR. Re-assessment is allowed and recorded; a level change recomputes the deadlines; a department change after handover (before signing) requires a new handover.' },
  { action: 'handover', path: 'handover', operationId: 'handOverComplaint', body: S.HandoverBody,
    summary: 'Hand over to the department (移交)', description: 'Issues the 《客户抱怨处理书》 to the assessed department. The handover clock runs from receipt until the receiver signs.' },
  { action: 'sign', path: 'sign', operationId: 'signComplaint', body: S.SignBody,
    summary: 'Receiver signs for the complaint (签收)', description: 'Stops the handover clock and starts the first-reply clock.' },
  { action: 'add_note', path: 'notes', operationId: 'addComplaintNote', body: S.NoteBody,
    summary: 'Add an investigation note (7.6)', description: 'Structured listening (facts, emotions, expectations), rework/repair callbacks (`rework_callback`) and internal notes. Internal: never shown on public tracking.' },
  { action: 'record_investigation', path: 'investigation', operationId: 'recordInvestigation', body: S.InvestigationBody,
    summary: 'Record root cause and CAPA (7.6)', description: 'Root cause (required before a closure request) and corrective/preventive actions. A CAPA whose measures are all vague (加强培训, 加强检查, "strengthen training", "pay more attention") is rejected with 422.' },
  { action: 'reply', path: 'replies', operationId: 'replyToComplaint', body: S.ReplyBody,
    summary: 'Reply / communicate the decision (7.7–7.8)', description: 'The first reply stops the first-reply clock and moves the complaint to `responded`; later replies are kept. Records options offered, the chosen option and compensation in fen.' },
  { action: 'request_closure', path: 'closure-request', operationId: 'requestClosure', body: S.ClosureRequestBody,
    summary: 'Request closure (关闭申请, 7.9)', description: 'Needs a result summary and a root cause; starts the 12-hour callback clock.' },
  { action: 'record_callback', path: 'closure-callback', operationId: 'recordClosureCallback', body: S.CallbackBody,
    summary: 'Record the closure callback (回访确认)', description: 'Satisfied: `closure_confirmed`, waiting for approval. Not satisfied: the closure is rejected, the complaint goes back to `in_progress`, its level is upgraded (general → moderate → strong) and its clocks restart. Also records satisfaction 1–5 and the comment.' },
  { action: 'close', path: 'close', operationId: 'closeComplaint', body: S.CloseBody,
    summary: 'Approve closure', description: 'Leader approval. `first_time` when the closure request came inside the closure limit with no rejected callback, reopening or deferral; otherwise `second_time`.' },
  { action: 'request_deferral', path: 'deferral', operationId: 'requestDeferral', body: S.DeferralRequestBody,
    summary: 'Ask for deferred closure (暂缓关闭)', description: 'The department asks, with a reason; the CS centre reviews.' },
  { action: 'review_deferral', path: 'deferral/review', operationId: 'reviewDeferral', body: S.DeferralReviewBody,
    summary: 'Review a deferral request', description: 'Approved: status `deferred`, level irrational, stage `second`, follow-up mode (watch/monitor) required; the department keeps following up. Rejected: the request is cleared.' },
  { action: 'withdraw', path: 'withdraw', operationId: 'withdrawComplaint', body: S.ReasonBody,
    summary: 'Complainant withdraws', description: 'Ends the complaint; its clocks stop.' },
  { action: 'pause', path: 'pause', operationId: 'pauseClocks', body: S.ReasonBody,
    summary: 'Pause the clocks (waiting for the customer)', description: 'Every running clock stops; the pause is recorded and its length is excluded from the deadlines when the clocks resume. Paused complaints are not swept for breaches.' },
  { action: 'resume', path: 'resume', operationId: 'resumeClocks', body: S.ResumeBody,
    summary: 'Resume paused clocks', description: 'The deadlines move back by the length of the pause, in each limit’s own unit (business or calendar time).' },
  { action: 'link_external_ids', path: 'external-ids', operationId: 'linkExternalIds', body: S.ExternalIdsBody,
    summary: 'Link the complainant to records in other systems (e.g. 悟空CRM)', description: 'Sets the complainant’s id per system (one per system; other systems are kept). Every later event carries them.' },
  { action: 'reopen', path: 'reopen', operationId: 'reopenComplaint', body: S.ReasonBody,
    summary: 'Reopen a closed complaint', description: 'Within the reopen window (30 days by default, REOPEN_WINDOW_DAYS) the complaint goes back to `in_progress`, its clocks restart, and statistics count it against first-time closure.' },
  { action: 'review_capa', path: 'capa/:measureId/review', operationId: 'reviewCapaMeasure', body: S.CapaReviewBody, params: S.MeasureParams,
    summary: 'Record a CAPA measure’s effectiveness review (有效性评估)', description: 'Whether a corrective or preventive measure worked: `effective` 有效, `partially_effective` 部分有效 or `not_effective` 无效, with the evidence. Once per measure (409 after that); possible while the complaint is worked on and after it closed. The review is due `reviewDueDate` (CAPA_REVIEW_DAYS after the measure’s due date); overdue reviews are listed in the monthly report and announced once with `capa.review_due`.' },
]

const tags = ['complaints']

/** the complaint as this caller may see it: PII masked for roles without need; clocks as of now */
async function dtoFor(req: FastifyRequest, c: Complaint, via?: Kysely<Database>) {
  const { sla, clock, config } = req.server.services
  return toComplaintDto(c, { maskPii: !seesPii(req.principal, c), now: clock.now(), calendar: await sla.calendar(via), reopenWindowDays: config.REOPEN_WINDOW_DAYS })
}

export default async function complaintRoutes(app: FastifyInstance) {
  const { services } = app

  /** the complaint if it exists and this caller may see it; 404 otherwise, so ids don't leak across departments */
  async function visibleComplaint(req: FastifyRequest, id: string): Promise<Complaint> {
    const c = await repo.findComplaint(services.db, id)
    if (!c || !visibleIn(c, departmentScope(req))) throw notFound('complaint', id)
    return c
  }

  app.post('/v1/complaints', {
    schema: {
      operationId: 'receiveComplaint', tags, summary: 'Receive a complaint (ISO 10002 7.2)',
      description: 'Records a complaint from any channel and returns it with a readable reference (CP-YYYY-NNNNNN) and a tracking token for the complainant. With `Idempotency-Key`, a retry returns the first result; the same key with a different body is 422.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'makes a retried create return the first result' })) }),
      body: S.ReceiveBody,
      response: { 201: json('The complaint as received, with its reference number and the tracking token (shown only now).', S.CreatedComplaintSchema, ['etag', 'location', 'idempotent-replayed']), ...problems(422) },
    },
  }, async (req, reply) => {
    const key = req.headers['idempotency-key'] as string | undefined
    let json: string | undefined
    const receive = async (db: Kysely<Database>) => {
      const { complaint, trackingToken } = await receiveComplaint(services, db, req.body as S.ReceiveBody, auditContext(req))
      logComplaint(req, complaint.id)
      const body = { ...(await dtoFor(req, complaint, db)), trackingToken }
      json = serialised(reply, 201, body)
      return { status: 201, body }
    }
    // without a key the intake is one statement, a transaction of its own (receiveComplaint); with one, the
    // key's claim, the intake and the stored response commit together
    const result = key === undefined
      ? { ...(await receive(services.db)), replayed: false }
      : await services.db.transaction().execute((trx) =>
        // keys are per caller: another key's replay could show it a response it may not see
        idempotent(trx, `complaints.receive:${req.principal?.keyId ?? 'anonymous'}`, key, req.body, services.clock.now(), () => receive(trx)))
    const body = result.body as { id: string; version: number }
    if (result.replayed) reply.header('idempotent-replayed', 'true')
    reply.code(result.status as 201).header('location', `/v1/complaints/${body.id}`).header('etag', etagOf(body))
    return json === undefined ? reply.send(body) : sendSerialised(reply, json)
  })

  app.get('/v1/complaints', {
    schema: {
      operationId: 'listComplaints', tags, summary: 'List and filter complaints (7.3)',
      description: 'Newest first, keyset pagination: pass `nextCursor` back as `cursor`.',
      querystring: S.ListQuery, response: { 200: json('A page of complaints, newest first.', S.ComplaintPage) },
    },
  }, async (req) => {
    const page = await repo.listComplaints(services.db, req.query as S.ListQuery, services.clock.now(), departmentScope(req))
    return { items: await Promise.all(page.items.map((c) => dtoFor(req, c))), nextCursor: page.nextCursor }
  })

  app.get('/v1/complaints/:id', {
    schema: { operationId: 'getComplaint', tags, summary: 'Get one complaint', params: IdParams, response: { 200: json('The complaint, with what it accepts next and its clocks as of now.', S.ComplaintSchema, ['etag']), ...problems(404) } },
  }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const c = await visibleComplaint(req, id)
    return reply.header('etag', etagOf(c)).send(await dtoFor(req, c))
  })

  app.get('/v1/complaints/:id/timeline', {
    schema: {
      operationId: 'getComplaintTimeline', tags, summary: 'The append-only timeline (every step time-stamped)',
      params: IdParams, response: { 200: json('Every step of the complaint, oldest first.', S.TimelineSchema), ...problems(404) },
    },
  }, async (req) => {
    const { id } = req.params as { id: string }
    await visibleComplaint(req, id)
    return { complaintId: id, items: (await repo.timeline(services.db, id)).map(toTimelineDto) }
  })

  app.get('/v1/complaints/:id/notes', {
    schema: { operationId: 'listComplaintNotes', tags, summary: 'Investigation notes', params: IdParams, response: { 200: json('The notes, oldest first.', S.NoteList), ...problems(404) } },
  }, async (req) => {
    const { id } = req.params as { id: string }
    await visibleComplaint(req, id)
    return { items: (await repo.notes(services.db, id)).map(toNoteDto) }
  })

  app.get('/v1/complaints/:id/replies', {
    schema: { operationId: 'listComplaintReplies', tags, summary: 'Replies to the complainant', params: IdParams, response: { 200: json('The replies, oldest first.', S.ReplyList), ...problems(404) } },
  }, async (req) => {
    const { id } = req.params as { id: string }
    await visibleComplaint(req, id)
    return { items: (await repo.replies(services.db, id)).map(toReplyDto) }
  })

  for (const r of LIFECYCLE_ROUTES) {
    app.post(`/v1/complaints/:id/${r.path}`, {
      schema: {
        operationId: r.operationId, tags, summary: r.summary, description: r.description,
        params: r.params ?? IdParams, headers: IfMatchHeaders, body: r.body,
        response: { 200: json('The complaint after the step.', S.ComplaintSchema, ['etag']), ...problems(404, 409, 412, 422) },
      },
    }, async (req, reply) => {
      const { id, ...more } = req.params as { id: string }
      logComplaint(req, id)
      const { complaint, body } = await runAction(services, r.action, id, { ...(req.body as object), ...more }, {
        audit: auditContext(req), ifMatch: req.headers['if-match'] as string | undefined, departmentScope: departmentScope(req),
      }, async (trx, c) => serialised(reply, 200, await dtoFor(req, c, trx)))
      return sendSerialised(reply.header('etag', etagOf(complaint)), body)
    })
  }

  app.get('/v1/track/:reference', {
    schema: {
      operationId: 'trackComplaint', tags: ['tracking'], summary: 'Public tracking for the complainant',
      description: 'Status and dates only, by reference number and the tracking token given at receipt. Unknown reference and wrong token look the same (404).',
      params: Type.Object({ reference: Type.String({ pattern: '^[A-Z]{1,8}-[0-9]{4}-[0-9]{6,}$' }) }, { additionalProperties: false }),
      querystring: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 200: json('Status and dates of the complaint.', S.TrackingSchema), ...problems(404) },
    },
  }, async (req) => {
    const { reference } = req.params as { reference: string }
    const { token } = req.query as { token: string }
    const c = await repo.findByReference(services.db, reference)
    const given = Buffer.from(hashToken(token))
    if (!c || !timingSafeEqual(given, Buffer.from(c.tracking_token_hash))) throw notFound('complaint', reference)
    return toTrackingDto(c)
  })
}
