import type { Complaint } from '../db/types.js'
import { businessMinutesBetween, type BusinessCalendar } from './calendar.js'

/**
 * The four clocks of a complaint as people read them (docs/time-limits.md): deadline, state and what is left.
 * A clock runs from its start to its stopping event: handover until signing, first reply from signing
 * until the first reply, closure until the closure request, callback from the closure request until
 * the callback is recorded.
 */
export type ClockState = 'not_started' | 'running' | 'paused' | 'suspended' | 'met' | 'breached' | 'stopped'

export interface ClockView {
  clock: 'handover' | 'first_reply' | 'closure' | 'callback'
  dueAt: Date | null
  state: ClockState
  stoppedAt: Date | null
  /**
   * whole business minutes left, rounded down: 0 means less than one is left, negative counts the
   * business minutes past the deadline (0 while it passed outside working hours); null unless running
   */
  remainingBusinessMinutes: number | null
  /** whole calendar minutes left, rounded down the same way; null unless running */
  remainingMinutes: number | null
}

/**
 * Minutes of a countdown as an integer: rounded down, so the figure never promises time that is not
 * there and turns negative exactly when the deadline has passed. The calendar counts to the
 * millisecond, so the raw figure is almost never whole.
 */
export const wholeMinutes = (minutes: number) => Math.floor(minutes + 1e-9) + 0

const ENDED = new Set(['closed', 'withdrawn'])

type ClockName = ClockView['clock']

function clockSpans(c: Complaint) {
  return [
    { clock: 'handover' as ClockName, started: true, dueAt: c.handover_due_at, stoppedAt: c.signed_at },
    { clock: 'first_reply' as ClockName, started: c.signed_at !== null, dueAt: c.first_reply_due_at, stoppedAt: c.first_replied_at },
    { clock: 'closure' as ClockName, started: true, dueAt: c.closure_due_at, stoppedAt: c.closure_requested_at ?? (c.status === 'closed' ? c.closed_at : null) },
    { clock: 'callback' as ClockName, started: c.closure_requested_at !== null, dueAt: c.callback_due_at, stoppedAt: c.callback_at },
  ]
}

/** is the clock running (started, not stopped, not paused, not suspended, complaint open)? */
function running(c: Complaint, span: ReturnType<typeof clockSpans>[number]) {
  return span.started && span.dueAt !== null && !span.stoppedAt && !ENDED.has(c.status) && !c.paused_at && !suspended(c, span.clock)
}

/**
 * The closure clock of a deferred complaint is followed up instead of timed; while a deferral request
 * waits for review the complaint counts as having applied for deferral, so it is not treated as
 * unclosed either (seed 002 §7.4.3).
 */
const suspended = (c: Complaint, clock: ClockName) => clock === 'closure' && (c.status === 'deferred' || c.deferral_requested_at !== null)

/** clocks that run and are past their deadline at `now` */
export function overdueClocks(c: Complaint, now: Date): Array<{ clock: ClockName; dueAt: Date }> {
  return clockSpans(c).filter((span) => running(c, span) && span.dueAt! < now).map((span) => ({ clock: span.clock, dueAt: span.dueAt! }))
}

export function clockViews(c: Complaint, now: Date, cal: BusinessCalendar): ClockView[] {
  return clockSpans(c).map(({ clock, started, dueAt, stoppedAt }) => {
    const view = (state: ClockState, running = false): ClockView => ({
      clock, dueAt, state, stoppedAt,
      remainingBusinessMinutes: running && dueAt ? wholeMinutes(dueAt > now ? businessMinutesBetween(now, dueAt, cal) : -businessMinutesBetween(dueAt, now, cal)) : null,
      remainingMinutes: running && dueAt ? wholeMinutes((dueAt.getTime() - now.getTime()) / 60_000) : null,
    })
    if (!started || !dueAt) return view('not_started')
    if (stoppedAt) return view(stoppedAt <= dueAt ? 'met' : 'breached')
    if (ENDED.has(c.status)) return view('stopped')
    if (suspended(c, clock)) return view('suspended')
    if (c.paused_at) return view('paused')
    return view(now > dueAt ? 'breached' : 'running', true)
  })
}
