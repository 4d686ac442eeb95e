import { sql } from 'kysely'
import type { Services } from '../context.js'
import { calendarCoverage, toLocal } from '../domain/calendar.js'

/**
 * Daily: warns (log line, calendar endpoint, metric) while the holiday data is about to run out, and
 * drops scheduler bookkeeping older than a week.
 */
export async function checkCalendarCoverage(s: Services, now: Date) {
  const calendar = await s.sla.calendar()
  const coverage = calendarCoverage(calendar.overrides.keys(), toLocal(now, calendar.timeZone).date, s.config.CALENDAR_WARN_DAYS)
  if (coverage.warning) s.log.warn({ coveredThrough: coverage.coveredThrough, daysLeft: coverage.daysLeft }, coverage.warning)
  const pruned = await sql`delete from job_ticks where claimed_at < ${new Date(now.getTime() - 7 * 86_400_000)}`.execute(s.db)
  return { ...coverage, prunedTicks: Number(pruned.numAffectedRows ?? 0) }
}
