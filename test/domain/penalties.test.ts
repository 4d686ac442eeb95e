import fc from 'fast-check'
import t from 'tap'
import {
  DEFAULT_PENALTY_RULES, monthComplete, noticeKey, owedNotices, previousWeek, rulesAt, weekStarting,
  type BreachFact, type ComplaintState, type PenaltyFacts, type PenaltyRules,
} from '../../src/domain/penalties.js'
import { LEVELS, type Level, type Status } from '../../src/domain/vocabulary.js'
import { gap, shanghaiInstant } from '../arbitraries.js'

const TZ = 'Asia/Shanghai'
const V1: PenaltyRules = { ...DEFAULT_PENALTY_RULES, version: 1, effectiveFrom: new Date(0) }
const COMPOUND: PenaltyRules = { ...V1, version: 2, monthlyGrowth: 'compound' }
const at = (iso: string) => new Date(iso)
const open = (over: Partial<ComplaintState> = {}): ComplaintState => ({ status: 'in_progress', level: 'general', major: false, departmentId: 'service-station', deferralPending: false, ...over })
const breach = (clock: BreachFact['clock'], cycle: number, dueAt: string, over: Partial<BreachFact> = {}): BreachFact => ({
  id: cycle, clock, cycle, dueAt: at(dueAt), detectedAt: new Date(at(dueAt).getTime() + 60_000), departmentId: 'service-station', level: 'general', ...over,
})
const summary = (owed: ReturnType<typeof owedNotices>) => owed.map((n) => [n.kind, n.period, n.level, n.amountFen])

t.test('months complete on the same local date and time, the last day of a shorter month otherwise', async (t) => {
  const received = at('2026-09-24T09:30:00Z') // Thu 24 Sep 17:30 Shanghai
  t.equal(monthComplete(received, 1, TZ).toISOString(), '2026-10-24T09:30:00.000Z')
  t.equal(monthComplete(received, 3, TZ).toISOString(), '2026-12-24T09:30:00.000Z')
  t.equal(monthComplete(received, 4, TZ).toISOString(), '2027-01-24T09:30:00.000Z', 'across the year')
  const endOfJanuary = at('2026-01-31T02:00:00Z') // 31 Jan 10:00
  t.equal(monthComplete(endOfJanuary, 1, TZ).toISOString(), '2026-02-28T02:00:00.000Z', '31 January + 1 month = 28 February')
  t.equal(monthComplete(endOfJanuary, 2, TZ).toISOString(), '2026-03-31T02:00:00.000Z', 'and the 31st again in March')
  const lateNight = at('2026-03-30T16:30:00Z') // 31 Mar 00:30 Shanghai, still 30 Mar in UTC
  t.equal(monthComplete(lateNight, 1, TZ).toISOString(), '2026-04-29T16:30:00.000Z', 'the local date decides: 31 March → 30 April 00:30')
})

t.test('the docs’ worked example: handover, first reply, closure at 200, closure at 500, then monthly', async (t) => {
  const history = [
    { from: at('2026-09-24T09:30:00Z'), state: open({ status: 'received', level: null, departmentId: null }) },
    { from: at('2026-09-24T09:35:00Z'), state: open({ status: 'assessed' }) },
    { from: at('2026-09-30T09:31:00Z'), state: open({ level: 'moderate' }) },
    { from: at('2026-10-10T09:32:00Z'), state: open({ level: 'strong' }) },
  ]
  const facts: PenaltyFacts = {
    receivedAt: at('2026-09-24T09:30:00Z'), history,
    breaches: [
      breach('handover', 1, '2026-09-24T10:00:00Z'), breach('first_reply', 1, '2026-09-29T01:30:00Z'),
      breach('closure', 1, '2026-09-30T09:30:00Z'), breach('closure', 2, '2026-10-10T09:31:00Z', { level: 'moderate' }),
      breach('callback', 2, '2026-10-02T09:31:00Z'),
    ],
  }
  t.same(summary(owedNotices(facts, [V1], at('2026-10-24T09:29:59Z'), TZ)), [
    ['handover_late', 1, 'general', 5_000], ['first_reply_late', 1, 'general', 5_000],
    ['closure_limit', 1, 'general', 20_000], ['closure_limit', 2, 'moderate', 50_000],
  ], 'no notice for the callback limit (the CS centre’s own); no month complete yet')
  const threeMonths = owedNotices(facts, [V1], at('2026-12-24T09:30:00Z'), TZ).filter((n) => n.kind === 'monthly')
  t.same(summary(threeMonths), [['monthly', 1, 'strong', 200_000], ['monthly', 2, 'strong', 400_000], ['monthly', 3, 'strong', 600_000]], 'linear: 2 ×, 4 ×, 6 × the strong standard')
  t.match(threeMonths[1]!.reason, /2 full months.*4 × the strong/)
  const compound = owedNotices(facts, [COMPOUND], at('2026-12-24T09:30:00Z'), TZ).filter((n) => n.kind === 'monthly')
  t.same(compound.map((n) => n.amountFen), [200_000, 400_000, 800_000], 'compound: 2 ×, 4 ×, 8 ×')
  t.same(compound.map((n) => n.rulesVersion), [2, 2, 2])
})

t.test('a major complaint assessed general pays the strong standard; after an upgrade the next notice uses the new level', async (t) => {
  const history = [{ from: at('2026-11-02T02:00:00Z'), state: open({ major: true }) }]
  const owed = owedNotices({ receivedAt: at('2026-11-02T02:00:00Z'), history, breaches: [breach('closure', 1, '2026-11-05T02:00:00Z')] }, [V1], at('2026-11-06T00:00:00Z'), TZ)
  t.same(summary(owed), [['closure_limit', 1, 'strong', 100_000]])
})

t.test('no monthly notice for a month that completed while closed, withdrawn, deferred or waiting for a deferral review', async (t) => {
  const received = at('2026-01-10T02:00:00Z')
  const history = [
    { from: received, state: open() }, // month 1 completes 10 Feb: open
    { from: at('2026-03-01T00:00:00Z'), state: open({ deferralPending: true }) }, // 10 Mar: deferral requested
    { from: at('2026-03-20T00:00:00Z'), state: open({ status: 'deferred', level: 'irrational' }) }, // 10 Apr: deferred
    { from: at('2026-04-20T00:00:00Z'), state: open({ status: 'responded', level: 'irrational' }) }, // 10 May: unclosed again
    { from: at('2026-05-20T00:00:00Z'), state: open({ status: 'closed', level: 'irrational' }) }, // 10 Jun: closed
    { from: at('2026-06-20T00:00:00Z'), state: open({ status: 'in_progress', level: 'irrational' }) }, // 10 Jul: reopened
    { from: at('2026-07-20T00:00:00Z'), state: open({ status: 'withdrawn', level: 'irrational' }) }, // 10 Aug on: withdrawn
  ]
  const owed = owedNotices({ receivedAt: received, history, breaches: [] }, [V1], at('2027-01-01T00:00:00Z'), TZ)
  t.same(owed.map((n) => [n.period, n.level, n.amountFen]), [[1, 'general', 40_000], [4, 'irrational', 80_000], [6, 'irrational', 120_000]],
    'months 1, 4 (back in progress) and 6 (reopened), at the level of their moment; not 2, 3, 5 or from 7 on')
})

t.test('a complaint closed exactly when a month completes owes no notice for that month', async (t) => {
  const received = at('2026-05-06T01:00:00Z')
  const history = [{ from: received, state: open() }, { from: monthComplete(received, 1, TZ), state: open({ status: 'closed' }) }]
  t.same(owedNotices({ receivedAt: received, history, breaches: [] }, [V1], at('2026-12-01T00:00:00Z'), TZ), [])
})

t.test('no department on record: the finding is owed but charged to nobody', async (t) => {
  const history = [{ from: at('2026-11-02T02:00:00Z'), state: open({ status: 'received', level: null, departmentId: null }) }]
  const owed = owedNotices({ receivedAt: at('2026-11-02T02:00:00Z'), history, breaches: [breach('handover', 1, '2026-11-02T10:00:00Z', { departmentId: null, level: null })] }, [V1], at('2026-11-03T00:00:00Z'), TZ)
  t.same(owed.map((n) => [n.kind, n.departmentId, n.level, n.amountFen]), [['handover_late', null, 'general', 5_000]])
})

t.test('the rule version in force when a notice became owed sets its amount', async (t) => {
  const v2: PenaltyRules = { ...V1, version: 2, effectiveFrom: at('2026-11-10T00:00:00Z'), handoverLateFen: 8_000 }
  t.equal(rulesAt([v2, V1], at('2026-11-09T23:59:59Z')).version, 1)
  t.equal(rulesAt([v2, V1], at('2026-11-10T00:00:00Z')).version, 2)
  const late: PenaltyRules = { ...V1, version: 1, effectiveFrom: at('2030-01-01T00:00:00Z') }
  t.equal(rulesAt([late], at('2026-01-01T00:00:00Z')).version, 1, 'before the first publication, the first version')
  const history = [{ from: at('2026-11-02T02:00:00Z'), state: open() }]
  const owed = owedNotices({ receivedAt: at('2026-11-02T02:00:00Z'), history, breaches: [breach('handover', 1, '2026-11-09T10:00:00Z'), breach('handover', 2, '2026-11-12T10:00:00Z')] }, [V1, v2], at('2026-11-20T00:00:00Z'), TZ)
  t.same(owed.map((n) => [n.period, n.rulesVersion, n.amountFen]), [[1, 1, 5_000], [2, 2, 8_000]])
})

t.test('with a start, nothing owed before it counts', async (t) => {
  const received = at('2026-08-03T02:00:00Z')
  const facts = { receivedAt: received, history: [{ from: received, state: open() }], breaches: [breach('handover', 1, '2026-08-03T10:00:00Z')] }
  const owed = owedNotices(facts, [V1], at('2026-11-10T00:00:00Z'), TZ, at('2026-09-15T00:00:00Z'))
  t.same(owed.map((n) => [n.kind, n.period]), [['monthly', 2], ['monthly', 3]], 'not the August breach nor month 1 (3 September)')
})

t.test('amounts saturate instead of overflowing a safe integer', async (t) => {
  const steep: PenaltyRules = { ...V1, monthlyMultiplier: 10, monthlyGrowth: 'compound' }
  const received = at('2020-01-01T02:00:00Z')
  const owed = owedNotices({ receivedAt: received, history: [{ from: received, state: open({ level: 'strong' }) }], breaches: [] }, [steep], at('2026-01-01T00:00:00Z'), TZ)
  t.equal(owed.at(-1)!.amountFen, Number.MAX_SAFE_INTEGER)
  t.ok(owed.every((n) => Number.isSafeInteger(n.amountFen)))
})

t.test('the Friday run covers the previous Monday–Sunday', async (t) => {
  const w = previousWeek(at('2026-10-02T09:00:00Z'), TZ) // Fri 2 Oct 17:00 Shanghai
  t.same([w.start, w.from.toISOString(), w.to.toISOString()], ['2026-09-21', '2026-09-20T16:00:00.000Z', '2026-09-27T16:00:00.000Z'])
  t.equal(previousWeek(at('2026-09-27T16:00:00Z'), TZ).start, '2026-09-21', 'Monday 00:00: the week just ended')
  t.equal(previousWeek(at('2026-09-27T15:59:59Z'), TZ).start, '2026-09-14', 'Sunday 23:59: that week has not ended yet')
  t.equal(weekStarting('2026-12-28', TZ).to.toISOString(), '2027-01-03T16:00:00.000Z')
})

// ---- properties at arbitrary instants ----

const STATUSES: Status[] = ['received', 'assessed', 'in_progress', 'responded', 'closure_requested', 'closed', 'deferred', 'withdrawn']
const stateArb = fc.record({
  status: fc.constantFrom(...STATUSES),
  level: fc.option(fc.constantFrom(...LEVELS), { nil: null }),
  major: fc.boolean(),
  departmentId: fc.option(fc.constantFrom('sales', 'service-station'), { nil: null }),
  deferralPending: fc.boolean(),
})
const rulesArb = fc.record({
  multiplier: fc.integer({ min: 1, max: 5 }),
  growth: fc.constantFrom('linear' as const, 'compound' as const),
  handover: fc.integer({ min: 0, max: 100_000 }),
}).map(({ multiplier, growth, handover }): PenaltyRules => ({ ...V1, monthlyMultiplier: multiplier, monthlyGrowth: growth, handoverLateFen: handover }))

/** a complaint received at an arbitrary instant, its states changing at arbitrary gaps, with breaches */
const factsArb = fc.tuple(shanghaiInstant, fc.array(fc.tuple(fc.integer({ min: 0, max: 60 * 86_400_000 }), stateArb), { maxLength: 8 }), stateArb,
  // the breaches table holds one breach per complaint, clock and cycle
  fc.uniqueArray(fc.record({ clock: fc.constantFrom('handover' as const, 'first_reply' as const, 'closure' as const, 'callback' as const), cycle: fc.integer({ min: 1, max: 4 }), after: gap, level: fc.constantFrom(...LEVELS) }),
    { maxLength: 6, selector: (b) => `${b.clock}:${b.cycle}` }),
).map(([receivedAt, steps, first, bs]): PenaltyFacts => {
  let t0 = receivedAt.getTime()
  const history = [{ from: receivedAt, state: first }, ...steps.map(([d, state]) => ({ from: new Date((t0 += d)), state }))]
  const breaches = bs.map((b, i): BreachFact => {
    const dueAt = new Date(receivedAt.getTime() + b.after)
    return { id: i + 1, clock: b.clock, cycle: b.cycle, dueAt, detectedAt: new Date(dueAt.getTime() + 60_000), departmentId: 'sales', level: b.level as Level }
  })
  return { receivedAt, history, breaches }
})

t.test('owed notices only grow with time, hold each key once, and cost standard × factor', async (t) => {
  const details = fc.check(fc.property(factsArb, rulesArb, fc.integer({ min: 0, max: 200 * 86_400_000 }), fc.integer({ min: 0, max: 60 * 86_400_000 }), (facts, rules, d1, d2) => {
    const t1 = new Date(facts.receivedAt.getTime() + d1)
    const t2 = new Date(t1.getTime() + d2)
    const early = owedNotices(facts, [rules], t1, TZ)
    const late = owedNotices(facts, [rules], t2, TZ)
    const keys = late.map(noticeKey)
    if (new Set(keys).size !== keys.length) return false
    const byKey = new Map(late.map((n) => [noticeKey(n), n]))
    for (const n of early) if (JSON.stringify(byKey.get(noticeKey(n))) !== JSON.stringify(n)) return false
    for (const n of late) {
      if (n.owedAt > t2) return false
      if (n.amountFen !== Math.min(Number.MAX_SAFE_INTEGER, n.standardFen * n.factor)) return false
      if (n.kind === 'monthly') {
        const expected = rules.monthlyGrowth === 'linear' ? n.period * rules.monthlyMultiplier : rules.monthlyMultiplier ** n.period
        if (n.factor !== Math.min(Number.MAX_SAFE_INTEGER, expected)) return false
        if (n.standardFen !== rules.closureStandardFen[n.level]) return false
      }
    }
    return true
  }), { numRuns: 300 })
  t.notOk(details.failed, fc.defaultReportMessage(details) ?? 'no counterexample in 300 generated complaints')
})

t.test('a monthly notice is owed exactly for the months that completed while the complaint was unclosed', async (t) => {
  const details = fc.check(fc.property(factsArb, (facts) => {
    const now = new Date(facts.receivedAt.getTime() + 400 * 86_400_000)
    const months = owedNotices(facts, [V1], now, TZ).filter((n) => n.kind === 'monthly')
    for (let n = 1; monthComplete(facts.receivedAt, n, TZ) <= now; n++) {
      const when = monthComplete(facts.receivedAt, n, TZ)
      const state = [...facts.history].reverse().find((h) => h.from <= when)!.state
      const unclosed = !['closed', 'withdrawn', 'deferred'].includes(state.status) && !state.deferralPending
      const notice = months.find((m) => m.period === n)
      if (unclosed !== (notice !== undefined)) return false
      if (notice && (notice.departmentId !== state.departmentId || notice.level !== (state.major ? 'strong' : (state.level ?? 'general')))) return false
    }
    return true
  }), { numRuns: 200 })
  t.notOk(details.failed, fc.defaultReportMessage(details) ?? 'no counterexample in 200 generated histories')
})
