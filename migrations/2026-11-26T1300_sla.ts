import { sql, type Kysely } from 'kysely'

// Frozen. SLA policies as versioned data, calendar overrides, pauses, clock cycles, due-soon
// thresholds, breaches and the scheduler's coordination tables (SPEC §3.1–§3.3).

// SPEC §3.1 defaults as they stood when this migration was written (version 1).
const bizHours = (h: number) => ({ unit: 'business_minutes', amount: h * 60 })
const bizDays = (d: number) => ({ unit: 'business_days', amount: d })
const calMinutes = (m: number) => ({ unit: 'calendar_minutes', amount: m })
const calDays = (d: number) => ({ unit: 'calendar_days', amount: d })
const external = { handover: calMinutes(30), firstReply: calMinutes(180), closure: calDays(3) }
const policyV1 = {
  levels: {
    general: { handover: { unit: 'end_of_business_day' }, firstReply: bizDays(1), closure: bizDays(3) },
    moderate: { handover: bizHours(4), firstReply: bizHours(8), closure: bizDays(3) },
    strong: { handover: calMinutes(30), firstReply: calMinutes(180), closure: calDays(3) },
    irrational: { handover: bizDays(1), firstReply: bizDays(1), closure: bizDays(5) },
  },
  channelOverrides: {
    hotline_400: { firstReply: calMinutes(180), closure: bizDays(3) },
    media: external,
    consumer_association: external,
    government: external,
  },
  callback: calMinutes(12 * 60),
  dueSoonRatio: 0.8,
  upgradeMap: { general: 'moderate', moderate: 'strong', strong: 'strong' },
}

const statements = [
  `create table sla_policies (
     version integer primary key,
     policy jsonb not null,
     note text,
     created_at timestamptz not null default now(),
     created_by text)`,
  `insert into sla_policies (version, policy, note) values (1, '${JSON.stringify(policyV1)}', 'SPEC §3.1 defaults')`,
  `alter table complaints add column sla_policy_version integer not null default 1 references sla_policies(version)`,
  `alter table complaints add column clock_cycle integer not null default 1`,
  `alter table complaints add column paused_at timestamptz`,
  `alter table complaints add column pauses jsonb not null default '[]'`,
  `alter table complaints add column handover_warn_at timestamptz`,
  `alter table complaints add column first_reply_warn_at timestamptz`,
  `alter table complaints add column closure_warn_at timestamptz`,
  `alter table complaints add column callback_warn_at timestamptz`,
  `create index complaints_handover_warn on complaints (handover_warn_at) where handover_warn_at is not null`,
  `create index complaints_first_reply_warn on complaints (first_reply_warn_at) where first_reply_warn_at is not null`,
  `create index complaints_closure_warn on complaints (closure_warn_at) where closure_warn_at is not null`,
  `create index complaints_callback_warn on complaints (callback_warn_at) where callback_warn_at is not null`,
  `create table calendar_overrides (
     day date primary key,
     working boolean not null,
     note text,
     created_at timestamptz not null default now())`,
  // one row per complaint, clock and cycle: a breach is recorded once however often the sweep runs
  `create table breaches (
     id bigint generated always as identity primary key,
     complaint_id uuid not null references complaints(id),
     clock text not null check (clock in ('handover', 'first_reply', 'closure', 'callback')),
     cycle integer not null,
     due_at timestamptz not null,
     detected_at timestamptz not null,
     department_id text,
     level text,
     unique (complaint_id, clock, cycle))`,
  `create index breaches_detected on breaches (detected_at)`,
  `create table due_soon_notices (
     complaint_id uuid not null references complaints(id),
     clock text not null,
     cycle integer not null,
     warned_at timestamptz not null,
     primary key (complaint_id, clock, cycle))`,
  // node-cron's run coordinator: one row per job and tick (insert-once), one lease per job
  `create table job_ticks (
     key text primary key,
     job text not null,
     holder text not null,
     claimed_at timestamptz not null,
     finished_at timestamptz)`,
  `create index job_ticks_claimed on job_ticks (claimed_at)`,
  `create table job_leases (
     job text primary key,
     holder text not null,
     lease_until timestamptz not null)`,
]

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['job_leases', 'job_ticks', 'due_soon_notices', 'breaches', 'calendar_overrides']) await sql.raw(`drop table if exists ${table}`).execute(db)
  for (const column of ['sla_policy_version', 'clock_cycle', 'paused_at', 'pauses', 'handover_warn_at', 'first_reply_warn_at', 'closure_warn_at', 'callback_warn_at']) {
    await sql.raw(`alter table complaints drop column if exists ${column}`).execute(db)
  }
  await sql.raw('drop table if exists sla_policies').execute(db)
}
