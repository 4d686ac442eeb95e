import { Type, type Static } from 'typebox'
import { DateInput, DateTime, DateTimeInput, named, NO_NUL, Nullable, PageQuery, Slug, Text, Uuid } from '../http/common-schemas.js'
import {
  ACKNOWLEDGEMENT_CHANNELS, CHANNELS, CLOSURE_TYPES, COMPLAINANT_KINDS, DESIRED_OUTCOMES, EXTERNAL_CHANNELS, FOLLOW_UP_MODES, IRRATIONAL_STAGES, LEVELS, NATURES, NOTE_KINDS, STATUSES,
} from '../domain/vocabulary.js'
import { ACTIONS } from '../domain/lifecycle.js'
import {
  AcknowledgementChannel, Channel, ClosureType, ComplainantKind, DesiredOutcome, ExternalBody, FollowUpMode, IrrationalStage, LifecycleAction, Level, Nature, NoteKind, Role, Status,
} from '../http/vocabulary-schemas.js'
export { Channel, ExternalBody, FollowUpMode, Level, Status }
import { CAPA_REVIEW_OUTCOMES } from '../domain/capa.js'
import { ROLES } from '../access/policy.js'

const strict = { additionalProperties: false } as const


export const ExternalId = named('ExternalId', Type.Object(
  { system: Slug('the other system, e.g. `wukong` for 悟空CRM'), customerId: Text(128, "the complainant's id in that system") },
  { ...strict, description: 'the complainant’s record in another system' },
))


const ComplainantInput = named('ComplainantInput', Type.Object(
  {
    name: Text(200),
    kind: Type.Optional(Type.Enum([...COMPLAINANT_KINDS], { default: 'person', description: 'a person or a company' })),
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9][0-9 -]{4,24}$', description: 'PII' })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254, description: 'PII' })),
    idNumber: Type.Optional(Text(40, 'identity document number (PII)')),
    address: Type.Optional(Text(500, 'PII')),
    externalIds: Type.Optional(Type.Array(ExternalId, { maxItems: 10, description: 'ids in CRMs such as 悟空CRM' })),
  },
  { ...strict, description: '客户: the person or company complaining' },
))

export const Subject = named('Subject', Type.Object(
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
))

export const Attachment = named('Attachment', Type.Object(
  {
    url: Type.String({ format: 'uri', maxLength: 2000 }),
    sha256: Type.String({ pattern: '^[a-f0-9]{64}$', description: 'SHA-256 of the file, hex' }),
    name: Type.Optional(Text(255)),
    mediaType: Type.Optional(Text(100)),
  },
  { ...strict, description: 'a file kept elsewhere, by reference' },
))


export const ReceiveBody = named('ReceiveComplaintRequest', Type.Object(
  {
    channel: Channel,
    complainant: ComplainantInput,
    subject: Type.Optional(Subject),
    description: Text(10_000, 'what happened, in the complainant’s words'),
    desiredOutcomes: Type.Optional(Type.Array(DesiredOutcome, { uniqueItems: true, description: 'complainant goals' })),
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
        channel: 'hotline_400',
        complainant: { name: '张伟', phone: '13800138000', email: 'zhang.wei@example.com', externalIds: [{ system: 'wukong', customerId: '1024' }] },
        subject: { product: '帕萨特 2024款 330TSI', vin: 'LSVAU2180N2183294', plate: '沪A12345' },
        description: '11月20日在服务站更换刹车片后，两天后刹车异响再次出现，客户要求重新检修并说明原因。',
        desiredOutcomes: ['resolution', 'explanation'],
        occurredAt: '2026-11-22T08:30:00+08:00',
      },
    ],
  },
))
export type ReceiveBody = Static<typeof ReceiveBody>

export const AcknowledgeBody = named('AcknowledgeRequest', Type.Object(
  {
    via: AcknowledgementChannel,
    acknowledgedAt: Type.Optional(DateTimeInput('when they were told; default now')),
    message: Type.Optional(Text(2000)),
  },
  { ...strict, examples: [{ via: 'sms', message: '您的抱怨已受理，编号 CP-2026-000123，我们将在1个工作日内联系您。' }] },
))

export const AssessBody = named('AssessRequest', Type.Object(
  {
    categoryId: Slug('抱怨类别'),
    level: Level,
    nature: Type.Optional(Nature),
    departmentId: Slug('执行部门'),
    receiverId: Type.Optional(Uuid('指定接收人; default: the department’s default receiver')),
    major: Type.Optional(Type.Boolean({ description: 'fast lane to management; always true for external complaints' })),
    irrationalStage: Type.Optional(IrrationalStage),
    followUpMode: Type.Optional(FollowUpMode),
    externalBody: Type.Optional(ExternalBody),
    comment: Type.Optional(Text(2000)),
  },
  { ...strict, examples: [{ categoryId: 'product_quality', level: 'moderate', nature: 'good_faith', departmentId: 'service-station', comment: '维修后复发，客户情绪激动' }] },
))

export const HandoverBody = named('HandoverRequest', Type.Object({ comment: Type.Optional(Text(2000)) }, { ...strict, examples: [{ comment: '《客户抱怨处理书》已发服务站李娜' }] }))
export const SignBody = named('SignRequest', Type.Object(
  { signedBy: Text(200, 'the receiver who signs'), comment: Type.Optional(Text(2000)) },
  { ...strict, examples: [{ signedBy: '李娜', comment: '服务站已签收' }] },
))
export const NoteBody = named('NoteRequest', Type.Object(
  { kind: NoteKind, body: Text(10_000) },
  { ...strict, examples: [{ kind: 'fact', body: '11月20日更换刹车片；试车时异响可复现。' }] },
))

const CapaMeasure = named('CapaMeasure', Type.Object(
  {
    type: Type.Enum(['corrective', 'preventive']),
    action: Text(2000, 'a concrete measure: what changes, where'),
    owner: Type.Optional(Text(200)),
    dueDate: Type.Optional(DateInput()),
  },
  { ...strict, description: 'one corrective or preventive measure (纠正/预防措施)' },
))
export const InvestigationBody = named('InvestigationRequest', Type.Object(
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
      facts: '客户车辆11月20日更换刹车片，使用了已被替代的料号。',
      emotions: '客户对二次返修非常不满。',
      expectations: '彻底解决异响并说明原因。',
      rootCause: '配件系统允许订购已替代的刹车片料号，服务站装错批次。',
      capa: { measures: [{ type: 'corrective', action: '为该车更换原厂刹车片 5N0-698-451', owner: '服务站 王工', dueDate: '2026-12-01' },
        { type: 'preventive', action: '在配件系统中停用已替代料号，12月15日前完成', owner: '信息部 刘强', dueDate: '2026-12-15' }] },
    }],
  },
))

export const Decision = named('Decision', Type.Object(
  {
    optionsOffered: Type.Optional(Type.Array(Text(500), { maxItems: 20 })),
    chosenOption: Type.Optional(Text(500)),
    compensationFen: Type.Optional(Type.Integer({ minimum: 0, description: 'compensation in fen (1/100 CNY)' })),
  },
  { ...strict, description: 'the decision communicated to the complainant' },
))
export const ReplyBody = named('ReplyRequest', Type.Object(
  { body: Text(10_000), via: Type.Optional(Text(50)), decision: Type.Optional(Decision) },
  { ...strict, examples: [{ body: '周五上午为您免费更换原厂刹车片，并赠送一次保养。', via: 'phone', decision: { optionsOffered: ['免费更换刹车片', '退还维修费用'], chosenOption: '免费更换刹车片', compensationFen: 30000 } }] },
))
export const ClosureRequestBody = named('ClosureRequestRequest', Type.Object(
  { resultSummary: Text(5000), rootCause: Type.Optional(Text(5000)) },
  { ...strict, examples: [{ resultSummary: '已更换原厂刹车片，与客户共同试车，无异响。', rootCause: '配件系统允许订购已替代的刹车片料号。' }] },
))
export const CallbackBody = named('CallbackRequest', Type.Object(
  {
    satisfied: Type.Boolean({ description: 'the customer confirms the result' }),
    satisfaction: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'satisfaction with the handling, 1–5' })),
    comment: Type.Optional(Text(5000)),
  },
  { ...strict, examples: [{ satisfied: true, satisfaction: 4, comment: '处理及时，满意' }] },
))
export const CloseBody = named('CloseRequest', Type.Object({ comment: Type.Optional(Text(2000)) }, { ...strict, examples: [{ comment: '同意关闭' }] }))
export const DeferralRequestBody = named('DeferralRequest', Type.Object({ reason: Text(5000, '暂缓关闭 reason') }, { ...strict, examples: [{ reason: '等待厂家实验室检测报告（约4–6周）。' }] }))
export const DeferralReviewBody = named('DeferralReviewRequest', Type.Object(
  { approved: Type.Boolean(), followUpMode: Type.Optional(FollowUpMode), comment: Type.Optional(Text(2000)) },
  { ...strict, examples: [{ approved: true, followUpMode: 'monitor', comment: '同意暂缓关闭，服务站每周跟进' }] },
))
export const ReasonBody = named('ReasonRequest', Type.Object({ reason: Text(2000) }, { ...strict, examples: [{ reason: '客户出差，下周一回电确认' }] }))
export const ExternalIdsBody = named('ExternalIdsRequest', Type.Object(
  { externalIds: Type.Array(ExternalId, { minItems: 1, maxItems: 10 }) },
  { ...strict, examples: [{ externalIds: [{ system: 'wukong', customerId: '1024' }] }] },
))
export const ResumeBody = named('ResumeRequest', Type.Object({ comment: Type.Optional(Text(2000)) }, { ...strict, examples: [{ comment: '客户已提供发票复印件' }] }))

// ---- responses ----
const EXAMPLE_ID = '0195f7a4-5b1c-7c3e-9a10-2f4d6e8b1a01'

const Deadlines = named('Deadlines', Type.Object({
  handoverDueAt: Nullable(DateTime('移交时限: the receiver must sign by then')),
  firstReplyDueAt: Nullable(DateTime('首次回复时限: set once the receiver signed')),
  closureDueAt: Nullable(DateTime('关闭时限: the closure request is due by then')),
  callbackDueAt: Nullable(DateTime('回访时限: set by the closure request (12 hours)')),
}, { description: 'the deadlines of the four clocks in the current cycle' }))

export const Complainant = named('Complainant', Type.Object({
  name: Type.String(),
  kind: ComplainantKind,
  phone: Nullable(Type.String({ description: 'PII: masked (138****8000) for roles without need' })),
  email: Nullable(Type.String({ description: 'PII: masked for roles without need' })),
  idNumber: Nullable(Type.String({ description: 'PII: masked for roles without need' })),
  address: Nullable(Type.String({ description: 'PII: masked for roles without need' })),
  externalIds: Type.Array(ExternalId, { description: 'the complainant’s records in other systems, e.g. 悟空CRM' }),
}))

export const CapaReviewOutcome = Type.Enum([...CAPA_REVIEW_OUTCOMES], { description: '有效性评估: effective 有效, partially_effective 部分有效, not_effective 无效' })

const CapaReview = named('CapaReview', Type.Object({
  outcome: CapaReviewOutcome,
  evidence: Type.String({ description: 'what the verdict rests on' }),
  reviewedAt: DateTime(),
}, { description: 'the effectiveness review of one measure (有效性评估), recorded once' }))

const CapaMeasureRecord = named('CapaMeasureRecord', Type.Object({
  id: Type.String({ description: 'stable id of the measure: the review is recorded against it' }),
  type: Type.Enum(['corrective', 'preventive']),
  action: Type.String(),
  owner: Type.Optional(Type.String()),
  dueDate: Type.Optional(Type.String({ format: 'date' })),
  reviewDueDate: Type.String({ format: 'date', description: 'the effectiveness review is due by this day: CAPA_REVIEW_DAYS (30) after dueDate, or after the investigation' }),
  review: Type.Optional(CapaReview),
}, { description: 'one recorded corrective or preventive measure, with its review schedule' }))

export const Capa = named('Capa', Type.Object({
  status: Type.Enum(['open', 'reviewed'], { description: 'open: some measure still waits for its effectiveness review; reviewed: every measure has one' }),
  measures: Type.Array(CapaMeasureRecord),
}, { description: '纠正预防措施: corrective and preventive actions' }))

export const CapaReviewBody = named('CapaReviewRequest', Type.Object(
  { outcome: CapaReviewOutcome, evidence: Text(5000, 'what the verdict rests on: figures, a follow-up check, a repeat complaint') },
  { ...strict, examples: [{ outcome: 'effective', evidence: '12月配件系统已停用替代料号；此后30天内同类刹车异响抱怨0起。' }] },
))
export const MeasureParams = Type.Object({ id: Uuid('complaint id'), measureId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$', description: 'the CAPA measure id (`capa.measures[].id`)' }) }, strict)

export const ClockSchema = named('Clock', Type.Object({
  clock: Type.Enum(['handover', 'first_reply', 'closure', 'callback']),
  dueAt: Nullable(DateTime()),
  state: Type.Enum(['not_started', 'running', 'paused', 'suspended', 'met', 'breached', 'stopped'], {
    description: 'suspended: the closure clock of a deferred complaint, or of one whose deferral request waits for review; stopped: the complaint ended while the clock ran',
  }),
  stoppedAt: Nullable(DateTime()),
  remainingBusinessMinutes: Nullable(Type.Integer({
    description: 'whole business minutes left until dueAt, rounded down (0: less than one left); negative: business minutes past the deadline (0 while it passed outside working hours — `state` says breached). Null unless the clock runs.',
  })),
  remainingMinutes: Nullable(Type.Integer({ description: 'whole calendar minutes left until dueAt, rounded down; negative once overdue. Null unless the clock runs.' })),
}, { description: 'one of the four clocks as of the response' }))

const complaintProperties = {
  id: Uuid(),
  reference: Type.String({ description: 'readable reference: prefix, year of receipt, number', examples: ['CP-2026-000123'] }),
  status: Status,
  version: Type.Integer({ minimum: 1, description: 'optimistic-concurrency version, also the ETag' }),
  allowedActions: Type.Array(LifecycleAction, {
    description: 'the lifecycle actions this complaint accepts now; each succeeds with a valid body and the right role',
  }),
  channel: Channel,
  externalBody: Nullable(ExternalBody),
  complainant: Complainant,
  subject: Subject,
  description: Type.String(),
  desiredOutcomes: Type.Array(DesiredOutcome),
  desiredOutcomeNote: Nullable(Type.String()),
  attachments: Type.Array(Attachment),
  occurredAt: Nullable(DateTime()),
  receivedAt: DateTime('when the complaint reached the organisation; the clocks and the reports use it'),
  acknowledgedAt: Nullable(DateTime()),
  acknowledgedVia: Nullable(AcknowledgementChannel),
  categoryId: Nullable(Type.String({ description: '抱怨类别' })),
  level: Nullable(Level),
  nature: Nullable(Nature),
  major: Type.Boolean({ description: 'fast lane to management: runs on the strong limits' }),
  irrationalStage: Nullable(IrrationalStage),
  followUpMode: Nullable(FollowUpMode),
  departmentId: Nullable(Type.String({ description: '执行部门' })),
  receiverId: Nullable(Uuid('指定接收人')),
  assessedAt: Nullable(DateTime()),
  handedOverAt: Nullable(DateTime()),
  signedAt: Nullable(DateTime()),
  signedBy: Nullable(Type.String()),
  firstRepliedAt: Nullable(DateTime()),
  lastRepliedAt: Nullable(DateTime()),
  rootCause: Nullable(Type.String()),
  capa: Nullable(Capa),
  investigatedAt: Nullable(DateTime()),
  closureRequestedAt: Nullable(DateTime()),
  resultSummary: Nullable(Type.String()),
  deferralRequestedAt: Nullable(DateTime()),
  deferralReason: Nullable(Type.String()),
  deferredAt: Nullable(DateTime()),
  callbackAt: Nullable(DateTime()),
  satisfied: Nullable(Type.Boolean()),
  satisfaction: Nullable(Type.Integer({ minimum: 1, maximum: 5 })),
  callbackComment: Nullable(Type.String()),
  closureRejectedCount: Type.Integer({ minimum: 0 }),
  closedAt: Nullable(DateTime()),
  closureType: Nullable(ClosureType),
  withdrawnAt: Nullable(DateTime()),
  withdrawalReason: Nullable(Type.String()),
  reopenedAt: Nullable(DateTime()),
  reopenCount: Type.Integer({ minimum: 0 }),
  clockStartedAt: DateTime(),
  closureLimitMissed: Type.Boolean({ description: 'the closure limit expired unclosed in some cycle: the closure will be second-time (二次关闭)' }),
  anonymisedAt: Nullable(DateTime('retention: when the complainant’s personal data was removed (RETENTION_YEARS after closure)')),
  deadlines: Deadlines,
  clocks: Type.Array(ClockSchema, { description: 'the four clocks as of the response' }),
  slaPolicyVersion: Type.Integer({ description: 'the SLA policy version the complaint runs on' }),
  clockCycle: Type.Integer({ minimum: 1, description: 'starts at 1; an upgrade, reopening or deferral restarts the clocks in a new cycle' }),
  pausedAt: Nullable(DateTime('set while the clocks are paused (waiting for the customer)')),
  createdAt: DateTime('when the complaint was entered into the service (receivedAt may be earlier)'),
  updatedAt: DateTime(),
}

const complaintExample = {
  id: EXAMPLE_ID, reference: 'CP-2026-000123', status: 'in_progress', version: 5,
  allowedActions: ['assess', 'add_note', 'record_investigation', 'reply', 'request_deferral', 'withdraw', 'pause', 'link_external_ids'],
  channel: 'hotline_400', externalBody: null,
  complainant: { name: '张伟', kind: 'person', phone: '13800138000', email: 'zhang.wei@example.com', idNumber: null, address: null, externalIds: [{ system: 'wukong', customerId: '1024' }] },
  subject: { product: '帕萨特 2024款 330TSI', vin: 'LSVAU2180N2183294', plate: '沪A12345' },
  description: '11月20日在服务站更换刹车片后，两天后刹车异响再次出现。', desiredOutcomes: ['resolution', 'explanation'], desiredOutcomeNote: null, attachments: [],
  occurredAt: '2026-11-22T00:30:00.000Z', receivedAt: '2026-11-26T02:05:12.345Z', acknowledgedAt: '2026-11-26T02:10:00.000Z', acknowledgedVia: 'sms',
  categoryId: 'product_quality', level: 'moderate', nature: 'good_faith', major: false, irrationalStage: null, followUpMode: null,
  departmentId: 'service-station', receiverId: '0195f7a4-0000-7000-8000-00000000a11a', assessedAt: '2026-11-26T02:20:00.000Z', handedOverAt: '2026-11-26T02:25:00.000Z',
  signedAt: '2026-11-26T03:02:41.118Z', signedBy: '李娜', firstRepliedAt: null, lastRepliedAt: null, rootCause: null, capa: null, investigatedAt: null,
  closureRequestedAt: null, resultSummary: null, deferralRequestedAt: null, deferralReason: null, deferredAt: null, callbackAt: null, satisfied: null, satisfaction: null,
  callbackComment: null, closureRejectedCount: 0, closedAt: null, closureType: null, withdrawnAt: null, withdrawalReason: null, reopenedAt: null, reopenCount: 0,
  clockStartedAt: '2026-11-26T02:05:12.345Z', closureLimitMissed: false, anonymisedAt: null,
  deadlines: { handoverDueAt: '2026-11-26T07:35:12.345Z', firstReplyDueAt: '2026-11-27T05:32:41.118Z', closureDueAt: '2026-12-01T02:05:12.345Z', callbackDueAt: null },
  clocks: [
    { clock: 'handover', dueAt: '2026-11-26T07:35:12.345Z', state: 'met', stoppedAt: '2026-11-26T03:02:41.118Z', remainingBusinessMinutes: null, remainingMinutes: null },
    { clock: 'first_reply', dueAt: '2026-11-27T05:32:41.118Z', state: 'running', stoppedAt: null, remainingBusinessMinutes: 412, remainingMinutes: 1589 },
    { clock: 'closure', dueAt: '2026-12-01T02:05:12.345Z', state: 'running', stoppedAt: null, remainingBusinessMinutes: 1287, remainingMinutes: 7022 },
    { clock: 'callback', dueAt: null, state: 'not_started', stoppedAt: null, remainingBusinessMinutes: null, remainingMinutes: null },
  ],
  slaPolicyVersion: 1, clockCycle: 1, pausedAt: null, createdAt: '2026-11-26T02:05:12.345Z', updatedAt: '2026-11-26T03:02:41.118Z',
}

export const ComplaintSchema = named('Complaint', Type.Object(complaintProperties, {
  description: '抱怨: a complaint as of the response — its record, what it accepts next and its clocks',
  examples: [complaintExample],
}))
export type ComplaintDto = Static<typeof ComplaintSchema>
/** the stored state of a complaint, without what is computed as of a moment (the audit log keeps this) */
export type ComplaintRecordDto = Omit<ComplaintDto, 'allowedActions' | 'clocks'>

export const CreatedComplaintSchema = named('CreatedComplaint', Type.Intersect([
  ComplaintSchema,
  Type.Object({ trackingToken: Type.String({ description: 'secret for the public tracking endpoint; shown once, give it to the complainant', examples: ['q3V9mTt1cJ0x4yZbW8rA2sDf'] }) }),
], { description: 'the complaint just received (its example is the Complaint’s), with the one-time tracking token for the complainant' }))

/** what a timeline entry records besides before/after, by the step that wrote it */
export const StepFacts = named('StepFacts', Type.Object({
  action: Type.Optional(Type.String({ description: 'events only: the step (as on the timeline)' })),
  channel: Type.Optional(Channel),
  externalBody: Type.Optional(Nullable(ExternalBody)),
  receivedAt: Type.Optional(DateTime('receive: when it reached the organisation')),
  enteredAt: Type.Optional(DateTime('receive: when it was entered')),
  notify: Type.Optional(Type.Array(Type.Enum(['public_relations', 'management']), { description: 'receive/assess of an external complaint: who is told' })),
  via: Type.Optional(Nullable(Type.String({ description: 'acknowledge, reply: how' }))),
  message: Type.Optional(Nullable(Type.String())),
  reassessment: Type.Optional(Type.Boolean({ description: 'assess: the complaint had been assessed before' })),
  comment: Type.Optional(Nullable(Type.String())),
  form: Type.Optional(Type.Literal('客户抱怨处理书', { description: 'handover: the form issued to the department' })),
  departmentId: Type.Optional(Nullable(Type.String())),
  receiverId: Type.Optional(Nullable(Type.String())),
  signedBy: Type.Optional(Type.String()),
  kind: Type.Optional(NoteKind),
  facts: Type.Optional(Nullable(Type.String({ description: 'record_investigation: 事实' }))),
  emotions: Type.Optional(Nullable(Type.String({ description: 'record_investigation: 情绪' }))),
  expectations: Type.Optional(Nullable(Type.String({ description: 'record_investigation: 期望' }))),
  first: Type.Optional(Type.Boolean({ description: 'reply: the first reply' })),
  decision: Type.Optional(Nullable(Decision)),
  resultSummary: Type.Optional(Type.String()),
  outcome: Type.Optional(Type.Enum(['closure_confirmed', 'rejected_closure'], { description: 'record_callback' })),
  upgrade: Type.Optional(Type.Object({
    from: Nullable(Level), to: Level, fromStage: Nullable(IrrationalStage), toStage: Nullable(IrrationalStage),
    reason: Type.String(), flagManagement: Type.Boolean({ description: 'a strong complaint failed again: management is told' }),
  }, { description: 'escalate, record_callback (rejected): the automatic level upgrade' })),
  closureType: Type.Optional(ClosureType),
  secondTimeBecause: Type.Optional(Type.Array(Type.Enum(['closure_limit_expired', 'closure_requested_late', 'closure_rejected_at_callback', 'reopened', 'deferred']), { description: 'close: why the closure is second-time (empty: first-time)' })),
  reason: Type.Optional(Type.String()),
  approved: Type.Optional(Type.Boolean({ description: 'review_deferral' })),
  levelFrom: Type.Optional(Nullable(Level)),
  followUpMode: Type.Optional(FollowUpMode),
  previousClosureType: Type.Optional(Nullable(ClosureType)),
  pausedMinutes: Type.Optional(Type.Integer({ description: 'resume: how long the clocks stood still, in minutes' })),
  systems: Type.Optional(Type.Array(Type.String(), { description: 'link_external_ids: the systems linked' })),
  clock: Type.Optional(Type.Enum(['handover', 'first_reply', 'closure', 'callback'], { description: 'sla_breached, sla_due_soon' })),
  cycle: Type.Optional(Type.Integer({ description: 'sla_breached, sla_due_soon: the clock cycle' })),
  dueAt: Type.Optional(DateTime('sla_breached, sla_due_soon: the deadline')),
  measureId: Type.Optional(Type.String({ description: 'review_capa: the measure reviewed' })),
  effectiveness: Type.Optional(CapaReviewOutcome),
  evidence: Type.Optional(Type.String({ description: 'review_capa: what the verdict rests on' })),
  anonymisedAt: Type.Optional(DateTime('anonymise: when the complainant’s personal data was removed (retention)')),
}, { description: 'the facts a step recorded; which properties appear depends on the step (named beside each)' }))

export const TIMELINE_ACTIONS = ['receive', ...ACTIONS, 'sla_breached', 'sla_due_soon', 'anonymise'] as const

export const Actor = named('Actor', Type.Object({
  type: Type.Enum(['anonymous', 'api_key', 'system']),
  id: Nullable(Type.String({ description: 'the API key id' })),
  role: Nullable(Role),
  name: Nullable(Type.String({ description: 'the key’s name, or the system part (scheduler)' })),
}, { description: 'who did it' }))

export const TimelineEntrySchema = named('TimelineEntry', Type.Object({
  id: Type.Integer(),
  at: DateTime(),
  action: Type.Enum([...TIMELINE_ACTIONS]),
  fromStatus: Nullable(Status),
  toStatus: Status,
  actor: Actor,
  before: Type.Record(Type.String(), Type.Unknown(), { description: 'the complaint’s fields the step changed, before it (API names)' }),
  after: Type.Record(Type.String(), Type.Unknown(), { description: 'the same fields after it' }),
  data: StepFacts,
}, {
  description: 'one time-stamped step: who, what, before and after',
  examples: [{
    id: 5, at: '2026-11-26T03:02:41.118Z', action: 'sign', fromStatus: 'handed_over', toStatus: 'in_progress',
    actor: { type: 'api_key', id: '0195f7a4-0000-7000-8000-0000000000d5', role: 'department', name: '服务站 接收台' },
    before: { status: 'handed_over', signedAt: null, signedBy: null }, after: { status: 'in_progress', signedAt: '2026-11-26T03:02:41.118Z', signedBy: '李娜' },
    data: { signedBy: '李娜', comment: null },
  }],
}))

export const TimelineSchema = named('Timeline', Type.Object({ complaintId: Uuid(), items: Type.Array(TimelineEntrySchema) }, { description: 'every step of a complaint, oldest first' }))

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

export const ComplaintPage = named('ComplaintPage', Type.Object(
  { items: Type.Array(ComplaintSchema), nextCursor: Nullable(Type.String({ description: 'pass as `cursor` for the next page; null on the last page' })) },
  { description: 'one page of complaints, newest first' },
))

export const TrackingSchema = named('Tracking', Type.Object(
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
  {
    description: 'complainant-facing view: status and dates only',
    examples: [{ reference: 'CP-2026-000123', status: 'in_progress', receivedAt: '2026-11-26T02:05:12.345Z', acknowledgedAt: '2026-11-26T02:10:00.000Z', handedOverAt: '2026-11-26T02:25:00.000Z', firstRepliedAt: null, closureRequestedAt: null, closedAt: null, withdrawnAt: null, expectedClosureBy: '2026-12-01T02:05:12.345Z' }],
  },
))

export const NoteSchema = named('Note', Type.Object({ id: Uuid(), kind: NoteKind, body: Type.String(), createdAt: DateTime() }, {
  description: 'an investigation note (internal)',
  examples: [{ id: '0195f7a4-7777-7000-8000-000000000001', kind: 'fact', body: '11月20日更换刹车片；试车时异响可复现。', createdAt: '2026-11-26T03:30:00.000Z' }],
}))
export const NoteList = named('NoteList', Type.Object({ items: Type.Array(NoteSchema) }, { description: 'the notes of a complaint, oldest first' }))
export const ReplySchema = named('Reply', Type.Object({
  id: Uuid(), body: Type.String(), via: Nullable(Type.String()), isFirst: Type.Boolean(), createdAt: DateTime(),
  decision: Nullable(Decision),
}, {
  description: 'a reply to the complainant',
  examples: [{ id: '0195f7a4-8888-7000-8000-000000000001', body: '周五上午为您免费更换原厂刹车片。', via: 'phone', isFirst: true, createdAt: '2026-11-26T06:00:00.000Z', decision: { optionsOffered: ['免费更换刹车片', '退还维修费用'], chosenOption: '免费更换刹车片', compensationFen: 30000 } }],
}))
export const ReplyList = named('ReplyList', Type.Object({ items: Type.Array(ReplySchema) }, { description: 'the replies of a complaint, oldest first' }))
