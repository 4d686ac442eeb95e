import { sql, type RawBuilder } from 'kysely'
import type { Services } from '../context.js'

/** rows one statement deletes: each batch is its own short transaction, so no hot table stays locked */
export const PRUNE_BATCH = 1000
/** batches per table and run: a backlog (the first run on an old installation) is worked off over several runs */
export const PRUNE_MAX_BATCHES = 200

const DAY_MS = 86_400_000

/**
 * Deletes, batch by batch, the rows `batch` selects (a `select … limit … for update skip locked` of
 * keys), until a batch comes back short or the run's budget is spent. Rows a running request or
 * dispatcher holds are skipped, not waited for.
 */
async function prune(s: Services, statement: (limit: number) => RawBuilder<unknown>): Promise<number> {
  let total = 0
  for (let i = 0; i < PRUNE_MAX_BATCHES; i++) {
    const result = await statement(PRUNE_BATCH).execute(s.db)
    const n = Number(result.numAffectedRows ?? 0)
    total += n
    if (n < PRUNE_BATCH) break
  }
  return total
}

/**
 * Hourly: drops operational rows that have served their purpose, in bounded batches.
 * - successful deliveries created more than OUTBOX_RETENTION_DAYS ago, dead-lettered ones (replayable
 *   until then) after DEAD_LETTER_RETENTION_DAYS, each with its attempt log (cascade);
 * - dispatched outbox events older than OUTBOX_RETENTION_DAYS that no remaining delivery needs
 *   (a delivery reads its body from the event, and a replay too);
 * - Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS (their stored responses hold the complaint as
 *   first returned);
 * - scheduler ticks older than a week, but each job's last successful one.
 * The complaint record — timeline, audit log, replies, breaches, notices — is never pruned here
 * (complainant data is anonymised by the retention job instead).
 */
export async function housekeeping(s: Services, now: Date) {
  const c = s.config
  const delivered = new Date(now.getTime() - c.OUTBOX_RETENTION_DAYS * DAY_MS)
  const dead = new Date(now.getTime() - c.DEAD_LETTER_RETENTION_DAYS * DAY_MS)
  const keys = new Date(now.getTime() - c.IDEMPOTENCY_KEY_HOURS * 3_600_000)
  const ticks = new Date(now.getTime() - 7 * DAY_MS)

  const deliveries = await prune(s, (limit) => sql`delete from webhook_deliveries where id in (
      select id from webhook_deliveries
       where (status = 'succeeded' and created_at < ${delivered}) or (status = 'dead' and created_at < ${dead})
       limit ${limit} for update skip locked)`)
  const events = await prune(s, (limit) => sql`delete from outbox_events where id in (
      select o.id from outbox_events o
       where o.dispatched_at is not null and o.dispatched_at < ${delivered}
         and not exists (select 1 from webhook_deliveries d where d.event_id = o.event_id)
       order by o.dispatched_at
       limit ${limit} for update skip locked)`)
  const idempotencyKeys = await prune(s, (limit) => sql`delete from idempotency_keys where (scope, key) in (
      select scope, key from idempotency_keys where created_at < ${keys} limit ${limit} for update skip locked)`)
  // each job's last successful tick stays, however old: it is what complaint_job_last_success_timestamp_seconds
  // reports, and a job failing for more than a week must not drop out of the metric (and its alert)
  const prunedTicks = await prune(s, (limit) => sql`delete from job_ticks where key in (
      select key from job_ticks where claimed_at < ${ticks}
         and key not in (select distinct on (job) key from job_ticks where succeeded order by job, finished_at desc)
       limit ${limit} for update skip locked)`)
  return { prunedDeliveries: deliveries, prunedEvents: events, prunedIdempotencyKeys: idempotencyKeys, prunedTicks }
}
