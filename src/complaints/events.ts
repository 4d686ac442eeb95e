import type { Kysely } from 'kysely'
import type { Services } from '../context.js'
import type { Complaint, Database } from '../db/types.js'
import type { BusinessCalendar } from '../domain/calendar.js'
import { toComplaintDto } from './representation.js'

/** what a complaint event shows the complaint as of: the moment of the change */
export interface EventView {
  now: Date
  calendar: BusinessCalendar
  reopenWindowDays: number
}

export async function eventView(s: Services, now: Date, via?: Kysely<Database>): Promise<EventView> {
  return { now, calendar: await s.sla.calendar(via), reopenWindowDays: s.config.REOPEN_WINDOW_DAYS }
}

/**
 * What every complaint event carries: the complaint as GET /v1/complaints/{id} shows it at the
 * moment of the change — with its `version`, so a receiver can drop an update older than the one it
 * holds, its complainant's external ids, so a CRM finds its own record, and its clocks and allowed
 * actions as of then — and the facts of the step. Subscribers are integrations: PII is not masked.
 */
export function complaintEventData(c: Complaint, facts: Record<string, unknown>, view: EventView): Record<string, unknown> {
  return { complaint: toComplaintDto(c, { ...view, maskPii: false }), facts }
}
