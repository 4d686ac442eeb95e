import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import type { Services } from '../context.js'
import type { Complaint, Database } from '../db/types.js'
import { toLocal } from '../domain/calendar.js'
import { decide, type Action, type ActionInputs, type ComplaintChanges, type Decision } from '../domain/lifecycle.js'
import { computeDeadlines, type ClockFacts, type SlaPolicy } from '../domain/sla.js'
import type { BusinessCalendar } from '../domain/calendar.js'
import { isExternalChannel, type Channel, type Level } from '../domain/vocabulary.js'
import { notFound, preconditionFailed, unprocessable } from '../errors.js'
import { resolveAssessment } from '../admin/repository.js'
import { eventAppend, type OutboxEvent } from '../outbox/outbox.js'
import { appendAll, appendMaking, placeholder } from '../db/batches.js'
import { uuidv7 } from '../db/uuidv7.js'
import { complaintEventData, eventView } from './events.js'
import { apiValue, camel, complaintRecord } from './representation.js'
import { auditAppend, type AuditChange, type AuditContext } from '../audit/audit.js'
import { recordStoppedLate } from '../sla/breaches.js'
import * as repo from './repository.js'
import type { ReceiveBody } from './schemas.js'

/**
 * The one path of a lifecycle step (STYLE.md): lock the complaint, check If-Match, ask the pure
 * state machine, then write the complaint, its timeline entry, side records and outbox events in
 * one transaction, with deadlines recomputed by the SLA module.
 */

export interface CommandContext {
  audit: AuditContext
  ifMatch?: string
  /** set for department keys: other departments' complaints do not exist for them (404) */
  departmentScope?: string | null
}

/** a department key sees its own department's complaints only */
export const visibleIn = (c: Pick<Complaint, 'department_id'>, departmentScope: string | null | undefined) =>
  !departmentScope || c.department_id === departmentScope

/** Lookups an action needs before deciding: assess checks the taxonomy and resolves the receiver. */
type Prepare<A extends Action> = (trx: Transaction<Database>, input: any) => Promise<ActionInputs[A]>
const preparers: Partial<{ [A in Action]: Prepare<A> }> = { assess: resolveAssessment }

/** If-Match uses the strong comparison (RFC 9110 §13.1.1): a weak tag never matches */
export function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return
  const tags = ifMatch.split(',').map((t) => t.trim())
  if (!tags.includes(`"${version}"`)) throw preconditionFailed(ifMatch, version)
}

/** what the clocks of a complaint depend on */
export function clockFacts(c: Complaint): ClockFacts {
  return {
    level: c.level as Level | null,
    major: c.major,
    channel: c.channel as Channel,
    externalBody: c.external_body,
    clockStartedAt: c.clock_started_at,
    signedAt: c.signed_at,
    closureRequestedAt: c.closure_requested_at,
    pauses: c.pauses.filter((p) => p.to !== null).map((p) => ({ from: new Date(p.from), to: new Date(p.to!) })),
  }
}

/**
 * Deadlines and due-soon thresholds of the four clocks, as columns (docs/time-limits.md). A clock that stopped
 * before the current cycle began (signed, replied or called back before an upgrade restarted the
 * clocks) keeps the deadline it was measured against, so it still reads met or breached.
 */
export function deadlineColumns(c: Complaint, policy: SlaPolicy, calendar: BusinessCalendar): ComplaintChanges {
  const d = computeDeadlines(clockFacts(c), policy, calendar)
  const earlier = (stoppedAt: Date | null) => stoppedAt !== null && stoppedAt <= c.clock_started_at
  return {
    ...(earlier(c.signed_at) ? {} : { handover_due_at: d.handover?.dueAt ?? null, handover_warn_at: d.handover?.warnAt ?? null }),
    ...(earlier(c.first_replied_at) ? {} : { first_reply_due_at: d.firstReply?.dueAt ?? null, first_reply_warn_at: d.firstReply?.warnAt ?? null }),
    closure_due_at: d.closure?.dueAt ?? null, closure_warn_at: d.closure?.warnAt ?? null,
    ...(earlier(c.callback_at) ? {} : { callback_due_at: d.callback?.dueAt ?? null, callback_warn_at: d.callback?.warnAt ?? null }),
  }
}

const same = (a: unknown, b: unknown) =>
  a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : JSON.stringify(a) === JSON.stringify(b)

/** before/after of the columns that really changed, in API names */
function diff(before: Complaint, changes: ComplaintChanges) {
  const b: Record<string, unknown> = {}
  const a: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(changes)) {
    const old = (before as unknown as Record<string, unknown>)[key]
    if (value === undefined || same(old, value)) continue
    b[camel(key)] = apiValue(old)
    a[camel(key)] = apiValue(value)
  }
  return { before: b, after: a }
}

/**
 * Produces the response inside the transaction of the change, so a response that cannot be produced
 * rolls the change back (a 500 problem+json) instead of answering 500 after a commit — which would
 * invite a retry that applies the step twice.
 */
export type Render<R> = (trx: Transaction<Database>, complaint: Complaint) => Promise<R>

export async function runAction<A extends Action, R = undefined>(
  s: Services,
  action: A,
  id: string,
  rawInput: unknown,
  ctx: CommandContext,
  render?: Render<R>,
): Promise<{ complaint: Complaint; body: R }> {
  return s.db.transaction().execute(async (trx) => {
    const current = await repo.lockComplaint(trx, id)
    if (!current || !visibleIn(current, ctx.departmentScope)) throw notFound('complaint', id)
    checkIfMatch(ctx.ifMatch, current.version)
    const now = s.clock.now()
    const prepare = preparers[action] as Prepare<A> | undefined
    const input = prepare ? await prepare(trx, rawInput) : (rawInput as ActionInputs[A])
    // the complaint keeps the policy version it started with (docs/time-limits.md)
    const policy = await s.sla.policy(current.sla_policy_version, trx)
    const decision = decide(action, current, input, {
      now, reopenWindowDays: s.config.REOPEN_WINDOW_DAYS, upgradeMap: policy.upgradeMap, capaReviewDays: s.config.CAPA_REVIEW_DAYS, timeZone: s.config.BUSINESS_TIMEZONE,
    })
    const [complaint] = decision.noop ? [current] : await applySteps(s, trx, [{ current, action, decision }], ctx.audit, now)
    return { complaint: complaint!, body: (render ? await render(trx, complaint!) : undefined) as R }
  })
}

export interface Step {
  /** the complaint as locked, before the step */
  current: Complaint
  action: Action
  decision: Decision
}

/**
 * The writes of decided steps — one complaint's, or a scheduled job's batch in one transaction: each
 * complaint's row (deadlines recomputed only when what they depend on moved), the breaches of clocks
 * already overdue, a timeline entry, an audit entry, notes and replies, and the events. Timeline, audit
 * and outbox rows of a batch go in one statement each. The complaints must be locked by the caller.
 */
export async function applySteps(s: Services, trx: Transaction<Database>, steps: Step[], audit: AuditContext, now: Date): Promise<Complaint[]> {
  const view = await eventView(s, now, trx)
  const actor = audit.actor
  const updated: Complaint[] = []
  const timeline: repo.TimelineInsert[] = []
  const audits: AuditChange[] = []
  const events: OutboxEvent[] = []
  const patches: Array<{ id: string; changes: Record<string, unknown>; before: Record<string, unknown>; after: Record<string, unknown> }> = []
  for (const { current, decision } of steps) {
    const policy = await s.sla.policy(current.sla_policy_version, trx)
    const merged = { ...current, ...decision.changes, status: decision.status } as Complaint
    // deadlines move only when what they depend on moved: a note or a reply does not re-read the calendar
    const clocksMoved = JSON.stringify(clockFacts(merged)) !== JSON.stringify(clockFacts(current))
    const changes: ComplaintChanges = {
      ...decision.changes,
      status: decision.status,
      ...(clocksMoved ? deadlineColumns(merged, policy, view.calendar) : {}),
    }
    const { before, after } = diff(current, changes)
    patches.push({ id: current.id, changes: { ...changes, version: current.version + 1, updated_at: now }, before, after })
  }
  // a batch of steps (the escalation job's) is one statement, not one round trip per complaint
  updated.push(...await repo.updateComplaints(trx, patches))
  for (const [i, { current, action, decision }] of steps.entries()) {
    const row = updated[i]!
    const { before, after } = patches[i]!
    timeline.push({ complaintId: row.id, at: now, actor, action, fromStatus: current.status, toStatus: row.status, before, after, data: decision.facts })
    audits.push({ entityType: 'complaint', entityId: row.id, before: { version: current.version, ...before }, after: { version: row.version, ...after } })
    events.push(...decision.events.map((type) => ({ type, complaintId: row.id, occurredAt: now, data: complaintEventData(row, { action, ...decision.facts }, view) })))
    if (decision.note) {
      await trx.insertInto('complaint_notes')
        .values({ id: randomUUID(), complaint_id: row.id, kind: decision.note.kind, body: decision.note.body, actor: JSON.stringify(actor), created_at: now })
        .execute()
    }
    if (decision.reply) {
      const r = decision.reply
      await trx.insertInto('complaint_replies')
        .values({
          id: randomUUID(), complaint_id: row.id, body: r.body, via: r.via ?? null, decision: r.decision ? JSON.stringify(r.decision) : null,
          is_first: r.isFirst, actor: JSON.stringify(actor), created_at: now,
        })
        .execute()
    }
  }
  // breaches of clocks stopped late first (their timeline entries and events before the steps'), all in one statement
  const late = await recordStoppedLate(trx, steps.map((step, i) => ({ before: step.current, after: updated[i]! })), view)
  await appendAll(trx, [...late, repo.timelineAppend(timeline), auditAppend(audit, audits, now), eventAppend(events)])
  return updated
}

// ---- receive (7.2): the first step, which creates the complaint ----

/**
 * When the complaint reached the organisation: now, or an earlier `receivedAt` for a letter, a call
 * entered late or a CRM import — never in the future, at most `windowDays` back.
 */
export function receiptTime(body: Pick<ReceiveBody, 'receivedAt' | 'occurredAt'>, now: Date, windowDays: number): Date {
  const receivedAt = body.receivedAt ? new Date(body.receivedAt) : now
  if (receivedAt > now) throw unprocessable('/body/receivedAt', 'must not be in the future')
  if (now.getTime() - receivedAt.getTime() > windowDays * 86_400_000) {
    throw unprocessable('/body/receivedAt', `must be within the last ${windowDays} days (BACKDATE_WINDOW_DAYS)`)
  }
  if (body.occurredAt && new Date(body.occurredAt) > receivedAt) throw unprocessable('/body/occurredAt', 'must not be after the complaint was received')
  return receivedAt
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex')

/**
 * Receives a complaint (7.2) in one statement: its reference number from the year's counter row, the
 * complaint, its timeline entry, audit entry and events. Node makes every row beforehand, the complaint
 * whole (every column, as it will be stored), with a placeholder where the number goes; the statement
 * takes the number and writes the rows with it (`appendMaking`). Outside a transaction (an intake without
 * Idempotency-Key) that statement is the transaction, and the counter row — on which the year's intakes
 * queue — is locked only while Postgres executes and commits it (README: Performance).
 */
export async function receiveComplaint(
  s: Services,
  db: Kysely<Database>,
  body: ReceiveBody,
  audit: AuditContext,
): Promise<{ complaint: Complaint; trackingToken: string }> {
  const actor = audit.actor
  const now = s.clock.now()
  const receivedAt = receiptTime(body, now, s.config.BACKDATE_WINDOW_DAYS)
  // the reference number's year is the year of receipt in the business time zone
  const year = Number(toLocal(receivedAt, s.config.BUSINESS_TIMEZONE).date.slice(0, 4))
  const version = await s.sla.currentVersion(db)
  const policy = await s.sla.policy(version, db)
  const view = await eventView(s, now, db)
  const trackingToken = randomBytes(18).toString('base64url')
  const externalBody = body.externalBody ?? (isExternalChannel(body.channel) ? body.channel : null)
  const reference = placeholder('reference')
  const draft: Complaint = {
    // time-ordered (src/db/uuidv7.ts): the complaints worked on now share the recent pages of every index keyed by their id
    id: uuidv7(now.getTime()),
    reference,
    tracking_token_hash: hashToken(trackingToken),
    version: 1,
    status: 'received',
    channel: body.channel,
    external_body: externalBody,
    complainant_name: body.complainant.name,
    complainant_kind: body.complainant.kind ?? 'person',
    complainant_phone: body.complainant.phone ?? null,
    complainant_email: body.complainant.email ?? null,
    complainant_id_number: body.complainant.idNumber ?? null,
    complainant_address: body.complainant.address ?? null,
    complainant_external_ids: body.complainant.externalIds ?? [],
    subject: body.subject ?? {},
    description: body.description,
    desired_outcomes: body.desiredOutcomes ?? [],
    desired_outcome_note: body.desiredOutcomeNote ?? null,
    attachments: body.attachments ?? [],
    occurred_at: body.occurredAt ? new Date(body.occurredAt) : null,
    received_at: receivedAt,
    acknowledged_at: null, acknowledged_via: null, category_id: null, level: null, nature: null,
    major: externalBody !== null,
    irrational_stage: null, follow_up_mode: null, department_id: null, receiver_id: null, assessed_at: null, handed_over_at: null,
    signed_at: null, signed_by: null, first_replied_at: null, last_replied_at: null, root_cause: null, capa: null, investigated_at: null,
    closure_requested_at: null, result_summary: null, deferral_requested_at: null, deferral_reason: null, deferred_at: null,
    callback_at: null, satisfied: null, satisfaction: null, callback_comment: null, closure_rejected_count: 0, closed_at: null,
    closure_type: null, withdrawn_at: null, withdrawal_reason: null, reopened_at: null, reopen_count: 0,
    // the clocks run from receipt, also for a letter or a call entered later
    clock_started_at: receivedAt,
    handover_due_at: null, first_reply_due_at: null, closure_due_at: null, callback_due_at: null,
    created_at: now,
    updated_at: now,
    sla_policy_version: version,
    clock_cycle: 1,
    paused_at: null,
    pauses: [],
    handover_warn_at: null, first_reply_warn_at: null, closure_warn_at: null, callback_warn_at: null,
    closure_limit_missed: false,
    anonymised_at: null,
    capa_review_due: null,
  }
  const complaint = { ...draft, ...deadlineColumns(draft, policy, view.calendar) } as Complaint
  const events = ['complaint.received', ...(externalBody ? ['complaint.external_reported'] : [])]
  const made = await appendMaking(db, { placeholder: reference, statement: repo.takeReference(s.config.REFERENCE_PREFIX, year) }, [
    { table: 'complaints', rows: [complaint] },
    repo.timelineAppend([{
      complaintId: complaint.id, at: receivedAt, actor, action: 'receive', fromStatus: null, toStatus: 'received', before: {},
      after: { status: 'received', reference, channel: body.channel },
      data: { channel: body.channel, externalBody, receivedAt: receivedAt.toISOString(), enteredAt: now.toISOString() },
    }]),
    auditAppend(audit, [{ entityType: 'complaint', entityId: complaint.id, before: null, after: complaintRecord(complaint) }], now),
    eventAppend(events.map((type) => ({ type, complaintId: complaint.id, occurredAt: now, data: complaintEventData(complaint, { action: 'receive', channel: body.channel, ...(externalBody ? { notify: ['public_relations', 'management'] } : {}) }, view) }))),
  ])
  return { complaint: { ...complaint, reference: made }, trackingToken }
}
