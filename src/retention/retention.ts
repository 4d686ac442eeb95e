import { sql, type Transaction } from 'kysely'
import type { Services } from '../context.js'
import type { Actor, Database } from '../db/types.js'
import { ANONYMISED, anonymiseJson, retentionCutoff, SUBJECT_IDENTIFIERS } from '../domain/retention.js'
import { appendTimeline } from '../complaints/repository.js'
import { writeAudit } from '../audit/audit.js'

/**
 * Retention: complaints closed or withdrawn more than RETENTION_YEARS ago lose their complainant's
 * personal data — on the complaint, in its notes and replies, in the before/after of its timeline
 * entries and audit entries, in its event payloads — and its Idempotency-Key records are deleted.
 * Every figure the reports use stays (dates, channel, level, stage, category, department, status,
 * closure type, breaches, scores, root cause, CAPA). Set-based: a batch of complaints per
 * transaction, one statement per table; JSON documents are rewritten by the pure rule of
 * domain/retention.ts and written back in one statement.
 */

/** the retention job as it appears on the timeline and in the audit log */
export const RETENTION: Actor = { type: 'system', id: null, role: null, name: 'retention' }

/** complaints anonymised per transaction */
const BATCH = 200

export interface RetentionResult {
  dryRun: boolean
  retentionYears: number
  cutoff: string
  complaints: number
  closed: number
  withdrawn: number
  rows: { timelineEntries: number; auditEntries: number; notes: number; replies: number; outboxEvents: number; idempotencyRecords: number }
}

/** complaints that ended before the cutoff and still hold personal data (the complaints_retention_due index) */
export const dueComplaints = (cutoff: Date) => sql<{ id: string; status: string }>`select c.id, c.status from complaints c
  where c.anonymised_at is null and c.status in ('closed', 'withdrawn') and coalesce(c.closed_at, c.withdrawn_at) < ${cutoff}`

const noRows = () => ({ timelineEntries: 0, auditEntries: 0, notes: 0, replies: 0, outboxEvents: 0, idempotencyRecords: 0 })

/** what a run would do now: counts only, nothing written */
export async function previewRetention(s: Services, now: Date): Promise<RetentionResult> {
  const years = s.config.RETENTION_YEARS
  const cutoff = retentionCutoff(now, years)
  const due = sql`(${dueComplaints(cutoff)})`
  const { rows } = await sql<{ complaints: number; closed: number; withdrawn: number; timeline: number; audit: number; notes: number; replies: number; outbox: number; keys: number }>`
    with due as ${due}
    select (select count(*)::int from due) as complaints,
           (select count(*)::int from due where status = 'closed') as closed,
           (select count(*)::int from due where status = 'withdrawn') as withdrawn,
           (select count(*)::int from complaint_timeline t where t.complaint_id in (select id from due)) as timeline,
           (select count(*)::int from audit_log a where a.entity_type = 'complaint' and a.entity_id in (select id::text from due)) as audit,
           (select count(*)::int from complaint_notes n where n.complaint_id in (select id from due)) as notes,
           (select count(*)::int from complaint_replies r where r.complaint_id in (select id from due)) as replies,
           (select count(*)::int from outbox_events o where o.complaint_id in (select id from due)) as outbox,
           (select count(*)::int from idempotency_keys k where k.response->>'id' in (select id::text from due)) as keys`.execute(s.db)
  const r = rows[0]!
  return {
    dryRun: true, retentionYears: years, cutoff: cutoff.toISOString(), complaints: r.complaints, closed: r.closed, withdrawn: r.withdrawn,
    rows: { timelineEntries: r.timeline, auditEntries: r.audit, notes: r.notes, replies: r.replies, outboxEvents: r.outbox, idempotencyRecords: r.keys },
  }
}

/** rewrites the JSON columns of `rows` with anonymiseJson, in one statement */
async function rewrite(trx: Transaction<Database>, table: 'complaint_timeline' | 'audit_log' | 'outbox_events', columns: string[], rows: Array<Record<string, unknown>>): Promise<number> {
  if (rows.length === 0) return 0
  const changed = rows.map((r) => Object.fromEntries([['id', r.id], ...columns.map((c) => [c, anonymiseJson(r[c])])]))
  // outbox payloads are json (the text as sent), the rest jsonb
  const types = columns.map((c) => `${c} ${table === 'outbox_events' ? 'json' : 'jsonb'}`).join(', ')
  const result = await sql`update ${sql.table(table)} t set ${sql.join(columns.map((c) => sql`${sql.ref(c)} = x.${sql.ref(c)}`))}
    from jsonb_to_recordset(${JSON.stringify(changed)}::jsonb) as x(id bigint, ${sql.raw(types)})
    where t.id = x.id`.execute(trx)
  return Number(result.numAffectedRows ?? 0)
}

async function anonymiseBatch(s: Services, now: Date, cutoff: Date, totals: RetentionResult): Promise<number> {
  return s.db.transaction().execute(async (trx) => {
    const batch = (await sql<{ id: string; status: string }>`${dueComplaints(cutoff)}
      order by coalesce(c.closed_at, c.withdrawn_at) limit ${BATCH} for update skip locked`.execute(trx)).rows
    if (batch.length === 0) return 0
    const ids = batch.map((c) => c.id)
    // the one narrow exception to the append-only timeline and audit log (migration 2026-11-28T1100):
    // for this transaction only, entries of complaints already marked anonymised may be rewritten
    await sql`select set_config('complaints.anonymising', 'on', true)`.execute(trx)

    const marker = (column: string) => sql`case when ${sql.ref(column)} is null then null else ${ANONYMISED}::text end`
    await sql`update complaints set
        complainant_name = ${ANONYMISED}, complainant_phone = null, complainant_email = null, complainant_id_number = null, complainant_address = null,
        complainant_external_ids = '[]'::jsonb, attachments = '[]'::jsonb,
        subject = subject - ${sql.raw(`array[${SUBJECT_IDENTIFIERS.map((k) => `'${k}'`).join(', ')}]`)}::text[],
        description = ${ANONYMISED},
        desired_outcome_note = ${marker('desired_outcome_note')}, callback_comment = ${marker('callback_comment')},
        withdrawal_reason = ${marker('withdrawal_reason')}, result_summary = ${marker('result_summary')}, deferral_reason = ${marker('deferral_reason')},
        capa = case when capa is null then null else jsonb_set(capa, '{measures}', (
          select coalesce(jsonb_agg(case when m ? 'review' then jsonb_set(m, '{review,evidence}', to_jsonb(${ANONYMISED}::text)) else m end order by e.ord), '[]'::jsonb)
          from jsonb_array_elements(capa->'measures') with ordinality as e(m, ord))) end,
        anonymised_at = ${now}, version = version + 1, updated_at = ${now}
      where id = any(${ids}::uuid[])`.execute(trx)

    const notes = await sql`update complaint_notes set body = ${ANONYMISED} where complaint_id = any(${ids}::uuid[])`.execute(trx)
    const replies = await sql`update complaint_replies set body = ${ANONYMISED} where complaint_id = any(${ids}::uuid[])`.execute(trx)
    const timeline = await trx.selectFrom('complaint_timeline').select(['id', 'before', 'after', 'data']).where('complaint_id', 'in', ids).execute()
    const audit = await trx.selectFrom('audit_log').select(['id', 'before', 'after']).where('entity_type', '=', 'complaint').where('entity_id', 'in', ids).execute()
    const outbox = await trx.selectFrom('outbox_events').select(['id', 'payload']).where('complaint_id', 'in', ids).execute()
    const keys = await sql`delete from idempotency_keys where response->>'id' = any(${ids}::text[])`.execute(trx)

    totals.rows.timelineEntries += await rewrite(trx, 'complaint_timeline', ['before', 'after', 'data'], timeline)
    totals.rows.auditEntries += await rewrite(trx, 'audit_log', ['before', 'after'], audit)
    totals.rows.outboxEvents += await rewrite(trx, 'outbox_events', ['payload'], outbox)
    totals.rows.notes += Number(notes.numAffectedRows ?? 0)
    totals.rows.replies += Number(replies.numAffectedRows ?? 0)
    totals.rows.idempotencyRecords += Number(keys.numAffectedRows ?? 0)
    totals.closed += batch.filter((c) => c.status === 'closed').length
    totals.withdrawn += batch.filter((c) => c.status === 'withdrawn').length

    // each complaint's own history says when and by what it was anonymised (no personal data in it)
    await appendTimeline(trx, ...batch.map((c) => ({
      complaintId: c.id, at: now, actor: RETENTION, action: 'anonymise', fromStatus: c.status, toStatus: c.status,
      before: {}, after: {}, data: { anonymisedAt: now.toISOString(), reason: `ended before ${cutoff.toISOString()} (RETENTION_YEARS ${s.config.RETENTION_YEARS})` },
    })))
    await trx.insertInto('audit_log').values(batch.map((c) => ({
      at: now, actor_key_id: null, actor_role: null, actor_name: RETENTION.name, operation: 'retention.anonymise', entity_type: 'complaint', entity_id: c.id,
      before: JSON.stringify({ anonymisedAt: null }), after: JSON.stringify({ anonymisedAt: now.toISOString() }), request_id: null,
    }))).execute()
    return batch.length
  })
}

/**
 * Anonymises every complaint due, a batch per transaction (a crash leaves whole batches done), and
 * logs the run in the audit log with its counts — also a run that found nothing.
 */
export async function runRetention(s: Services, now: Date): Promise<RetentionResult> {
  const years = s.config.RETENTION_YEARS
  const cutoff = retentionCutoff(now, years)
  const totals: RetentionResult = { dryRun: false, retentionYears: years, cutoff: cutoff.toISOString(), complaints: 0, closed: 0, withdrawn: 0, rows: noRows() }
  for (;;) {
    const done = await anonymiseBatch(s, now, cutoff, totals)
    totals.complaints += done
    if (done < BATCH) break
  }
  await s.db.transaction().execute((trx) =>
    writeAudit(trx, { actor: RETENTION, operation: 'retention.run', requestId: null }, { entityType: 'retention_run', entityId: now.toISOString(), before: null, after: { ...totals } }, now))
  return totals
}
