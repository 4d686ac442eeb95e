import { sql, type Kysely } from 'kysely'

// Frozen. Seed 002 §3.11: any expiry of the closure limit makes the closure second-time, even when an
// upgrade restarted the clocks and the complaint then closed inside the new cycle. The flag keeps that
// fact on the complaint; complaints already escalated get it from their recorded closure breaches.
const statements = [
  `alter table complaints add column closure_limit_missed boolean not null default false`,
  `update complaints c set closure_limit_missed = true
     where exists (select 1 from breaches b where b.complaint_id = c.id and b.clock = 'closure')`,
]

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('alter table complaints drop column if exists closure_limit_missed').execute(db)
}
