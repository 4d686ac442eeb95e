import { addBusinessMinutes, businessMinutesBetween, endOfBusinessDay, standardDayMinutes, type BusinessCalendar } from './calendar.js'
import { DEFAULT_UPGRADE_MAP, type UpgradeMap } from './escalation.js'
import type { Channel, Level } from './vocabulary.js'
import { EXTERNAL_CHANNELS } from './vocabulary.js'

/**
 * SLA policy (docs/time-limits.md) and the single place where a complaint's deadlines are computed.
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
  /** `sla.due_soon` is emitted when this share of a limit has passed */
  dueSoonRatio: number
  /** automatic level upgrade (docs/escalation.md) */
  upgradeMap: UpgradeMap
}

const bizHours = (h: number): Limit => ({ unit: 'business_minutes', amount: h * 60 })
const bizDays = (d: number): Limit => ({ unit: 'business_days', amount: d })
const calMinutes = (m: number): Limit => ({ unit: 'calendar_minutes', amount: m })
const calDays = (d: number): Limit => ({ unit: 'calendar_days', amount: d })

const EXTERNAL_LIMITS: Partial<ClockLimits> = { handover: calMinutes(30), firstReply: calMinutes(180), closure: calDays(3) }

/** Defaults from seed 002's dealer rules, as tabulated in docs/time-limits.md. */
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
  dueSoonRatio: 0.8,
  upgradeMap: DEFAULT_UPGRADE_MAP,
}

export const isBusinessLimit = (limit: Limit) => limit.unit === 'business_minutes' || limit.unit === 'business_days' || limit.unit === 'end_of_business_day'

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

export interface PauseInterval {
  from: Date
  /** null while the pause lasts */
  to: Date | null
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
  /** waiting for the customer: excluded from every clock */
  pauses?: PauseInterval[]
}

/**
 * The level whose limits a complaint runs on: its own (`general` before assessment), except that a
 * major complaint — every external one is major — runs on the strong limits whatever its level.
 * Penalties use the same level for their standards (docs/penalties.md).
 */
export const effectiveLevel = (f: { level: Level | null; major: boolean; externalBody?: string | null }): Level =>
  f.major || f.externalBody ? 'strong' : (f.level ?? 'general')

export const CLOCKS = ['handover', 'firstReply', 'closure', 'callback'] as const
export type ClockName = (typeof CLOCKS)[number]

export interface ClockDeadline {
  dueAt: Date
  /** when `dueSoonRatio` of the limit has passed */
  warnAt: Date
  business: boolean
}

export type Deadlines = Record<ClockName, ClockDeadline | null>

/**
 * A deadline pushed back by the pauses that began before it, each by its own length in the limit's
 * unit (business minutes for business limits, minutes for calendar limits).
 */
function afterPauses(start: Date, due: Date, business: boolean, pauses: PauseInterval[], cal: BusinessCalendar): Date {
  let result = due
  for (const p of [...pauses].sort((a, b) => a.from.getTime() - b.from.getTime())) {
    if (!p.to || p.to <= start || p.from >= result) continue
    const from = p.from > start ? p.from : start
    if (!business) {
      result = new Date(result.getTime() + (p.to.getTime() - from.getTime()))
      continue
    }
    // a pause outside working hours (over lunch, at night) holds no business time and moves nothing
    const held = businessMinutesBetween(from, p.to, cal)
    if (held > 0) result = addBusinessMinutes(result, held, cal)
  }
  return result
}

/** the instant at which `ratio` of the time from start to due has passed, in the limit's unit */
function warnAt(start: Date, due: Date, business: boolean, ratio: number, cal: BusinessCalendar): Date {
  if (!business) return new Date(start.getTime() + Math.round((due.getTime() - start.getTime()) * ratio))
  return addBusinessMinutes(start, Math.round(businessMinutesBetween(start, due, cal) * ratio), cal)
}

/**
 * The deadlines of the four clocks. Before assessment a complaint runs on the general limits
 * (major and external complaints on the strong ones); the first-reply clock starts at signing and
 * the callback clock at the closure request. The strictest of the level's limit and any channel
 * override wins.
 */
export function computeDeadlines(f: ClockFacts, policy: SlaPolicy, cal: BusinessCalendar): Deadlines {
  const row = policy.levels[effectiveLevel(f)]
  // the intake channel's override and the external body's both apply, each where it is stricter
  const overrides = [policy.channelOverrides[f.channel], f.externalBody ? policy.channelOverrides[f.externalBody as Channel] : undefined]
  const pauses = f.pauses ?? []
  const clock = (limits: Limit[], start: Date): ClockDeadline => {
    const candidates = limits.map((limit) => {
      const business = isBusinessLimit(limit)
      return { dueAt: afterPauses(start, deadline(start, limit, cal), business, pauses, cal), business }
    })
    const best = candidates.reduce((a, b) => (b.dueAt < a.dueAt ? b : a))
    return { ...best, warnAt: warnAt(start, best.dueAt, best.business, policy.dueSoonRatio, cal) }
  }
  const limitsOf = (name: keyof ClockLimits) => [row[name], ...overrides.flatMap((o) => (o?.[name] ? [o[name]] : []))]
  return {
    handover: clock(limitsOf('handover'), f.clockStartedAt),
    firstReply: f.signedAt ? clock(limitsOf('firstReply'), f.signedAt > f.clockStartedAt ? f.signedAt : f.clockStartedAt) : null,
    closure: clock(limitsOf('closure'), f.clockStartedAt),
    callback: f.closureRequestedAt ? clock([policy.callback], f.closureRequestedAt) : null,
  }
}
