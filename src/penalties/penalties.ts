import { randomUUID } from 'node:crypto'
import { sql, type Transaction } from 'kysely'
import type { Services } from '../context.js'
import type { Actor, Database, NoticeChange, PenaltyNotice } from '../db/types.js'
import { toLocal } from '../domain/calendar.js'
import { monthsComplete, noticeKey, NOTICE_TRANSITIONS, owedNotices, type NoticeAction, type NoticeStatus } from '../domain/penalties.js'
import { conflict, notFound } from '../errors.js'
import { writeAudits, type AuditContext } from '../audit/audit.js'
import { appendEvents } from '../outbox/outbox.js'
import { SCHEDULER } from '../sla/breaches.js'
import * as repo from './repository.js'

/** the notice as the API and events show it */
export function noticeDto(n: PenaltyNotice) {
  return {
    id: n.id,
    number: n.number,
    status: n.status as NoticeStatus,
    kind: n.kind as PenaltyNoticeKind,
    cycle: n.kind === 'monthly' ? null : n.period,
    month: n.kind === 'monthly' ? n.period : null,
    complaint: { id: n.complaint_id, reference: n.complaint_reference },
    departmentId: n.department_id,
    level: n.level as 'general',
    standardFen: n.standard_fen,
    factor: n.factor,
    amountFen: n.amount_fen,
    rulesVersion: n.rules_version,
    owedAt: n.owed_at.toISOString(),
    reason: n.reason,
    issuedAt: n.issued_at.toISOString(),
    bulletinId: n.bulletin_id,
    history: n.history.map((h) => ({ at: h.at, status: h.status as NoticeStatus, actor: { role: h.actor.role, name: h.actor.name }, reason: h.reason })),
  }
}
type PenaltyNoticeKind = 'handover_late' | 'first_reply_late' | 'closure_limit' | 'monthly'
export type NoticeDto = ReturnType<typeof noticeDto>

const auditOf = (n: PenaltyNotice, before: Record<string, unknown> | null) => ({
  entityType: 'penalty_notice', entityId: n.id, before, after: { number: n.number, status: n.status, amountFen: n.amount_fen, departmentId: n.department_id, bulletinId: n.bulletin_id },
})

export const EVENT_OF_STATUS: Partial<Record<NoticeStatus, string>> = {
  issued: 'penalty.issued', contested: 'penalty.contested', waived: 'penalty.waived', upheld: 'penalty.upheld', fulfilled: 'penalty.fulfilled',
}

/** one event per notice whose status has an event; the complaint id lets subscribers tie it to the complaint */
export async function noticeEvents(trx: Transaction<Database>, notices: PenaltyNotice[], now: Date): Promise<void> {
  await appendEvents(trx, notices.flatMap((n) => {
    const type = EVENT_OF_STATUS[n.status as NoticeStatus]
    return type ? [{ type, complaintId: n.complaint_id, occurredAt: now, data: { notice: noticeDto(n) } }] : []
  }))
}

/** at most this many complaints per run; the rest follow on the next one */
const ISSUE_BATCH = 500

/**
 * The `penalties` job (docs/penalties.md): every notice the rules say is owed and not yet on record, issued
 * in one transaction. Idempotent on (complaint, kind, period): a second run, or a second replica at
 * the same moment, inserts nothing twice (the loser of a race waits on the unique key, then skips).
 * Notice numbers are taken last, so the year's counter row is locked only until the commit.
 */
export async function issuePenaltyNotices(s: Services, now: Date): Promise<{ issued: number; unassigned: number; complaints: number }> {
  const timeZone = s.config.BUSINESS_TIMEZONE
  const since = s.config.PENALTIES_FROM ? new Date(s.config.PENALTIES_FROM) : null
  const ids = await repo.penaltyCandidates(s.db, now, timeZone, ISSUE_BATCH, since)
  if (ids.length === 0) return { issued: 0, unassigned: 0, complaints: 0 }
  return s.db.transaction().execute(async (trx) => {
    const versions = await repo.ruleVersions(trx)
    const complaints = await repo.loadPenaltyFacts(trx, ids)
    const existing = await repo.existingKeys(trx, ids)
    const change = (status: NoticeStatus): NoticeChange => ({ at: now.toISOString(), status, actor: SCHEDULER, reason: null })
    const rows = complaints.flatMap((c) => owedNotices(c.facts, versions, now, timeZone, since ?? undefined)
      .filter((n) => !existing.has(`${c.id}:${noticeKey(n)}`))
      .map((n) => {
        const status: NoticeStatus = n.departmentId === null ? 'unassigned' : 'issued'
        return {
          id: randomUUID(), number: null, complaint_id: c.id, complaint_reference: c.reference, kind: n.kind, period: n.period, breach_id: n.breachId,
          department_id: n.departmentId, level: n.level, standard_fen: n.standardFen, factor: n.factor, amount_fen: n.amountFen, rules_version: n.rulesVersion,
          owed_at: n.owedAt, reason: n.reason, status, issued_at: now, bulletin_id: null, history: JSON.stringify([change(status)]), updated_at: now,
        }
      }))
      // one order for every replica: two runs at once wait on the same unique keys in the same order
      .sort((a, b) => `${a.complaint_id}:${a.kind}:${a.period}`.localeCompare(`${b.complaint_id}:${b.kind}:${b.period}`))
    const inserted = rows.length === 0 ? [] : await trx.insertInto('penalty_notices').values(rows)
      .onConflict((oc) => oc.columns(['complaint_id', 'kind', 'period']).doNothing()).returningAll().execute()
    await repo.recordMonthsChecked(trx, complaints.map((c) => ({ complaintId: c.id, months: monthsComplete(c.facts.receivedAt, now, timeZone) })))

    const chargeable = inserted.filter((n) => n.status === 'issued')
      .sort((a, b) => a.owed_at.getTime() - b.owed_at.getTime() || a.complaint_reference.localeCompare(b.complaint_reference) || a.kind.localeCompare(b.kind) || a.period - b.period)
    if (chargeable.length > 0) {
      const year = Number(toLocal(now, timeZone).date.slice(0, 4))
      const first = await repo.takeNoticeNumbers(trx, year, chargeable.length)
      chargeable.forEach((n, i) => (n.number = repo.formatNoticeNumber(year, first + i)))
      await sql`update penalty_notices set number = v.number from (values ${sql.join(chargeable.map((n) => sql`(${n.id}::uuid, ${n.number})`))}) as v(id, number)
        where penalty_notices.id = v.id`.execute(trx)
    }
    await writeAudits(trx, { actor: SCHEDULER, operation: 'issuePenaltyNotices', requestId: null }, inserted.map((n) => auditOf(n, null)), now)
    await noticeEvents(trx, chargeable, now)
    return { issued: chargeable.length, unassigned: inserted.length - chargeable.length, complaints: complaints.length }
  })
}

export interface NoticeContext {
  audit: AuditContext
  /** a department key acts on its own department's notices only */
  departmentScope: string | null
}

const change = (status: NoticeStatus, actor: Actor, now: Date, reason: string | null): NoticeChange => ({ at: now.toISOString(), status, actor, reason })

/**
 * Contest, waive, uphold or fulfil one notice: lock it, check the step fits its status (409 naming
 * what it is), change it with its history, audit entry and event. A notice that is contested or
 * waived leaves the draft bulletin that listed it, whose figures are drawn up again.
 */
export async function changeNotice(s: Services, action: NoticeAction, id: string, reason: string | null, ctx: NoticeContext): Promise<NoticeDto> {
  return s.db.transaction().execute(async (trx) => {
    const current = await repo.lockNotice(trx, id)
    if (!current || (ctx.departmentScope && current.department_id !== ctx.departmentScope)) throw notFound('penalty notice', id)
    const step = NOTICE_TRANSITIONS[action]
    if (!step.from.includes(current.status as NoticeStatus)) {
      throw conflict(`cannot ${action} notice ${current.number ?? current.id}: it is ${current.status}; ${action} applies to ${step.from.join(' or ')} notices`)
    }
    const now = s.clock.now()
    let [updated] = await repo.setNoticeStatus(trx, { ids: [id], from: step.from as string[] }, change(step.to, ctx.audit.actor, now, reason), now)
    if (current.bulletin_id && (step.to === 'contested' || step.to === 'waived')) {
      // only a draft can list an issued or contested notice: signing confirms what it lists
      updated = await trx.updateTable('penalty_notices').set({ bulletin_id: null }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
      await repo.refreshDraft(trx, current.bulletin_id)
    }
    await writeAudits(trx, ctx.audit, [auditOf(updated!, { status: current.status, bulletinId: current.bulletin_id })], now)
    await noticeEvents(trx, [updated!], now)
    return noticeDto(updated!)
  })
}
