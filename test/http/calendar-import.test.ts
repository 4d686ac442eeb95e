import t from 'tap'
import { testApp } from '../helper.js'

/** an illustrative 2027 feed in the form Chinese holiday calendars are published (dates are examples) */
const ICS = [
  'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//china-holiday-calendar//CN', 'X-WR-CALNAME:中国节假日 2027',
  'BEGIN:VEVENT', 'UID:2027-0101-holiday', 'DTSTART;VALUE=DATE:20270101', 'DTEND;VALUE=DATE:20270104', 'SUMMARY:元旦 假期', 'END:VEVENT',
  'BEGIN:VEVENT', 'UID:2027-0206-holiday', 'DTSTART;VALUE=DATE:20270206', 'DTEND;VALUE=DATE:20270214', 'SUMMARY:春节 假期', 'END:VEVENT',
  'BEGIN:VEVENT', 'UID:2027-0131-workday', 'DTSTART;VALUE=DATE:20270131', 'SUMMARY:春节 补班', 'END:VEVENT',
  'BEGIN:VEVENT', 'UID:2027-0220-workday', 'DTSTART;VALUE=DATE:20270220', 'DTEND;VALUE=DATE:20270221', 'SUMMARY:春节 补班', 'END:VEVENT',
  'END:VCALENDAR', '',
].join('\r\n')

t.test('posting next year’s holidays from an .ics file: a dry run lists the changes, the import applies them', async (t) => {
  const api = await testApp(t)
  const before = (await api.call('GET', '/v1/admin/calendar', undefined, {}, 'admin')).json
  t.equal(before.coverage.coveredThrough, 2026)
  await api.call('PUT', '/v1/admin/calendar/overrides/2027-01-02', { working: false, note: '元旦 假期' }, {}, 'admin')

  const dry = await api.call('POST', '/v1/admin/calendar/overrides/import', { ics: ICS, dryRun: true }, {}, 'admin')
  t.equal(dry.status, 200)
  t.equal(dry.json.days, 3 + 8 + 1 + 1)
  t.equal(dry.json.unchanged, 1, '2 January already says the same')
  t.same(dry.json.changes.find((c: { date: string }) => c.date === '2027-01-31'), { date: '2027-01-31', working: true, note: '春节 补班', previous: null, workingBefore: false },
    'a Sunday 补班 becomes a working day')
  t.same(dry.json.changes.find((c: { date: string }) => c.date === '2027-02-08'), { date: '2027-02-08', working: false, note: '春节 假期', previous: null, workingBefore: true },
    'a Monday of the Spring Festival becomes a day off')
  t.equal((await api.call('GET', '/v1/admin/calendar', undefined, {}, 'admin')).json.overrides.length, 1, 'the dry run wrote nothing')

  const applied = await api.call('POST', '/v1/admin/calendar/overrides/import', { ics: ICS }, {}, 'admin')
  t.equal(applied.status, 200)
  t.equal(applied.json.changes.length, 12)
  const after = (await api.call('GET', '/v1/admin/calendar', undefined, {}, 'admin')).json
  t.equal(after.overrides.length, 13)
  t.equal(after.coverage.coveredThrough, 2027, 'the 2027 holidays count as posted')
  const again = await api.call('POST', '/v1/admin/calendar/overrides/import', { ics: ICS }, {}, 'admin')
  t.same([again.json.changes.length, again.json.unchanged], [0, 13], 'importing the same file twice changes nothing')
  const audit = (await api.call('GET', '/v1/audit?operation=importCalendarOverrides', undefined, {}, 'auditor')).json.items
  t.equal(audit.length, 1, 'one audit entry for the applied import')
  t.equal(audit[0].after.overrides.length, 12)

  // new deadlines use the posted days: a general complaint received on Friday 5 Feb 2027 closes after the festival
  api.clock.set('2027-02-05T02:00:00.000Z')
  const c = (await api.call('POST', '/v1/complaints', { channel: 'web', complainant: { name: '王芳' }, description: '春节前的投诉' })).json
  t.equal(c.deadlines.closureDueAt, '2027-02-17T02:00:00.000Z', 'Fri 5 Feb 10:00 + 3 business days skips 6–14 Feb → Wed 17 Feb 10:00')
})

t.test('an .ics the import cannot read is a 422 naming the field and what is wrong', async (t) => {
  const api = await testApp(t)
  const event = (lines: string[]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:x', 'BEGIN:VEVENT', ...lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n')
  const cases: Array<[unknown, RegExp]> = [
    [{ ics: 'not a calendar' }, /not an iCalendar file/],
    // blank text parses to no component at all, two calendars to a list: both were 500s (found by the fuzz test)
    [{ ics: ' ' }, /not an iCalendar file: it holds no component/],
    [{ ics: '\r\n\r\n' }, /not an iCalendar file: it holds no component/],
    [{ ics: event(['UID:e', 'DTSTART;VALUE=DATE:20270101', 'SUMMARY:元旦']).repeat(2) }, /holds 2 components where one VCALENDAR is expected/],
    [{ ics: ['BEGIN:VEVENT', 'UID:f', 'DTSTART;VALUE=DATE:20270101', 'SUMMARY:元旦', 'END:VEVENT', ''].join('\r\n') }, /its component is VEVENT, not VCALENDAR/],
    [{ ics: 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n' }, /no events/],
    [{ ics: event(['UID:a', 'DTSTART:20270101T090000Z', 'SUMMARY:meeting']) }, /not an all-day event/],
    [{ ics: event(['UID:b', 'DTSTART;VALUE=DATE:20270101', 'RRULE:FREQ=YEARLY', 'SUMMARY:元旦']) }, /repeats/],
    [{ ics: event(['UID:c', 'DTSTART;VALUE=DATE:20270101', 'DTEND;VALUE=DATE:20280105', 'SUMMARY:long']) }, /more than 366 days/],
    [{ ics: event(['UID:d', 'DTSTART;VALUE=DATE:30000101', 'SUMMARY:far']) }, /outside 1900–2999/],
    [{ ics: ICS.replace('SUMMARY:元旦 假期', 'SUMMARY:元旦 补班').replace('DTSTART;VALUE=DATE:20270131', 'DTSTART;VALUE=DATE:20270207').replace('SUMMARY:春节 补班', 'SUMMARY:春节 假期 补班') }, /both a working day/],
  ]
  for (const [body, message] of cases) {
    const res = await api.call('POST', '/v1/admin/calendar/overrides/import', body, {}, 'admin')
    t.equal(res.status, 422, String(message))
    t.equal(res.json.errors?.[0]?.field, '/body/ics')
    t.match(res.json.detail, message)
  }
  const badPattern = await api.call('POST', '/v1/admin/calendar/overrides/import', { ics: ICS, workingDayPattern: '(' }, {}, 'admin')
  t.equal(badPattern.status, 422)
  t.equal(badPattern.json.errors?.[0]?.field, '/body/workingDayPattern')
  t.equal((await api.call('POST', '/v1/admin/calendar/overrides/import', { ics: ICS }, {}, 'cs_manager')).status, 403, 'admin only')
})
