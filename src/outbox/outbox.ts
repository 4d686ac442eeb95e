import { randomUUID } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import type { Complaint, Database } from '../db/types.js'

/**
 * The one way the service emits an event: a row in outbox_events written inside the transaction of
 * the change that caused it (transactional outbox, SPEC §5). Delivery reads this table.
 */
export interface OutboxEvent {
  type: string
  complaintId: string | null
  occurredAt: Date
  data: Record<string, unknown>
}

export async function appendEvents(trx: Transaction<Database> | Kysely<Database>, events: OutboxEvent[]): Promise<void> {
  if (events.length === 0) return
  await trx
    .insertInto('outbox_events')
    .values(
      events.map((e) => {
        const eventId = `msg_${randomUUID()}`
        return {
          event_id: eventId,
          type: e.type,
          complaint_id: e.complaintId,
          occurred_at: e.occurredAt,
          payload: JSON.stringify({ id: eventId, type: e.type, occurredAt: e.occurredAt.toISOString(), data: e.data }),
        }
      }),
    )
    .execute()
}

/**
 * What every complaint event carries: enough for a CRM to find its own record (external ids) and to
 * drop an update older than one it holds (version, occurredAt). PII beyond the name stays out.
 */
export function complaintEventData(c: Complaint, facts: Record<string, unknown>): Record<string, unknown> {
  return {
    complaint: {
      id: c.id,
      reference: c.reference,
      status: c.status,
      version: c.version,
      channel: c.channel,
      level: c.level,
      major: c.major,
      externalBody: c.external_body,
      categoryId: c.category_id,
      departmentId: c.department_id,
      complainant: { name: c.complainant_name, externalIds: c.complainant_external_ids },
    },
    facts,
  }
}
