import { addBusinessMinutes, endOfBusinessDay, standardDayMinutes, type BusinessCalendar } from './calendar.js'
import type { Channel, Level } from './vocabulary.js'
import { EXTERNAL_CHANNELS } from './vocabulary.js'

/**
 * SLA policy (SPEC §3.1) and the single place where a complaint's deadlines are computed.
 * Limits are data, so policies can be versioned; the calculator is domain/calendar.ts.
 */
export type Limit =
  | { unit: 'business_minutes'; amount: number }
  | { unit: 'business_days'; amount: number }
  | { unit: 'calendar_minutes'; amount: number }
  | { unit: 'calendar_days'; amount: number }
  /** end of the business day of the start (after hours: end of the next business day) */
  | { unit: 'end_of_business_day' }

export interface ClockLimits {
  handover: Limit
  firstReply: Limit
  closure: Limit
}

export interface SlaPolicy {
  version: number
  levels: Record<Level, ClockLimits>
  /** a channel's limits apply where they are stricter than the level's */
  channelOverrides: Partial<Record<Channel, Partial<ClockLimits>>>
  /** closure request → callback recorded */
  callback: Limit
}

const bizHours = (h: number): Limit => ({ unit: 'business_minutes', amount: h * 60 })
const bizDays = (d: number): Limit => ({ unit: 'business_days', amount: d })
const calMinutes = (m: number): Limit => ({ unit: 'calendar_minutes', amount: m })
const calDays = (d: number): Limit => ({ unit: 'calendar_days', amount: d })

const EXTERNAL_LIMITS: Partial<ClockLimits> = { handover: calMinutes(30), firstReply: calMinutes(180), closure: calDays(3) }

/** Defaults from seed 002's dealer rules, as tabulated in SPEC §3.1. */
export const DEFAULT_SLA_POLICY: SlaPolicy = {
  version: 1,
  levels: {
    general: { handover: { unit: 'end_of_business_day' }, firstReply: bizDays(1), closure: bizDays(3) },
    moderate: { handover: bizHours(4), firstReply: bizHours(8), closure: bizDays(3) },
    strong: { handover: calMinutes(30), firstReply: calMinutes(180), closure: calDays(3) },
    irrational: { handover: bizDays(1), firstReply: bizDays(1), closure: bizDays(5) },
  },
  channelOverrides: {
    hotline_400: { firstReply: calMinutes(180), closure: bizDays(3) },
    ...Object.fromEntries(EXTERNAL_CHANNELS.map((c) => [c, EXTERNAL_LIMITS])),
  },
  callback: { unit: 'calendar_minutes', amount: 12 * 60 },
}

export function deadline(start: Date, limit: Limit, cal: BusinessCalendar): Date {
  switch (limit.unit) {
    case 'business_minutes':
      return addBusinessMinutes(start, limit.amount, cal)
    case 'business_days':
      return addBusinessMinutes(start, limit.amount * standardDayMinutes(cal), cal)
    case 'calendar_minutes':
      return new Date(start.getTime() + limit.amount * 60_000)
    case 'calendar_days':
      return new Date(start.getTime() + limit.amount * 86_400_000)
    case 'end_of_business_day':
      return endOfBusinessDay(start, cal)
  }
}

export interface ClockFacts {
  level: Level | null
  major: boolean
  channel: Channel
  externalBody: string | null
  /** receipt, or the moment clocks restarted after an upgrade or reopening */
  clockStartedAt: Date
  signedAt: Date | null
  closureRequestedAt: Date | null
}

export interface Deadlines {
  handoverDueAt: Date
  firstReplyDueAt: Date | null
  closureDueAt: Date
  callbackDueAt: Date | null
}

const earliest = (a: Date, b: Date | undefined) => (b && b < a ? b : a)

/**
 * The deadlines of the four clocks. Before assessment a complaint runs on the general limits
 * (major and external complaints on the strong ones); the first-reply clock starts at signing and
 * the callback clock at the closure request.
 */
export function computeDeadlines(f: ClockFacts, policy: SlaPolicy, cal: BusinessCalendar): Deadlines {
  const row = policy.levels[f.major || f.externalBody ? 'strong' : (f.level ?? 'general')]
  // the intake channel's override and the external body's both apply, each where it is stricter
  const overrides = [policy.channelOverrides[f.channel], f.externalBody ? policy.channelOverrides[f.externalBody as Channel] : undefined]
  const due = (clock: keyof ClockLimits, start: Date) =>
    overrides.reduce((best, o) => {
      const limit = o?.[clock]
      return limit ? earliest(best, deadline(start, limit, cal)) : best
    }, deadline(start, row[clock], cal))
  return {
    handoverDueAt: due('handover', f.clockStartedAt),
    firstReplyDueAt: f.signedAt ? due('firstReply', f.signedAt > f.clockStartedAt ? f.signedAt : f.clockStartedAt) : null,
    closureDueAt: due('closure', f.clockStartedAt),
    callbackDueAt: f.closureRequestedAt ? deadline(f.closureRequestedAt, policy.callback, cal) : null,
  }
}
