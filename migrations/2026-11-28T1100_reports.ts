import { sql, type Kysely } from 'kysely'

// Frozen. Reports and statistics (SPEC §4): the index every report query starts from, the
// denominators the organisation posts, stored (published) reports, CAPA measure ids and review due
// dates, the once-only review-due notices, and retention (anonymisation) with its one narrow
// exception to the append-only timeline and audit log.

// The review due date of measures recorded before this migration: 30 days (the default of
// CAPA_REVIEW_DAYS when this was written) after the measure's due date, or after the day of the
// investigation in Asia/Shanghai (the default business time zone).
const BACKFILL_REVIEW_DAYS = 30
const BACKFILL_TIME_ZONE = 'Asia/Shanghai'

const statements = [
  // every report figure is over the complaints received in a period
  `create index complaints_received on complaints (received_at)`,
  // retention: complaints ended (closed or withdrawn) and not yet anonymised, by when they ended
  `alter table complaints add column anonymised_at timestamptz`,
  `create index complaints_retention_due on complaints ((coalesce(closed_at, withdrawn_at)))
     where anonymised_at is null and status in ('closed', 'withdrawn')`,
  // CAPA: the earliest review due date among the measures not yet reviewed (null: none waits)
  `alter table complaints add column capa_review_due date`,
  `create index complaints_capa_review_due on complaints (capa_review_due) where capa_review_due is not null`,
  // retention rewrites the events of the complaints it anonymises
  `create index outbox_events_complaint on outbox_events (complaint_id) where complaint_id is not null`,

  `create table denominators (
     category_id text not null references categories(id),
     period text not null check (period in ('week', 'month')),
     period_start date not null,
     kind text not null check (kind in ('orders', 'customers', 'vehicles')),
     value integer not null check (value > 0),
     created_at timestamptz not null,
     updated_at timestamptz not null,
     primary key (period, period_start, category_id))`,

  `create table reports (
     id uuid primary key,
     kind text not null check (kind in ('weekly', 'monthly')),
     period_start date not null,
     period_end date not null,
     generated_at timestamptz not null,
     figures jsonb not null,
     created_at timestamptz not null,
     unique (kind, period_start))`,
  `create index reports_list on reports (created_at desc, id desc)`,
  // a published report keeps its figures: the database refuses to change or delete one
  `create function forbid_report_change() returns trigger language plpgsql as $$
   begin
     raise exception 'reports are immutable once stored';
   end $$`,
  `create trigger reports_immutable before update or delete on reports
     for each row execute function forbid_report_change()`,

  `create table capa_review_notices (
     complaint_id uuid not null references complaints(id),
     measure_id text not null,
     review_due date not null,
     notified_at timestamptz not null,
     primary key (complaint_id, measure_id))`,

  // measures recorded before measures had ids get one, and a review due date
  `update complaints c set capa = jsonb_set(c.capa, '{measures}', (
     select coalesce(jsonb_agg(m || jsonb_build_object(
       'id', gen_random_uuid()::text,
       'reviewDueDate', to_char(coalesce((m->>'dueDate')::date, (coalesce(c.investigated_at, c.updated_at) at time zone '${BACKFILL_TIME_ZONE}')::date) + ${BACKFILL_REVIEW_DAYS}, 'YYYY-MM-DD'))
       order by e.ord), '[]'::jsonb)
     from jsonb_array_elements(c.capa->'measures') with ordinality as e(m, ord)))
   where c.capa is not null`,
  `update complaints c set capa_review_due = (
     select min((m->>'reviewDueDate')::date) from jsonb_array_elements(c.capa->'measures') m where m->'review' is null)
   where c.capa is not null`,

  // The timeline and the audit log stay append-only, with one exception: the retention job, and only
  // it, sets `complaints.anonymising` for its own transaction (set_config(…, true)) and may then
  // rewrite the before/after/data of entries of complaints it has already marked anonymised — never
  // delete an entry, never change who, when, what or which complaint.
  `create or replace function forbid_timeline_change() returns trigger language plpgsql as $$
   begin
     if tg_op = 'UPDATE'
        and coalesce(current_setting('complaints.anonymising', true), '') = 'on'
        and new.id = old.id and new.complaint_id = old.complaint_id and new.at = old.at and new.actor = old.actor
        and new.action = old.action and new.from_status is not distinct from old.from_status and new.to_status = old.to_status
        and exists (select 1 from complaints c where c.id = old.complaint_id and c.anonymised_at is not null) then
       return new;
     end if;
     raise exception 'complaint_timeline is append-only';
   end $$`,
  `create or replace function forbid_audit_change() returns trigger language plpgsql as $$
   begin
     if tg_op = 'UPDATE'
        and coalesce(current_setting('complaints.anonymising', true), '') = 'on'
        and old.entity_type = 'complaint'
        and new.id = old.id and new.at = old.at and new.actor_key_id is not distinct from old.actor_key_id
        and new.actor_role is not distinct from old.actor_role and new.actor_name is not distinct from old.actor_name
        and new.operation = old.operation and new.entity_type = old.entity_type and new.entity_id = old.entity_id
        and new.request_id is not distinct from old.request_id
        and exists (select 1 from complaints c where c.id::text = old.entity_id and c.anonymised_at is not null) then
       return new;
     end if;
     raise exception 'audit_log is append-only';
   end $$`,
]

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw(`create or replace function forbid_timeline_change() returns trigger language plpgsql as $$
   begin
     raise exception 'complaint_timeline is append-only';
   end $$`).execute(db)
  await sql.raw(`create or replace function forbid_audit_change() returns trigger language plpgsql as $$
   begin
     raise exception 'audit_log is append-only';
   end $$`).execute(db)
  for (const table of ['capa_review_notices', 'reports', 'denominators']) await sql.raw(`drop table if exists ${table}`).execute(db)
  await sql.raw('drop function if exists forbid_report_change()').execute(db)
  for (const index of ['outbox_events_complaint', 'complaints_received', 'complaints_retention_due', 'complaints_capa_review_due']) await sql.raw(`drop index if exists ${index}`).execute(db)
  for (const column of ['anonymised_at', 'capa_review_due']) await sql.raw(`alter table complaints drop column if exists ${column}`).execute(db)
}
