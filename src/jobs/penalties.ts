import type { Services } from '../context.js'
import { previousWeek } from '../domain/penalties.js'
import { ProblemError } from '../errors.js'
import { drawUpBulletin } from '../penalties/bulletins.js'
import { issuePenaltyNotices } from '../penalties/penalties.js'
import { SCHEDULER } from '../sla/breaches.js'

/** every few minutes: the notices owed since the last run (breaches recorded, months completed) */
export const runPenalties = (s: Services, now: Date) => issuePenaltyNotices(s, now)

/**
 * Friday 17:00 by default (办法 §7.8 每周五): the draft bulletin of the previous Monday–Sunday, drawn up
 * again if a draft exists; a bulletin the general manager has already signed is left as it is.
 */
export async function runPenaltyBulletin(s: Services, now: Date) {
  const week = previousWeek(now, s.config.BUSINESS_TIMEZONE)
  try {
    const b = await drawUpBulletin(s, week.start, { actor: SCHEDULER, operation: 'drawUpPenaltyBulletin', requestId: null })
    return { weekStart: week.start, bulletinId: b.id, status: b.status, notices: b.totals.notices, totalFen: b.totals.totalFen }
  } catch (err) {
    if (err instanceof ProblemError && err.status === 409) return { weekStart: week.start, status: 'signed', unchanged: true }
    throw err
  }
}
