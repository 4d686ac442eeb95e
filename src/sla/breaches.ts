import type { Transaction } from 'kysely'
import { inBatches, type Append } from '../db/batches.js'
import type { Actor, Complaint, Database } from '../db/types.js'
import { overdueClocks } from '../domain/clocks.js'
import { timelineAppend } from '../complaints/repository.js'
import { eventAppend } from '../outbox/outbox.js'
import { complaintEventData, type EventView } from '../complaints/events.js'

/** the scheduler as it appears on the timeline and in the audit log */
export const SCHEDULER: Actor = { type: 'system', id: null, role: null, name: 'scheduler' }

/**
 * A clock already past its deadline when a step runs (signing, a reply, a closure request, a
 * callback, a pause — or a step that restarts the clocks) is a breach even if the minute's sweep has
 * not seen it yet: recorded here, in the step's transaction, for the cycle it ran in, once per
 * complaint, clock and cycle like the sweep's. One statement for a whole batch of steps; the breaches'
 * timeline entries and events are returned, for the step to append with its own (`appendAll`).
 */
export async function recordStoppedLate(trx: Transaction<Database>, changed: Array<{ before: Complaint; after: Complaint }>, view: EventView): Promise<Append[]> {
  const { now } = view
  const overdue = changed.flatMap(({ before, after }) => overdueClocks(before, now).map((o) => ({ before, after, ...o })))
  if (overdue.length === 0) return []
  const byId = new Map(changed.map((c) => [c.before.id, c]))
  const inserted: Array<{ complaint_id: string; clock: string; cycle: number; due_at: Date }> = []
  for (const batch of inBatches(overdue)) {
    inserted.push(...await trx.insertInto('breaches')
      .values(batch.map((o) => ({
        complaint_id: o.before.id, clock: o.clock, cycle: o.before.clock_cycle, due_at: o.dueAt, detected_at: now, department_id: o.before.department_id, level: o.before.level,
      })))
      .onConflict((oc) => oc.columns(['complaint_id', 'clock', 'cycle']).doNothing())
      .returning(['complaint_id', 'clock', 'cycle', 'due_at'])
      .execute())
  }
  const facts = (b: (typeof inserted)[number]) => ({ clock: b.clock, cycle: b.cycle, dueAt: b.due_at.toISOString() })
  return [
    timelineAppend(inserted.map((b) => {
      const { before } = byId.get(b.complaint_id)!
      return { complaintId: b.complaint_id, at: now, actor: SCHEDULER, action: 'sla_breached', fromStatus: before.status, toStatus: before.status, before: {}, after: {}, data: facts(b) }
    })),
    eventAppend(inserted.map((b) => ({ type: 'sla.breached', complaintId: b.complaint_id, occurredAt: now, data: complaintEventData(byId.get(b.complaint_id)!.after, facts(b), view) }))),
  ]
}
