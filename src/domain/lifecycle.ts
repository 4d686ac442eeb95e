import { randomUUID } from 'node:crypto'
import type { Complaint } from '../db/types.js'
import { conflict, notFound, ProblemError, unprocessable } from '../errors.js'
import { toLocal } from './calendar.js'
import { capaStatus, nextReviewDue, scheduleMeasures, vagueMeasures, type CapaReviewOutcome } from './capa.js'
import { DEFAULT_UPGRADE_MAP, upgradeLevel, type UpgradeMap } from './escalation.js'
import type { AcknowledgementChannel, ExternalBody, FollowUpMode, IrrationalStage, Level, Status } from './vocabulary.js'
import { STATUSES } from './vocabulary.js'

/**
 * The lifecycle state machine (ISO 10002:2004 clause 7, with seed 002's rules): pure, no I/O. Given a complaint and an
 * action it either refuses (409 naming the allowed actions, 422 naming the field) or returns the new
 * status and the facts to record. commands.ts is the one path that applies a Decision.
 */

/** action → the statuses it may start from */
export const TRANSITIONS = {
  // 7.4 is recorded whenever it happened; a second acknowledgement changes nothing
  acknowledge: ['received', 'acknowledged', 'assessed', 'handed_over', 'in_progress', 'responded', 'closure_requested', 'closure_confirmed', 'deferred'],
  // not while deferred: a deferred complaint stays irrational, second stage, until it closes
  assess: ['received', 'acknowledged', 'assessed', 'handed_over', 'in_progress', 'responded'],
  handover: ['assessed'],
  sign: ['handed_over'],
  add_note: ['received', 'acknowledged', 'assessed', 'handed_over', 'in_progress', 'responded', 'closure_requested', 'closure_confirmed', 'closed', 'deferred'],
  record_investigation: ['in_progress', 'responded', 'deferred'],
  reply: ['in_progress', 'responded', 'deferred'],
  request_closure: ['in_progress', 'responded', 'deferred'],
  record_callback: ['closure_requested'],
  close: ['closure_confirmed'],
  request_deferral: ['in_progress', 'responded'],
  review_deferral: ['in_progress', 'responded'],
  withdraw: ['received', 'acknowledged', 'assessed', 'handed_over', 'in_progress', 'responded', 'closure_requested', 'closure_confirmed', 'deferred'],
  reopen: ['closed'],
  // waiting for the customer: every running clock stops until resumed
  pause: ['received', 'acknowledged', 'assessed', 'handed_over', 'in_progress', 'responded', 'closure_requested'],
  resume: ['received', 'acknowledged', 'assessed', 'handed_over', 'in_progress', 'responded', 'closure_requested'],
  // an integration (e.g. a CRM sync) links the complainant to its own record at any time
  link_external_ids: ['received', 'acknowledged', 'assessed', 'handed_over', 'in_progress', 'responded', 'closure_requested', 'closure_confirmed', 'closed', 'deferred', 'withdrawn'],
  // 有效性评估: whether a CAPA measure worked is judged later, often after the complaint closed
  review_capa: ['in_progress', 'responded', 'closure_requested', 'closure_confirmed', 'closed', 'deferred'],
  // the scheduler, when the closure limit passed without a closure request (docs/escalation.md); not over HTTP
  escalate: ['received', 'acknowledged', 'assessed', 'handed_over', 'in_progress', 'responded'],
} as const satisfies Record<string, readonly Status[]>

export type Action = keyof typeof TRANSITIONS
export const ACTIONS = Object.keys(TRANSITIONS) as Action[]

/** actions only the service itself takes (the scheduler) */
export const SYSTEM_ACTIONS: readonly Action[] = ['escalate']

export const isStatus = (s: string): s is Status => (STATUSES as readonly string[]).includes(s)

/** what decides whether an action is possible, besides the complaint itself */
export interface StateContext {
  now: Date
  reopenWindowDays: number
}

/**
 * Why an action cannot be taken in the complaint's current state, whatever the body: 409 for a step
 * that does not fit the state, 422 for one that waits for a missing fact, `noop` for a step already
 * done (acknowledging twice changes nothing). One list serves the command and `allowedActions`, so
 * the actions a complaint offers are exactly the ones that then succeed.
 */
type Refusal = { status: 409 | 422; detail: string; field?: string } | 'noop'
type Precondition = (c: Complaint, ctx: StateContext) => Refusal | null

const preconditions: Partial<Record<Action, Precondition>> = {
  acknowledge: (c) => (c.acknowledged_at ? 'noop' : null),
  request_closure: (c) => (c.first_replied_at === null
    ? { status: 422, field: '/complaint/firstRepliedAt', detail: 'the department has not replied yet: send the first reply (POST …/replies) before requesting closure' }
    : null),
  request_deferral: (c) => (c.deferral_requested_at ? { status: 409, detail: 'a deferral request is already waiting for review' } : null),
  review_deferral: (c) => (c.deferral_requested_at ? null : { status: 409, detail: 'no deferral request is waiting for review' }),
  pause: (c) => (c.paused_at ? { status: 409, detail: 'the clocks are already paused' } : null),
  resume: (c) => (c.paused_at ? null : { status: 409, detail: 'the clocks are not paused' }),
  reopen: (c, { now, reopenWindowDays }) => {
    const windowEnd = new Date((c.closed_at ?? now).getTime() + reopenWindowDays * 86_400_000)
    return now > windowEnd
      ? { status: 409, detail: `the reopen window of ${reopenWindowDays} days ended ${windowEnd.toISOString()}; receive it as a new complaint` }
      : null
  },
  review_capa: (c) => {
    if (!c.capa) return { status: 422, field: '/complaint/capa', detail: 'the complaint has no CAPA: record the investigation with its measures first' }
    return c.capa.measures.some((m) => !m.review) ? null : { status: 409, detail: 'every CAPA measure of this complaint has been reviewed' }
  },
  // re-checked under the row lock: a re-assessment or a closure request may have come since the sweep looked
  escalate: (c, { now }) => (c.closure_requested_at || c.paused_at || c.deferral_requested_at || c.closure_due_at === null || c.closure_due_at >= now
    ? { status: 409, detail: 'only a running closure clock past its deadline escalates' }
    : null),
}

const fitsStatus = (c: Complaint, action: Action) => (TRANSITIONS[action] as readonly string[]).includes(c.status)

function refusal(c: Complaint, action: Action, ctx: StateContext): Refusal | null {
  if (!fitsStatus(c, action)) return { status: 409, detail: `cannot ${action} a complaint in status ${c.status}` }
  return preconditions[action]?.(c, ctx) ?? null
}

const CALLER_ACTIONS = ACTIONS.filter((a) => !SYSTEM_ACTIONS.includes(a))

/**
 * what a caller may do next: the actions whose state rules pass now (rules about the body aside) —
 * `refusal(…) === null`, without writing out the refusal of each action that does not fit the status
 * (every response carries this list)
 */
export function allowedActions(c: Complaint, ctx: StateContext): Action[] {
  return CALLER_ACTIONS.filter((a) => fitsStatus(c, a) && (preconditions[a]?.(c, ctx) ?? null) === null)
}

/** the problem a refused action answers with: 409 with the current state and what is allowed, or 422 naming the missing fact */
export function refused(c: Complaint, action: Action, ctx: StateContext, why: Exclude<Refusal, 'noop'>) {
  const allowed = allowedActions(c, ctx)
  const extensions = { currentStatus: c.status, action, allowedActions: allowed }
  if (why.status === 422) {
    return new ProblemError({
      status: 422, code: 'precondition-missing', title: 'Unprocessable Content', detail: why.detail,
      errors: [{ field: why.field ?? '/complaint', message: why.detail }], extensions,
    })
  }
  return conflict(`${why.detail}; allowed: ${allowed.join(', ') || 'none'}`, extensions)
}

// ---- inputs (the HTTP schemas in complaints/schemas.ts have these shapes) ----
export interface AcknowledgeInput { via: AcknowledgementChannel; acknowledgedAt?: string; message?: string }
export interface AssessInput {
  categoryId: string
  level: Level
  nature?: 'good_faith' | 'malicious'
  departmentId: string
  receiverId?: string
  major?: boolean
  irrationalStage?: IrrationalStage
  followUpMode?: FollowUpMode
  externalBody?: ExternalBody
  comment?: string
}
export interface HandoverInput { comment?: string }
export interface SignInput { signedBy: string; comment?: string }
export interface NoteInput { kind: string; body: string }
export interface CapaMeasure { type: 'corrective' | 'preventive'; action: string; owner?: string; dueDate?: string }
export interface CapaReviewInput { measureId: string; outcome: CapaReviewOutcome; evidence: string }
export interface InvestigationInput {
  facts?: string
  emotions?: string
  expectations?: string
  rootCause: string
  capa?: { measures: CapaMeasure[] }
}
export interface ReplyInput {
  body: string
  via?: string
  decision?: { optionsOffered?: string[]; chosenOption?: string; compensationFen?: number }
}
export interface ClosureRequestInput { resultSummary: string; rootCause?: string }
export interface CallbackInput { satisfied: boolean; satisfaction?: number; comment?: string }
export interface CloseInput { comment?: string }
export interface DeferralRequestInput { reason: string }
export interface DeferralReviewInput { approved: boolean; followUpMode?: FollowUpMode; comment?: string }
export interface WithdrawInput { reason: string }
export interface ReopenInput { reason: string }
export interface PauseInput { reason: string }
export interface ResumeInput { comment?: string }
export interface EscalateInput { reason: string }
export interface LinkExternalIdsInput { externalIds: Array<{ system: string; customerId: string }> }

export interface ActionInputs {
  acknowledge: AcknowledgeInput
  assess: AssessInput & { resolvedReceiverId: string | null }
  handover: HandoverInput
  sign: SignInput
  add_note: NoteInput
  record_investigation: InvestigationInput
  reply: ReplyInput
  request_closure: ClosureRequestInput
  record_callback: CallbackInput
  close: CloseInput
  request_deferral: DeferralRequestInput
  review_deferral: DeferralReviewInput
  withdraw: WithdrawInput
  reopen: ReopenInput
  pause: PauseInput
  resume: ResumeInput
  escalate: EscalateInput
  link_external_ids: LinkExternalIdsInput
  review_capa: CapaReviewInput
}

export interface DecideContext extends StateContext {
  upgradeMap?: UpgradeMap
  /** CAPA_REVIEW_DAYS: a measure's review is due this many days after its due date (or the investigation) */
  capaReviewDays?: number
  /** the business time zone: which day the investigation happened on */
  timeZone?: string
  /** ids of new CAPA measures */
  newId?: () => string
}

export type ComplaintChanges = Partial<Omit<Complaint, 'id' | 'reference' | 'version' | 'created_at' | 'updated_at'>>

export interface Decision {
  /** true when nothing changes (e.g. acknowledging twice): no version bump, no timeline entry */
  noop?: boolean
  status: Status
  changes: ComplaintChanges
  /** what the timeline entry records besides before/after */
  facts: Record<string, unknown>
  /** outbox event types, the names of src/outbox/catalogue.ts */
  events: string[]
  note?: NoteInput
  reply?: ReplyInput & { isFirst: boolean }
}

type Decide<A extends Action> = (c: Complaint, input: ActionInputs[A], ctx: DecideContext) => Decision

const keep = (c: Complaint) => c.status as Status

/** clocks restart from `now` in a new cycle: breaches and warnings are per cycle */
const restartClocks = (c: Complaint, now: Date) => ({ clock_started_at: now, clock_cycle: c.clock_cycle + 1 })

/** the level upgrade of docs/escalation.md: changes, facts and events, shared by the callback and the scheduler */
function upgrade(c: Complaint, ctx: DecideContext, reason: string) {
  // a major complaint already runs on the strong limits: it upgrades as a strong one
  const from = (c.major && c.level !== 'irrational' ? 'strong' : (c.level ?? 'general')) as Level
  const up = upgradeLevel({ level: from, irrationalStage: c.irrational_stage as IrrationalStage | null }, ctx.upgradeMap ?? DEFAULT_UPGRADE_MAP)
  return {
    changes: { level: up.level, irrational_stage: up.irrationalStage, ...restartClocks(c, ctx.now) },
    facts: { upgrade: { from: c.level, to: up.level, fromStage: c.irrational_stage, toStage: up.irrationalStage, reason, flagManagement: up.flagManagement } },
    events: ['complaint.level_upgraded', ...(up.flagManagement ? ['complaint.management_flagged'] : [])],
  }
}

/**
 * Seed 002 §3.11: a complaint closed within its closure limit — receipt to closure request (§3.10) —
 * closes first-time (一次关闭); otherwise second-time (二次关闭). Any expiry of the closure limit counts,
 * even when an upgrade restarted the clocks and the closure then came inside the new cycle, and so do
 * a rejected callback, a reopening and a deferral.
 */
export function secondTimeReasons(c: Complaint): string[] {
  const requestedInTime = c.closure_due_at !== null && c.closure_requested_at !== null && c.closure_requested_at <= c.closure_due_at
  return [
    ...(c.closure_limit_missed ? ['closure_limit_expired'] : []),
    ...(requestedInTime ? [] : ['closure_requested_late']),
    ...(c.closure_rejected_count > 0 ? ['closure_rejected_at_callback'] : []),
    ...(c.reopen_count > 0 ? ['reopened'] : []),
    ...(c.deferred_at !== null ? ['deferred'] : []),
  ]
}

const decisions: { [A in Action]: Decide<A> } = {
  acknowledge(c, input, { now }) {
    const at = input.acknowledgedAt ? new Date(input.acknowledgedAt) : now
    if (at > now) throw unprocessable('/body/acknowledgedAt', 'must not be in the future')
    if (at < c.received_at) throw unprocessable('/body/acknowledgedAt', 'must not be before the complaint was received')
    return {
      status: c.status === 'received' ? 'acknowledged' : keep(c),
      changes: { acknowledged_at: at, acknowledged_via: input.via },
      facts: { via: input.via, message: input.message ?? null },
      events: ['complaint.acknowledged'],
    }
  },

  assess(c, input, { now }) {
    const irrational = input.level === 'irrational'
    if (irrational && !input.followUpMode) {
      throw unprocessable('/body/followUpMode', 'an irrational complaint needs a follow-up mode (watch or monitor)')
    }
    if (!irrational && (input.followUpMode || input.irrationalStage)) {
      const field = input.followUpMode ? 'followUpMode' : 'irrationalStage'
      throw unprocessable(`/body/${field}`, 'only irrational complaints have a follow-up mode and stage')
    }
    const departmentChanged = c.department_id !== null && c.department_id !== input.departmentId
    const signed = ['in_progress', 'responded'].includes(c.status)
    if (departmentChanged && signed) {
      throw unprocessable('/body/departmentId', `department ${c.department_id} has signed for this complaint; it cannot be moved to another department`)
    }
    const externalBody = input.externalBody ?? (c.external_body as ExternalBody | null)
    const before = c.status
    const status: Status = before === 'received' || before === 'acknowledged' || (before === 'handed_over' && departmentChanged) ? 'assessed' : keep(c)
    const events = ['complaint.assessed']
    if (externalBody && !c.external_body) events.push('complaint.external_reported')
    return {
      status,
      changes: {
        category_id: input.categoryId,
        level: input.level,
        nature: input.nature ?? c.nature,
        department_id: input.departmentId,
        receiver_id: input.resolvedReceiverId,
        major: externalBody ? true : (input.major ?? c.major),
        external_body: externalBody,
        irrational_stage: irrational ? (input.irrationalStage ?? c.irrational_stage ?? 'first') : null,
        follow_up_mode: irrational ? (input.followUpMode ?? null) : null,
        assessed_at: now,
        ...(status === 'assessed' && before === 'handed_over' ? { handed_over_at: null } : {}),
      },
      facts: {
        reassessment: c.assessed_at !== null,
        comment: input.comment ?? null,
        ...(externalBody ? { notify: ['public_relations', 'management'] } : {}),
      },
      events,
    }
  },

  handover(c, input, { now }) {
    return {
      status: 'handed_over',
      changes: { handed_over_at: now },
      // the 《客户抱怨处理书》 issued to the department
      facts: { form: '客户抱怨处理书', departmentId: c.department_id, receiverId: c.receiver_id, comment: input.comment ?? null },
      events: ['complaint.handed_over'],
    }
  },

  sign(_c, input, { now }) {
    return {
      status: 'in_progress',
      changes: { signed_at: now, signed_by: input.signedBy },
      facts: { signedBy: input.signedBy, comment: input.comment ?? null },
      events: ['complaint.signed'],
    }
  },

  add_note(c, input) {
    return { status: keep(c), changes: {}, facts: { kind: input.kind }, events: [], note: input }
  },

  record_investigation(_c, input, { now, capaReviewDays = 30, timeZone = 'Asia/Shanghai', newId = randomUUID }) {
    const measures = input.capa?.measures ?? []
    if (input.capa) {
      if (measures.length === 0) throw unprocessable('/body/capa/measures', 'a CAPA needs at least one concrete measure')
      const vague = vagueMeasures(measures.map((m) => m.action))
      if (vague.length === measures.length) {
        throw unprocessable(
          '/body/capa/measures',
          'every measure is vague (e.g. 加强培训 / 加强检查 / "strengthen training"); name at least one concrete action: what changes, who does it, by when',
          'vague-capa',
        )
      }
    }
    const scheduled = input.capa ? scheduleMeasures(measures, _c.capa?.measures ?? [], toLocal(now, timeZone).date, capaReviewDays, newId) : []
    return {
      status: keep(_c),
      changes: {
        root_cause: input.rootCause,
        ...(input.capa ? { capa: { measures: scheduled, status: capaStatus(scheduled) }, capa_review_due: nextReviewDue(scheduled) } : {}),
        investigated_at: now,
      },
      facts: { facts: input.facts ?? null, emotions: input.emotions ?? null, expectations: input.expectations ?? null },
      events: [],
    }
  },

  reply(c, input, { now }) {
    const isFirst = c.first_replied_at === null
    return {
      status: isFirst && c.status === 'in_progress' ? 'responded' : keep(c),
      changes: { ...(isFirst ? { first_replied_at: now } : {}), last_replied_at: now },
      facts: { first: isFirst, via: input.via ?? null, decision: input.decision ?? null },
      events: ['complaint.replied'],
      reply: { ...input, isFirst },
    }
  },

  request_closure(c, input, { now }) {
    const rootCause = input.rootCause ?? c.root_cause
    if (!rootCause) throw unprocessable('/body/rootCause', 'a root cause is required before closure (record the investigation or send rootCause)')
    return {
      status: 'closure_requested',
      // a new callback clock: the previous callback's outcome belongs to the timeline, not to this request
      changes: {
        closure_requested_at: now, result_summary: input.resultSummary, root_cause: rootCause, deferral_requested_at: null,
        callback_at: null, satisfied: null, satisfaction: null, callback_comment: null,
      },
      facts: { resultSummary: input.resultSummary },
      events: ['complaint.closure_requested'],
    }
  },

  record_callback(c, input, ctx) {
    const recorded = { callback_at: ctx.now, satisfied: input.satisfied, satisfaction: input.satisfaction ?? null, callback_comment: input.comment ?? null }
    if (input.satisfied) {
      return { status: 'closure_confirmed', changes: recorded, facts: { outcome: 'closure_confirmed' }, events: ['complaint.callback_recorded'] }
    }
    // not satisfied: back to work, level goes up, clocks restart (docs/escalation.md)
    const up = upgrade(c, ctx, 'closure rejected at callback')
    return {
      status: 'in_progress',
      changes: { ...recorded, closure_requested_at: null, closure_rejected_count: c.closure_rejected_count + 1, ...up.changes },
      facts: { outcome: 'rejected_closure', ...up.facts },
      events: ['complaint.callback_recorded', ...up.events],
    }
  },

  close(c, input, { now }) {
    const reasons = secondTimeReasons(c)
    const closureType = reasons.length === 0 ? 'first_time' : 'second_time'
    return {
      status: 'closed',
      changes: { closed_at: now, closure_type: closureType },
      facts: { closureType, secondTimeBecause: reasons, comment: input.comment ?? null },
      events: ['complaint.closed'],
    }
  },

  request_deferral(c, input, { now }) {
    return {
      status: keep(c),
      changes: { deferral_requested_at: now, deferral_reason: input.reason },
      facts: { reason: input.reason },
      events: ['complaint.deferral_requested'],
    }
  },

  review_deferral(c, input, { now }) {
    if (!input.approved) {
      return { status: keep(c), changes: { deferral_requested_at: null }, facts: { approved: false, comment: input.comment ?? null }, events: [] }
    }
    const followUpMode = input.followUpMode ?? (c.follow_up_mode as FollowUpMode | null)
    if (!followUpMode) throw unprocessable('/body/followUpMode', 'a deferred complaint becomes second-stage irrational and needs a follow-up mode (watch or monitor)')
    return {
      status: 'deferred',
      changes: {
        deferral_requested_at: null,
        deferred_at: now,
        level: 'irrational',
        irrational_stage: 'second',
        follow_up_mode: followUpMode,
        ...restartClocks(c, now),
      },
      facts: { approved: true, comment: input.comment ?? null, levelFrom: c.level, followUpMode },
      events: ['complaint.deferred'],
    }
  },

  withdraw(_c, input, { now }) {
    return { status: 'withdrawn', changes: { withdrawn_at: now, withdrawal_reason: input.reason }, facts: { reason: input.reason }, events: ['complaint.withdrawn'] }
  },

  reopen(c, input, { now }) {
    return {
      status: 'in_progress',
      changes: {
        reopened_at: now,
        reopen_count: c.reopen_count + 1,
        closed_at: null,
        closure_type: null,
        closure_requested_at: null,
        callback_at: null,
        satisfied: null,
        satisfaction: null,
        ...restartClocks(c, now),
      },
      facts: { reason: input.reason, previousClosureType: c.closure_type },
      events: ['complaint.reopened'],
    }
  },

  pause(c, input, { now }) {
    return {
      status: keep(c),
      changes: { paused_at: now, pauses: [...c.pauses, { from: now.toISOString(), to: null, reason: input.reason }] },
      facts: { reason: input.reason },
      events: ['complaint.paused'],
    }
  },

  resume(c, input, { now }) {
    const pauses = c.pauses.map((p) => (p.to === null ? { ...p, to: now.toISOString() } : p))
    return {
      status: keep(c),
      changes: { paused_at: null, pauses },
      facts: { comment: input.comment ?? null, pausedMinutes: Math.round((now.getTime() - c.paused_at!.getTime()) / 60_000) },
      events: ['complaint.resumed'],
    }
  },

  link_external_ids(c, input) {
    // one id per system: a new id for a system replaces the old one, other systems stay
    const systems = new Set(input.externalIds.map((e) => e.system))
    const externalIds = [...c.complainant_external_ids.filter((e) => !systems.has(e.system)), ...input.externalIds]
    return { status: keep(c), changes: { complainant_external_ids: externalIds }, facts: { systems: [...systems] }, events: ['complaint.external_ids_linked'] }
  },

  review_capa(c, input, { now }) {
    const measures = c.capa!.measures
    const measure = measures.find((m) => m.id === input.measureId)
    if (!measure) throw notFound('CAPA measure', input.measureId)
    if (measure.review) throw conflict(`measure ${input.measureId} was reviewed on ${measure.review.reviewedAt}: a review is recorded once`)
    const review = { outcome: input.outcome, evidence: input.evidence, reviewedAt: now.toISOString() }
    const reviewed = measures.map((m) => (m.id === input.measureId ? { ...m, review } : m))
    return {
      status: keep(c),
      changes: { capa: { measures: reviewed, status: capaStatus(reviewed) }, capa_review_due: nextReviewDue(reviewed) },
      facts: { measureId: input.measureId, effectiveness: input.outcome, evidence: input.evidence },
      events: [],
    }
  },

  escalate(c, input, ctx) {
    const up = upgrade(c, ctx, input.reason)
    // the closure limit expired unclosed: whatever happens next, the closure will be second-time (seed 002 §3.11)
    return { status: keep(c), changes: { ...up.changes, closure_limit_missed: true }, facts: up.facts, events: up.events }
  },
}

export function decide<A extends Action>(action: A, c: Complaint, input: ActionInputs[A], ctx: DecideContext): Decision {
  const why = refusal(c, action, ctx)
  if (why === 'noop') return { noop: true, status: keep(c), changes: {}, facts: {}, events: [] }
  if (why) throw refused(c, action, ctx, why)
  return (decisions[action] as Decide<A>)(c, input, ctx)
}
