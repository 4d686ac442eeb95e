import { sql, type Kysely } from 'kysely'

// Frozen. The housekeeping job prunes operational rows in small batches (src/jobs/housekeeping.ts);
// each batch finds its rows through an index, so a batch never scans the hot tables:
// - finished deliveries by age, and deliveries by event (an event goes once no delivery needs its body);
// - dispatched outbox events by dispatch time.
const statements = [
  `create index webhook_deliveries_finished on webhook_deliveries (created_at) where status in ('succeeded', 'dead')`,
  `create index webhook_deliveries_event on webhook_deliveries (event_id)`,
  `create index outbox_events_dispatched on outbox_events (dispatched_at) where dispatched_at is not null`,
  `create index idempotency_keys_created on idempotency_keys (created_at)`,
]

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of ['idempotency_keys_created', 'outbox_events_dispatched', 'webhook_deliveries_event', 'webhook_deliveries_finished']) {
    await sql.raw(`drop index if exists ${index}`).execute(db)
  }
}
