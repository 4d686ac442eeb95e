import type { Config } from '../config.js'
import type { Services } from '../context.js'
import { runPenalties, runPenaltyBulletin } from './penalties.js'
import { clientSettings } from '../integrations/wukong/client.js'
import { pullCustomers } from '../integrations/wukong/pull.js'
import { checkCalendarCoverage } from './calendar-coverage.js'
import { housekeeping } from './housekeeping.js'
import { recordDueSoon, runSlaSweep } from './sla-sweep.js'
import { announceDueReviews, publishMonthlyReport, publishWeeklyReport } from './reports.js'
import { runRetention } from '../retention/retention.js'

/** The scheduled jobs: each a function of (services, now) that the scheduler, the API and tests call. */
export interface JobDefinition {
  /** cron expression in the business time zone; from the configuration for a job that needs it (null: not scheduled) */
  schedule: string | ((config: Config) => string | null)
  /** a holder that dies keeps the job for at most this long */
  leaseMs: number
  description: string
  run(s: Services, now: Date): Promise<unknown>
}

export const JOBS = {
  'sla-sweep': {
    schedule: '* * * * *',
    leaseMs: 5 * 60_000,
    description: 'records breached clocks once per cycle (sla.breached) and upgrades complaints whose closure limit passed',
    run: runSlaSweep,
  },
  'due-soon': {
    schedule: '* * * * *',
    leaseMs: 5 * 60_000,
    description: 'warns once per clock and cycle when the due-soon share of a limit has passed (sla.due_soon)',
    run: recordDueSoon,
  },
  'calendar-coverage': {
    schedule: '0 9 * * *',
    leaseMs: 10 * 60_000,
    description: 'warns while the holiday data is about to run out',
    run: checkCalendarCoverage,
  },
  penalties: {
    schedule: '*/5 * * * *',
    leaseMs: 10 * 60_000,
    description: 'issues the penalty notices owed (breaches of the handover, first-reply and closure limits; full months unclosed) once each (penalty.issued)',
    run: runPenalties,
  },
  'penalty-bulletin': {
    schedule: (config) => config.PENALTY_BULLETIN_CRON,
    leaseMs: 10 * 60_000,
    description: 'draws up the draft penalty bulletin of the previous Monday–Sunday (PENALTY_BULLETIN_CRON, default Friday 17:00)',
    run: runPenaltyBulletin,
  },
  housekeeping: {
    schedule: '17 * * * *',
    leaseMs: 30 * 60_000,
    description: 'prunes, in batches of 1000, delivered outbox events with their deliveries and attempt logs (OUTBOX_RETENTION_DAYS), dead letters (DEAD_LETTER_RETENTION_DAYS), Idempotency-Keys (IDEMPOTENCY_KEY_HOURS) and week-old scheduler ticks',
    run: housekeeping,
  },
  'weekly-report': {
    schedule: '0 8 * * 5',
    leaseMs: 30 * 60_000,
    description: 'Fridays: publishes the previous Monday–Sunday’s weekly report (stored, immutable) and emits report.weekly_ready',
    run: publishWeeklyReport,
  },
  'monthly-report': {
    schedule: '0 8 1 * *',
    leaseMs: 30 * 60_000,
    description: 'the 1st: publishes the previous month’s analysis report (stored, immutable) and emits report.monthly_ready',
    run: publishMonthlyReport,
  },
  'capa-review-due': {
    schedule: '0 8 * * *',
    leaseMs: 10 * 60_000,
    description: 'emits capa.review_due once for each CAPA measure whose effectiveness review is overdue',
    run: announceDueReviews,
  },
  retention: {
    schedule: '0 4 * * *',
    leaseMs: 60 * 60_000,
    description: 'anonymises the complainant data of complaints closed or withdrawn more than RETENTION_YEARS ago (dry run: GET /v1/admin/retention)',
    run: runRetention,
  },
  'wukong-pull': {
    // scheduled only when the 悟空CRM connector is configured; run by hand without it, it says so
    schedule: (config) => (clientSettings(config) ? config.WUKONG_PULL_SCHEDULE : null),
    leaseMs: 10 * 60_000,
    description: 'imports the 悟空CRM customers changed since its cursor into the customer mirror, page by page',
    run: (s, now) => pullCustomers(s, now),
  },
} satisfies Record<string, JobDefinition>

export type JobName = keyof typeof JOBS

export const JOB_NAMES = Object.keys(JOBS) as JobName[]

/** when a job runs in this configuration: its cron expression, or null when it is not scheduled */
export const scheduleOf = (job: JobDefinition, config: Config): string | null => (typeof job.schedule === 'function' ? job.schedule(config) : job.schedule)
