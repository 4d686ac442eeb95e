import { fromLocal, toLocal } from './calendar.js'
import { effectiveLevel } from './sla.js'
import type { Level, Status } from './vocabulary.js'

/**
 * Penalties (seed 002 §7.6, docs/penalties.md): which notices a complaint owes at an instant and their
 * amounts, in integer fen. Pure: the facts come in (the complaint's states over time, its breaches,
 * the rule versions), the owed notices go out; storing, numbering and publishing them is the
 * caller's business. docs/penalties.md states the rules in words.
 */
export const NOTICE_KINDS = ['handover_late', 'first_reply_late', 'closure_limit', 'monthly'] as const
export type NoticeKind = (typeof NOTICE_KINDS)[number]

/** monthly notices: month n costs n × multiplier × standard (linear) or multiplier^n × standard (compound) */
export const MONTHLY_GROWTHS = ['linear', 'compound'] as const
export type MonthlyGrowth = (typeof MONTHLY_GROWTHS)[number]

export interface PenaltyRuleValues {
  handoverLateFen: number
  firstReplyLateFen: number
  /** 一次关闭考核标准: the first-time-closure standard per level */
  closureStandardFen: Record<Level, number>
  /** a whole number ≥ 1: every amount is then a whole number of fen */
  monthlyMultiplier: number
  monthlyGrowth: MonthlyGrowth
}

export interface PenaltyRules extends PenaltyRuleValues {
  version: number
  /** when the version was published: it applies to notices owed from then on */
  effectiveFrom: Date
}

/** The defaults of docs/penalties.md (the seed's amount tables are missing): version 1 */
export const DEFAULT_PENALTY_RULES: PenaltyRuleValues = {
  handoverLateFen: 5_000,
  firstReplyLateFen: 5_000,
  closureStandardFen: { general: 20_000, moderate: 50_000, strong: 100_000, irrational: 10_000 },
  monthlyMultiplier: 2,
  monthlyGrowth: 'linear',
}

/** what the penalty rules read of a complaint at one moment */
export interface ComplaintState {
  status: Status
  level: Level | null
  /** major (every external complaint is): runs on the strong limits, so the strong standard applies */
  major: boolean
  departmentId: string | null
  /** a deferral request waits for review (暂缓关闭 applied for) */
  deferralPending: boolean
}

/** a recorded breach of a clock (the `breaches` table) */
export interface BreachFact {
  id: number | null
  clock: 'handover' | 'first_reply' | 'closure' | 'callback'
  cycle: number
  dueAt: Date
  detectedAt: Date
  /** the department and level on record when the limit was missed */
  departmentId: string | null
  level: Level | null
}

export interface PenaltyFacts {
  receivedAt: Date
  /** the complaint's state from each instant on, oldest first; the first from receipt */
  history: Array<{ from: Date; state: ComplaintState }>
  breaches: BreachFact[]
}

export interface OwedNotice {
  kind: NoticeKind
  /** the clock cycle of a breach; the month number of a monthly notice */
  period: number
  /** null: nobody to charge (not assessed yet) — reported, not fined */
  departmentId: string | null
  /** the level whose standard applies (major → strong) */
  level: Level
  standardFen: number
  factor: number
  /** standardFen × factor, saturating at Number.MAX_SAFE_INTEGER */
  amountFen: number
  rulesVersion: number
  /** the deadline that was missed, or the instant the month completed */
  owedAt: Date
  breachId: number | null
  reason: string
}

/** one key per complaint: issuance is idempotent on it */
export const noticeKey = (n: Pick<OwedNotice, 'kind' | 'period'>) => `${n.kind}:${n.period}`

const BREACH_KINDS: Partial<Record<BreachFact['clock'], NoticeKind>> = {
  handover: 'handover_late',
  first_reply: 'first_reply_late',
  closure: 'closure_limit',
  // the callback limit is the CS centre's own duty: no notice against a department
}

/**
 * Unclosed as seed 002 §7.4.3 counts it: open, not withdrawn, not deferred and no deferral request
 * waiting for review. A pause does not exempt: it moves the deadlines, not the calendar months.
 */
export const isUnclosed = (s: ComplaintState) => !['closed', 'withdrawn', 'deferred'].includes(s.status) && !s.deferralPending

/** the state in force at `t` (the last one that began at or before it); undefined before receipt */
export function stateAt(history: PenaltyFacts['history'], t: Date): ComplaintState | undefined {
  let found: ComplaintState | undefined
  for (const h of history) {
    if (h.from.getTime() > t.getTime()) break
    found = h.state
  }
  return found
}

/** the version in force at `t`: the newest published at or before it; before the first one, the first */
export function rulesAt(versions: readonly PenaltyRules[], t: Date): PenaltyRules {
  const sorted = [...versions].sort((a, b) => a.version - b.version)
  if (sorted.length === 0) throw new Error('no penalty rules')
  return sorted.filter((r) => r.effectiveFrom.getTime() <= t.getTime()).at(-1) ?? sorted[0]!
}

/**
 * Month n is complete at the same local date and time n calendar months after receipt, in the
 * business time zone; on the last day of a shorter month when that date does not exist.
 */
export function monthComplete(receivedAt: Date, n: number, timeZone: string): Date {
  const { date, minute } = toLocal(receivedAt, timeZone)
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const months = m - 1 + n
  const year = y + Math.floor(months / 12)
  const month = (months % 12) + 1
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate()
  const pad = (v: number) => String(v).padStart(2, '0')
  return fromLocal(`${year}-${pad(month)}-${pad(Math.min(d, lastDay))}`, minute, timeZone)
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER)
const saturate = (v: bigint) => Number(v > MAX ? MAX : v)

/** month n's factor: n × multiplier (linear) or multiplier^n (compound) */
export const monthlyFactor = (n: number, rules: Pick<PenaltyRuleValues, 'monthlyMultiplier' | 'monthlyGrowth'>): bigint =>
  rules.monthlyGrowth === 'linear' ? BigInt(n) * BigInt(rules.monthlyMultiplier) : BigInt(rules.monthlyMultiplier) ** BigInt(n)

/** a complaint open this long has stopped being a penalty question; bounds the month loop */
const MAX_MONTHS = 1200

const LEVEL_ZH: Record<Level, string> = { general: '一般', moderate: '中级', strong: '强烈', irrational: '非理性' }

function localText(t: Date, timeZone: string): string {
  const { date, minute } = toLocal(t, timeZone)
  const whole = Math.floor(minute + 1e-9)
  return `${date} ${String(Math.floor(whole / 60)).padStart(2, '0')}:${String(whole % 60).padStart(2, '0')}`
}

function breachNotice(b: BreachFact, kind: NoticeKind, major: boolean, versions: readonly PenaltyRules[], timeZone: string): OwedNotice {
  const rules = rulesAt(versions, b.dueAt)
  const level = effectiveLevel({ level: b.level, major })
  const due = `due ${localText(b.dueAt, timeZone)} ${timeZone}`
  const [standardFen, reason] = kind === 'handover_late'
    ? [rules.handoverLateFen, `移交超时 handover late: the handover limit of cycle ${b.cycle} was missed (${due})`]
    : kind === 'first_reply_late'
      ? [rules.firstReplyLateFen, `首次回复超时 first reply late: the first-reply limit of cycle ${b.cycle} was missed (${due})`]
      : [rules.closureStandardFen[level], `一次关闭考核 closure limit expired: cycle ${b.cycle} was not closed in time (${due}); the ${level} (${LEVEL_ZH[level]}) standard`]
  return {
    kind, period: b.cycle, departmentId: b.departmentId, level, standardFen, factor: 1, amountFen: standardFen,
    rulesVersion: rules.version, owedAt: b.dueAt, breachId: b.id, reason,
  }
}

/** how many months since receipt are complete at `now` */
export function monthsComplete(receivedAt: Date, now: Date, timeZone: string): number {
  let n = 0
  while (n < MAX_MONTHS && monthComplete(receivedAt, n + 1, timeZone).getTime() <= now.getTime()) n++
  return n
}

/**
 * Every notice the complaint owes at `now`:
 * - one per breach of the handover and first-reply limits (per cycle), at the flat amounts;
 * - one per breach of the closure limit (per cycle), at the standard of the level the complaint had
 *   in that cycle — so after an upgrade the next one uses the new level's; a deferred complaint, or
 *   one whose deferral request waits, has no closure breach (its closure clock is suspended);
 * - one per full month since receipt at whose completion the complaint was unclosed, at the month's
 *   factor × the standard of its level at that moment.
 * Amounts follow the rule version in force when the notice became owed. The result only grows with
 * `now`, and holds each key at most once. With `since`, nothing owed before it counts.
 */
export function owedNotices(facts: PenaltyFacts, versions: readonly PenaltyRules[], now: Date, timeZone: string, since?: Date): OwedNotice[] {
  const owed: OwedNotice[] = []
  for (const b of facts.breaches) {
    const kind = BREACH_KINDS[b.clock]
    if (!kind || b.dueAt.getTime() >= now.getTime()) continue
    // a breach is recorded when it is detected: the major flag then says which standard applies
    owed.push(breachNotice(b, kind, stateAt(facts.history, b.detectedAt)?.major ?? false, versions, timeZone))
  }
  for (let n = 1; n <= MAX_MONTHS; n++) {
    const at = monthComplete(facts.receivedAt, n, timeZone)
    if (at.getTime() > now.getTime()) break
    const state = stateAt(facts.history, at)
    if (!state || !isUnclosed(state)) continue
    const rules = rulesAt(versions, at)
    const level = effectiveLevel(state)
    const standardFen = rules.closureStandardFen[level]
    const factor = monthlyFactor(n, rules)
    owed.push({
      kind: 'monthly', period: n, departmentId: state.departmentId, level, standardFen, factor: saturate(factor),
      amountFen: saturate(BigInt(standardFen) * factor), rulesVersion: rules.version, owedAt: at, breachId: null,
      reason: `超月未关闭 unclosed for ${n} full month${n === 1 ? '' : 's'} since receipt (complete ${localText(at, timeZone)} ${timeZone}); `
        + `${saturate(factor)} × the ${level} (${LEVEL_ZH[level]}) standard (${rules.monthlyGrowth}, multiplier ${rules.monthlyMultiplier})`,
    })
  }
  // one per key: the breaches table already holds one breach per complaint, clock and cycle
  const seen = new Set<string>()
  // penalties that started on an installation with a past owe nothing for that past
  return owed.filter((n) => (!since || n.owedAt.getTime() >= since.getTime()) && !seen.has(noticeKey(n)) && seen.add(noticeKey(n)))
}

// ---- what happens to a notice ----

export type NoticeStatus = 'issued' | 'contested' | 'upheld' | 'waived' | 'confirmed' | 'fulfilled' | 'unassigned'
export type NoticeAction = 'contest' | 'waive' | 'uphold' | 'fulfil'

/**
 * The department contests an issued notice; a CS manager waives (issued or contested) or upholds
 * (contested) it; signing the weekly bulletin confirms issued and upheld notices; finance fulfils
 * confirmed ones. Waived and fulfilled are final; an unassigned finding is never a notice.
 */
export const NOTICE_TRANSITIONS: Record<NoticeAction, { from: readonly NoticeStatus[]; to: NoticeStatus }> = {
  contest: { from: ['issued'], to: 'contested' },
  waive: { from: ['issued', 'contested'], to: 'waived' },
  uphold: { from: ['contested'], to: 'upheld' },
  fulfil: { from: ['confirmed'], to: 'fulfilled' },
}

/** what signing a bulletin confirms */
export const CONFIRMABLE: readonly NoticeStatus[] = ['issued', 'upheld']

// ---- the weekly bulletin (办法 §7.8) ----

export interface Week {
  /** the Monday, YYYY-MM-DD in the business time zone */
  start: string
  /** Monday 00:00 local */
  from: Date
  /** the next Monday 00:00 local: the week is [from, to) */
  to: Date
}

const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)
const weekday = (date: string) => (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7 // Monday 0 … Sunday 6

export const isMonday = (date: string) => weekday(date) === 0

export function weekStarting(monday: string, timeZone: string): Week {
  return { start: monday, from: fromLocal(monday, 0, timeZone), to: fromLocal(addDays(monday, 7), 0, timeZone) }
}

/**
 * The last complete Monday–Sunday week before `now`: what the Friday run reports (on Friday 2 October
 * 2026, the week of 21–27 September).
 */
export function previousWeek(now: Date, timeZone: string): Week {
  const today = toLocal(now, timeZone).date
  return weekStarting(addDays(today, -weekday(today) - 7), timeZone)
}
