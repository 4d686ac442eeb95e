import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database, NoticeChange, PenaltyNotice } from '../db/types.js'
import { afterPosition } from '../http/keyset.js'
import type { BreachFact, ComplaintState, NoticeKind, PenaltyFacts, PenaltyRules, PenaltyRuleValues } from '../domain/penalties.js'
import type { Level, Status } from '../domain/vocabulary.js'

type Db = Kysely<Database> | Transaction<Database>

/** every published version, oldest first; each applies from its publication on */
export async function ruleVersions(db: Db): Promise<PenaltyRules[]> {
  const rows = await db.selectFrom('penalty_rules').selectAll().orderBy('version').execute()
  return rows.map((r) => ({ ...(r.rules as PenaltyRuleValues), version: r.version, effectiveFrom: r.created_at }))
}

/** the notice kind a breach of a clock gives (the callback limit gives none) */
const KIND_OF_CLOCK = sql<string>`case b.clock when 'handover' then 'handover_late' when 'first_reply' then 'first_reply_late' else 'closure_limit' end`

/**
 * Complaints that may owe a notice not yet on record, in two indexed, set-based looks: a breach of a
 * fined clock with no notice, or a month since receipt the job has not judged yet that completed
 * while the complaint was still open (or before it ended). Month n completes at the local receipt
 * time plus n months (Postgres clamps to the end of a shorter month, as the rule does).
 */
export async function penaltyCandidates(db: Db, now: Date, timeZone: string, limit: number, since: Date | null): Promise<string[]> {
  const rows = await sql<{ id: string }>`
    select complaint_id as id from breaches b
    where b.clock in ('handover', 'first_reply', 'closure') and b.due_at < ${now} and b.due_at >= coalesce(${since}::timestamptz, '-infinity')
      and not exists (select 1 from penalty_notices n where n.complaint_id = b.complaint_id and n.kind = ${KIND_OF_CLOCK} and n.period = b.cycle)
    union
    select c.id from complaints c
    left join penalty_months_checked m on m.complaint_id = c.id
    cross join lateral (select ((c.received_at at time zone ${timeZone}) + (coalesce(m.months, 0) + 1) * interval '1 month') at time zone ${timeZone} as next_month) nm
    where nm.next_month <= ${now}
      and (c.status not in ('closed', 'withdrawn') or nm.next_month <= coalesce(c.closed_at, c.withdrawn_at))
    limit ${limit}`.execute(db)
  return rows.rows.map((r) => r.id)
}

export interface ComplaintPenaltyFacts {
  id: string
  reference: string
  facts: PenaltyFacts
}

/**
 * The facts the rules read, for many complaints in three statements: receipt, the states over time
 * (from the timeline, where every step records the status it left the complaint in and the columns
 * it changed) and the recorded breaches.
 */
export async function loadPenaltyFacts(db: Db, ids: string[]): Promise<ComplaintPenaltyFacts[]> {
  if (ids.length === 0) return []
  const complaints = await db.selectFrom('complaints').select(['id', 'reference', 'received_at']).where('id', 'in', ids).orderBy('reference').execute()
  const entries = await db.selectFrom('complaint_timeline').select(['complaint_id', 'at', 'action', 'to_status', 'after', 'data'])
    .where('complaint_id', 'in', ids).orderBy('complaint_id').orderBy('id').execute()
  const breaches = await db.selectFrom('breaches').selectAll().where('complaint_id', 'in', ids).orderBy('id').execute()
  return complaints.map((c) => ({
    id: c.id,
    reference: c.reference,
    facts: {
      receivedAt: c.received_at,
      history: historyOf(c.received_at, entries.filter((e) => e.complaint_id === c.id)),
      breaches: breaches.filter((b) => b.complaint_id === c.id).map((b): BreachFact => ({
        id: b.id, clock: b.clock as BreachFact['clock'], cycle: b.cycle, dueAt: b.due_at, detectedAt: b.detected_at, departmentId: b.department_id, level: b.level as Level | null,
      })),
    },
  }))
}

type Entry = { at: Date; action: string; to_status: string; after: Record<string, unknown>; data: Record<string, unknown> }

/** the complaint's states over time, folded from its timeline (each entry's `after` holds the columns it changed, in API names) */
export function historyOf(receivedAt: Date, entries: Entry[]): PenaltyFacts['history'] {
  let state: ComplaintState = { status: 'received', level: null, major: false, departmentId: null, deferralPending: false }
  const history: PenaltyFacts['history'] = []
  for (const e of entries) {
    const a = e.after
    const next: ComplaintState = {
      status: e.to_status as Status,
      level: 'level' in a ? (a.level as Level | null) : state.level,
      // every external complaint is major from receipt
      major: e.action === 'receive' ? Boolean(e.data.externalBody) : 'major' in a ? Boolean(a.major) : state.major,
      departmentId: 'departmentId' in a ? (a.departmentId as string | null) : state.departmentId,
      deferralPending: 'deferralRequestedAt' in a ? a.deferralRequestedAt !== null : state.deferralPending,
    }
    if (e.action === 'receive' || JSON.stringify(next) !== JSON.stringify(state)) history.push({ from: e.action === 'receive' ? receivedAt : e.at, state: next })
    state = next
  }
  return history
}

/** the keys (`kind:period`) already on record for these complaints */
export async function existingKeys(db: Db, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const rows = await db.selectFrom('penalty_notices').select(['complaint_id', 'kind', 'period']).where('complaint_id', 'in', ids).execute()
  return new Set(rows.map((r) => `${r.complaint_id}:${r.kind}:${r.period}`))
}

export async function recordMonthsChecked(trx: Transaction<Database>, checked: Array<{ complaintId: string; months: number }>): Promise<void> {
  if (checked.length === 0) return
  await trx.insertInto('penalty_months_checked')
    .values(checked.map((c) => ({ complaint_id: c.complaintId, months: c.months })))
    .onConflict((oc) => oc.column('complaint_id').doUpdateSet({ months: sql`greatest(penalty_months_checked.months, excluded.months)` }))
    .execute()
}

/** next `count` numbers of the year's sequence (gap-free among committed notices); returns the first */
export async function takeNoticeNumbers(trx: Transaction<Database>, year: number, count: number): Promise<number> {
  const row = await trx.insertInto('penalty_notice_counters').values({ year, last_value: count })
    .onConflict((oc) => oc.column('year').doUpdateSet({ last_value: sql`penalty_notice_counters.last_value + ${count}` }))
    .returning('last_value').executeTakeFirstOrThrow()
  return row.last_value - count + 1
}

export const formatNoticeNumber = (year: number, n: number) => `PN-${year}-${String(n).padStart(6, '0')}`

export async function lockNotice(trx: Transaction<Database>, id: string): Promise<PenaltyNotice | undefined> {
  return trx.selectFrom('penalty_notices').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
}

export async function findNotice(db: Db, id: string): Promise<PenaltyNotice | undefined> {
  return db.selectFrom('penalty_notices').selectAll().where('id', '=', id).executeTakeFirst()
}

/** sets the status of notices and appends the change to each one's history, in one statement */
export async function setNoticeStatus(trx: Transaction<Database>, where: { ids?: string[]; bulletinId?: string; departmentId?: string; from: string[] }, change: NoticeChange, now: Date): Promise<PenaltyNotice[]> {
  let q = trx.updateTable('penalty_notices')
    .set({ status: change.status, updated_at: now, history: sql`history || ${JSON.stringify([change])}::jsonb` })
    .where('status', 'in', where.from)
  if (where.ids) q = q.where('id', 'in', where.ids)
  if (where.bulletinId) q = q.where('bulletin_id', '=', where.bulletinId)
  if (where.departmentId) q = q.where('department_id', '=', where.departmentId)
  return q.returningAll().execute()
}

export interface NoticeQuery {
  departmentId?: string
  status?: string[]
  kind?: NoticeKind
  complaintId?: string
  bulletinId?: string
  from?: string
  to?: string
  cursor?: { at: Date; id: string }
  limit: number
}

/** newest first by issue time; the cursor is a row comparison, so it is an index condition */
export async function listNotices(db: Db, q: NoticeQuery): Promise<PenaltyNotice[]> {
  let query = db.selectFrom('penalty_notices').selectAll()
  if (q.departmentId) query = query.where('department_id', '=', q.departmentId)
  if (q.status?.length) query = query.where('status', 'in', q.status)
  if (q.kind) query = query.where('kind', '=', q.kind)
  if (q.complaintId) query = query.where('complaint_id', '=', q.complaintId)
  if (q.bulletinId) query = query.where('bulletin_id', '=', q.bulletinId)
  if (q.from) query = query.where('issued_at', '>=', new Date(q.from))
  if (q.to) query = query.where('issued_at', '<', new Date(q.to))
  if (q.cursor) query = query.where(afterPosition('penalty_notices', q.cursor, 'issued_at'))
  return query.orderBy('issued_at', 'desc').orderBy('id', 'desc').limit(q.limit + 1).execute()
}

export interface LedgerRow {
  department_id: string | null
  notices: number
  issued_fen: number
  waived_fen: number
  pending_fen: number
  confirmed_fen: number
  fulfilled_fen: number
  outstanding_fen: number
  unassigned: number
}

/** per department, in one aggregate: what was issued in the period and where it stands now */
export async function ledger(db: Db, q: { from?: string; to?: string; departmentId?: string }): Promise<LedgerRow[]> {
  const fen = (statuses: string[]) => sql<number>`coalesce(sum(amount_fen) filter (where status in (${sql.join(statuses)})), 0)::bigint`
  let query = db.selectFrom('penalty_notices').select([
    'department_id',
    sql<number>`count(*) filter (where status <> 'unassigned')::int`.as('notices'),
    fen(['issued', 'contested', 'upheld', 'waived', 'confirmed', 'fulfilled']).as('issued_fen'),
    fen(['waived']).as('waived_fen'),
    fen(['issued', 'contested', 'upheld']).as('pending_fen'),
    fen(['confirmed', 'fulfilled']).as('confirmed_fen'),
    fen(['fulfilled']).as('fulfilled_fen'),
    fen(['confirmed']).as('outstanding_fen'),
    sql<number>`count(*) filter (where status = 'unassigned')::int`.as('unassigned'),
  ])
  if (q.from) query = query.where('issued_at', '>=', new Date(q.from))
  if (q.to) query = query.where('issued_at', '<', new Date(q.to))
  if (q.departmentId) query = query.where('department_id', '=', q.departmentId)
  return query.groupBy('department_id').orderBy(sql`department_id nulls last`).execute() as Promise<LedgerRow[]>
}

/**
 * A draft's figures from the notices it lists, in two set-based statements: one line per department
 * and kind, and the bulletin's totals. Unassigned findings are listed apart and never summed.
 */
export async function refreshDraft(trx: Transaction<Database>, bulletinId: string): Promise<void> {
  await trx.deleteFrom('penalty_bulletin_lines').where('bulletin_id', '=', bulletinId).execute()
  await sql`insert into penalty_bulletin_lines (bulletin_id, department_id, kind, notices, amount_fen)
    select bulletin_id, department_id, kind, count(*)::int, sum(amount_fen)::bigint from penalty_notices
    where bulletin_id = ${bulletinId} and status <> 'unassigned' group by bulletin_id, department_id, kind`.execute(trx)
  await sql`update penalty_bulletins b set notices = l.notices, total_fen = l.total_fen
    from (select coalesce(sum(notices), 0)::int as notices, coalesce(sum(amount_fen), 0)::bigint as total_fen from penalty_bulletin_lines where bulletin_id = ${bulletinId}) l
    where b.id = ${bulletinId}`.execute(trx)
}
