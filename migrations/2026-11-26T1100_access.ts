import { sql, type Kysely } from 'kysely'

// Frozen. API keys (only a hash of the secret is stored) and the append-only audit log (SPEC §6).
const statements = [
  `create table api_keys (
     id uuid primary key,
     name text not null,
     role text not null check (role in ('cs_agent', 'cs_manager', 'department', 'management', 'finance', 'auditor', 'integration', 'admin')),
     department_id text references departments(id),
     prefix text not null,
     secret_hash text not null unique,
     created_at timestamptz not null,
     created_by uuid,
     last_used_at timestamptz,
     revoked_at timestamptz,
     rotated_to uuid,
     check ((role = 'department') = (department_id is not null)))`,
  `create table audit_log (
     id bigint generated always as identity primary key,
     at timestamptz not null,
     actor_key_id uuid,
     actor_role text,
     actor_name text,
     operation text not null,
     entity_type text not null,
     entity_id text not null,
     before jsonb,
     after jsonb,
     request_id text)`,
  `create index audit_log_entity on audit_log (entity_type, entity_id, id)`,
  `create index audit_log_actor on audit_log (actor_key_id, id)`,
  `create function forbid_audit_change() returns trigger language plpgsql as $$
   begin
     raise exception 'audit_log is append-only';
   end $$`,
  `create trigger audit_log_append_only before update or delete on audit_log
     for each row execute function forbid_audit_change()`,
]

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists audit_log').execute(db)
  await sql.raw('drop function if exists forbid_audit_change()').execute(db)
  await sql.raw('drop table if exists api_keys').execute(db)
}
