import { sql } from 'kysely'
import type { Services } from '../context.js'
import { toLocal } from '../domain/calendar.js'
import { appendEvents } from '../outbox/outbox.js'
import { publishReport } from '../reports/reports.js'

/** Friday: the CS centre's summary of the previous Monday–Sunday (办法 §7.7), published and announced */
export const publishWeeklyReport = (s: Services, now: Date) => publishReport(s, 'weekly', now)

/** the 1st of the month: the previous month's analysis report (dealer policy: 月度抱怨/投诉分析报告) */
export const publishMonthlyReport = (s: Services, now: Date) => publishReport(s, 'monthly', now)

/** measures whose effectiveness review was due by yesterday and is not recorded (complaints_capa_review_due index) */
export const dueReviews = (today: string) => sql<{
  complaint_id: string; reference: string; department_id: string | null; measure_id: string; type: string; action: string; owner: string | null; due_date: string | null; review_due: string
}>`select c.id as complaint_id, c.reference, c.department_id, m->>'id' as measure_id, m->>'type' as type, m->>'action' as action,
    m->>'owner' as owner, m->>'dueDate' as due_date, m->>'reviewDueDate' as review_due
  from complaints c cross join lateral jsonb_array_elements(c.capa->'measures') m
  where c.capa_review_due < ${today}::date and m->'review' is null and m->>'reviewDueDate' < ${today}`

/**
 * Daily: announces each CAPA measure whose effectiveness review is overdue with `capa.review_due`,
 * once per measure (a notice row, insert-once), in the transaction that records the notice.
 */
export async function announceDueReviews(s: Services, now: Date) {
  const today = toLocal(now, s.config.BUSINESS_TIMEZONE).date
  return s.db.transaction().execute(async (trx) => {
    const { rows } = await sql<Awaited<ReturnType<ReturnType<typeof dueReviews>['execute']>>['rows'][number]>`with due as (${dueReviews(today)}),
      noticed as (
        insert into capa_review_notices (complaint_id, measure_id, review_due, notified_at)
        select complaint_id, measure_id, review_due::date, ${now} from due
        on conflict (complaint_id, measure_id) do nothing
        returning complaint_id, measure_id)
      select due.* from due join noticed using (complaint_id, measure_id)
      order by due.review_due, due.reference`.execute(trx)
    await appendEvents(trx, rows.map((r) => ({
      type: 'capa.review_due', complaintId: r.complaint_id, occurredAt: now,
      data: {
        complaint: { id: r.complaint_id, reference: r.reference, departmentId: r.department_id, href: `/v1/complaints/${r.complaint_id}` },
        measure: { id: r.measure_id, type: r.type, action: r.action, owner: r.owner, dueDate: r.due_date, reviewDueDate: r.review_due },
      },
    })))
    return { announced: rows.length }
  })
}
