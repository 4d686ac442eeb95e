import type { Transaction } from 'kysely'
import type { Actor, Complaint, Database } from '../db/types.js'
import { overdueClocks } from '../domain/clocks.js'
import { appendTimeline } from '../complaints/repository.js'
import { appendEvents } from '../outbox/outbox.js'
import { complaintEventData, type EventView } from '../complaints/events.js'

/** the scheduler as it appears on the timeline and in the audit log */
export const SCHEDULER: Actor = { type: 'system', id: null, role: null, name: 'scheduler' }

/**
 * A clock already past its deadline when a step runs (signing, a reply, a closure request, a
 * callback, a pause — or a step that restarts the clocks) is a breach even if the minute's sweep has
 * not seen it yet: recorded here, in the step's transaction, for the cycle it ran in, once per
 * complaint, clock and cycle like the sweep's.
 */
export async function recordStoppedLate(trx: Transaction<Database>, before: Complaint, after: Complaint, view: EventView): Promise<void> {
  const { now } = view
  const overdue = overdueClocks(before, now)
  if (overdue.length === 0) return
  const inserted = await trx.insertInto('breaches')
    .values(overdue.map((o) => ({
      complaint_id: before.id, clock: o.clock, cycle: before.clock_cycle, due_at: o.dueAt, detected_at: now, department_id: before.department_id, level: before.level,
    })))
    .onConflict((oc) => oc.columns(['complaint_id', 'clock', 'cycle']).doNothing())
    .returning(['clock', 'cycle', 'due_at'])
    .execute()
  const facts = (b: (typeof inserted)[number]) => ({ clock: b.clock, cycle: b.cycle, dueAt: b.due_at.toISOString() })
  await appendTimeline(trx, ...inserted.map((b) => ({
    complaintId: before.id, at: now, actor: SCHEDULER, action: 'sla_breached', fromStatus: before.status, toStatus: before.status, before: {}, after: {}, data: facts(b),
  })))
  await appendEvents(trx, inserted.map((b) => ({ type: 'sla.breached', complaintId: before.id, occurredAt: now, data: complaintEventData(after, facts(b), view) })))
}
