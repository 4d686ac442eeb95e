import ICAL from 'ical.js'
import { unprocessable } from '../errors.js'
import { isValidDate } from '../http/instants.js'

/**
 * Calendar overrides from an iCalendar (.ics) file, the form published holiday calendars take: each
 * all-day event marks its days as days off, or as working days (调休) when its summary says so
 * (补班, 上班 — the words Chinese holiday feeds use). Parsing is ical.js's; this decides what the
 * events mean for the business calendar.
 */
export const DEFAULT_WORKING_DAY_PATTERN = '补班|上班|调休上班|workday|working day'

export interface ImportedDay {
  date: string
  working: boolean
  /** the event's summary */
  note: string
}

const addDay = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
const MAX_DAYS_PER_EVENT = 366

export function daysFromIcs(text: string, workingDayPattern: RegExp): ImportedDay[] {
  let parsed: unknown
  try {
    parsed = ICAL.parse(text)
  } catch (err) {
    throw unprocessable('/body/ics', `is not an iCalendar file: ${(err as Error).message}`)
  }
  // ICAL.parse answers one component, a list of them when the text holds several, and an empty list when it
  // holds none (blank text): only one VCALENDAR is a calendar to import
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'string') {
    const count = Array.isArray(parsed) ? parsed.length : 0
    throw unprocessable('/body/ics', count > 1 ? `holds ${count} components where one VCALENDAR is expected` : 'is not an iCalendar file: it holds no component')
  }
  const calendar = new ICAL.Component(parsed as unknown[])
  if (calendar.name !== 'vcalendar') throw unprocessable('/body/ics', `is not an iCalendar file: its component is ${calendar.name.toUpperCase()}, not VCALENDAR`)
  const events = calendar.getAllSubcomponents('vevent').map((c) => new ICAL.Event(c))
  if (events.length === 0) throw unprocessable('/body/ics', 'holds no events (VEVENT)')
  const days = new Map<string, ImportedDay>()
  for (const event of events) {
    const name = `event "${event.summary ?? ''}" (${event.uid ?? 'no UID'})`
    if (!event.startDate) throw unprocessable('/body/ics', `${name} has no DTSTART`)
    if (!event.startDate.isDate) throw unprocessable('/body/ics', `${name} is not an all-day event: overrides are whole days`)
    if (event.isRecurring()) throw unprocessable('/body/ics', `${name} repeats (RRULE): holiday dates change every year, list each one`)
    const first = event.startDate.toString()
    // DTEND of an all-day event is exclusive; without one the event lasts its start day
    const end = event.endDate && event.endDate.toString() > first ? event.endDate.toString() : addDay(first)
    const summary = (event.summary ?? '').trim().slice(0, 200)
    const working = workingDayPattern.test(summary)
    let count = 0
    for (let date = first; date < end; date = addDay(date)) {
      if (++count > MAX_DAYS_PER_EVENT) throw unprocessable('/body/ics', `${name} lasts more than ${MAX_DAYS_PER_EVENT} days`)
      if (!isValidDate(date)) throw unprocessable('/body/ics', `${name}: ${date} is outside 1900–2999`)
      const seen = days.get(date)
      if (seen && seen.working !== working) throw unprocessable('/body/ics', `${date} is both a working day ("${seen.note}") and a day off ("${summary}") in this file`)
      days.set(date, { date, working, note: summary || (working ? 'working day' : 'day off') })
    }
  }
  return [...days.values()].sort((a, b) => a.date.localeCompare(b.date))
}
