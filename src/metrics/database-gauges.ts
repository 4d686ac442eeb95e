import { sql, type RawBuilder } from 'kysely'
import type { Services } from '../context.js'
import { calendarCoverage, fromLocal, toLocal } from '../domain/calendar.js'
import { LEVELS, STATUSES } from '../domain/vocabulary.js'
import { JOB_NAMES } from '../jobs/index.js'
import { CLOCK_KEYS, CLOCK_SQL, runningClock, type ClockKey } from '../sla/clock-sql.js'

/** one series of a gauge: its labels and its value */
export interface Sample {
  labels?: Record<string, string>
  value: number
}

/**
 * A gauge read from the database at scrape time. Every replica reads the same rows, so every replica
 * reports the same value: dashboards and alerts take `max by (…)` over replicas, never `sum`.
 * Adding one is one entry in DATABASE_GAUGES.
 */
export interface DatabaseGauge {
  /** Prometheus conventions: `complaint_` prefix, base units (`_seconds`), no `_total` on a gauge */
  name: string
  help: string
  labelNames?: readonly string[]
  read(s: Services, now: Date): Promise<Sample[]>
}

/** the window of the `_last_hour` gauges: counts of recent rows, the same on every replica */
const HOUR_MS = 3_600_000
const hourBefore = (now: Date) => new Date(now.getTime() - HOUR_MS)

/** labels for a value a row may lack: a complaint not yet assessed has no department and no level */
export const UNASSIGNED = 'unassigned'
export const UNASSESSED = 'unassessed'

/** every combination of the given label values, 0 unless `counted` has it: a series does not vanish when its count falls to 0 */
function withZeros(labelValues: Record<string, readonly string[]>, counted: Array<Record<string, string | number | null>>, fallback: Record<string, string> = {}): Sample[] {
  const names = Object.keys(labelValues)
  const keyOf = (labels: Record<string, string>) => names.map((n) => labels[n]).join('\u0000')
  const samples = new Map<string, Sample>()
  const combos = names.reduce<Array<Record<string, string>>>((acc, name) => acc.flatMap((partial) => labelValues[name]!.map((v) => ({ ...partial, [name]: v }))), [{}])
  for (const labels of combos) samples.set(keyOf(labels), { labels, value: 0 })
  for (const row of counted) {
    const labels = Object.fromEntries(names.map((n) => [n, row[n] === null || row[n] === undefined ? (fallback[n] ?? '') : String(row[n])]))
    const key = keyOf(labels)
    samples.set(key, { labels, value: (samples.get(key)?.value ?? 0) + Number(row.n) })
  }
  return [...samples.values()]
}

const departmentIds = async (s: Services) => [...(await s.db.selectFrom('departments').select('id').orderBy('id').execute()).map((d) => d.id), UNASSIGNED]

export const DATABASE_GAUGES: DatabaseGauge[] = [
  {
    name: 'complaint_open',
    help: 'complaints not closed or withdrawn, by status and level (unassessed: no level yet)',
    labelNames: ['status', 'level'],
    async read(s) {
      const rows = await s.db.selectFrom('complaints').select(['status', 'level', sql<number>`count(*)::int`.as('n')])
        .where('status', 'not in', ['closed', 'withdrawn']).groupBy(['status', 'level']).execute()
      const open = STATUSES.filter((st) => st !== 'closed' && st !== 'withdrawn')
      return withZeros({ status: open, level: [...LEVELS, UNASSESSED] }, rows, { level: UNASSESSED })
    },
  },
  {
    name: 'complaint_lifecycle_steps_last_hour',
    help: 'timeline entries written in the last hour, by action (receive, close, sla_breached, …): intake and lifecycle throughput',
    labelNames: ['action'],
    async read(s, now) {
      const rows = await s.db.selectFrom('complaint_timeline').select(['action', sql<number>`count(*)::int`.as('n')])
        .where('at', '>', hourBefore(now)).groupBy('action').execute()
      return withZeros({ action: ['receive', 'close'] }, rows)
    },
  },
  {
    name: 'complaint_sla_breaches_last_hour',
    help: 'breaches recorded in the last hour, by department and clock (a breach is recorded once per complaint, clock and cycle)',
    labelNames: ['department', 'clock'],
    async read(s, now) {
      const rows = await s.db.selectFrom('breaches').select(['department_id as department', 'clock', sql<number>`count(*)::int`.as('n')])
        .where('detected_at', '>', hourBefore(now)).groupBy(['department_id', 'clock']).execute()
      return withZeros({ department: await departmentIds(s), clock: CLOCK_KEYS }, rows, { department: UNASSIGNED })
    },
  },
  {
    name: 'complaint_clocks_overdue',
    help: 'running clocks past their deadline now, by department and clock',
    labelNames: ['department', 'clock'],
    read: (s, now) => runningClocks(s, now, (clock) => runningClock(clock, 'due', now)),
  },
  {
    name: 'complaint_clocks_due_soon',
    help: 'running clocks past their due-soon share (80% of the limit by default) and not yet overdue, by department and clock',
    labelNames: ['department', 'clock'],
    // past the due-soon threshold and not past the deadline (clocks without a threshold count as not due soon)
    read: (s, now) => runningClocks(s, now, (clock) => sql`${runningClock(clock, 'warn', now)} and not coalesce(${sql.ref(CLOCK_SQL[clock].due)} < ${now}, false)`),
  },
  {
    name: 'complaint_outbox_lag_seconds',
    help: 'age of the oldest event not yet delivered: not fanned out, or a delivery still pending or retrying (0 when none)',
    async read(s, now) {
      const row = await sql<{ oldest: Date | null }>`select least(
          (select min(occurred_at) from outbox_events where dispatched_at is null),
          (select min(occurred_at) from webhook_deliveries where status in ('pending', 'sending', 'retrying'))) as oldest`.execute(s.db)
      const oldest = row.rows[0]?.oldest
      return [{ value: oldest ? Math.max(0, (now.getTime() - new Date(oldest).getTime()) / 1000) : 0 }]
    },
  },
  {
    name: 'complaint_webhook_deliveries',
    help: 'webhook deliveries by status (pending, sending, retrying, succeeded, dead: dead-lettered)',
    labelNames: ['status'],
    async read(s) {
      const rows = await s.db.selectFrom('webhook_deliveries').select(['status', sql<number>`count(*)::int`.as('n')]).groupBy('status').execute()
      return withZeros({ status: ['pending', 'sending', 'retrying', 'succeeded', 'dead'] }, rows)
    },
  },
  {
    name: 'complaint_webhook_subscriptions',
    help: 'webhook subscriptions by status (active, paused, disabled: it kept failing or its receiver answered 410)',
    labelNames: ['status'],
    async read(s) {
      const rows = await s.db.selectFrom('webhook_subscriptions').select(['status', sql<number>`count(*)::int`.as('n')]).groupBy('status').execute()
      return withZeros({ status: ['active', 'paused', 'disabled'] }, rows)
    },
  },
  {
    name: 'complaint_calendar_coverage_end_timestamp_seconds',
    help: 'start of the first day the business calendar has no holiday data or overrides for (Unix time): post next year\'s holidays before it',
    async read(s, now) {
      const calendar = await s.sla.calendar()
      const { coveredThrough } = calendarCoverage(calendar.overrides.keys(), toLocal(now, calendar.timeZone).date)
      return [{ value: fromLocal(`${coveredThrough + 1}-01-01`, 0, calendar.timeZone).getTime() / 1000 }]
    },
  },
  {
    name: 'complaint_job_last_success_timestamp_seconds',
    // the label is scheduled_job, not job: Prometheus's own `job` label (the scrape job) would win and
    // rename ours to exported_job
    help: 'end of the last successful scheduled run of each job (Unix time); 0 for a job whose scheduled runs all failed',
    labelNames: ['scheduled_job'],
    async read(s) {
      const rows = await s.db.selectFrom('job_ticks')
        .select(['job', sql<number | null>`extract(epoch from max(finished_at) filter (where succeeded))::float8`.as('last')])
        .groupBy('job').execute()
      // a job never claimed by the scheduler has no series (a new installation); one that ran has one for good
      return rows.filter((r) => (JOB_NAMES as string[]).includes(r.job)).map((r) => ({ labels: { scheduled_job: r.job }, value: r.last ?? 0 }))
    },
  },
  {
    name: 'complaint_job_runs_last_hour',
    help: 'scheduled runs finished in the last hour, by job and outcome (succeeded, failed)',
    labelNames: ['scheduled_job', 'outcome'],
    async read(s, now) {
      const rows = await s.db.selectFrom('job_ticks')
        .select(['job as scheduled_job', sql<string>`case when succeeded then 'succeeded' else 'failed' end`.as('outcome'), sql<number>`count(*)::int`.as('n')])
        .where('finished_at', '>', hourBefore(now)).groupBy(['job', 'succeeded']).execute()
      return withZeros({ scheduled_job: JOB_NAMES, outcome: ['succeeded', 'failed'] }, rows.filter((r) => (JOB_NAMES as string[]).includes(r.scheduled_job)))
    },
  },
]

/** complaints whose `clock` meets `condition`, by department, for each clock (the running-clock definition of src/sla/clock-sql.ts) */
async function runningClocks(s: Services, now: Date, condition: (clock: ClockKey) => RawBuilder<boolean>): Promise<Sample[]> {
  const departments = await departmentIds(s)
  const samples: Sample[] = []
  for (const clock of CLOCK_KEYS) {
    const rows = await sql<{ department: string | null; n: number }>`select department_id as department, count(*)::int as n from complaints
      where ${condition(clock)} group by department_id`.execute(s.db)
    samples.push(...withZeros({ department: departments, clock: [clock] }, rows.rows.map((r) => ({ ...r, clock })), { department: UNASSIGNED }))
  }
  return samples
}
