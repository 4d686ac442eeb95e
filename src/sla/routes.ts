import { sql } from 'kysely'
import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { audited } from '../audit/audit.js'
import { calendarCoverage, HOLIDAY_DATA_YEARS, isWorkingDay, standardDayMinutes, toLocal } from '../domain/calendar.js'
import { daysFromIcs, DEFAULT_WORKING_DAY_PATTERN } from './ics-import.js'
import { CHANNELS, LEVELS } from '../domain/vocabulary.js'
import type { SlaPolicy } from '../domain/sla.js'
import { DateInput, DateTime, json, named, Nullable, problems, Text } from '../http/common-schemas.js'
import { auditContext } from '../plugins/auth.js'
import { unprocessable } from '../errors.js'

const strict = { additionalProperties: false } as const

const Limit = named('Limit', Type.Union([
  Type.Object({ unit: Type.Enum(['business_minutes', 'business_days', 'calendar_minutes', 'calendar_days']), amount: Type.Integer({ minimum: 1 }) }, strict),
  Type.Object({ unit: Type.Literal('end_of_business_day') }, strict),
], { description: 'a time limit: business units count working time only (a business day is the standard working day, 450 minutes by default); calendar units count every minute; end_of_business_day is the close of the day of the start (after hours: of the next working day)' }))
const ClockLimits = named('ClockLimits', Type.Object({ handover: Limit, firstReply: Limit, closure: Limit }, { ...strict, description: 'the limits of one level' }))
const PartialLimits = named('ChannelLimits', Type.Object({ handover: Type.Optional(Limit), firstReply: Type.Optional(Limit), closure: Type.Optional(Limit) }, { ...strict, description: 'a channel’s limits, each applied where stricter than the level’s' }))
const UpgradeTarget = Type.Enum(['general', 'moderate', 'strong'])

const PolicyBody = named('SlaPolicy', Type.Object(
  {
    levels: Type.Object(Object.fromEntries(LEVELS.map((l) => [l, ClockLimits])) as Record<(typeof LEVELS)[number], typeof ClockLimits>, strict),
    channelOverrides: Type.Object(Object.fromEntries(CHANNELS.map((c) => [c, Type.Optional(PartialLimits)])) as Record<(typeof CHANNELS)[number], ReturnType<typeof Type.Optional<typeof PartialLimits>>>, strict),
    callback: Limit,
    dueSoonRatio: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'sla.due_soon when this share of a limit has passed' }),
    upgradeMap: Type.Object({ general: UpgradeTarget, moderate: UpgradeTarget, strong: UpgradeTarget }, { ...strict, description: 'the automatic upgrade (docs/escalation.md); irrational goes from the first to the second stage' }),
  },
  { ...strict, description: 'the limits of every level and channel, the callback limit, the due-soon share and the upgrade map' },
))

const PolicyVersion = named('SlaPolicyVersion', Type.Object({
  version: Type.Integer(), current: Type.Boolean({ description: 'new complaints run on the current version' }), note: Nullable(Type.String()), createdAt: DateTime(), createdBy: Nullable(Type.String()), policy: PolicyBody,
}, { description: 'one published version of the SLA policy; complaints keep the version they were received under' }))
const PolicyList = named('SlaPolicyList', Type.Object({ items: Type.Array(PolicyVersion) }, { description: 'every version, newest (current) first' }))
const CreatePolicyBody = named('CreateSlaPolicyRequest', Type.Object({ policy: PolicyBody, note: Type.Optional(Text(500)) }, {
  ...strict,
  examples: [{ note: '2027: 中级抱怨首次回复缩短为4个工作小时', policy: {
    levels: {
      general: { handover: { unit: 'end_of_business_day' }, firstReply: { unit: 'business_days', amount: 1 }, closure: { unit: 'business_days', amount: 3 } },
      moderate: { handover: { unit: 'business_minutes', amount: 240 }, firstReply: { unit: 'business_minutes', amount: 240 }, closure: { unit: 'business_days', amount: 3 } },
      strong: { handover: { unit: 'calendar_minutes', amount: 30 }, firstReply: { unit: 'calendar_minutes', amount: 180 }, closure: { unit: 'calendar_days', amount: 3 } },
      irrational: { handover: { unit: 'business_days', amount: 1 }, firstReply: { unit: 'business_days', amount: 1 }, closure: { unit: 'business_days', amount: 5 } },
    },
    channelOverrides: { hotline_400: { firstReply: { unit: 'calendar_minutes', amount: 180 }, closure: { unit: 'business_days', amount: 3 } } },
    callback: { unit: 'calendar_minutes', amount: 720 }, dueSoonRatio: 0.8, upgradeMap: { general: 'moderate', moderate: 'strong', strong: 'strong' },
  } }],
}))

const CalendarSchema = named('Calendar', Type.Object({
  timeZone: Type.String(),
  workingHours: Type.Array(Type.Object({ from: Type.String({ pattern: '^[0-2][0-9]:[0-5][0-9]$' }), to: Type.String({ pattern: '^[0-2][0-9]:[0-5][0-9]$' }) })),
  standardDayMinutes: Type.Integer({ description: 'the length of a business day' }),
  holidayData: Type.Object({ package: Type.String(), firstYear: Type.Integer(), lastYear: Type.Integer() }),
  coverage: Type.Object({ coveredThrough: Type.Integer({ description: 'the last year whose holidays are known' }), daysLeft: Type.Integer(), warning: Nullable(Type.String()) }),
  overrides: Type.Array(Type.Object({ date: Type.String({ format: 'date' }), working: Type.Boolean(), note: Nullable(Type.String()) })),
}, {
  description: 'the business calendar: 工作时间, 法定节假日 and 调休 from the holiday data, and the organisation’s overrides',
  examples: [{
    timeZone: 'Asia/Shanghai', workingHours: [{ from: '09:00', to: '12:00' }, { from: '13:30', to: '18:00' }], standardDayMinutes: 450,
    holidayData: { package: 'chinese-days', firstYear: 2004, lastYear: 2026 }, coverage: { coveredThrough: 2027, daysLeft: 398, warning: null },
    overrides: [{ date: '2027-01-01', working: false, note: '元旦 假期' }],
  }],
}))
const DateParams = Type.Object({ date: DateInput() }, strict)
const OverrideBody = named('CalendarOverrideRequest', Type.Object(
  { working: Type.Boolean({ description: 'true: a working day (e.g. 调休 Saturday); false: a day off' }), note: Type.Optional(Text(200)) },
  { ...strict, examples: [{ working: false, note: '2027 元旦' }] },
))

const ImportBody = named('CalendarImportRequest', Type.Object(
  {
    ics: Type.String({ minLength: 1, maxLength: 500_000, description: 'the text of the .ics file' }),
    dryRun: Type.Optional(Type.Boolean({ default: false, description: 'list the dates that would change; change nothing' })),
    workingDayPattern: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: `regular expression (case-insensitive) on an event’s SUMMARY that marks its days as working days; default \`${DEFAULT_WORKING_DAY_PATTERN}\`` })),
  },
  {
    ...strict,
    examples: [{
      dryRun: true,
      ics: 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//holidays//CN\r\nBEGIN:VEVENT\r\nUID:2027-newyear\r\nDTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20270104\r\nSUMMARY:元旦 假期\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n',
    }],
  },
))
const ImportResult = named('CalendarImportResult', Type.Object({
  dryRun: Type.Boolean(),
  days: Type.Integer({ description: 'days the file names' }),
  unchanged: Type.Integer({ description: 'of them, days whose override already says the same' }),
  changes: Type.Array(Type.Object({
    date: Type.String({ format: 'date' }),
    working: Type.Boolean({ description: 'what the day becomes' }),
    note: Type.String(),
    previous: Nullable(Type.Object({ working: Type.Boolean(), note: Nullable(Type.String()) }, { description: 'the override it replaces' })),
    workingBefore: Type.Boolean({ description: 'whether the calendar counted the day as a working day before' }),
  }), { description: 'the dates the import writes (or, in a dry run, would write)' }),
}, {
  description: 'what an .ics import changed, or would change',
  examples: [{ dryRun: true, days: 3, unchanged: 0, changes: [{ date: '2027-01-01', working: false, note: '元旦 假期', previous: null, workingBefore: true }] }],
}))

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`

/** SLA policies (versioned) and the business calendar (docs/time-limits.md) */
export default async function slaRoutes(app: FastifyInstance) {
  const { services } = app
  const tags = ['sla']

  async function versions() {
    const rows = await services.db.selectFrom('sla_policies').selectAll().orderBy('version', 'desc').execute()
    return rows.map((r, i) => ({
      version: r.version, current: i === 0, note: r.note, createdAt: r.created_at.toISOString(), createdBy: r.created_by,
      policy: r.policy as Omit<SlaPolicy, 'version'>,
    }))
  }

  app.get('/v1/admin/sla-policies', {
    schema: { operationId: 'listSlaPolicies', tags, summary: 'SLA policy versions, newest (current) first', response: { 200: json('Every version, newest first.', PolicyList) } },
  }, async () => ({ items: await versions() }))

  app.post('/v1/admin/sla-policies', {
    schema: {
      operationId: 'createSlaPolicy', tags, summary: 'Publish a new SLA policy version',
      description: 'New complaints run on it; existing complaints keep the version they started with.',
      body: CreatePolicyBody,
      response: { 201: json('The new version, now current.', PolicyVersion), ...problems(422) },
    },
  }, async (req, reply) => {
    const { policy, note } = req.body as { policy: Omit<SlaPolicy, 'version'>; note?: string }
    const rank = { general: 0, moderate: 1, strong: 2 } as const
    for (const [from, to] of Object.entries(policy.upgradeMap) as Array<[keyof typeof rank, keyof typeof rank]>) {
      if (rank[to] < rank[from]) throw unprocessable(`/body/policy/upgradeMap/${from}`, `an upgrade cannot go down (${from} → ${to})`)
    }
    const now = services.clock.now()
    const version = await audited(services.db, auditContext(req), now, async (trx) => {
      await sql`lock table sla_policies in share row exclusive mode`.execute(trx)
      const { v } = await trx.selectFrom('sla_policies').select((eb) => eb.fn.max('version').as('v')).executeTakeFirstOrThrow()
      const next = Number(v) + 1
      await trx.insertInto('sla_policies').values({ version: next, policy: JSON.stringify(policy), note: note ?? null, created_at: now, created_by: req.principal?.name ?? null }).execute()
      return { result: next, change: { entityType: 'sla_policy', entityId: String(next), before: null, after: { version: next, policy, note } } }
    })
    services.sla.invalidate()
    return reply.code(201).send((await versions()).find((p) => p.version === version)!)
  })

  async function calendarView() {
    const calendar = await services.sla.calendar()
    const rows = await services.db.selectFrom('calendar_overrides').select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'), 'working', 'note']).orderBy('day').execute()
    const coverage = calendarCoverage(rows.map((r) => r.day), toLocal(services.clock.now(), calendar.timeZone).date, services.config.CALENDAR_WARN_DAYS)
    return {
      timeZone: calendar.timeZone,
      workingHours: calendar.blocks.map(([from, to]) => ({ from: hhmm(from), to: hhmm(to) })),
      standardDayMinutes: standardDayMinutes(calendar),
      holidayData: { package: 'chinese-days', firstYear: HOLIDAY_DATA_YEARS.first, lastYear: HOLIDAY_DATA_YEARS.last },
      coverage: { coveredThrough: coverage.coveredThrough, daysLeft: coverage.daysLeft, warning: coverage.warning },
      overrides: rows.map((r) => ({ date: r.day, working: r.working, note: r.note })),
    }
  }

  app.get('/v1/admin/calendar', {
    schema: {
      operationId: 'getCalendar', tags, summary: 'The business calendar: hours, holiday data coverage, overrides',
      description: '`coverage.warning` is set from CALENDAR_WARN_DAYS (60) days before the holiday data runs out, until overrides for the next year are posted.',
      response: { 200: json('The calendar.', CalendarSchema) },
    },
  }, calendarView)

  app.put('/v1/admin/calendar/overrides/:date', {
    schema: {
      operationId: 'setCalendarOverride', tags, summary: 'Declare a date a working day or a day off',
      description: 'Overrides beat the holiday data: use them for organisation-specific days and for years the data does not cover. Deadlines already computed stay as they are; new clocks use the override.',
      params: DateParams, body: OverrideBody, response: { 200: json('The calendar with the override.', CalendarSchema) },
    },
  }, async (req) => {
    const { date } = req.params as { date: string }
    const { working, note } = req.body as { working: boolean; note?: string }
    const now = services.clock.now()
    await audited(services.db, auditContext(req), now, async (trx) => {
      const before = await trx.selectFrom('calendar_overrides').select(['working', 'note']).where('day', '=', date).executeTakeFirst()
      await trx.insertInto('calendar_overrides').values({ day: date, working, note: note ?? null })
        .onConflict((oc) => oc.column('day').doUpdateSet({ working, note: note ?? null })).execute()
      return { result: null, change: { entityType: 'calendar_override', entityId: date, before: before ?? null, after: { working, note: note ?? null } } }
    })
    services.sla.invalidate()
    return calendarView()
  })

  app.post('/v1/admin/calendar/overrides/import', {
    schema: {
      operationId: 'importCalendarOverrides', tags, summary: 'Post holidays and 调休 working days from an iCalendar (.ics) file',
      description: 'For years the holiday data does not cover (2027 and later): paste a published holiday calendar. Each all-day event marks its days as days off, or as working days when its summary matches `workingDayPattern` (补班, 上班). With `dryRun` nothing is written and the answer lists the dates that would change; otherwise the changes are applied in one transaction.',
      body: ImportBody, response: { 200: json('What the import changed (or, in a dry run, would change).', ImportResult), ...problems(422) },
    },
  }, async (req) => {
    const { ics, dryRun, workingDayPattern } = req.body as { ics: string; dryRun?: boolean; workingDayPattern?: string }
    let pattern: RegExp
    try {
      pattern = new RegExp(workingDayPattern ?? DEFAULT_WORKING_DAY_PATTERN, 'i')
    } catch {
      throw unprocessable('/body/workingDayPattern', 'is not a regular expression')
    }
    const days = daysFromIcs(ics, pattern)
    const calendar = await services.sla.calendar()
    const existing = new Map((await services.db.selectFrom('calendar_overrides').select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'), 'working', 'note'])
      .where('day', 'in', days.map((d) => d.date)).execute()).map((r) => [r.day, r]))
    const changes = days.filter((d) => existing.get(d.date)?.working !== d.working || existing.get(d.date)?.note !== d.note).map((d) => {
      const previous = existing.get(d.date)
      return { ...d, previous: previous ? { working: previous.working, note: previous.note } : null, workingBefore: isWorkingDay(d.date, calendar) }
    })
    if (!dryRun && changes.length > 0) {
      await audited(services.db, auditContext(req), services.clock.now(), async (trx) => {
        for (const d of changes) {
          await trx.insertInto('calendar_overrides').values({ day: d.date, working: d.working, note: d.note })
            .onConflict((oc) => oc.column('day').doUpdateSet({ working: d.working, note: d.note })).execute()
        }
        return {
          result: null,
          change: { entityType: 'calendar_override', entityId: `import:${days[0]!.date}..${days.at(-1)!.date}`, before: { overrides: changes.map((d) => ({ date: d.date, ...d.previous })) }, after: { overrides: changes.map(({ date, working, note }) => ({ date, working, note })) } },
        }
      })
      services.sla.invalidate()
    }
    return { dryRun: dryRun ?? false, days: days.length, unchanged: days.length - changes.length, changes }
  })

  app.delete('/v1/admin/calendar/overrides/:date', {
    schema: {
      operationId: 'deleteCalendarOverride', tags, summary: 'Remove an override: the holiday data applies again',
      params: DateParams, response: { 200: json('The calendar without the override.', CalendarSchema), ...problems(404) },
    },
  }, async (req) => {
    const { date } = req.params as { date: string }
    const now = services.clock.now()
    await audited(services.db, auditContext(req), now, async (trx) => {
      const before = await trx.deleteFrom('calendar_overrides').where('day', '=', date).returning(['working', 'note']).executeTakeFirst()
      return { result: null, change: { entityType: 'calendar_override', entityId: date, before: before ?? null, after: null } }
    })
    services.sla.invalidate()
    return calendarView()
  })
}
