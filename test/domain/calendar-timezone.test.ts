// The server's own time zone must not matter: this file runs the calendar as a host in Los Angeles.
process.env.TZ = 'America/Los_Angeles'
const { default: t } = await import('tap')
const { defaultCalendar, isWorkingDay, addBusinessMinutes } = await import('../../src/domain/calendar.js')

t.test('working days are the same on a server west of UTC', async (t) => {
  t.equal(new Date(2026, 2, 2).getTimezoneOffset() > 0, true, 'this process runs west of UTC')
  const cal = defaultCalendar('Asia/Shanghai')
  t.equal(isWorkingDay('2026-03-02', cal), true, 'Monday 2 March 2026 is a working day')
  t.equal(isWorkingDay('2026-02-28', cal), true, 'Saturday 28 February 2026 is an adjusted working day')
  t.equal(isWorkingDay('2026-03-01', cal), false, 'Sunday 1 March 2026 is not')
  t.equal(addBusinessMinutes(new Date('2026-03-02T09:00:00+08:00'), 60, cal).toISOString(), '2026-03-02T02:00:00.000Z')
})
