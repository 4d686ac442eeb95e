import { sql, type Kysely, type RawBuilder } from 'kysely'
import type { Database } from '../db/types.js'
import { afterPosition } from '../http/keyset.js'
import { addDays } from '../domain/capa.js'
import type { Period } from '../domain/reports.js'

/**
 * The report queries: each one statement over the cohort — the complaints whose `received_at` falls in
 * the period, found through the `complaints_received` index — aggregated in SQL. Nothing is loaded one
 * complaint at a time; the only per-complaint rows are the (start, end) pairs of the business-time
 * figures, which need the calendar. `reportQueries` is also what the EXPLAIN test plans.
 */

/** how far back a repeat complaint looks (docs/reports.md: 90 days) */
export const REPEAT_WINDOW_DAYS = 90

export interface Totals {
  received: number
  irrational_first: number
  irrational_second: number
  watch: number
  monitor: number
  closed_first_time: number
  closed_once: number
  reopened: number
}

export function reportQueries(p: Period, timeZone: string) {
  const cohort = sql`c.received_at >= ${p.from} and c.received_at < ${p.to}`
  const dayAfter = addDays(p.end, 1)
  return {
    totals: sql<Totals>`select count(*)::int as received,
        count(*) filter (where c.level = 'irrational' and c.irrational_stage = 'first')::int as irrational_first,
        count(*) filter (where c.level = 'irrational' and c.irrational_stage = 'second')::int as irrational_second,
        count(*) filter (where c.level = 'irrational' and c.follow_up_mode = 'watch')::int as watch,
        count(*) filter (where c.level = 'irrational' and c.follow_up_mode = 'monitor')::int as monitor,
        count(*) filter (where c.status = 'closed' and c.closure_type = 'first_time')::int as closed_first_time,
        count(*) filter (where c.status <> 'withdrawn' and (c.status = 'closed' or c.reopen_count > 0))::int as closed_once,
        count(*) filter (where c.status <> 'withdrawn' and c.reopen_count > 0)::int as reopened
      from complaints c where ${cohort}`,

    // one scan, every dimension: (dimension, value) pairs per complaint, counted
    groups: sql<{ dim: string; val: string | null; n: number }>`select d.dim, d.val, count(*)::int as n
      from complaints c
      cross join lateral (values
        ('category', c.category_id), ('level', c.level), ('channel', c.channel), ('department', c.department_id),
        ('external_body', c.external_body),
        ('day', to_char(c.received_at at time zone ${timeZone}, 'YYYY-MM-DD') || '/' || coalesce(c.level, 'none'))) as d(dim, val)
      where ${cohort}
      group by d.dim, d.val`,

    breaches: sql<{ department_id: string; clock: string; n: number }>`select coalesce(b.department_id, 'none') as department_id, b.clock, count(*)::int as n
      from complaints c join breaches b on b.complaint_id = c.id
      where ${cohort}
      group by 1, 2`,

    // the (start, end) pairs of the business-time figures: the calendar sums them (domain/reports.ts)
    durations: sql<{ received_at: Date; first_replied_at: Date | null; closed_at: Date | null }>`select c.received_at, c.first_replied_at,
        case when c.status = 'closed' then c.closed_at end as closed_at
      from complaints c
      where ${cohort} and c.status <> 'withdrawn' and (c.first_replied_at is not null or c.status = 'closed')`,

    // the latest recorded callback of each complaint; a closure request clears the score, so a callback
    // that recorded one always shows it in its timeline entry's `after`
    satisfaction: sql<{ score: number | null; n: number }>`select s.score, count(*)::int as n
      from complaints c
      cross join lateral (select (t.after->>'satisfaction')::int as score from complaint_timeline t
        where t.complaint_id = c.id and t.action = 'record_callback' order by t.id desc limit 1) s
      where ${cohort}
      group by s.score`,

    denominators: sql<{ category_id: string; kind: 'orders' | 'customers' | 'vehicles'; value: number }>`select d.category_id, d.kind, d.value
      from denominators d where d.period = ${p.kind} and d.period_start = ${p.start}::date`,

    // exact texts with their counts; grouped further by normaliseRootCause
    rootCauses: sql<{ root_cause: string; n: number }>`select c.root_cause, count(*)::int as n
      from complaints c where ${cohort} and c.root_cause is not null
      group by c.root_cause`,

    capaStatus: sql<{ status: string; n: number }>`select c.capa->>'status' as status, count(*)::int as n
      from complaints c where ${cohort} and c.capa is not null
      group by 1`,

    capaMeasures: sql<{ type: string; outcome: string; n: number }>`select m->>'type' as type, coalesce(m->'review'->>'outcome', 'not_reviewed') as outcome, count(*)::int as n
      from complaints c cross join lateral jsonb_array_elements(c.capa->'measures') m
      where ${cohort} and c.capa is not null
      group by 1, 2`,

    // every complaint's measures whose review was due before the period ended, still without one
    overdueReviews: sql<{ id: string; reference: string; department_id: string | null; measure_id: string; type: 'corrective' | 'preventive'; action: string; owner: string | null; due_date: string | null; review_due_date: string }>`select c.id, c.reference, c.department_id,
        m->>'id' as measure_id, m->>'type' as type, m->>'action' as action, m->>'owner' as owner, m->>'dueDate' as due_date, m->>'reviewDueDate' as review_due_date
      from complaints c cross join lateral jsonb_array_elements(c.capa->'measures') m
      where c.capa_review_due < ${dayAfter}::date and m->'review' is null and m->>'reviewDueDate' < ${dayAfter}
      order by m->>'reviewDueDate', c.reference, m->>'id'`,

    // repeat complaints: the same complainant (phone digits, email, an outside-system id) or the same
    // subject (VIN, plate, order, invoice or serial number) received in the 90 days before
    repeats: sql<{ n: number }>`with keyed as (
        select c.id, c.received_at, k.key
        from complaints c
        cross join lateral (
          select 'phone:' || regexp_replace(regexp_replace(c.complainant_phone, '[^0-9]', '', 'g'), '^86([0-9]{11})$', '\\1') where c.complainant_phone is not null
          union all select 'email:' || lower(c.complainant_email) where c.complainant_email is not null
          union all select 'ext:' || (e->>'system') || ':' || (e->>'customerId') from jsonb_array_elements(c.complainant_external_ids) e
          union all select s.key || ':' || upper(regexp_replace(s.value, '\\s', '', 'g')) from jsonb_each_text(c.subject) s
            where s.key in ('vin', 'plate', 'orderNo', 'invoiceNo', 'serialNo')
        ) as k(key)
        where c.received_at >= ${new Date(p.from.getTime() - REPEAT_WINDOW_DAYS * 86_400_000)} and c.received_at < ${p.to})
      select count(distinct a.id)::int as n
      from keyed a join keyed b on b.key = a.key and b.id <> a.id
        and b.received_at < a.received_at and b.received_at >= a.received_at - interval '${sql.raw(String(REPEAT_WINDOW_DAYS))} days'
      where a.received_at >= ${p.from} and a.received_at < ${p.to}`,
  } satisfies Record<string, RawBuilder<unknown>>
}

export type ReportQueries = ReturnType<typeof reportQueries>

/** categories and departments with their Chinese names, for labels */
export async function labels(db: Kysely<Database>) {
  const [categories, departments] = await Promise.all([
    db.selectFrom('categories').select(['id', 'name', 'name_zh', 'active']).orderBy('id').execute(),
    db.selectFrom('departments').select(['id', 'name', 'name_zh', 'active']).orderBy('id').execute(),
  ])
  return { categories, departments }
}

// ---- stored reports ----

export async function insertStoredReport(db: Kysely<Database>, row: { id: string; kind: 'weekly' | 'monthly'; period_start: string; period_end: string; generated_at: Date; figures: unknown; created_at: Date }) {
  return db.insertInto('reports')
    .values({ ...row, figures: JSON.stringify(row.figures) })
    .onConflict((oc) => oc.columns(['kind', 'period_start']).doNothing())
    .returning('id')
    .executeTakeFirst()
}

const day = (column: string) => sql<string>`to_char(${sql.ref(column)}, 'YYYY-MM-DD')`

export async function findStoredReport(db: Kysely<Database>, where: { id: string } | { kind: 'weekly' | 'monthly'; periodStart: string }) {
  let q = db.selectFrom('reports').select(['id', 'kind', day('period_start').as('period_start'), day('period_end').as('period_end'), 'generated_at', 'figures', 'created_at'])
  q = 'id' in where ? q.where('id', '=', where.id) : q.where('kind', '=', where.kind).where('period_start', '=', sql<string>`${where.periodStart}::date`)
  return q.executeTakeFirst()
}

export async function listStoredReports(db: Kysely<Database>, q: { kind?: 'weekly' | 'monthly'; limit: number; after?: { at: Date; id: string } }) {
  let query = db.selectFrom('reports').select(['id', 'kind', day('period_start').as('period_start'), day('period_end').as('period_end'), 'generated_at', 'created_at'])
  if (q.kind) query = query.where('kind', '=', q.kind)
  if (q.after) query = query.where(afterPosition('reports', q.after))
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit + 1).execute()
}
