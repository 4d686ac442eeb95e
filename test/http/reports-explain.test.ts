import { sql, type RawBuilder } from 'kysely'
import t from 'tap'
import { periodOf } from '../../src/domain/reports.js'
import { dueReviews } from '../../src/jobs/reports.js'
import { reportQueries } from '../../src/reports/repository.js'
import { dueComplaints } from '../../src/retention/retention.js'
import { retentionCutoff } from '../../src/domain/retention.js'
import { testApp } from '../helper.js'
import { indexesOf, inline } from '../explain.js'

/**
 * Every report query, the retention sweep and the review-due sweep plan to use the indexes added for
 * them, over a seeded table of 40,000 complaints received over two years. Real Postgres only: PGlite's
 * planner statistics are not what a server's are, and the question is how the production database runs
 * these queries.
 */
const onPostgres = Boolean(process.env.DATABASE_URL)

t.test('the report queries use the indexes added for them (EXPLAIN over a seeded table)', { skip: onPostgres ? false : 'needs DATABASE_URL: plans are a property of the Postgres server, not of PGlite' }, async (t) => {
  const api = await testApp(t, { now: '2026-11-27T02:00:00Z' })
  const db = api.db
  // 40,000 complaints, one every 26 minutes from December 2024; closed ones ended a day after receipt; those
  // that ended before the retention cutoff were anonymised by earlier runs except every 500th
  await sql`insert into complaints (id, reference, tracking_token_hash, status, channel, complainant_name, complainant_phone, description, received_at,
      clock_started_at, created_at, updated_at, level, category_id, department_id, closed_at, closure_type, root_cause, capa, capa_review_due, anonymised_at)
    select gen_random_uuid(), 'CP-SEED-' || i, 'x', case when i % 10 = 0 then 'in_progress' else 'closed' end, 'web', '客户' || i, '1380000' || lpad((i % 9999)::text, 4, '0'), 'seeded',
      r, r, r, r, (array['general', 'moderate', 'strong', 'irrational'])[1 + i % 4], 'service_quality', 'service-station',
      case when i % 10 = 0 then null else r + interval '1 day' end, case when i % 10 = 0 then null else 'first_time' end,
      '刹车片批次错误 ' || (i % 37),
      case when i % 7 = 0 then jsonb_build_object('status', 'open', 'measures', jsonb_build_array(jsonb_build_object('id', i::text, 'type', 'corrective', 'action', '更换刹车片', 'reviewDueDate', to_char(r + interval '40 days', 'YYYY-MM-DD'),
        'review', case when i % 700 = 0 then null else jsonb_build_object('outcome', 'effective', 'evidence', 'ok', 'reviewedAt', '2026-01-01T00:00:00Z') end))) end,
      case when i % 700 = 0 then (r + interval '40 days')::date end,
      case when i % 10 <> 0 and r + interval '1 day' < ${retentionCutoff(api.clock.now(), 2)} and i % 500 <> 0 then r + interval '2 years' end
    from (select i, timestamptz '2024-12-01 00:00+08' + i * interval '26 minutes' as r from generate_series(1, 40000) i) s`.execute(db)
  await sql`update complaints set capa = jsonb_strip_nulls(capa) where capa is not null`.execute(db)
  await sql`insert into breaches (complaint_id, clock, cycle, due_at, detected_at, department_id, level)
    select id, 'handover', 1, received_at, received_at + interval '1 hour', department_id, level from complaints where reference like 'CP-SEED-%' and random() < 0.2`.execute(db)
  await sql`insert into complaint_timeline (complaint_id, at, actor, action, to_status, after)
    select id, received_at + interval '20 hours', '{"type":"system"}', 'record_callback', 'closure_confirmed', '{"satisfaction": 4}' from complaints where status = 'closed'`.execute(db)
  // two years of weekly and monthly denominators for every category
  await sql`insert into denominators (category_id, period, period_start, kind, value, created_at, updated_at)
    select c.id, 'week', d::date, 'orders', 1000, now(), now() from categories c, generate_series(date '2024-12-02', date '2026-11-23', interval '7 days') d
    union all select c.id, 'month', d::date, 'orders', 4000, now(), now() from categories c, generate_series(date '2024-12-01', date '2026-11-01', interval '1 month') d`.execute(db)
  await sql`analyze`.execute(db)

  const tz = 'Asia/Shanghai'
  const week = periodOf('week', '2026-03-02', tz)!
  const month = periodOf('month', '2026-03-01', tz)!
  const plans: Array<[string, RawBuilder<unknown>, string]> = [
    ...Object.entries(reportQueries(week, tz)).map(([name, q]) => [`weekly ${name}`, q, name === 'denominators' ? 'denominators_pkey' : name === 'overdueReviews' ? 'complaints_capa_review_due' : 'complaints_received'] as [string, RawBuilder<unknown>, string]),
    ...Object.entries(reportQueries(month, tz)).map(([name, q]) => [`monthly ${name}`, q, name === 'denominators' ? 'denominators_pkey' : name === 'overdueReviews' ? 'complaints_capa_review_due' : 'complaints_received'] as [string, RawBuilder<unknown>, string]),
    ['retention: complaints due', dueComplaints(retentionCutoff(api.clock.now(), 2)), 'complaints_retention_due'],
    ['capa-review-due: overdue reviews', dueReviews('2026-11-27'), 'complaints_capa_review_due'],
  ]
  for (const [name, query, index] of plans) {
    const compiled = query.compile(db)
    const { rows } = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) ${sql.raw(inline(compiled.sql, compiled.parameters))}`.execute(db)
    const used = indexesOf(rows[0]!['QUERY PLAN'])
    t.ok(used.includes(index), `${name} uses ${index} (plan uses: ${[...new Set(used)].join(', ') || 'no index'})`)
  }
})
