import type { Kysely, Transaction } from 'kysely'
import type { Database } from '../db/types.js'
import { uuidv7 } from '../db/uuidv7.js'
import { insertRows, type Append } from '../db/batches.js'

/**
 * The one way the service emits an event: a row in outbox_events written inside the transaction of
 * the change that caused it (transactional outbox, README: Webhooks). The webhook dispatcher reads this table.
 * Envelope: { id (msg_ + UUIDv7, sortable; also the `webhook-id`), type, occurredAt, data }. The caller
 * hands over the data it wants published: the outbox knows no feature.
 */
export interface OutboxEvent {
  type: string
  complaintId: string | null
  occurredAt: Date
  data: Record<string, unknown>
}

export async function appendEvents(trx: Transaction<Database> | Kysely<Database>, events: OutboxEvent[]): Promise<void> {
  await insertRows(trx, eventAppend(events))
}

/** events as rows of the outbox, to append with `appendEvents` or (a step's, with its timeline and audit entries) `appendAll` */
export const eventAppend = (events: readonly OutboxEvent[]): Append => ({
  table: 'outbox_events',
  // kilobytes each (the complaint as of the event): sent beside the rows, as text (db/batches.ts)
  documents: { payload: 'json' },
  rows: events.map((e) => {
    const eventId = `msg_${uuidv7(e.occurredAt.getTime())}`
    const occurredAt = e.occurredAt.toISOString()
    // the payload is stored as this JSON text and delivered as stored
    return { event_id: eventId, type: e.type, complaint_id: e.complaintId, occurred_at: occurredAt, payload: { id: eventId, type: e.type, occurredAt, data: e.data } }
  }),
})
