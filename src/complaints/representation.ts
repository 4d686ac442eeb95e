import type { Complaint, Note, Reply, TimelineEntry } from '../db/types.js'
import { allowedActions } from '../domain/lifecycle.js'
import type { ComplaintDto, ComplaintRecordDto } from './schemas.js'
import { maskPii } from '../access/pii.js'
import { clockViews } from '../domain/clocks.js'
import type { BusinessCalendar } from '../domain/calendar.js'
import { isoString } from '../http/instants.js'

export const iso = (d: Date | null): string | null => (d ? isoString(d) : null)
const isoReq = (d: Date): string => isoString(d)

/** the ETag of a complaint is its version */
export const etagOf = (c: Pick<Complaint, 'version'>) => `"${c.version}"`

export const camel = (column: string) => column.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())

/** a column value as it appears in the API (timeline before/after) */
export const apiValue = (v: unknown): unknown => (v instanceof Date ? isoString(v) : v)

/** what a response shows as of the moment it is produced, and to whom */
export interface DtoView {
  maskPii: boolean
  now: Date
  calendar: BusinessCalendar
  reopenWindowDays: number
}

/** the complaint as the API shows it to a caller: its record, what the caller may do next, and its clocks as of now */
export function toComplaintDto(c: Complaint, view: DtoView): ComplaintDto {
  // completes the record object instead of copying it into a new one: this runs for every complaint
  // of every list page (50 × some 70 fields) and every event
  const record = complaintRecord(c)
  if (view.maskPii) record.complainant = maskPii(record.complainant)
  return Object.assign(record, {
    allowedActions: allowedActions(c, view),
    clocks: clockViews(c, view.now, view.calendar).map((v) => ({ ...v, dueAt: iso(v.dueAt), stoppedAt: iso(v.stoppedAt) })),
  })
}

/** the stored state of a complaint in API names: what events and the audit log carry (nothing computed as of now) */
export function complaintRecord(c: Complaint): ComplaintRecordDto {
  return {
    id: c.id,
    reference: c.reference,
    status: c.status as ComplaintDto['status'],
    version: c.version,
    channel: c.channel as ComplaintDto['channel'],
    externalBody: c.external_body as ComplaintDto['externalBody'],
    complainant: {
      name: c.complainant_name,
      kind: c.complainant_kind,
      phone: c.complainant_phone,
      email: c.complainant_email,
      idNumber: c.complainant_id_number,
      address: c.complainant_address,
      externalIds: c.complainant_external_ids,
    },
    subject: c.subject,
    description: c.description,
    desiredOutcomes: c.desired_outcomes,
    desiredOutcomeNote: c.desired_outcome_note,
    attachments: c.attachments,
    occurredAt: iso(c.occurred_at),
    receivedAt: isoReq(c.received_at),
    acknowledgedAt: iso(c.acknowledged_at),
    acknowledgedVia: c.acknowledged_via,
    categoryId: c.category_id,
    level: c.level as ComplaintDto['level'],
    nature: c.nature,
    major: c.major,
    irrationalStage: c.irrational_stage,
    followUpMode: c.follow_up_mode,
    departmentId: c.department_id,
    receiverId: c.receiver_id,
    assessedAt: iso(c.assessed_at),
    handedOverAt: iso(c.handed_over_at),
    signedAt: iso(c.signed_at),
    signedBy: c.signed_by,
    firstRepliedAt: iso(c.first_replied_at),
    lastRepliedAt: iso(c.last_replied_at),
    rootCause: c.root_cause,
    capa: c.capa as ComplaintDto['capa'],
    investigatedAt: iso(c.investigated_at),
    closureRequestedAt: iso(c.closure_requested_at),
    resultSummary: c.result_summary,
    deferralRequestedAt: iso(c.deferral_requested_at),
    deferralReason: c.deferral_reason,
    deferredAt: iso(c.deferred_at),
    callbackAt: iso(c.callback_at),
    satisfied: c.satisfied,
    satisfaction: c.satisfaction,
    callbackComment: c.callback_comment,
    closureRejectedCount: c.closure_rejected_count,
    closedAt: iso(c.closed_at),
    closureType: c.closure_type as ComplaintDto['closureType'],
    withdrawnAt: iso(c.withdrawn_at),
    withdrawalReason: c.withdrawal_reason,
    reopenedAt: iso(c.reopened_at),
    reopenCount: c.reopen_count,
    clockStartedAt: isoReq(c.clock_started_at),
    closureLimitMissed: c.closure_limit_missed,
    anonymisedAt: iso(c.anonymised_at),
    deadlines: {
      handoverDueAt: iso(c.handover_due_at),
      firstReplyDueAt: iso(c.first_reply_due_at),
      closureDueAt: iso(c.closure_due_at),
      callbackDueAt: iso(c.callback_due_at),
    },
    slaPolicyVersion: c.sla_policy_version,
    clockCycle: c.clock_cycle,
    pausedAt: iso(c.paused_at),
    createdAt: isoReq(c.created_at),
    updatedAt: isoReq(c.updated_at),
  }
}

export function toTimelineDto(e: TimelineEntry) {
  return {
    id: e.id,
    at: isoReq(e.at),
    action: e.action,
    fromStatus: e.from_status,
    toStatus: e.to_status,
    actor: e.actor,
    before: e.before,
    after: e.after,
    data: e.data,
  }
}

/** complainant-facing: status and dates only, no internal notes, no staff names */
export function toTrackingDto(c: Complaint) {
  return {
    reference: c.reference,
    status: c.status as ComplaintDto['status'],
    receivedAt: isoReq(c.received_at),
    acknowledgedAt: iso(c.acknowledged_at),
    handedOverAt: iso(c.handed_over_at),
    firstRepliedAt: iso(c.first_replied_at),
    closureRequestedAt: iso(c.closure_requested_at),
    closedAt: iso(c.closed_at),
    withdrawnAt: iso(c.withdrawn_at),
    expectedClosureBy: c.closed_at || c.withdrawn_at ? null : iso(c.closure_due_at),
  }
}

export const toNoteDto = (n: Note) => ({ id: n.id, kind: n.kind, body: n.body, createdAt: isoReq(n.created_at) })
export const toReplyDto = (r: Reply) => ({
  id: r.id, body: r.body, via: r.via, isFirst: r.is_first, createdAt: isoReq(r.created_at),
  decision: r.decision as { optionsOffered?: string[]; chosenOption?: string; compensationFen?: number } | null,
})
