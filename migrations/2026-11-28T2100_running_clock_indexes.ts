import { sql, type Kysely } from 'kysely'

// The breach sweep, the due-soon sweep and the escalation run look for running clocks past a
// deadline. The deadline indexes (`… where <clock>_due_at is not null`) also hold every closed
// complaint, whose deadlines all lie in the past: over a million complaints each sweep walked the
// whole index and the table behind it (npm run bench: 17 s, and 64 s for 10,000 escalations). These
// partial indexes hold only the clocks still running — their predicates are the running conditions of
// src/sla/clock-sql.ts, word for word, so the planner proves them — and stay as small as the open work.
const running = {
  handover: `signed_at is null`,
  first_reply: `signed_at is not null and first_replied_at is null`,
  closure: `closure_requested_at is null and status <> 'deferred' and deferral_requested_at is null`,
  callback: `closure_requested_at is not null and callback_at is null`,
}
const statements = Object.entries(running).flatMap(([clock, condition]) => (['due', 'warn'] as const).map((column) =>
  `create index complaints_${clock}_${column}_running on complaints (${clock}_${column}_at)
     where ${condition}
    and paused_at is null and status not in ('closed', 'withdrawn')`))

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const clock of Object.keys(running)) {
    for (const column of ['due', 'warn']) await sql.raw(`drop index if exists complaints_${clock}_${column}_running`).execute(db)
  }
}
