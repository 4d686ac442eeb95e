import { sql, type Kysely } from 'kysely'

// Frozen. What operations read from the database at scrape time:
// - a scheduler tick records whether its run succeeded, so the last successful run of each job is
//   known (null while it runs, or for ticks claimed before this migration: their outcome was not kept);
// - the timeline is counted over the last hour by action (lifecycle throughput), which needs `at`
//   indexed. The index is built inside the migration's transaction: writes to the timeline wait for it.
const statements = [
  `alter table job_ticks add column succeeded boolean`,
  `create index job_ticks_succeeded on job_ticks (job, finished_at) where succeeded`,
  `create index complaint_timeline_at on complaint_timeline (at)`,
]

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('drop index if exists complaint_timeline_at').execute(db)
  await sql.raw('drop index if exists job_ticks_succeeded').execute(db)
  await sql.raw('alter table job_ticks drop column if exists succeeded').execute(db)
}
