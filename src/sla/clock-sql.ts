import { sql, type RawBuilder } from 'kysely'

/**
 * Each clock's deadline column, due-soon column and "still running" condition (docs/time-limits.md). A clock
 * of a paused, closed or withdrawn complaint does not run; a deferred complaint's closure clock
 * is suspended (it is followed up instead), and so is one whose deferral request waits for review.
 */
export const CLOCK_SQL = {
  handover: { due: 'handover_due_at', warn: 'handover_warn_at', running: sql`signed_at is null` },
  first_reply: { due: 'first_reply_due_at', warn: 'first_reply_warn_at', running: sql`signed_at is not null and first_replied_at is null` },
  closure: { due: 'closure_due_at', warn: 'closure_warn_at', running: sql`closure_requested_at is null and status <> 'deferred' and deferral_requested_at is null` },
  callback: { due: 'callback_due_at', warn: 'callback_warn_at', running: sql`closure_requested_at is not null and callback_at is null` },
} as const
export type ClockKey = keyof typeof CLOCK_SQL
export const CLOCK_KEYS = Object.keys(CLOCK_SQL) as ClockKey[]

/** the clock is running and its deadline (or due-soon threshold) is before `now` */
export const runningClock = (clock: ClockKey, column: 'due' | 'warn', now: Date): RawBuilder<boolean> =>
  sql<boolean>`${sql.ref(CLOCK_SQL[clock][column])} < ${now} and ${CLOCK_SQL[clock].running}
    and paused_at is null and status not in ('closed', 'withdrawn')`

/** some running clock of the complaint is past its deadline */
export const anyClockOverdue = (now: Date): RawBuilder<boolean> =>
  sql<boolean>`(${sql.join(CLOCK_KEYS.map((clock) => sql`coalesce((${runningClock(clock, 'due', now)}), false)`), sql` or `)})`
