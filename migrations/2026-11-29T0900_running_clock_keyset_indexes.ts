import { sql, type Kysely } from 'kysely'

// The breach and due-soon sweeps take each clock's backlog in batches along (threshold, id), the order
// that makes a keyset position exact when many deadlines share an instant (every complaint received over
// a weekend is due at the same 18:00). The running-clock indexes held the threshold alone, so a batch's
// `(threshold, id) > (…)` was a filter and its `order by threshold, id limit n` a sort: every batch read
// the whole remaining backlog of its clock, probed each row's breach, and sorted it to keep 250 (over a
// million complaints with 21,000 clocks overdue: 5,000 rows read per batch on average, 1.3 s of a 3.6 s
// sweep, npm run bench). With the id in the index the position is an index condition, and with the
// sweep's ORDERED_WALK (src/jobs/sla-sweep.ts) the batch reads its own rows and no others. Same names and predicates as before (src/sla/clock-sql.ts, word for word);
// the escalation run's `order by closure_due_at` uses them as it used the old ones. Rebuilding them
// holds a SHARE lock on complaints (writes wait, reads go on) for eight partial-index builds: 2.3 s
// over a million complaints on the bench machine.
const running = {
  handover: `signed_at is null`,
  first_reply: `signed_at is not null and first_replied_at is null`,
  closure: `closure_requested_at is null and status <> 'deferred' and deferral_requested_at is null`,
  callback: `closure_requested_at is not null and callback_at is null`,
}
const indexes = (withId: boolean) => Object.entries(running).flatMap(([clock, condition]) => (['due', 'warn'] as const).map((column) => [
  `drop index if exists complaints_${clock}_${column}_running`,
  `create index complaints_${clock}_${column}_running on complaints (${clock}_${column}_at${withId ? ', id' : ''})
     where ${condition}
    and paused_at is null and status not in ('closed', 'withdrawn')`,
]).flat())

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of indexes(true)) await sql.raw(statement).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const statement of indexes(false)) await sql.raw(statement).execute(db)
}
