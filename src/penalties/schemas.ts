import { Type, type Static } from 'typebox'
import { Level as LevelSchema } from '../http/vocabulary-schemas.js'
import { DateInput, DateTime, DateTimeInput, named, Nullable, PageQuery, Text, Uuid } from '../http/common-schemas.js'
import { MONTHLY_GROWTHS, NOTICE_KINDS } from '../domain/penalties.js'
import { LEVELS } from '../domain/vocabulary.js'

const strict = { additionalProperties: false } as const

export const NOTICE_STATUSES = ['issued', 'contested', 'upheld', 'waived', 'confirmed', 'fulfilled', 'unassigned'] as const
export type NoticeStatus = (typeof NOTICE_STATUSES)[number]

const Fen = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: `${description}, in fen (1 CNY = 100 fen)` })
const Kind = Type.Enum([...NOTICE_KINDS], { description: 'handover_late 移交超时, first_reply_late 首次回复超时, closure_limit 一次关闭考核, monthly 超月未关闭' })
const Level = LevelSchema

const rulesExample = {
  handoverLateFen: 5000, firstReplyLateFen: 5000,
  closureStandardFen: { general: 20000, moderate: 50000, strong: 100000, irrational: 10000 },
  monthlyMultiplier: 2, monthlyGrowth: 'linear',
}

export const PenaltyRulesBody = named('PenaltyRules', Type.Object({
  handoverLateFen: Fen('a missed handover limit (per breach: complaint and cycle)'),
  firstReplyLateFen: Fen('a missed first-reply limit (per breach)'),
  closureStandardFen: Type.Object(
    Object.fromEntries(LEVELS.map((l) => [l, Fen(`the first-time-closure standard (一次关闭考核标准) of level ${l}`)])) as Record<(typeof LEVELS)[number], ReturnType<typeof Fen>>,
    { ...strict, description: 'charged when a cycle’s closure limit expires unclosed; the base of monthly notices' },
  ),
  monthlyMultiplier: Type.Integer({ minimum: 1, maximum: 10, description: 'monthly notices: a whole number from 1 to 10 (default 2)' }),
  monthlyGrowth: Type.Enum([...MONTHLY_GROWTHS], { description: 'linear: month n costs n × multiplier × standard (default); compound: multiplier^n × standard' }),
}, { ...strict, description: 'the amounts of penalty notices, in fen, and the monthly multiplier', examples: [rulesExample] }))
export type PenaltyRulesInput = Static<typeof PenaltyRulesBody>

export const PenaltyRulesVersion = named('PenaltyRulesVersion', Type.Object({
  version: Type.Integer(), current: Type.Boolean({ description: 'notices owed from now on use the current version' }),
  effectiveFrom: DateTime('when it was published: it applies to notices owed (a deadline passed, a month completed) from then on'),
  note: Nullable(Type.String()), createdBy: Nullable(Type.String()), rules: PenaltyRulesBody,
}, {
  description: 'one published version of the penalty rules',
  examples: [{ version: 1, current: true, effectiveFrom: '2026-11-28T01:00:00.000Z', note: 'seed 002 §7.6 with the defaults of docs/penalties.md', createdBy: null, rules: rulesExample }],
}))
export const PenaltyRulesList = named('PenaltyRulesList', Type.Object({ items: Type.Array(PenaltyRulesVersion) }, {
  description: 'every version, newest (current) first (the example of a version is PenaltyRulesVersion’s)',
}))
export const CreatePenaltyRulesBody = named('CreatePenaltyRulesRequest', Type.Object({ rules: PenaltyRulesBody, note: Type.Optional(Text(500)) }, {
  ...strict, examples: [{ note: '2027: 超月未关闭按3倍递增', rules: { ...rulesExample, monthlyMultiplier: 3 } }],
}))

const Actor = Type.Object({ role: Nullable(Type.String()), name: Nullable(Type.String()) }, { description: 'who: the role and name of the API key, or the scheduler' })
const Change = Type.Object({ at: DateTime(), status: Type.Enum([...NOTICE_STATUSES]), actor: Actor, reason: Nullable(Type.String()) })

export const noticeExample = {
  id: '0195f7a4-7777-7000-8000-000000000043', number: 'PN-2026-000043', status: 'issued', kind: 'closure_limit', cycle: 1, month: null,
  complaint: { id: '0195f7a4-5b1c-7c3e-9a10-2f4d6e8b1a01', reference: 'CP-2026-000812' }, departmentId: 'service-station',
  level: 'general', standardFen: 20000, factor: 1, amountFen: 20000, rulesVersion: 1, owedAt: '2026-09-30T09:30:00.000Z',
  reason: '一次关闭考核 closure limit expired: cycle 1 was not closed in time (due 2026-09-30 17:30 Asia/Shanghai); the general (一般) standard',
  issuedAt: '2026-09-30T09:35:00.000Z', bulletinId: null,
  history: [{ at: '2026-09-30T09:35:00.000Z', status: 'issued', actor: { role: null, name: 'scheduler' }, reason: null }],
}
export const PenaltyNoticeSchema = named('PenaltyNotice', Type.Object({
  id: Uuid(),
  number: Nullable(Type.String({ pattern: '^PN-[0-9]{4}-[0-9]{6,}$', description: 'PN-YYYY-NNNNNN, gap-free per year of issue; null for an unassigned finding (no department to charge), which is not a notice' })),
  status: Type.Enum([...NOTICE_STATUSES]),
  kind: Kind,
  cycle: Nullable(Type.Integer({ description: 'the clock cycle of the breach (null for monthly notices)' })),
  month: Nullable(Type.Integer({ description: 'monthly notices: full months since receipt' })),
  complaint: Type.Object({ id: Uuid(), reference: Type.String() }),
  departmentId: Nullable(Type.String({ description: 'the department charged: the one on record when the limit was missed or the month completed' })),
  level: Level,
  standardFen: Fen('the standard (or flat amount) the notice is computed from'),
  factor: Type.Integer({ minimum: 1, description: '1, or the monthly factor (n × multiplier, or multiplier^n)' }),
  amountFen: Fen('standardFen × factor'),
  rulesVersion: Type.Integer(),
  owedAt: DateTime('the deadline that was missed, or the moment the month completed'),
  reason: Type.String(),
  issuedAt: DateTime(),
  bulletinId: Nullable(Uuid('the weekly bulletin that lists it')),
  history: Type.Array(Change, { description: 'every status, oldest first' }),
}, { description: '《客户抱怨闭环处理处罚通知单》: a penalty notice against a department', examples: [noticeExample] }))

export const PenaltyNoticePage = named('PenaltyNoticePage', Type.Object({
  items: Type.Array(PenaltyNoticeSchema), nextCursor: Nullable(Type.String({ description: 'pass as `cursor` for the next page' })),
}, { description: 'notices, newest first (the example of a notice is PenaltyNotice’s)' }))

export const NoticeListQuery = Type.Object({
  departmentId: Type.Optional(Type.String({ maxLength: 64 })),
  status: Type.Optional(Type.Array(Type.Enum([...NOTICE_STATUSES]), { maxItems: 7, description: 'repeatable' })),
  kind: Type.Optional(Kind),
  complaintId: Type.Optional(Uuid()),
  bulletinId: Type.Optional(Uuid()),
  from: Type.Optional(DateTimeInput('issued at or after')),
  to: Type.Optional(DateTimeInput('issued before')),
  ...PageQuery,
}, strict)
export type NoticeListQuery = Static<typeof NoticeListQuery>

export const NoticeReasonBody = named('PenaltyNoticeReasonRequest', Type.Object({
  reason: Text(1000, 'why: kept on the notice’s history and the audit log'),
}, { ...strict, examples: [{ reason: '签收延误因系统故障，见IT工单 #4471' }] }))

export const FulfilBody = named('PenaltyFulfilmentRequest', Type.Object({
  note: Type.Optional(Text(500, 'e.g. the voucher number of the collection')),
}, { ...strict, examples: [{ note: '财务凭证 2026-10-0153' }] }))

const LedgerLine = Type.Object({
  departmentId: Nullable(Type.String({ description: 'null: findings with no department to charge (not assessed yet), for the CS centre' })),
  notices: Type.Integer({ description: 'notices issued (unassigned findings not included)' }),
  issuedFen: Fen('everything issued in the period'),
  waivedFen: Fen('waived'),
  pendingFen: Fen('issued, contested or upheld: not yet in a signed bulletin'),
  confirmedFen: Fen('confirmed by a signed bulletin (fulfilled included)'),
  fulfilledFen: Fen('collected'),
  outstandingFen: Fen('confirmed and not yet collected'),
  unassigned: Type.Integer({ description: 'findings with no department (the department row is null)' }),
})
export const PenaltyLedger = named('PenaltyLedger', Type.Object({
  from: Nullable(DateTime()), to: Nullable(DateTime()), items: Type.Array(LedgerLine),
}, {
  description: 'per department, the notices issued in the period and where they stand: issued = waived + pending + confirmed',
  examples: [{ from: '2026-09-01T00:00:00+08:00', to: '2026-10-01T00:00:00+08:00', items: [{ departmentId: 'service-station', notices: 3, issuedFen: 30000, waivedFen: 0, pendingFen: 0, confirmedFen: 30000, fulfilledFen: 5000, outstandingFen: 25000, unassigned: 0 }] }],
}))
export const LedgerQuery = Type.Object({
  from: Type.Optional(DateTimeInput('issued at or after')), to: Type.Optional(DateTimeInput('issued before')), departmentId: Type.Optional(Type.String({ maxLength: 64 })),
}, strict)

const KindFigures = Type.Object({ notices: Type.Integer({ minimum: 0 }), amountFen: Fen('sum') })
const Kinds = Type.Object(Object.fromEntries(NOTICE_KINDS.map((k) => [k, KindFigures])) as Record<(typeof NOTICE_KINDS)[number], typeof KindFigures>)
const emptyKinds = Object.fromEntries(NOTICE_KINDS.map((k) => [k, { notices: 0, amountFen: 0 }]))
const bulletinExample = {
  id: '0195f7a4-8888-7000-8000-000000000001', title: '执行部门抱怨闭环处理处罚通报', weekStart: '2026-09-28', weekEnd: '2026-10-04',
  from: '2026-09-27T16:00:00.000Z', to: '2026-10-04T16:00:00.000Z', status: 'signed',
  drawnUpAt: '2026-10-09T09:00:00.000Z', drawnUpBy: 'scheduler', signedAt: '2026-10-09T10:12:00.000Z', signedBy: '王总',
  lines: [{ departmentId: 'service-station', departmentName: 'Service station', departmentNameZh: '服务站', kinds: { ...emptyKinds, first_reply_late: { notices: 1, amountFen: 5000 }, closure_limit: { notices: 1, amountFen: 20000 } }, notices: 2, totalFen: 25000 }],
  totals: { kinds: { ...emptyKinds, first_reply_late: { notices: 1, amountFen: 5000 }, closure_limit: { notices: 1, amountFen: 20000 } }, notices: 2, totalFen: 25000 },
  unassigned: [],
}
export const PenaltyBulletinSchema = named('PenaltyBulletin', Type.Object({
  id: Uuid(),
  title: Type.Literal('执行部门抱怨闭环处理处罚通报'),
  weekStart: Type.String({ format: 'date', description: 'the Monday' }),
  weekEnd: Type.String({ format: 'date', description: 'the Sunday' }),
  from: DateTime('Monday 00:00 in the business time zone'),
  to: DateTime('the next Monday 00:00: the week is [from, to)'),
  status: Type.Enum(['draft', 'signed'], { description: 'draft: regenerated on demand; signed: by the general manager, published and immutable' }),
  drawnUpAt: DateTime(), drawnUpBy: Nullable(Type.String()),
  signedAt: Nullable(DateTime()), signedBy: Nullable(Type.String()),
  lines: Type.Array(Type.Object({
    departmentId: Type.String(), departmentName: Type.String(), departmentNameZh: Nullable(Type.String()),
    kinds: Kinds, notices: Type.Integer(), totalFen: Fen('the department’s total'),
  }), { description: 'one line per department charged' }),
  totals: Type.Object({ kinds: Kinds, notices: Type.Integer(), totalFen: Fen('the grand total') }),
  unassigned: Type.Array(Type.Object({ complaintId: Uuid(), complaintReference: Type.String(), kind: Kind, period: Type.Integer() }), {
    description: 'findings of the week with no department to charge (the complaint was not assessed): for the CS centre, not in the totals',
  }),
}, { description: '《执行部门抱怨闭环处理处罚通报》: the week’s notices per department, signed by the general manager (办法 §7.8)', examples: [bulletinExample] }))
export type BulletinDto = Static<typeof PenaltyBulletinSchema>

export const PenaltyBulletinList = named('PenaltyBulletinList', Type.Object({ items: Type.Array(PenaltyBulletinSchema) }, {
  description: 'bulletins, newest week first (the example of a bulletin is PenaltyBulletin’s)',
}))
export const GenerateBulletinBody = named('GeneratePenaltyBulletinRequest', Type.Object({
  weekStart: DateInput('the Monday of a week that has ended'),
}, { ...strict, examples: [{ weekStart: '2026-09-28' }] }))
export const SignBulletinBody = named('SignPenaltyBulletinRequest', Type.Object({
  comment: Type.Optional(Text(500)),
}, { ...strict, examples: [{ comment: '同意，按通报执行' }] }))
export const BulletinListQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })) }, strict)
export const BulletinLineParams = Type.Object({ id: Uuid('bulletin id'), departmentId: Type.String({ maxLength: 64 }) }, strict)
