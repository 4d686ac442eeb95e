import t from 'tap'
import { addBusinessMinutes, businessMinutesBetween, calendarCoverage, defaultCalendar, endOfBusinessDay, HOLIDAY_DATA_YEARS, isWorkingDay, standardDayMinutes } from '../../src/domain/calendar.js'
import { computeDeadlines, DEFAULT_SLA_POLICY, type ClockFacts } from '../../src/domain/sla.js'

const cal = defaultCalendar('Asia/Shanghai')
/** a Shanghai wall-clock time as an instant */
const sh = (local: string) => new Date(`${local}+08:00`)
const shIso = (d: Date) => new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ')

t.test('working hours are 09:00–12:00 and 13:30–18:00: a standard day is 7.5 h', async (t) => {
  t.equal(standardDayMinutes(cal), 450)
  t.equal(shIso(addBusinessMinutes(sh('2026-11-23T11:30'), 60, cal)), '2026-11-23 14:00', 'lunch does not count')
  t.equal(shIso(addBusinessMinutes(sh('2026-11-28T10:00'), 60, cal)), '2026-11-30 10:00', 'a clock started on Saturday starts at Monday’s opening')
  t.equal(shIso(addBusinessMinutes(sh('2026-11-23T12:10'), 0, cal)), '2026-11-23 13:30', 'zero minutes = the next opening')
  t.equal(shIso(addBusinessMinutes(sh('2026-11-23T10:00'), 450, cal)), '2026-11-24 10:00', 'one business day lands at the same clock time the next working day')
  t.equal(businessMinutesBetween(sh('2026-11-23T11:30'), sh('2026-11-23T14:00'), cal), 60)
  t.equal(businessMinutesBetween(sh('2026-11-27T17:00'), sh('2026-11-30T10:00'), cal), 120, 'the weekend does not count')
  t.equal(businessMinutesBetween(sh('2026-11-30T10:00'), sh('2026-11-27T17:00'), cal), 0)
})

t.test('Chinese public holidays and adjusted working days (调休) come from the holiday data', async (t) => {
  t.equal(isWorkingDay('2026-10-01', cal), false, 'National Day')
  t.equal(isWorkingDay('2026-10-10', cal), true, 'Saturday 10 October 2026 is an adjusted working day')
  t.equal(isWorkingDay('2026-11-28', cal), false, 'an ordinary Saturday')
  const withOverride = defaultCalendar('Asia/Shanghai', new Map([['2026-11-27', false], ['2026-11-28', true]]))
  t.equal(isWorkingDay('2026-11-27', withOverride), false, 'an organisation override closes a day')
  t.equal(isWorkingDay('2026-11-28', withOverride), true, 'and opens one')
  t.ok(HOLIDAY_DATA_YEARS.last >= 2026, `holiday data up to ${HOLIDAY_DATA_YEARS.last}`)
})

t.test('a general complaint received Wednesday 17:30 before National Day is due after the adjusted working day', async (t) => {
  const facts: ClockFacts = { level: 'general', major: false, channel: 'web', externalBody: null, clockStartedAt: sh('2026-09-30T17:30'), signedAt: null, closureRequestedAt: null }
  const d = computeDeadlines(facts, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(d.handover!.dueAt), '2026-09-30 18:00', 'handover: end of the business day of receipt')
  // 30 min on 30 Sep, 450 on 8 Oct, 450 on 9 Oct, 420 on Saturday 10 Oct (调休)
  t.equal(shIso(d.closure!.dueAt), '2026-10-10 17:30', 'closure: 3 business days, the 调休 Saturday counts')
  t.equal(d.firstReply, null, 'the first-reply clock has not started')

  const afterHours = computeDeadlines({ ...facts, clockStartedAt: sh('2026-09-30T18:30') }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(afterHours.handover!.dueAt), '2026-10-08 18:00', 'received after hours: end of the next business day')
})

t.test('limits per level and channel (docs/time-limits.md)', async (t) => {
  const base: ClockFacts = { level: 'moderate', major: false, channel: 'web', externalBody: null, clockStartedAt: sh('2026-11-23T10:00'), signedAt: sh('2026-11-23T11:00'), closureRequestedAt: sh('2026-11-24T09:00') }
  const moderate = computeDeadlines(base, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(moderate.handover!.dueAt), '2026-11-23 15:30', 'moderate: handover in 4 business hours')
  t.equal(shIso(moderate.firstReply!.dueAt), '2026-11-24 11:30', 'moderate: first reply in 8 business hours from signing')
  t.equal(shIso(moderate.callback!.dueAt), '2026-11-24 21:00', 'callback: 12 calendar hours after the closure request')

  const strong = computeDeadlines({ ...base, level: 'strong' }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(strong.handover!.dueAt), '2026-11-23 10:30', 'strong: 30 calendar minutes')
  t.equal(shIso(strong.firstReply!.dueAt), '2026-11-23 14:00', 'strong: 3 calendar hours')
  t.equal(shIso(strong.closure!.dueAt), '2026-11-26 10:00', 'strong: 3 calendar days')

  const major = computeDeadlines({ ...base, level: 'general', major: true }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(major.handover!.dueAt), '2026-11-23 10:30', 'major complaints run on the strong limits')

  const irrational = computeDeadlines({ ...base, level: 'irrational' }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(irrational.closure!.dueAt), '2026-11-30 10:00', 'irrational: 5 business days')

  const hotline = computeDeadlines({ ...base, level: 'general', channel: 'hotline_400' }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(hotline.firstReply!.dueAt), '2026-11-23 14:00', '400 hotline: first reply within 3 calendar hours')

  const media = computeDeadlines({ ...base, level: 'general', channel: 'phone', externalBody: 'media' }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(media.handover!.dueAt), '2026-11-23 10:30', 'media: hand over in 30 minutes')
  t.equal(shIso(media.closure!.dueAt), '2026-11-26 10:00', 'media: close in 3 calendar days')
})

t.test('end of business day on a Friday evening is Monday 18:00', async (t) => {
  t.equal(shIso(endOfBusinessDay(sh('2026-11-27T19:00'), cal)), '2026-11-30 18:00')
})

t.test('N business days land at the same clock time N working days later; a deadline on an opening is the previous close', async (t) => {
  const general: ClockFacts = { level: 'general', major: false, channel: 'web', externalBody: null, clockStartedAt: sh('2026-11-23T10:15'), signedAt: null, closureRequestedAt: null }
  t.equal(shIso(computeDeadlines(general, DEFAULT_SLA_POLICY, cal).closure!.dueAt), '2026-11-26 10:15', 'received Monday 10:15: closure due Thursday 10:15')
  const evening = computeDeadlines({ ...general, clockStartedAt: sh('2026-11-23T20:00') }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(evening.closure!.dueAt), '2026-11-26 18:00', 'received Monday 20:00: the clock starts Tuesday 09:00; 3 days end Thursday 18:00, not Friday 09:00')
  const signed = computeDeadlines({ ...general, clockStartedAt: sh('2026-11-23T09:00'), signedAt: sh('2026-11-23T13:30') }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(signed.firstReply!.dueAt), '2026-11-24 12:00', 'signed Monday 13:30: the day’s 450 minutes are used up at Tuesday 12:00, not 13:30')
  // the case: a Saturday that is a 调休 working day (10 October 2026), received before opening
  const adjusted = computeDeadlines({ ...general, clockStartedAt: sh('2026-10-10T08:00') }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(adjusted.closure!.dueAt), '2026-10-13 18:00', 'received on the 调休 Saturday with 3 business days: due Tuesday 18:00, not Wednesday 09:00')
  t.equal(shIso(addBusinessMinutes(sh('2026-11-23T14:00'), 240, cal)), '2026-11-23 18:00', '4 business hours from 14:00 end at 18:00 that day')
  t.equal(shIso(addBusinessMinutes(sh('2026-11-23T18:00'), 0, cal)), '2026-11-24 09:00', 'a clock starting at a close starts at the next opening')
})

t.test('a hotline complaint that turns out to be a media complaint keeps both overrides, each where stricter', async (t) => {
  const policy = { ...DEFAULT_SLA_POLICY, channelOverrides: { ...DEFAULT_SLA_POLICY.channelOverrides, hotline_400: { closure: { unit: 'business_days' as const, amount: 1 } } } }
  const facts: ClockFacts = { level: 'general', major: false, channel: 'hotline_400', externalBody: 'media', clockStartedAt: sh('2026-11-23T09:00'), signedAt: null, closureRequestedAt: null }
  const d = computeDeadlines(facts, policy, cal)
  t.equal(shIso(d.closure!.dueAt), '2026-11-23 18:00', 'the hotline’s 1 business day (to Monday’s close) beats the media’s 3 calendar days')
  t.equal(shIso(d.handover!.dueAt), '2026-11-23 09:30', 'the media’s 30 minutes still apply')
})

t.test('the issue’s calendar cases with real 2026 dates', async (t) => {
  const general = (local: string): ClockFacts => ({ level: 'general', major: false, channel: 'web', externalBody: null, clockStartedAt: sh(local), signedAt: null, closureRequestedAt: null })
  // Thursday 24 Sept 17:30: 30 minutes that day, Mid-Autumn 25–27 Sept skipped, then Mon 28, Tue 29 and
  // 420 minutes of Wed 30 Sept
  const midAutumn = computeDeadlines(general('2026-09-24T17:30'), DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(midAutumn.handover!.dueAt), '2026-09-24 18:00')
  t.equal(shIso(midAutumn.closure!.dueAt), '2026-09-30 17:30', 'the Mid-Autumn days do not count')
  t.equal(isWorkingDay('2026-09-20', cal), true, 'Sunday 20 September 2026 is an adjusted working day')
  const sunday = computeDeadlines(general('2026-09-20T10:00'), DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(sunday.handover!.dueAt), '2026-09-20 18:00', 'a general complaint received on the 调休 Sunday is handed over that day')
  const strongAtNight = computeDeadlines({ ...general('2026-10-03T23:50'), level: 'strong' }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(strongAtNight.handover!.dueAt), '2026-10-04 00:20', 'a strong complaint’s 30 minutes ignore the calendar (night, holiday)')
  const withOverride = defaultCalendar('Asia/Shanghai', new Map([['2026-11-24', false]]))
  const overridden = computeDeadlines(general('2026-11-23T17:30'), DEFAULT_SLA_POLICY, withOverride)
  t.equal(shIso(overridden.closure!.dueAt), '2026-11-27 17:30', 'an override day off (Tue 24 Nov) is skipped')
})

t.test('pauses are excluded, in each limit’s own unit', async (t) => {
  const base: ClockFacts = { level: 'moderate', major: false, channel: 'web', externalBody: null, clockStartedAt: sh('2026-11-23T10:00'), signedAt: null, closureRequestedAt: null }
  const paused = computeDeadlines({ ...base, pauses: [{ from: sh('2026-11-23T11:00'), to: sh('2026-11-23T14:30') }] }, DEFAULT_SLA_POLICY, cal)
  // handover: 4 business hours, due 15:30; the pause 11:00–14:30 holds 2 business hours (lunch excluded)
  t.equal(shIso(paused.handover!.dueAt), '2026-11-23 17:30')
  const strong = computeDeadlines({ ...base, level: 'strong', pauses: [{ from: sh('2026-11-23T10:10'), to: sh('2026-11-23T10:25') }] }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(strong.handover!.dueAt), '2026-11-23 10:45', 'a calendar limit moves by the pause’s calendar length')
  const before = computeDeadlines({ ...base, pauses: [{ from: sh('2026-11-23T08:00'), to: sh('2026-11-23T09:30') }] }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(before.handover!.dueAt), '2026-11-23 15:30', 'a pause before the clock started changes nothing')
})

t.test('due-soon thresholds at 80% of each limit', async (t) => {
  const d = computeDeadlines({ level: 'strong', major: false, channel: 'web', externalBody: null, clockStartedAt: sh('2026-11-23T10:00'), signedAt: null, closureRequestedAt: null }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(d.handover!.warnAt), '2026-11-23 10:24', '80% of 30 minutes')
  const g = computeDeadlines({ level: 'moderate', major: false, channel: 'web', externalBody: null, clockStartedAt: sh('2026-11-23T10:00'), signedAt: null, closureRequestedAt: null }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(g.handover!.warnAt), '2026-11-23 14:42', '80% of 4 business hours (192 minutes, lunch excluded)')
})

t.test('calendar coverage warns from 60 days before the data ends, until next year’s overrides exist', async (t) => {
  const last = HOLIDAY_DATA_YEARS.last
  t.equal(calendarCoverage([], `${last}-10-01`).warning, null, '91 days left: quiet')
  const soon = calendarCoverage([], `${last}-11-26`)
  t.equal(soon.daysLeft, 35)
  t.match(soon.warning, `known only through ${last}-12-31`)
  const posted = calendarCoverage([`${last + 1}-01-01`], `${last}-11-26`)
  t.equal(posted.coveredThrough, last + 1)
  t.equal(posted.warning, null)
})

t.test('a pause that holds no working time (over lunch) moves no business deadline', async (t) => {
  const facts: ClockFacts = { level: 'general', major: false, channel: 'web', externalBody: null, clockStartedAt: sh('2026-11-23T10:00'), signedAt: null, closureRequestedAt: null }
  const d = computeDeadlines({ ...facts, pauses: [{ from: sh('2026-11-23T12:10'), to: sh('2026-11-23T13:20') }] }, DEFAULT_SLA_POLICY, cal)
  t.equal(shIso(d.handover!.dueAt), '2026-11-23 18:00')
})
