import { sql, type Kysely } from 'kysely'
import type { Database } from '../src/db/types.js'
import { ACTIONS } from '../src/domain/lifecycle.js'

/**
 * The database invariants every fault test ends with: whatever was killed, cut off or fuzzed, what is
 * stored must be what committed changes wrote, whole. Each check is one SQL query; the result lists
 * every broken invariant with a few examples (empty: all hold).
 */
export interface Violation {
  invariant: string
  count: number
  examples: unknown[]
}

/** timeline actions that are a version of the complaint: its receipt and every lifecycle step */
const VERSION_ACTIONS = ['receive', ...ACTIONS]

export async function checkInvariants(db: Kysely<Database>): Promise<Violation[]> {
  const checks: Array<[string, ReturnType<typeof sql<Record<string, unknown>>>]> = [
    ['every complaint has its receive entry', sql`
      select c.id from complaints c
      where not exists (select 1 from complaint_timeline t where t.complaint_id = c.id and t.action = 'receive')`],
    ['a complaint’s version is the number of its steps on the timeline', sql`
      select c.id, c.version, count(t.id)::int as steps from complaints c
      left join complaint_timeline t on t.complaint_id = c.id and t.action in (${sql.join(VERSION_ACTIONS)})
      group by c.id, c.version having count(t.id) <> c.version`],
    ['no event describes a version the complaint never committed', sql`
      select o.event_id, o.complaint_id, (o.payload -> 'data' -> 'complaint' ->> 'version')::int as version from outbox_events o
      join complaints c on c.id = o.complaint_id
      where (o.payload -> 'data' -> 'complaint' ->> 'version')::int > c.version`],
    ['every event of a step matches a timeline entry of that version', sql`
      select o.event_id from outbox_events o
      where o.complaint_id is not null and o.type like 'complaint.%'
        and not exists (select 1 from complaint_timeline t where t.complaint_id = o.complaint_id
          and (t.at = o.occurred_at or (t.action = 'receive' and (t.data ->> 'enteredAt')::timestamptz = o.occurred_at)))`],
    ['no audit entry of a complaint describes an uncommitted version', sql`
      select a.id, a.entity_id from audit_log a join complaints c on c.id::text = a.entity_id
      where a.entity_type = 'complaint' and coalesce((a.after ->> 'version')::int, 1) > c.version`],
    ['every step has its audit entry', sql`
      select c.id, c.version, count(a.id)::int as audited from complaints c
      left join audit_log a on a.entity_type = 'complaint' and a.entity_id = c.id::text
      group by c.id, c.version having count(a.id) < c.version`],
    ['every note and reply has its timeline entry', sql`
      select x.complaint_id, x.kind, x.rows, coalesce(t.steps, 0) as steps from (
        select complaint_id, 'add_note' as kind, count(*)::int as rows from complaint_notes group by complaint_id
        union all select complaint_id, 'reply', count(*)::int from complaint_replies group by complaint_id) x
      left join (select complaint_id, action, count(*)::int as steps from complaint_timeline where action in ('add_note', 'reply') group by complaint_id, action) t
        on t.complaint_id = x.complaint_id and t.action = x.kind
      where x.rows <> coalesce(t.steps, 0)`],
    ['references are unique and gap-free per year', sql`
      select split_part(reference, '-', 2) as year, count(*)::int as complaints, max(split_part(reference, '-', 3)::int) as highest,
             count(distinct reference)::int as distinct_references
      from complaints group by 1
      having count(*) <> max(split_part(reference, '-', 3)::int) or count(distinct reference) <> count(*)`],
    ['a breach is recorded once per complaint, clock and cycle', sql`
      select complaint_id, clock, cycle, count(*)::int from breaches group by 1, 2, 3 having count(*) > 1`],
    ['every recorded breach has its timeline entry and event', sql`
      select b.id from breaches b
      where not exists (select 1 from complaint_timeline t where t.complaint_id = b.complaint_id and t.action = 'sla_breached' and (t.data ->> 'cycle')::int = b.cycle and t.data ->> 'clock' = b.clock)
         or not exists (select 1 from outbox_events o where o.complaint_id = b.complaint_id and o.type = 'sla.breached' and (o.payload -> 'data' -> 'facts' ->> 'cycle')::int = b.cycle and o.payload -> 'data' -> 'facts' ->> 'clock' = b.clock)`],
    ['a penalty notice is issued once per complaint, kind and cycle or month', sql`
      select complaint_id, kind, period, count(*)::int from penalty_notices group by 1, 2, 3 having count(*) > 1`],
    ['penalty notice numbers are unique and gap-free per year', sql`
      select split_part(number, '-', 2) as year, count(*)::int as notices, max(split_part(number, '-', 3)::int) as highest from penalty_notices
      where number is not null group by 1 having count(*) <> max(split_part(number, '-', 3)::int) or count(distinct number) <> count(*)`],
    ['a webhook delivery is unique per subscription and event', sql`
      select subscription_id, event_id, count(*)::int from webhook_deliveries group by 1, 2 having count(*) > 1`],
  ]
  const violations: Violation[] = []
  for (const [invariant, query] of checks) {
    const rows = (await query.execute(db)).rows
    if (rows.length > 0) violations.push({ invariant, count: rows.length, examples: rows.slice(0, 3) })
  }
  return violations
}
