import type { Services } from '../context.js'
import { calendarCoverage, toLocal } from '../domain/calendar.js'

/** Daily: warns (log line, calendar endpoint, metric) while the holiday data is about to run out. */
export async function checkCalendarCoverage(s: Services, now: Date) {
  const calendar = await s.sla.calendar()
  const coverage = calendarCoverage(calendar.overrides.keys(), toLocal(now, calendar.timeZone).date, s.config.CALENDAR_WARN_DAYS)
  if (coverage.warning) s.log.warn({ coveredThrough: coverage.coveredThrough, daysLeft: coverage.daysLeft }, coverage.warning)
  return coverage
}
