import { sql, type Kysely } from 'kysely'

// Frozen. Penalty rules as versioned data, penalty notices (《客户抱怨闭环处理处罚通知单》), their
// per-year number counter and the weekly bulletin (《执行部门抱怨闭环处理处罚通报》) — seed 002 §7.6–§7.9.

// The defaults as they stood when this migration was written (version 1), in fen.
const rulesV1 = {
  handoverLateFen: 5_000,
  firstReplyLateFen: 5_000,
  closureStandardFen: { general: 20_000, moderate: 50_000, strong: 100_000, irrational: 10_000 },
  monthlyMultiplier: 2,
  monthlyGrowth: 'linear',
}

const statements = [
  `create table penalty_rules (
     version integer primary key,
     rules jsonb not null,
     note text,
     created_at timestamptz not null default now(),
     created_by text)`,
  `insert into penalty_rules (version, rules, note) values (1, '${JSON.stringify(rulesV1)}', 'seed 002 §7.6 with the defaults of docs/penalties.md')`,
  `create table penalty_bulletins (
     id uuid primary key,
     week_start text not null unique check (week_start ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
     status text not null check (status in ('draft', 'signed')),
     notices integer not null,
     total_fen bigint not null check (total_fen >= 0),
     drawn_up_at timestamptz not null,
     drawn_up_by jsonb not null,
     signed_at timestamptz,
     signed_by jsonb,
     check ((status = 'signed') = (signed_at is not null)))`,
  // one row per complaint, kind and period (the cycle of a breach, the month of a monthly notice):
  // running the job twice, or on two replicas at once, issues nothing twice
  `create table penalty_notices (
     id uuid primary key,
     number text unique,
     complaint_id uuid not null references complaints(id),
     complaint_reference text not null,
     kind text not null check (kind in ('handover_late', 'first_reply_late', 'closure_limit', 'monthly')),
     period integer not null check (period >= 1),
     breach_id bigint references breaches(id),
     department_id text references departments(id),
     level text not null,
     standard_fen bigint not null check (standard_fen >= 0),
     factor bigint not null check (factor >= 1),
     amount_fen bigint not null check (amount_fen >= 0),
     rules_version integer not null references penalty_rules(version),
     owed_at timestamptz not null,
     reason text not null,
     status text not null check (status in ('issued', 'contested', 'upheld', 'waived', 'confirmed', 'fulfilled', 'unassigned')),
     issued_at timestamptz not null,
     bulletin_id uuid references penalty_bulletins(id),
     history jsonb not null,
     updated_at timestamptz not null,
     unique (complaint_id, kind, period),
     -- a notice is numbered in its issuing transaction, after the insert; an unassigned finding never is
     check (number is null or status <> 'unassigned'),
     check ((department_id is null) = (status = 'unassigned')))`,
  `create index penalty_notices_issued on penalty_notices (issued_at desc, id desc)`,
  `create index penalty_notices_department on penalty_notices (department_id, issued_at desc, id desc)`,
  `create index penalty_notices_bulletin on penalty_notices (bulletin_id)`,
  `create index penalty_notices_breach on penalty_notices (breach_id)`,
  // what the next bulletin can take: not in one yet, issued or upheld (or unassigned, listed apart)
  `create index penalty_notices_unbulletined on penalty_notices (issued_at) where bulletin_id is null`,
  // how many months since receipt the job has judged per complaint, so each month is looked at once
  `create table penalty_months_checked (
     complaint_id uuid primary key references complaints(id),
     months integer not null)`,
  `create table penalty_notice_counters (
     year integer primary key,
     last_value integer not null)`,
  `create table penalty_bulletin_lines (
     bulletin_id uuid not null references penalty_bulletins(id),
     department_id text not null references departments(id),
     kind text not null,
     notices integer not null check (notices >= 1),
     amount_fen bigint not null check (amount_fen >= 0),
     primary key (bulletin_id, department_id, kind))`,
  // a signed bulletin is the document the general manager signed: neither it nor its lines change
  `create function forbid_signed_bulletin_change() returns trigger language plpgsql as $$
   begin
     if tg_table_name = 'penalty_bulletins' then
       if old.status = 'signed' then raise exception 'penalty bulletin % is signed and cannot change', old.id; end if;
     elsif exists (select 1 from penalty_bulletins b where b.id = old.bulletin_id and b.status = 'signed') then
       raise exception 'the lines of signed penalty bulletin % cannot change', old.bulletin_id;
     end if;
     if tg_op = 'DELETE' then return old; end if;
     return new;
   end $$`,
  `create trigger penalty_bulletins_signed before update or delete on penalty_bulletins
     for each row execute function forbid_signed_bulletin_change()`,
  `create trigger penalty_bulletin_lines_signed before update or delete on penalty_bulletin_lines
     for each row execute function forbid_signed_bulletin_change()`,
]

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['penalty_bulletin_lines', 'penalty_notice_counters', 'penalty_months_checked', 'penalty_notices', 'penalty_bulletins', 'penalty_rules']) {
    await sql.raw(`drop table if exists ${table}`).execute(db)
  }
  await sql.raw('drop function if exists forbid_signed_bulletin_change()').execute(db)
}
