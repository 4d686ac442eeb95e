import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Services } from '../context.js'
import type { Database } from '../db/types.js'
import type { BusinessCalendar } from '../domain/calendar.js'
import {
  businessMinutes, changes, closeTimeDistribution, duration, lastCompletePeriod, normaliseRootCause, perThousand, previousPeriod, ratio,
  type Period, type PeriodKind,
} from '../domain/reports.js'
import { CHANNEL_LABELS, CHANNELS, CLOCK_LABELS, CLOCK_NAMES, EXTERNAL_BODY_LABELS, EXTERNAL_CHANNELS, LEVEL_LABELS, LEVELS, NONE, NONE_LABEL } from '../domain/vocabulary.js'
import { unprocessable } from '../errors.js'
import { appendEvents } from '../outbox/outbox.js'
import { flatten } from './figures.js'
import * as repo from './repository.js'
import type { MonthlyFigures, MonthlyReport, PeriodFigures, Report, WeeklyReport } from './schemas.js'

/**
 * The use cases of the reports: compute a weekly or monthly report for a period (live, on the read
 * replica when there is one), publish one (store it once, immutable, and announce it), read published
 * ones. Figures are defined in docs/reports.md.
 */

export type ReportKind = 'weekly' | 'monthly'
export const PERIOD_OF: Record<ReportKind, PeriodKind> = { weekly: 'week', monthly: 'month' }

const periodDto = (p: Period, timeZone: string) => ({ kind: p.kind, start: p.start, end: p.end, from: p.from.toISOString(), to: p.to.toISOString(), timeZone })

/** a period can be reported on once it has ended */
export function reportablePeriod(p: Period, now: Date, field: string): Period {
  if (p.to > now) throw unprocessable(field, `the ${p.kind} of ${p.start} has not ended yet (it ends ${p.to.toISOString()}); reports cover past periods only`)
  return p
}

const counted = (rows: Array<{ dim: string; val: string | null; n: number }>, dim: string) =>
  new Map(rows.filter((r) => r.dim === dim).map((r) => [r.val ?? NONE, r.n]))

/** one count per known value (zeros included, so every period has the same rows), then `none` and any other value seen */
function countsOf(found: Map<string, number>, known: ReadonlyArray<readonly [string, string]>, withNone: boolean) {
  const keys = new Map(known)
  if (withNone) keys.set(NONE, NONE_LABEL)
  for (const k of found.keys()) if (!keys.has(k)) keys.set(k, k)
  return [...keys].map(([key, label]) => ({ key, label, count: found.get(key) ?? 0 }))
}

async function periodFigures(db: Kysely<Database>, p: Period, timeZone: string, calendar: BusinessCalendar): Promise<{ figures: PeriodFigures; totals: repo.Totals; queries: repo.ReportQueries }> {
  const q = repo.reportQueries(p, timeZone)
  const [totals, groups, breaches, durations, satisfaction, denominators, refs] = await Promise.all([
    q.totals.execute(db), q.groups.execute(db), q.breaches.execute(db), q.durations.execute(db), q.satisfaction.execute(db), q.denominators.execute(db), repo.labels(db),
  ])
  const t = totals.rows[0]!
  const g = groups.rows
  const label = (rows: Array<{ id: string; name: string; name_zh: string | null }>) => rows.map((r) => [r.id, r.name_zh ?? r.name] as const)
  const categoryLabels = new Map(label(refs.categories))
  const departmentLabels = new Map(label(refs.departments))

  const byCategory = countsOf(counted(g, 'category'), label(refs.categories.filter((c) => c.active)), true)
  const byDepartment = countsOf(counted(g, 'department'), label(refs.departments.filter((d) => d.active)), true)
  const denominatorOf = new Map(denominators.rows.map((d) => [d.category_id, d]))
  const what = p.kind === 'week' ? `the week of ${p.start}` : `the month of ${p.start.slice(0, 7)}`
  const complaintRates = byCategory.filter((c) => c.key !== NONE).map((c) => {
    const d = denominatorOf.get(c.key)
    return {
      categoryId: c.key, label: c.label, complaints: c.count,
      denominator: d ? { kind: d.kind, value: d.value } : null,
      perThousand: perThousand(c.count, d?.value ?? null),
      missing: d ? null : `${c.label}: no denominator posted for ${what}`,
    }
  })

  const breachCount = new Map(breaches.rows.map((b) => [`${b.department_id}/${b.clock}`, b.n]))
  const breachDepartments = countsOf(new Map(breaches.rows.map((b) => [b.department_id, 0])), label(refs.departments.filter((d) => d.active)), true)
  const breachRows = breachDepartments.flatMap((d) => CLOCK_NAMES.map((clock) => ({
    departmentId: d.key, departmentLabel: d.label, clock, clockLabel: CLOCK_LABELS[clock], count: breachCount.get(`${d.key}/${clock}`) ?? 0,
  })))

  const firstReply = businessMinutes(durations.rows.filter((r) => r.first_replied_at).map((r) => [r.received_at, r.first_replied_at!] as const), calendar)
  const closure = businessMinutes(durations.rows.filter((r) => r.closed_at).map((r) => [r.received_at, r.closed_at!] as const), calendar)

  const scores = new Map(satisfaction.rows.map((r) => [r.score, r.n]))
  const withScore = satisfaction.rows.filter((r) => r.score !== null).reduce((s, r) => s + r.n, 0)
  const withCallback = satisfaction.rows.reduce((s, r) => s + r.n, 0)
  const scoreSum = satisfaction.rows.filter((r) => r.score !== null).reduce((s, r) => s + r.score! * r.n, 0)

  const perDayCount = counted(g, 'day')
  const levels = [...LEVELS.map((l) => [l, LEVEL_LABELS[l]] as const), [NONE, NONE_LABEL] as const]

  const figures: PeriodFigures = {
    received: t.received,
    byCategory,
    byLevel: countsOf(counted(g, 'level'), LEVELS.map((l) => [l, LEVEL_LABELS[l]] as const), true),
    byChannel: countsOf(counted(g, 'channel'), CHANNELS.map((c) => [c, CHANNEL_LABELS[c]] as const), false),
    byDepartment,
    byExternalBody: countsOf(new Map([...counted(g, 'external_body')].filter(([k]) => k !== NONE)), EXTERNAL_CHANNELS.map((e) => [e, EXTERNAL_BODY_LABELS[e]] as const), false),
    irrational: {
      firstStage: ratio(t.irrational_first, t.received),
      secondStage: ratio(t.irrational_second, t.received),
      watch: t.watch,
      monitor: t.monitor,
    },
    complaintRates,
    firstTimeClosure: ratio(t.closed_first_time, t.closed_once),
    breaches: breachRows,
    timeToFirstReply: duration(firstReply),
    timeToClosure: duration(closure),
    satisfaction: {
      mean: withScore === 0 ? null : Math.round((scoreSum / withScore) * 100) / 100,
      distribution: [1, 2, 3, 4, 5].map((score) => ({ score, count: scores.get(score) ?? 0 })),
      responseRate: ratio(withScore, withCallback),
    },
    perDay: p.days.flatMap((date) => levels.map(([level, lbl]) => ({ date, level, label: lbl, count: perDayCount.get(`${date}/${level}`) ?? 0 }))),
    closeTimeDistribution: closeTimeDistribution(closure, calendar),
  }
  return { figures, totals: t, queries: q }
}

async function monthlyFigures(db: Kysely<Database>, p: Period, timeZone: string, calendar: BusinessCalendar): Promise<MonthlyFigures> {
  const { figures: base, totals, queries: q } = await periodFigures(db, p, timeZone, calendar)
  const [rootCauses, capaStatus, capaMeasures, overdue, repeats] = await Promise.all([
    q.rootCauses.execute(db), q.capaStatus.execute(db), q.capaMeasures.execute(db), q.overdueReviews.execute(db), q.repeats.execute(db),
  ])
  const causes = new Map<string, number>()
  for (const r of rootCauses.rows) {
    const key = normaliseRootCause(r.root_cause)
    if (key) causes.set(key, (causes.get(key) ?? 0) + r.n)
  }
  const status = new Map(capaStatus.rows.map((r) => [r.status, r.n]))
  const sum = (pick: (r: { type: string; outcome: string }) => boolean) => capaMeasures.rows.filter(pick).reduce((s, r) => s + r.n, 0)
  const reviews = {
    effective: sum((r) => r.outcome === 'effective'),
    partially_effective: sum((r) => r.outcome === 'partially_effective'),
    not_effective: sum((r) => r.outcome === 'not_effective'),
    not_reviewed: sum((r) => r.outcome === 'not_reviewed'),
  }
  return {
    ...base,
    topRootCauses: [...causes].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0)).slice(0, 10).map(([rootCause, count]) => ({ rootCause, count })),
    capa: {
      complaints: { open: status.get('open') ?? 0, reviewed: status.get('reviewed') ?? 0 },
      measures: { corrective: sum((r) => r.type === 'corrective'), preventive: sum((r) => r.type === 'preventive') },
      reviews,
      shareEffective: ratio(reviews.effective, reviews.effective + reviews.partially_effective + reviews.not_effective),
      overdueReviews: overdue.rows.map((r) => ({
        complaintId: r.id, reference: r.reference, departmentId: r.department_id, measureId: r.measure_id, type: r.type, action: r.action,
        owner: r.owner, dueDate: r.due_date, reviewDueDate: r.review_due_date,
      })),
    },
    repeats: ratio(repeats.rows[0]!.n, totals.received),
    reopenRate: ratio(totals.reopened, totals.closed_once),
  }
}

/** the report of a period as the data stands now: the snapshot a job publishes, or an on-demand one */
export async function computeReport(s: Services, kind: ReportKind, p: Period, now: Date): Promise<Report> {
  const tz = s.config.BUSINESS_TIMEZONE
  const calendar = await s.sla.calendar()
  const common = { id: null, stored: false, period: periodDto(p, tz), generatedAt: now.toISOString() }
  if (kind === 'weekly') {
    const { figures } = await periodFigures(s.reportsDb, p, tz, calendar)
    return { ...common, kind: 'weekly', figures } satisfies WeeklyReport
  }
  const previous = previousPeriod(p, tz)
  const [figures, before] = await Promise.all([monthlyFigures(s.reportsDb, p, tz, calendar), monthlyFigures(s.reportsDb, previous, tz, calendar)])
  return {
    ...common, kind: 'monthly', figures, previousPeriod: periodDto(previous, tz),
    changes: changes(flatten('monthly', figures), flatten('monthly', before)),
  } satisfies MonthlyReport
}

/** the default period of a report asked for without one: the last complete week or month */
export const defaultPeriod = (s: Services, kind: ReportKind, now: Date) => lastCompletePeriod(PERIOD_OF[kind], now, s.config.BUSINESS_TIMEZONE)

const READY_EVENT: Record<ReportKind, string> = { weekly: 'report.weekly_ready', monthly: 'report.monthly_ready' }

/**
 * Publishes the report of the last complete period: computed, stored once (a second run for the same
 * period finds it and changes nothing) and announced with `report.weekly_ready` / `report.monthly_ready`
 * in the transaction that stores it.
 */
export async function publishReport(s: Services, kind: ReportKind, now: Date) {
  const p = defaultPeriod(s, kind, now)
  const existing = await repo.findStoredReport(s.db, { kind, periodStart: p.start })
  if (existing) return { published: false, id: existing.id, period: { start: p.start, end: p.end } }
  const report = await computeReport(s, kind, p, now)
  const id = randomUUID()
  const stored = { ...report, id, stored: true }
  const inserted = await s.db.transaction().execute(async (trx) => {
    const row = await repo.insertStoredReport(trx, { id, kind, period_start: p.start, period_end: p.end, generated_at: now, figures: stored, created_at: now })
    if (row) {
      await appendEvents(trx, [{
        type: READY_EVENT[kind], complaintId: null, occurredAt: now,
        data: { report: { id, kind, periodStart: p.start, periodEnd: p.end, generatedAt: now.toISOString(), href: `/v1/reports/${id}` } },
      }])
    }
    return row
  })
  // another replica published the same period in the meantime: its report stands
  if (!inserted) return { published: false, id: (await repo.findStoredReport(s.db, { kind, periodStart: p.start }))!.id, period: { start: p.start, end: p.end } }
  return { published: true, id, period: { start: p.start, end: p.end } }
}

/** a stored report as published (its JSON is what the job computed, unchanged) */
export const storedReportOf = (row: { figures: Record<string, unknown> }) => row.figures as unknown as Report
