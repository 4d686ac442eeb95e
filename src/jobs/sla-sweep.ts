import { sql, type RawBuilder } from 'kysely'
import { CLOCK_KEYS, CLOCK_SQL, runningClock, type ClockKey } from '../sla/clock-sql.js'
import type { Services } from '../context.js'
import type { Complaint } from '../db/types.js'
import { SCHEDULER } from '../sla/breaches.js'
import { applySteps, type Step } from '../complaints/commands.js'
import { decide } from '../domain/lifecycle.js'
import { timelineAppend } from '../complaints/repository.js'
import { eventAppend } from '../outbox/outbox.js'
import { appendAll } from '../db/batches.js'
import { complaintEventData, eventView } from '../complaints/events.js'
import { ProblemError } from '../errors.js'
import { isoString } from '../http/instants.js'


type Hit = Complaint & { hit_cycle: number; hit_due_at: Date; hit_key: string }
/**
 * where a clock's scan has got to: the threshold as `keyOf` writes it (to the microsecond, which a Date
 * cannot hold, and in an order plain string comparison keeps) and the complaint id, in index order
 */
export type Cursor = { key: string; id: string }

/** an instant as fixed-width UTC text to the microsecond, and back: exact, and ordered as text */
const keyOf = (instant: RawBuilder<unknown>) => sql`to_char(${instant} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`
const fromKey = (key: string) => sql`(${key}::timestamp at time zone 'UTC')`

/**
 * Records every clock that passed its deadline (or its due-soon threshold) once per cycle: one
 * set-based statement per clock and batch, over the deadline indexes, whose rows then get their
 * timeline entries and events in one more (appendAll). Nothing is loaded one complaint at a time, and a
 * backlog (the first sweep after an outage, a holiday's worth of deadlines) is taken `batchSize` per
 * clock and transaction, so neither memory nor a transaction grows with it.
 */
async function sweep(s: Services, now: Date, kind: Kind, batchSize = SWEEP_BATCH): Promise<Record<ClockKey, number>> {
  const totals = Object.fromEntries(CLOCK_KEYS.map((clock) => [clock, 0])) as Record<ClockKey, number>
  for (const clock of CLOCK_KEYS) totals[clock] = await sweepClock(s, now, kind, batchSize, clock)
  return totals
}

export type Kind = 'breach' | 'due_soon'

/** batches of one clock in flight at once (README: Performance) */
export const SWEEP_PIPELINE = 2

/**
 * One clock's backlog, batch after batch along its index: each batch starts where the last one ended
 * (keyset on the threshold and the id), and a short batch ends the clock for this sweep. Pipelined
 * `SWEEP_PIPELINE` deep: the next batch's statement starts as soon as the last one's has said where it
 * ended, so Postgres records one batch while Node builds the other's events. The batches never share a
 * row (the keyset), each is its own transaction, and on PGlite (one connection) they simply queue.
 */
async function sweepClock(s: Services, now: Date, kind: Kind, batchSize: number, clock: ClockKey): Promise<number> {
  let total = 0
  let cursor: Cursor | null = null
  const open: Array<Promise<void>> = []
  try {
    for (;;) {
      const batch = startBatch(s, now, kind, batchSize, clock, cursor)
      open.push(batch.committed)
      const rows = await batch.recorded
      total += rows.length
      if (rows.length < batchSize) break
      cursor = lastOf(rows)
      while (open.length >= SWEEP_PIPELINE) await open.shift()
    }
    while (open.length > 0) await open.shift()
  } finally {
    // a failed batch ends the sweep, but not before the others in flight have committed or rolled back
    await Promise.allSettled(open)
  }
  return total
}

/**
 * "this clock's cycle has no row in `table` yet", as a scalar subquery: one probe of the table's unique
 * (complaint_id, clock, cycle) index per candidate, whatever the statistics say. Written as NOT EXISTS,
 * Postgres plans an anti-join from the table's statistics, and those are stale in exactly the case that
 * matters — a backlog whose first batches have just written the rows the later batches must skip: over
 * 1M complaints it chose a nested loop over a materialised scan of every breach of the clock (16 million
 * comparisons, 1.3 s a statement, 6.7 s of a 12 s sweep in npm run bench).
 */
const notRecorded = (table: RawBuilder<unknown>, clock: ClockKey) =>
  sql`(select r.complaint_id from ${table} r where r.complaint_id = complaints.id and r.clock = ${clock} and r.cycle = complaints.clock_cycle) is null`

/** breaches (or due-soon warnings) recorded per clock and transaction */
export const SWEEP_BATCH = 250

/**
 * A batch's statement: the next `batchSize` running clocks past their threshold after `cursor`, in the
 * order of the clock's running index (threshold, id), with no row for their cycle yet — recorded, and
 * returned whole (the complaint, the cycle, the threshold and its key).
 */
export function batchStatement(kind: Kind, clock: ClockKey, now: Date, batchSize: number, cursor: Cursor | null): RawBuilder<Hit> {
  const { due, warn } = CLOCK_SQL[clock]
  const at = sql.ref(kind === 'breach' ? due : warn)
  const after = cursor ? sql`and (${at}, id) > (${fromKey(cursor.key)}, ${cursor.id}::uuid)` : sql``
  return kind === 'breach'
    ? sql<Hit>`with ins as (
        insert into breaches (complaint_id, clock, cycle, due_at, detected_at, department_id, level)
        select id, ${clock}, clock_cycle, ${sql.ref(due)}, ${now}, department_id, level
        from complaints where ${runningClock(clock, 'due', now)} ${after}
          and ${notRecorded(sql`breaches`, clock)}
        order by ${at}, id
        limit ${batchSize}
        on conflict (complaint_id, clock, cycle) do nothing
        returning complaint_id, cycle, due_at)
      select c.*, ins.cycle as hit_cycle, ins.due_at as hit_due_at, ${keyOf(sql`ins.due_at`)} as hit_key from ins join complaints c on c.id = ins.complaint_id`
    : sql<Hit>`with ins as (
        insert into due_soon_notices (complaint_id, clock, cycle, warned_at)
        select id, ${clock}, clock_cycle, ${now}
        from complaints where ${runningClock(clock, 'warn', now)} and ${sql.ref(due)} >= ${now} ${after}
          and ${notRecorded(sql`due_soon_notices`, clock)}
        order by ${at}, id
        limit ${batchSize}
        on conflict (complaint_id, clock, cycle) do nothing
        returning complaint_id, cycle)
      select c.*, ins.cycle as hit_cycle, c.${sql.ref(due)} as hit_due_at, ${keyOf(sql`c.${sql.ref(warn)}`)} as hit_key from ins join complaints c on c.id = ins.complaint_id`
}

/**
 * Set in each batch's transaction, before its statement: the batch walks its clock's running index from
 * the cursor and stops at its last row. Left to itself, Postgres prices the not-recorded test at 0.5% of
 * the rows (its default for a test on an expression it has no statistics for), expects a handful of
 * candidates, for which a sort looks free, and prefers a bitmap scan of every overdue row after the
 * cursor, sorted to keep `batchSize`: each batch then read the whole rest of its clock's backlog (over a
 * million complaints with 21,000 clocks overdue, 5,000 rows a batch, npm run bench). With sorting off,
 * the ordered index scan is the plan that remains. `set local`: it ends with the batch's transaction.
 */
export const ORDERED_WALK = sql`set local enable_sort = off`

/**
 * One batch in its own transaction: `recorded` settles with its rows as soon as they are written (the
 * caller needs only their last key to start the next batch), `committed` once their timeline entries
 * and events are written and the transaction has committed.
 */
function startBatch(s: Services, now: Date, kind: Kind, batchSize: number, clock: ClockKey, cursor: Cursor | null): { recorded: Promise<Hit[]>; committed: Promise<void> } {
  let found!: (rows: Hit[]) => void
  let failed!: (err: unknown) => void
  const recorded = new Promise<Hit[]>((resolve, reject) => { found = resolve; failed = reject })
  const committed = s.db.transaction().execute(async (trx) => {
    await ORDERED_WALK.execute(trx)
    const rows = (await batchStatement(kind, clock, now, batchSize, cursor).execute(trx)).rows
    found(rows)
    if (rows.length === 0) return
    const view = await eventView(s, now, trx)
    const action = kind === 'breach' ? 'sla_breached' : 'sla_due_soon'
    const type = kind === 'breach' ? 'sla.breached' : 'sla.due_soon'
    const facts = rows.map((c) => ({ clock, cycle: c.hit_cycle, dueAt: isoString(c.hit_due_at) }))
    await appendAll(trx, [
      timelineAppend(rows.map((c, i) => ({
        complaintId: c.id, at: now, actor: SCHEDULER, action, fromStatus: c.status, toStatus: c.status, before: {}, after: {}, data: facts[i]!,
      }))),
      eventAppend(rows.map((c, i) => ({ type, complaintId: c.id, occurredAt: now, data: complaintEventData(c, facts[i]!, view) }))),
    ])
  })
  // whichever settles first, neither rejection goes unobserved while the caller awaits the other
  committed.catch((err: unknown) => failed(err))
  return { recorded, committed }
}

/** the greatest (threshold, id) of a batch: RETURNING gives no order */
function lastOf(rows: Hit[]): Cursor | null {
  let last: Cursor | null = null
  for (const r of rows) {
    if (!last || r.hit_key > last.key || (r.hit_key === last.key && r.id > last.id)) last = { key: r.hit_key, id: r.id }
  }
  return last
}

export const recordBreaches = (s: Services, now: Date, batchSize = SWEEP_BATCH) => sweep(s, now, 'breach', batchSize)
export const recordDueSoon = (s: Services, now: Date, batchSize = SWEEP_BATCH) => sweep(s, now, 'due_soon', batchSize)

/** complaints upgraded per transaction: each batch's rows stay locked only while it is written */
export const ESCALATION_BATCH = 500

/**
 * docs/escalation.md: a complaint with no closure request by its closure deadline (and not deferred)
 * moves up a level and its clocks restart. Set-based, in bounded batches: each batch locks its
 * candidates in one indexed query (SKIP LOCKED: a complaint a person is changing right now waits for
 * the next tick), the pure state machine decides each upgrade — re-checking under the lock — and one
 * transaction writes the batch through the same step writer as every lifecycle step. Batches continue
 * until nothing is left, so a backlog clears in one run.
 */
export async function escalateOverdue(s: Services, now: Date, batchSize = ESCALATION_BATCH): Promise<{ escalated: number; ids: string[] }> {
  const ids: string[] = []
  const refused = new Set<string>()
  for (;;) {
    const applied = await s.db.transaction().execute(async (trx) => {
      let query = trx.selectFrom('complaints').selectAll().where(runningClock('closure', 'due', now))
      if (refused.size > 0) query = query.where('id', 'not in', [...refused])
      const candidates = await query.orderBy('closure_due_at').limit(batchSize).forUpdate().skipLocked().execute()
      const steps: Step[] = []
      for (const current of candidates) {
        const policy = await s.sla.policy(current.sla_policy_version, trx)
        try {
          const decision = decide('escalate', current, { reason: 'closure limit passed without a closure request' }, { now, reopenWindowDays: s.config.REOPEN_WINDOW_DAYS, upgradeMap: policy.upgradeMap })
          steps.push({ current, action: 'escalate', decision })
        } catch (err) {
          // the state machine refuses what the query let through: leave it, and do not ask again this run
          if (!(err instanceof ProblemError && err.status === 409)) throw err
          refused.add(current.id)
        }
      }
      const updated = await applySteps(s, trx, steps, { actor: SCHEDULER, operation: 'escalate', requestId: null }, now)
      return { candidates: candidates.length, ids: updated.map((c) => c.id) }
    })
    ids.push(...applied.ids)
    if (applied.candidates < batchSize && applied.ids.length === applied.candidates) break
    if (applied.candidates === 0 || (applied.ids.length === 0 && refused.size === 0)) break
  }
  return { escalated: ids.length, ids }
}

/** the minute job: breaches first (so the missed cycle is on record), then the upgrades they cause */
export async function runSlaSweep(s: Services, now: Date) {
  const breaches = await recordBreaches(s, now)
  const { escalated } = await escalateOverdue(s, now)
  return { breaches, escalated }
}
