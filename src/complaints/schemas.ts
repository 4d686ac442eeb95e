import { Type, type Static } from 'typebox'
import { DateInput, DateTime, DateTimeInput, NO_NUL, Nullable, PageQuery, Slug, Text, Uuid } from '../http/common-schemas.js'
import {
  CHANNELS, CLOSURE_TYPES, DESIRED_OUTCOMES, EXTERNAL_CHANNELS, FOLLOW_UP_MODES, IRRATIONAL_STAGES, LEVELS, NATURES, NOTE_KINDS, STATUSES,
} from '../domain/vocabulary.js'
import { ACTIONS } from '../domain/lifecycle.js'

const strict = { additionalProperties: false } as const

export const Channel = Type.Enum([...CHANNELS], { description: 'intake channel' })
export const Level = Type.Enum([...LEVELS], { description: '级别: general 一般, moderate 中级, strong 强烈, irrational 非理性' })
export const Status = Type.Enum([...STATUSES])
export const ExternalBody = Type.Enum([...EXTERNAL_CHANNELS], { description: '投诉: the outside body the customer went to' })
export const FollowUpMode = Type.Enum([...FOLLOW_UP_MODES], { description: '关注 watch / 监控 monitor' })

const ExternalId = Type.Object(
  { system: Slug('the other system, e.g. `wukong`'), customerId: Text(128, "the complainant's id in that system") },
  strict,
)

const Complainant = Type.Object(
  {
    name: Text(200),
    kind: Type.Optional(Type.Enum(['person', 'company'], { default: 'person' })),
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9][0-9 -]{4,24}$', description: 'PII' })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254, description: 'PII' })),
    idNumber: Type.Optional(Text(40, 'identity document number (PII)')),
    address: Type.Optional(Text(500, 'PII')),
    externalIds: Type.Optional(Type.Array(ExternalId, { maxItems: 10, description: 'ids in CRMs such as 悟空CRM' })),
  },
  strict,
)

const Subject = Type.Object(
  {
    product: Type.Optional(Text(200)),
    model: Type.Optional(Text(200)),
    orderNo: Type.Optional(Text(100)),
    invoiceNo: Type.Optional(Text(100)),
    vin: Type.Optional(Type.String({ pattern: '^[A-HJ-NPR-Z0-9]{17}$', description: 'vehicle identification number' })),
    plate: Type.Optional(Text(20, 'vehicle plate')),
    serialNo: Type.Optional(Text(100)),
  },
  { ...strict, description: 'what the complaint is about' },
)

const Attachment = Type.Object(
  {
    url: Type.String({ format: 'uri', maxLength: 2000 }),
    sha256: Type.String({ pattern: '^[a-f0-9]{64}$' }),
    name: Type.Optional(Text(255)),
    mediaType: Type.Optional(Text(100)),
  },
  strict,
)

export const ReceiveBody = Type.Object(
  {
    channel: Channel,
    complainant: Complainant,
    subject: Type.Optional(Subject),
    description: Text(10_000, 'what happened, in the complainant’s words'),
    desiredOutcomes: Type.Optional(Type.Array(Type.Enum([...DESIRED_OUTCOMES]), { uniqueItems: true, description: 'complainant goals' })),
    desiredOutcomeNote: Type.Optional(Text(2000)),
    attachments: Type.Optional(Type.Array(Attachment, { maxItems: 50 })),
    occurredAt: Type.Optional(DateTimeInput('when the problem happened; not after receivedAt')),
    receivedAt: Type.Optional(DateTimeInput('when the complaint reached the organisation, if earlier than now: a letter’s arrival, a call entered late, a CRM import. Not in the future, at most BACKDATE_WINDOW_DAYS (30) days ago. The clocks, the reference number’s year and the reports use it; `createdAt` records when it was entered.')),
    externalBody: Type.Optional(ExternalBody),
  },
  {
    ...strict,
    examples: [
      {
        channel: 'web',
        complainant: { name: '张伟', phone: '13800138000', email: 'zhang.wei@example.com', externalIds: [{ system: 'wukong', customerId: '1024' }] },
        subject: { product: 'Model S sedan', vin: 'LSVAU2180N2183294', plate: '沪A12345' },
        description: 'Brake noise came back two days after the repair at the service station.',
        desiredOutcomes: ['resolution', 'explanation'],
      },
    ],
  },
)
export type ReceiveBody = Static<typeof ReceiveBody>

export const AcknowledgeBody = Type.Object(
  {
    via: Type.Enum(['phone', 'sms', 'email', 'wechat', 'letter', 'in_person', 'web'], { description: 'how the complainant was told' }),
    acknowledgedAt: Type.Optional(DateTimeInput('when they were told; default now')),
    message: Type.Optional(Text(2000)),
  },
  { ...strict, examples: [{ via: 'sms', message: '您的抱怨已受理，编号 CP-2026-000001' }] },
)

export const AssessBody = Type.Object(
  {
    categoryId: Slug('抱怨类别'),
    level: Level,
    nature: Type.Optional(Type.Enum([...NATURES], { description: '善意 good_faith / 恶意 malicious' })),
    departmentId: Slug('执行部门'),
    receiverId: Type.Optional(Uuid('指定接收人; default: the department’s default receiver')),
    major: Type.Optional(Type.Boolean({ description: 'fast lane to management; always true for external complaints' })),
    irrationalStage: Type.Optional(Type.Enum([...IRRATIONAL_STAGES])),
    followUpMode: Type.Optional(FollowUpMode),
    externalBody: Type.Optional(ExternalBody),
    comment: Type.Optional(Text(2000)),
  },
  { ...strict, examples: [{ categoryId: 'service_quality', level: 'general', nature: 'good_faith', departmentId: 'service-station' }] },
)

export const HandoverBody = Type.Object({ comment: Type.Optional(Text(2000)) }, strict)
export const SignBody = Type.Object(
  { signedBy: Text(200, 'the receiver who signs'), comment: Type.Optional(Text(2000)) },
  { ...strict, examples: [{ signedBy: '李娜' }] },
)
export const NoteBody = Type.Object(
  { kind: Type.Enum([...NOTE_KINDS]), body: Text(10_000) },
  { ...strict, examples: [{ kind: 'fact', body: 'Pads replaced 2026-11-20; noise reproduced on test drive.' }] },
)

const CapaMeasure = Type.Object(
  {
    type: Type.Enum(['corrective', 'preventive']),
    action: Text(2000, 'a concrete measure: what changes, where'),
    owner: Type.Optional(Text(200)),
    dueDate: Type.Optional(DateInput()),
  },
  strict,
)
export const InvestigationBody = Type.Object(
  {
    facts: Type.Optional(Text(10_000, '事实')),
    emotions: Type.Optional(Text(10_000, '情绪')),
    expectations: Type.Optional(Text(10_000, '期望')),
    rootCause: Text(5000, '抱怨产生根本原因'),
    capa: Type.Optional(Type.Object({ measures: Type.Array(CapaMeasure, { maxItems: 50 }) }, strict)),
  },
  {
    ...strict,
    examples: [{
      rootCause: 'Wrong pad batch fitted: the parts list allowed a superseded part number.',
      capa: { measures: [{ type: 'corrective', action: 'Refit OEM pads 5N0-698-451 on this vehicle', owner: '服务站 王工', dueDate: '2026-12-01' },
        { type: 'preventive', action: 'Block superseded part numbers in the parts system', owner: 'IT' }] },
    }],
  },
)

const Decision = Type.Object(
  {
    optionsOffered: Type.Optional(Type.Array(Text(500), { maxItems: 20 })),
    chosenOption: Type.Optional(Text(500)),
    compensationFen: Type.Optional(Type.Integer({ minimum: 0, description: 'compensation in fen (1/100 CNY)' })),
  },
  strict,
)
export const ReplyBody = Type.Object(
  { body: Text(10_000), via: Type.Optional(Text(50)), decision: Type.Optional(Decision) },
  { ...strict, examples: [{ body: 'We will refit the pads free of charge on Friday.', via: 'phone', decision: { optionsOffered: ['refit', 'refund'], chosenOption: 'refit', compensationFen: 0 } }] },
)
export const ClosureRequestBody = Type.Object(
  { resultSummary: Text(5000), rootCause: Type.Optional(Text(5000)) },
  { ...strict, examples: [{ resultSummary: 'Pads refitted, test drive with the customer, no noise.' }] },
)
export const CallbackBody = Type.Object(
  {
    satisfied: Type.Boolean({ description: 'the customer confirms the result' }),
    satisfaction: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'satisfaction with the handling, 1–5' })),
    comment: Type.Optional(Text(5000)),
  },
  { ...strict, examples: [{ satisfied: true, satisfaction: 5, comment: '满意' }] },
)
export const CloseBody = Type.Object({ comment: Type.Optional(Text(2000)) }, strict)
export const DeferralRequestBody = Type.Object({ reason: Text(5000, '暂缓关闭 reason') }, { ...strict, examples: [{ reason: 'Waiting for the manufacturer’s lab report (4–6 weeks).' }] })
export const DeferralReviewBody = Type.Object(
  { approved: Type.Boolean(), followUpMode: Type.Optional(FollowUpMode), comment: Type.Optional(Text(2000)) },
  { ...strict, examples: [{ approved: true, followUpMode: 'monitor' }] },
)
export const ReasonBody = Type.Object({ reason: Text(2000) }, strict)
export const ExternalIdsBody = Type.Object(
  { externalIds: Type.Array(ExternalId, { minItems: 1, maxItems: 10 }) },
  { ...strict, examples: [{ externalIds: [{ system: 'wukong', customerId: '1024' }] }] },
)
export const ResumeBody = Type.Object({ comment: Type.Optional(Text(2000)) }, strict)

// ---- responses ----
const Deadlines = Type.Object({
  handoverDueAt: Nullable(DateTime()),
  firstReplyDueAt: Nullable(DateTime()),
  closureDueAt: Nullable(DateTime()),
  callbackDueAt: Nullable(DateTime()),
})

export const ComplaintRecordSchema = Type.Object({
  id: Uuid(),
  reference: Type.String({ examples: ['CP-2026-000123'] }),
  status: Status,
  version: Type.Integer({ description: 'optimistic-concurrency version, also the ETag' }),
  channel: Channel,
  externalBody: Nullable(ExternalBody),
  complainant: Type.Object({
    name: Type.String(),
    kind: Type.String(),
    phone: Nullable(Type.String()),
    email: Nullable(Type.String()),
    idNumber: Nullable(Type.String()),
    address: Nullable(Type.String()),
    externalIds: Type.Array(Type.Object({ system: Type.String(), customerId: Type.String() })),
  }),
  subject: Type.Record(Type.String(), Type.String()),
  description: Type.String(),
  desiredOutcomes: Type.Array(Type.String()),
  desiredOutcomeNote: Nullable(Type.String()),
  attachments: Type.Array(Type.Object({ url: Type.String(), sha256: Type.String(), name: Type.Optional(Type.String()), mediaType: Type.Optional(Type.String()) })),
  occurredAt: Nullable(DateTime()),
  receivedAt: DateTime(),
  acknowledgedAt: Nullable(DateTime()),
  acknowledgedVia: Nullable(Type.String()),
  categoryId: Nullable(Type.String()),
  level: Nullable(Level),
  nature: Nullable(Type.String()),
  major: Type.Boolean(),
  irrationalStage: Nullable(Type.String()),
  followUpMode: Nullable(Type.String()),
  departmentId: Nullable(Type.String()),
  receiverId: Nullable(Type.String()),
  assessedAt: Nullable(DateTime()),
  handedOverAt: Nullable(DateTime()),
  signedAt: Nullable(DateTime()),
  signedBy: Nullable(Type.String()),
  firstRepliedAt: Nullable(DateTime()),
  lastRepliedAt: Nullable(DateTime()),
  rootCause: Nullable(Type.String()),
  capa: Nullable(Type.Object({
    status: Type.String(),
    measures: Type.Array(Type.Object({ type: Type.String(), action: Type.String(), owner: Type.Optional(Type.String()), dueDate: Type.Optional(Type.String()) })),
  })),
  investigatedAt: Nullable(DateTime()),
  closureRequestedAt: Nullable(DateTime()),
  resultSummary: Nullable(Type.String()),
  deferralRequestedAt: Nullable(DateTime()),
  deferralReason: Nullable(Type.String()),
  deferredAt: Nullable(DateTime()),
  callbackAt: Nullable(DateTime()),
  satisfied: Nullable(Type.Boolean()),
  satisfaction: Nullable(Type.Integer()),
  callbackComment: Nullable(Type.String()),
  closureRejectedCount: Type.Integer(),
  closedAt: Nullable(DateTime()),
  closureType: Nullable(Type.Enum([...CLOSURE_TYPES])),
  withdrawnAt: Nullable(DateTime()),
  withdrawalReason: Nullable(Type.String()),
  reopenedAt: Nullable(DateTime()),
  reopenCount: Type.Integer(),
  clockStartedAt: DateTime(),
  closureLimitMissed: Type.Boolean({ description: 'the closure limit expired unclosed in some cycle: the closure will be second-time (二次关闭)' }),
  deadlines: Deadlines,
  slaPolicyVersion: Type.Integer({ description: 'the SLA policy version the complaint runs on' }),
  clockCycle: Type.Integer({ description: 'starts at 1; an upgrade, reopening or deferral restarts the clocks in a new cycle' }),
  pausedAt: Nullable(DateTime('set while the clocks are paused (waiting for the customer)')),
  createdAt: DateTime('when the complaint was entered into the service (receivedAt may be earlier)'),
  updatedAt: DateTime(),
})
export type ComplaintRecordDto = Static<typeof ComplaintRecordSchema>

export const ComplaintSchema = Type.Object({
  ...ComplaintRecordSchema.properties,
  allowedActions: Type.Array(Type.Enum([...ACTIONS]), {
    description: 'the lifecycle actions this complaint accepts now; each succeeds with a valid body and the right role',
  }),
  clocks: Type.Array(Type.Object({
    clock: Type.Enum(['handover', 'first_reply', 'closure', 'callback']),
    dueAt: Nullable(DateTime()),
    state: Type.Enum(['not_started', 'running', 'paused', 'suspended', 'met', 'breached', 'stopped'], { description: 'suspended: the closure clock of a deferred complaint' }),
    stoppedAt: Nullable(DateTime()),
    remainingBusinessMinutes: Nullable(Type.Integer({
      description: 'whole business minutes left until dueAt, rounded down (0: less than one left); negative: business minutes past the deadline (0 while it passed outside working hours — `state` says breached). Null unless the clock runs.',
    })),
    remainingMinutes: Nullable(Type.Integer({ description: 'whole calendar minutes left until dueAt, rounded down; negative once overdue. Null unless the clock runs.' })),
  }), { description: 'the four clocks of SPEC §3.1 as of the response' }),
})
export type ComplaintDto = Static<typeof ComplaintSchema>

export const CreatedComplaintSchema = Type.Object({
  ...ComplaintSchema.properties,
  trackingToken: Type.String({ description: 'secret for the public tracking endpoint; shown once, give it to the complainant' }),
})

export const TimelineEntrySchema = Type.Object({
  id: Type.Integer(),
  at: DateTime(),
  action: Type.String(),
  fromStatus: Nullable(Type.String()),
  toStatus: Type.String(),
  actor: Type.Object({ type: Type.String(), id: Nullable(Type.String()), role: Nullable(Type.String()), name: Nullable(Type.String()) }),
  before: Type.Record(Type.String(), Type.Unknown()),
  after: Type.Record(Type.String(), Type.Unknown()),
  data: Type.Record(Type.String(), Type.Unknown()),
})

export const TimelineSchema = Type.Object({ complaintId: Uuid(), items: Type.Array(TimelineEntrySchema) })

export const ListQuery = Type.Object(
  {
    status: Type.Optional(Type.Array(Status, { description: 'repeat for several: status=received&status=assessed' })),
    level: Type.Optional(Level),
    categoryId: Type.Optional(Slug('category')),
    departmentId: Type.Optional(Slug('department')),
    channel: Type.Optional(Channel),
    overdue: Type.Optional(Type.Boolean({ description: 'true: some running clock is past its deadline' })),
    createdFrom: Type.Optional(DateTimeInput('entered at or after')),
    createdTo: Type.Optional(DateTimeInput('entered before')),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL, description: 'text in reference, description, complainant name or subject' })),
    ...PageQuery,
  },
  strict,
)
export type ListQuery = Static<typeof ListQuery>

export const ComplaintPage = Type.Object({ items: Type.Array(ComplaintSchema), nextCursor: Nullable(Type.String()) })

export const TrackingSchema = Type.Object(
  {
    reference: Type.String(),
    status: Status,
    receivedAt: DateTime(),
    acknowledgedAt: Nullable(DateTime()),
    handedOverAt: Nullable(DateTime()),
    firstRepliedAt: Nullable(DateTime()),
    closureRequestedAt: Nullable(DateTime()),
    closedAt: Nullable(DateTime()),
    withdrawnAt: Nullable(DateTime()),
    expectedClosureBy: Nullable(DateTime()),
  },
  { description: 'complainant-facing view: status and dates only' },
)

export const NoteSchema = Type.Object({ id: Uuid(), kind: Type.String(), body: Type.String(), createdAt: DateTime() })
export const ReplySchema = Type.Object({
  id: Uuid(), body: Type.String(), via: Nullable(Type.String()), isFirst: Type.Boolean(), createdAt: DateTime(),
  decision: Nullable(Type.Object({ optionsOffered: Type.Optional(Type.Array(Type.String())), chosenOption: Type.Optional(Type.String()), compensationFen: Type.Optional(Type.Integer()) })),
})
