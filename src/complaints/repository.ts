import { sql, type Kysely, type Transaction } from 'kysely'
import type { Actor, Complaint, ComplaintPatch, Database } from '../db/types.js'
import { afterCursor, page } from '../http/keyset.js'
import { inBatches, insertRows, type Append } from '../db/batches.js'
import { anyClockOverdue } from '../sla/clock-sql.js'
import type { ListQuery } from './schemas.js'

type Db = Kysely<Database> | Transaction<Database>

/** jsonb columns: written as JSON text (pg would turn a JS array into a Postgres array) */
const JSON_COLUMNS = new Set(['complainant_external_ids', 'subject', 'desired_outcomes', 'attachments', 'capa', 'pauses'])

/** turns domain values into column input: jsonb → JSON text */
export function toColumns(changes: Record<string, unknown>): ComplaintPatch {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) continue
    out[key] = JSON_COLUMNS.has(key) && value !== null ? JSON.stringify(value) : value
  }
  return out as ComplaintPatch
}

export async function findComplaint(db: Db, id: string): Promise<Complaint | undefined> {
  return db.selectFrom('complaints').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function lockComplaint(trx: Transaction<Database>, id: string): Promise<Complaint | undefined> {
  return trx.selectFrom('complaints').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
}

export async function findByReference(db: Db, reference: string): Promise<Complaint | undefined> {
  return db.selectFrom('complaints').selectAll().where('reference', '=', reference).executeTakeFirst()
}

export async function updateComplaint(trx: Transaction<Database>, id: string, patch: ComplaintPatch): Promise<Complaint> {
  return trx.updateTable('complaints').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
}

/**
 * Several complaints updated at once, each with its own patch (a scheduled job's batch of steps): one
 * statement per set of changed columns, the new values read as rows of the complaints table from JSON
 * (`jsonb_populate_recordset`, so every value takes its column's type), instead of one round trip per
 * complaint. Rows come back in the order of `patches`.
 */
export async function updateComplaints(trx: Transaction<Database>, patches: Array<{ id: string; changes: Record<string, unknown> }>): Promise<Complaint[]> {
  if (patches.length === 1) return [await updateComplaint(trx, patches[0]!.id, toColumns(patches[0]!.changes))]
  const groups = new Map<string, Array<{ id: string; changes: Record<string, unknown> }>>()
  for (const p of patches) {
    const columns = Object.keys(p.changes).filter((k) => p.changes[k] !== undefined).sort().join(',')
    groups.set(columns, [...(groups.get(columns) ?? []), p])
  }
  const byId = new Map<string, Complaint>()
  for (const [columns, group] of groups) {
    const names = columns.split(',').filter(Boolean)
    for (const batch of inBatches(group)) {
      // jsonb columns keep their JSON value here: the record's jsonb field is the value itself
      const records = batch.map((p) => ({ id: p.id, ...Object.fromEntries(names.map((k) => [k, p.changes[k] instanceof Date ? (p.changes[k] as Date).toISOString() : p.changes[k]])) }))
      const { rows } = await sql<Complaint>`update complaints as c
          set ${sql.join(names.map((k) => sql`${sql.ref(k)} = r.${sql.ref(k)}`))}
          from jsonb_populate_recordset(null::complaints, ${JSON.stringify(records)}::jsonb) as r
          where c.id = r.id
          returning c.*`.execute(trx)
      for (const row of rows) byId.set(row.id, row)
    }
  }
  return patches.map((p) => {
    const row = byId.get(p.id)
    if (!row) throw new Error(`complaint ${p.id} was not updated`)
    return row
  })
}

/**
 * The year's next reference number, formatted as SPEC §8.2 has it (`CP-2026-000123`; past 999,999 the
 * number grows a digit) — a statement for `appendMaking`, which writes the complaint with it. The counter
 * row's upsert locks the row until the statement's transaction ends: intakes of a year queue on it, and a
 * rolled-back intake gives its number back, so the numbers are gap-free (docs/operations.md).
 */
export const takeReference = (prefix: string, year: number) => sql<{ value: string }>`insert into reference_counters (year, last_value) values (${year}, 1)
  on conflict (year) do update set last_value = reference_counters.last_value + 1
  returning ${prefix}::text || '-' || year || '-' || lpad(last_value::text, greatest(6, length(last_value::text)), '0') as value`

export interface TimelineInsert {
  complaintId: string
  at: Date
  actor: Actor
  action: string
  fromStatus: string | null
  toStatus: string
  before: Record<string, unknown>
  after: Record<string, unknown>
  data: Record<string, unknown>
}

/** appends timeline entries in one statement */
export async function appendTimeline(trx: Transaction<Database>, ...entries: TimelineInsert[]): Promise<void> {
  await insertRows(trx, timelineAppend(entries))
}

/** timeline entries as rows to append (`appendAll`, with the step's audit entries and events) */
export const timelineAppend = (entries: readonly TimelineInsert[]): Append => ({
  table: 'complaint_timeline',
  rows: entries.map((e) => ({
    complaint_id: e.complaintId,
    at: e.at,
    actor: e.actor,
    action: e.action,
    from_status: e.fromStatus,
    to_status: e.toStatus,
    before: e.before,
    after: e.after,
    data: e.data,
  })),
})

export async function timeline(db: Db, complaintId: string) {
  return db.selectFrom('complaint_timeline').selectAll().where('complaint_id', '=', complaintId).orderBy('id').execute()
}

export async function notes(db: Db, complaintId: string) {
  return db.selectFrom('complaint_notes').selectAll().where('complaint_id', '=', complaintId).orderBy('seq').execute()
}

export async function replies(db: Db, complaintId: string) {
  return db.selectFrom('complaint_replies').selectAll().where('complaint_id', '=', complaintId).orderBy('seq').execute()
}

// ---- list with keyset pagination ----

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (ch) => `\\${ch}`)

/** newest first; `now` decides what is overdue */
export async function listComplaints(db: Db, q: ListQuery, now: Date, departmentScope: string | null = null): Promise<{ items: Complaint[]; nextCursor: string | null }> {
  const limit = q.limit ?? 50
  let query = db.selectFrom('complaints').selectAll()
  if (departmentScope) query = query.where('department_id', '=', departmentScope)
  if (q.status?.length) query = query.where('status', 'in', q.status)
  if (q.level) query = query.where('level', '=', q.level)
  if (q.categoryId) query = query.where('category_id', '=', q.categoryId)
  if (q.departmentId) query = query.where('department_id', '=', q.departmentId)
  if (q.channel) query = query.where('channel', '=', q.channel)
  if (q.createdFrom) query = query.where('created_at', '>=', new Date(q.createdFrom))
  if (q.createdTo) query = query.where('created_at', '<', new Date(q.createdTo))
  if (q.q) {
    const pattern = `%${escapeLike(q.q)}%`
    query = query.where((eb) =>
      eb.or([
        eb('reference', 'ilike', pattern),
        eb('description', 'ilike', pattern),
        eb('complainant_name', 'ilike', pattern),
        eb(sql<string>`subject::text`, 'ilike', pattern),
      ]),
    )
  }
  if (q.overdue !== undefined) {
    // the same definition of a running clock as the breach sweep's
    const overdue = anyClockOverdue(now)
    query = query.where(q.overdue ? overdue : sql<boolean>`not ${overdue}`)
  }
  if (q.cursor) {
    query = query.where(afterCursor('complaints', q.cursor))
  }
  return page(await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute(), limit)
}
