import { Type, type Static } from 'typebox'
import { DateInput, DateTime, named, Nullable, PageQuery, Slug, Uuid } from '../http/common-schemas.js'

const strict = { additionalProperties: false } as const

// ---- building blocks ----

const Fraction = Nullable(Type.Number({ minimum: 0, maximum: 1, description: 'between 0 and 1; null (missing) when the denominator is 0' }))

export const RatioSchema = named('ReportRatio', Type.Object({
  numerator: Type.Integer({ minimum: 0 }),
  denominator: Type.Integer({ minimum: 0 }),
  ratio: Fraction,
}, { description: 'a fraction with what it is made of; `ratio` is null (missing), never 0, when the denominator is 0' }))

const CountSchema = named('ReportCount', Type.Object({
  key: Type.String({ description: 'the value counted (a category, level, channel or department id; `none`: not assessed)' }),
  label: Type.String({ description: 'its Chinese label' }),
  count: Type.Integer({ minimum: 0 }),
}, { description: 'complaints of the cohort with one value' }))

const DurationSchema = named('ReportDuration', Type.Object({
  complaints: Type.Integer({ minimum: 0, description: 'complaints that have the value' }),
  meanBusinessMinutes: Nullable(Type.Number({ description: 'mean, business minutes (1 decimal); null when no complaint has the value' })),
  p90BusinessMinutes: Nullable(Type.Number({ description: '90th percentile, continuous (percentile_cont), business minutes (1 decimal); null when no complaint has the value' })),
}, { description: 'business minutes from receipt to an event, over the cohort complaints that reached it' }))

const PeriodSchema = named('ReportPeriod', Type.Object({
  kind: Type.Enum(['week', 'month']),
  start: Type.String({ format: 'date', description: 'first day (Monday, or the 1st) in the business time zone' }),
  end: Type.String({ format: 'date', description: 'last day, inclusive' }),
  from: DateTime('the first instant of the period'),
  to: DateTime('the first instant after the period'),
  timeZone: Type.String(),
}, { description: 'the period whose received complaints (by `receivedAt`) are the cohort' }))

const RateSchema = named('ComplaintRate', Type.Object({
  categoryId: Type.String(),
  label: Type.String(),
  complaints: Type.Integer({ minimum: 0 }),
  denominator: Nullable(Type.Object({
    kind: Type.Enum(['orders', 'customers', 'vehicles']),
    value: Type.Integer({ minimum: 1 }),
  }, { description: 'what the organisation posted for the category and period' })),
  perThousand: Nullable(Type.Number({ description: 'complaints × 1,000 ÷ denominator; null when no denominator was posted' })),
  missing: Nullable(Type.String({ description: 'why the rate is missing' })),
}, { description: '客户抱怨率 of one category (办法 §7.7.2)' }))

const BreachCountSchema = named('BreachCount', Type.Object({
  departmentId: Type.String({ description: 'the department on the breach record; `none`: none was assigned' }),
  departmentLabel: Type.String(),
  clock: Type.Enum(['handover', 'first_reply', 'closure', 'callback']),
  clockLabel: Type.String(),
  count: Type.Integer({ minimum: 0 }),
}, { description: 'breach records of cohort complaints, per department and clock (each cycle’s breach counts once)' }))

const DayCountSchema = named('DayLevelCount', Type.Object({
  date: Type.String({ format: 'date' }),
  level: Type.String({ description: 'a level, or `none` (not assessed)' }),
  label: Type.String(),
  count: Type.Integer({ minimum: 0 }),
}, { description: 'complaints received on a day (business time zone) with a level' }))

const BucketSchema = named('CloseTimeBucket', Type.Object({
  bucket: Type.Enum(['le1', '1to3', '3to5', '5to10', 'gt10']),
  label: Type.String(),
  count: Type.Integer({ minimum: 0 }),
}, { description: 'closed cohort complaints whose business time to closure falls in the bucket (business days)' }))

const SatisfactionSchema = named('SatisfactionFigures', Type.Object({
  mean: Nullable(Type.Number({ description: 'mean score of the latest callback that has one (2 decimals)' })),
  distribution: Type.Array(Type.Object({ score: Type.Integer({ minimum: 1, maximum: 5 }), count: Type.Integer({ minimum: 0 }) }), { description: 'complaints per score of their latest callback' }),
  responseRate: RatioSchema,
}, { description: 'satisfaction with the handling (ISO 10002 8.3): the latest recorded callback of each cohort complaint; responseRate = with a score ÷ with a callback' }))

const figureProperties = {
  received: Type.Integer({ minimum: 0, description: 'the cohort: complaints received in the period' }),
  byCategory: Type.Array(CountSchema),
  byLevel: Type.Array(CountSchema),
  byChannel: Type.Array(CountSchema),
  byDepartment: Type.Array(CountSchema),
  byExternalBody: Type.Array(CountSchema, { description: '投诉: complaints with an outside body' }),
  irrational: Type.Object({
    firstStage: RatioSchema,
    secondStage: RatioSchema,
    watch: Type.Integer({ minimum: 0, description: '关注' }),
    monitor: Type.Integer({ minimum: 0, description: '监控' }),
  }, { description: '非理性抱怨 (办法 §7.7.1): first and second stage over the cohort; follow-up modes' }),
  complaintRates: Type.Array(RateSchema),
  firstTimeClosure: RatioSchema,
  breaches: Type.Array(BreachCountSchema),
  timeToFirstReply: DurationSchema,
  timeToClosure: DurationSchema,
  satisfaction: SatisfactionSchema,
  perDay: Type.Array(DayCountSchema, { description: 'chart: complaints per day by level' }),
  closeTimeDistribution: Type.Array(BucketSchema, { description: 'chart: time-to-close distribution' }),
}

const ChangeSchema = named('FigureChange', Type.Object({
  key: Type.String(),
  label: Type.String(),
  kind: Type.Enum(['count', 'ratio', 'rate', 'minutes', 'score']),
  current: Nullable(Type.Number()),
  previous: Nullable(Type.Number()),
  difference: Nullable(Type.Number({ description: 'counts, minutes, rates, scores: current − previous; ratios: percentage points' })),
  relativeChange: Nullable(Type.Number({ description: 'counts: (current − previous) ÷ previous; null when the previous count is 0' })),
}, { description: 'one figure against the previous month; missing (null) when either month lacks it' }))

const OverdueReviewSchema = named('OverdueCapaReview', Type.Object({
  complaintId: Uuid(),
  reference: Type.String(),
  departmentId: Nullable(Type.String()),
  measureId: Type.String(),
  type: Type.Enum(['corrective', 'preventive']),
  action: Type.String(),
  owner: Nullable(Type.String()),
  dueDate: Nullable(Type.String({ format: 'date' })),
  reviewDueDate: Type.String({ format: 'date' }),
}, { description: 'a CAPA measure whose effectiveness review was due before the end of the period and is not recorded' }))

const monthlyProperties = {
  topRootCauses: Type.Array(Type.Object({ rootCause: Type.String({ description: 'the text, grouped as normaliseRootCause says' }), count: Type.Integer({ minimum: 1 }) }), { description: 'the 10 most frequent root causes of the cohort' }),
  capa: Type.Object({
    complaints: Type.Object({ open: Type.Integer({ minimum: 0 }), reviewed: Type.Integer({ minimum: 0 }) }, { description: 'cohort complaints with a CAPA per CAPA status' }),
    measures: Type.Object({ corrective: Type.Integer({ minimum: 0 }), preventive: Type.Integer({ minimum: 0 }) }),
    reviews: Type.Object({
      effective: Type.Integer({ minimum: 0 }), partially_effective: Type.Integer({ minimum: 0 }), not_effective: Type.Integer({ minimum: 0 }), not_reviewed: Type.Integer({ minimum: 0 }),
    }, { description: '有效性评估 of the cohort’s measures' }),
    shareEffective: RatioSchema,
    overdueReviews: Type.Array(OverdueReviewSchema, { description: 'all complaints, not only the cohort' }),
  }),
  repeats: RatioSchema,
  reopenRate: RatioSchema,
}

const reportProperties = {
  id: Nullable(Uuid('the stored report’s id; null for a report computed on demand')),
  stored: Type.Boolean({ description: 'true: published by the scheduled job and immutable; false: computed live now' }),
  period: PeriodSchema,
  generatedAt: DateTime('the snapshot: status, level, department … as they were then'),
}

const example = {
  id: null, stored: false,
  period: { kind: 'week', start: '2026-11-16', end: '2026-11-22', from: '2026-11-15T16:00:00.000Z', to: '2026-11-22T16:00:00.000Z', timeZone: 'Asia/Shanghai' },
  generatedAt: '2026-11-27T00:00:00.000Z',
}
const figuresExample = {
  received: 2,
  byCategory: [{ key: 'product_quality', label: '产品质量', count: 1 }, { key: 'none', label: '未评估', count: 1 }],
  byLevel: [{ key: 'general', label: '一般', count: 1 }, { key: 'none', label: '未评估', count: 1 }],
  byChannel: [{ key: 'hotline_400', label: '400热线', count: 2 }],
  byDepartment: [{ key: 'service-station', label: '服务站', count: 1 }, { key: 'none', label: '未评估', count: 1 }],
  byExternalBody: [{ key: 'media', label: '新闻媒体', count: 0 }],
  irrational: { firstStage: { numerator: 0, denominator: 2, ratio: 0 }, secondStage: { numerator: 0, denominator: 2, ratio: 0 }, watch: 0, monitor: 0 },
  complaintRates: [{ categoryId: 'product_quality', label: '产品质量', complaints: 1, denominator: null, perThousand: null, missing: '产品质量: no denominator posted for the week of 2026-11-16' }],
  firstTimeClosure: { numerator: 1, denominator: 1, ratio: 1 },
  breaches: [{ departmentId: 'service-station', departmentLabel: '服务站', clock: 'first_reply', clockLabel: '首次回复', count: 1 }],
  timeToFirstReply: { complaints: 1, meanBusinessMinutes: 95, p90BusinessMinutes: 95 },
  timeToClosure: { complaints: 1, meanBusinessMinutes: 1260, p90BusinessMinutes: 1260 },
  satisfaction: { mean: 4, distribution: [1, 2, 3, 4, 5].map((score) => ({ score, count: score === 4 ? 1 : 0 })), responseRate: { numerator: 1, denominator: 1, ratio: 1 } },
  perDay: [{ date: '2026-11-16', level: 'general', label: '一般', count: 1 }],
  closeTimeDistribution: [{ bucket: '1to3', label: '1–3个工作日', count: 1 }],
}

export const WeeklyReportSchema = named('WeeklyReport', Type.Object({
  ...reportProperties,
  kind: Type.Literal('weekly'),
  figures: Type.Object(figureProperties, { description: 'docs/reports.md “Weekly report”' }),
}, { description: '周报: the figures of one week’s cohort (办法 §7.7)', examples: [{ ...example, kind: 'weekly', figures: figuresExample }] }))

export const MonthlyReportSchema = named('MonthlyReport', Type.Object({
  ...reportProperties,
  kind: Type.Literal('monthly'),
  figures: Type.Object({ ...figureProperties, ...monthlyProperties }, { description: 'docs/reports.md “Monthly analysis report”: every weekly figure over the month, and more' }),
  previousPeriod: PeriodSchema,
  changes: Type.Array(ChangeSchema, { description: 'every comparable figure against the previous month' }),
}, {
  description: '月度抱怨/投诉分析报告',
  examples: [{
    ...example, kind: 'monthly',
    period: { kind: 'month', start: '2026-11-01', end: '2026-11-30', from: '2026-10-31T16:00:00.000Z', to: '2026-11-30T16:00:00.000Z', timeZone: 'Asia/Shanghai' },
    previousPeriod: { kind: 'month', start: '2026-10-01', end: '2026-10-31', from: '2026-09-30T16:00:00.000Z', to: '2026-10-31T16:00:00.000Z', timeZone: 'Asia/Shanghai' },
    figures: {
      ...figuresExample,
      topRootCauses: [{ rootCause: '配件系统允许订购已替代的刹车片料号', count: 3 }],
      capa: {
        complaints: { open: 2, reviewed: 1 }, measures: { corrective: 3, preventive: 2 },
        reviews: { effective: 1, partially_effective: 1, not_effective: 0, not_reviewed: 3 }, shareEffective: { numerator: 1, denominator: 2, ratio: 0.5 },
        overdueReviews: [{ complaintId: '0195f7a4-5b1c-7c3e-9a10-2f4d6e8b1a01', reference: 'CP-2026-000123', departmentId: 'service-station', measureId: '3f1c2b9e-8a4d-4c7e-9b1a-2d5e6f7a8b9c', type: 'preventive', action: '在配件系统中停用已替代料号', owner: '信息部 刘强', dueDate: '2026-10-15', reviewDueDate: '2026-11-14' }],
      },
      repeats: { numerator: 1, denominator: 2, ratio: 0.5 },
      reopenRate: { numerator: 0, denominator: 1, ratio: 0 },
    },
    changes: [{ key: 'received', label: '受理抱怨数', kind: 'count', current: 2, previous: 4, difference: -2, relativeChange: -0.5 }],
  }],
}))

export type WeeklyReport = Static<typeof WeeklyReportSchema>
export type MonthlyReport = Static<typeof MonthlyReportSchema>
export type Report = WeeklyReport | MonthlyReport
export type PeriodFigures = WeeklyReport['figures']
export type MonthlyFigures = MonthlyReport['figures']

export const StoredReportSchema = named('StoredReport', Type.Union([WeeklyReportSchema, MonthlyReportSchema], { description: 'a published report, weekly or monthly (`kind`)' }))

export const StoredReportSummary = named('StoredReportSummary', Type.Object({
  id: Uuid(),
  kind: Type.Enum(['weekly', 'monthly']),
  periodStart: Type.String({ format: 'date' }),
  periodEnd: Type.String({ format: 'date' }),
  generatedAt: DateTime(),
}, { description: 'a published report', examples: [{ id: '0195f7a4-9999-7000-8000-000000000001', kind: 'weekly', periodStart: '2026-11-16', periodEnd: '2026-11-22', generatedAt: '2026-11-27T00:00:00.000Z' }] }))

export const StoredReportPage = named('StoredReportPage', Type.Object({
  items: Type.Array(StoredReportSummary),
  nextCursor: Nullable(Type.String({ description: 'pass as `cursor` for the next page; null on the last page' })),
}, { description: 'published reports, newest first' }))

export const ListReportsQuery = Type.Object({ kind: Type.Optional(Type.Enum(['weekly', 'monthly'])), ...PageQuery }, strict)
export const WeeklyQuery = Type.Object({
  week: Type.Optional(DateInput('the Monday the week starts on (business time zone); default: the last complete week')),
}, strict)
export const MonthlyQuery = Type.Object({
  month: Type.Optional(Type.String({ pattern: '^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$', description: 'YYYY-MM; default: the last complete month' })),
}, strict)

// ---- denominators ----

export const DENOMINATOR_KINDS = ['orders', 'customers', 'vehicles'] as const
export const DenominatorSchema = named('Denominator', Type.Object({
  categoryId: Type.String(),
  period: Type.Enum(['week', 'month']),
  periodStart: Type.String({ format: 'date', description: 'the Monday of the week, or the 1st of the month' }),
  kind: Type.Enum([...DENOMINATOR_KINDS], { description: 'what is counted: orders 订单, customers 客户, vehicles 车辆' }),
  value: Type.Integer({ minimum: 1 }),
  updatedAt: DateTime(),
}, {
  description: 'the figure a category’s complaint rate is computed against for one period (办法 §7.7.2 客户抱怨率)',
  examples: [{ categoryId: 'service_quality', period: 'week', periodStart: '2026-11-16', kind: 'orders', value: 1250, updatedAt: '2026-11-23T01:00:00.000Z' }],
}))
export const DenominatorList = named('DenominatorList', Type.Object({ items: Type.Array(DenominatorSchema) }, { description: 'posted denominators, by period then category' }))
export const DenominatorBody = named('DenominatorRequest', Type.Object({
  kind: Type.Enum([...DENOMINATOR_KINDS]),
  value: Type.Integer({ minimum: 1, maximum: 2_000_000_000, description: 'a count; a period without one has no rate (never a rate against 0)' }),
}, { ...strict, examples: [{ kind: 'orders', value: 1250 }] }))
export const DenominatorParams = Type.Object({
  period: Type.Enum(['week', 'month']),
  periodStart: DateInput('the Monday of the week, or the 1st of the month'),
  categoryId: Slug('category'),
}, strict)
export const DenominatorQuery = Type.Object({
  period: Type.Optional(Type.Enum(['week', 'month'])),
  from: Type.Optional(DateInput('periods starting on or after')),
  to: Type.Optional(DateInput('periods starting on or before')),
}, strict)
