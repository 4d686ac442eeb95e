import { sql, type Kysely } from 'kysely'

// Frozen. Webhook subscriptions, one delivery per subscription and event, and every attempt (SPEC §5).
const statements = [
  `create table webhook_subscriptions (
     id uuid primary key,
     url text not null,
     event_types jsonb not null,
     description text,
     status text not null default 'active' check (status in ('active', 'paused', 'disabled')),
     secret text not null,
     previous_secret text,
     previous_secret_until timestamptz,
     failing_since timestamptz,
     disabled_reason text,
     created_at timestamptz not null,
     updated_at timestamptz not null)`,
  `create table webhook_deliveries (
     id uuid primary key,
     subscription_id uuid not null references webhook_subscriptions(id) on delete cascade,
     event_id text not null,
     event_type text not null,
     occurred_at timestamptz not null,
     status text not null check (status in ('pending', 'sending', 'retrying', 'succeeded', 'dead')),
     attempts integer not null default 0,
     next_attempt_at timestamptz not null,
     locked_until timestamptz,
     last_status_code integer,
     last_error text,
     last_latency_ms integer,
     created_at timestamptz not null,
     delivered_at timestamptz,
     unique (subscription_id, event_id))`,
  `create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status in ('pending', 'retrying', 'sending')`,
  `create index webhook_deliveries_log on webhook_deliveries (subscription_id, created_at desc, id desc)`,
  `create table webhook_attempts (
     id bigint generated always as identity primary key,
     delivery_id uuid not null references webhook_deliveries(id) on delete cascade,
     attempted_at timestamptz not null,
     status_code integer,
     latency_ms integer not null,
     error text,
     next_attempt_at timestamptz)`,
  `create index webhook_attempts_by_delivery on webhook_attempts (delivery_id, id)`,
]

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['webhook_attempts', 'webhook_deliveries', 'webhook_subscriptions']) await sql.raw(`drop table if exists ${table}`).execute(db)
}
