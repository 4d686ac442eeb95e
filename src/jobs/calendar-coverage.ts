import { sql } from 'kysely'
import type { Services } from '../context.js'
import { calendarCoverage, toLocal } from '../domain/calendar.js'

/** Daily: warns (log line, calendar endpoint, metric) while the holiday data is about to run out. */
export async function checkCalendarCoverage(s: Services, now: Date) {
  const calendar = await s.sla.calendar()
  const coverage = calendarCoverage(calendar.overrides.keys(), toLocal(now, calendar.timeZone).date, s.config.CALENDAR_WARN_DAYS)
  if (coverage.warning) s.log.warn({ coveredThrough: coverage.coveredThrough, daysLeft: coverage.daysLeft }, coverage.warning)
  return coverage
}

/** how long an Idempotency-Key replays its first response */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000

/**
 * Daily: drops bookkeeping that has served its purpose — scheduler ticks older than a week (but each
 * job's last successful one), and
 * Idempotency-Keys past their 24 hours (their stored responses hold the complaint as first returned).
 */
export async function housekeeping(s: Services, now: Date) {
  // each job's last successful tick stays, however old: it is what complaint_job_last_success_timestamp_seconds
  // reports, and a job failing for more than a week must not drop out of the metric (and its alert)
  const ticks = await sql`delete from job_ticks where claimed_at < ${new Date(now.getTime() - 7 * 86_400_000)}
    and key not in (select distinct on (job) key from job_ticks where succeeded order by job, finished_at desc)`.execute(s.db)
  const keys = await sql`delete from idempotency_keys where created_at < ${new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS)}`.execute(s.db)
  return { prunedTicks: Number(ticks.numAffectedRows ?? 0), prunedIdempotencyKeys: Number(keys.numAffectedRows ?? 0) }
}
