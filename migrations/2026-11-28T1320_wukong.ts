import { sql, type Kysely } from 'kysely'

// Frozen. The 悟空CRM connector (issue 13): a mirror of the CRM's customers in the complainant's terms,
// the CRM records already received as complaints (so each becomes one complaint, however often it is
// sent), and the cursor of the scheduled customer pull.
const statements = [
  `create table wukong_customers (
     customer_id integer primary key,
     name text not null,
     phone text,
     email text,
     address text,
     crm_status smallint not null check (crm_status in (1, 2, 3)),
     crm_update_time timestamptz not null,
     created_at timestamptz not null,
     updated_at timestamptz not null)`,
  `create table wukong_complaint_imports (
     import_key text primary key,
     request_hash text not null,
     complaint_id uuid references complaints(id),
     customer_id integer not null,
     crm_category text,
     created_at timestamptz not null)`,
  `create table wukong_pull_state (
     stream text primary key,
     cursor_time timestamptz,
     cursor_page integer not null default 1,
     last_run_at timestamptz,
     last_result jsonb,
     updated_at timestamptz not null)`,
]

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['wukong_pull_state', 'wukong_complaint_imports', 'wukong_customers']) await sql.raw(`drop table if exists ${table}`).execute(db)
}
