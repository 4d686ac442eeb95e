import type { ColumnType, Generated, Selectable, Updateable } from 'kysely'
import type {
  AcknowledgementChannel, Channel, ClosureType, ComplainantKind, DesiredOutcome, ExternalBody, FollowUpMode, IrrationalStage, Level, Nature, Status,
} from '../domain/vocabulary.js'

/** an effectiveness review of a CAPA measure (有效性评估) */
export interface CapaReviewRecord {
  outcome: 'effective' | 'partially_effective' | 'not_effective'
  evidence: string
  reviewedAt: string
}

/** one corrective or preventive measure, with its stable id and the date its review is due */
export interface CapaMeasureRecord {
  id: string
  type: 'corrective' | 'preventive'
  action: string
  owner?: string
  dueDate?: string
  /** YYYY-MM-DD: CAPA_REVIEW_DAYS after the measure's due date, or after the investigation */
  reviewDueDate: string
  review?: CapaReviewRecord
}

/** corrective and preventive actions as stored with the complaint; `reviewed` once every measure has a review */
export interface CapaRecord {
  status: 'open' | 'reviewed'
  measures: CapaMeasureRecord[]
}

/** timestamptz: Date out, Date or ISO string in */
export type Timestamp = ColumnType<Date, Date | string, Date | string>
/** jsonb: parsed value out, JSON text in (pg would turn a JS array into a Postgres array) */
export type Json<T> = ColumnType<T, string, string>

export interface ExternalId {
  system: string
  customerId: string
}
export interface Attachment {
  url: string
  sha256: string
  name?: string
  mediaType?: string
}
export interface Actor {
  type: 'anonymous' | 'api_key' | 'system'
  id: string | null
  role: string | null
  name: string | null
}

export interface ComplaintTable {
  id: string
  reference: string
  tracking_token_hash: string
  version: number
  status: Status
  channel: Channel
  external_body: ExternalBody | null
  complainant_name: string
  complainant_kind: ComplainantKind
  complainant_phone: string | null
  complainant_email: string | null
  complainant_id_number: string | null
  complainant_address: string | null
  complainant_external_ids: Json<ExternalId[]>
  subject: Json<Record<string, string>>
  description: string
  desired_outcomes: Json<DesiredOutcome[]>
  desired_outcome_note: string | null
  attachments: Json<Attachment[]>
  occurred_at: Timestamp | null
  received_at: Timestamp
  acknowledged_at: Timestamp | null
  acknowledged_via: AcknowledgementChannel | null
  category_id: string | null
  level: Level | null
  nature: Nature | null
  major: boolean
  irrational_stage: IrrationalStage | null
  follow_up_mode: FollowUpMode | null
  department_id: string | null
  receiver_id: string | null
  assessed_at: Timestamp | null
  handed_over_at: Timestamp | null
  signed_at: Timestamp | null
  signed_by: string | null
  first_replied_at: Timestamp | null
  last_replied_at: Timestamp | null
  root_cause: string | null
  capa: Json<CapaRecord> | null
  investigated_at: Timestamp | null
  closure_requested_at: Timestamp | null
  result_summary: string | null
  deferral_requested_at: Timestamp | null
  deferral_reason: string | null
  deferred_at: Timestamp | null
  callback_at: Timestamp | null
  satisfied: boolean | null
  satisfaction: number | null
  callback_comment: string | null
  closure_rejected_count: number
  closed_at: Timestamp | null
  closure_type: ClosureType | null
  withdrawn_at: Timestamp | null
  withdrawal_reason: string | null
  reopened_at: Timestamp | null
  reopen_count: number
  clock_started_at: Timestamp
  handover_due_at: Timestamp | null
  first_reply_due_at: Timestamp | null
  closure_due_at: Timestamp | null
  callback_due_at: Timestamp | null
  created_at: Timestamp
  updated_at: Timestamp
  sla_policy_version: ColumnType<number, number | undefined, number>
  clock_cycle: ColumnType<number, number | undefined, number>
  paused_at: Timestamp | null
  pauses: Json<Pause[]>
  handover_warn_at: Timestamp | null
  first_reply_warn_at: Timestamp | null
  closure_warn_at: Timestamp | null
  callback_warn_at: Timestamp | null
  /** the closure limit expired unclosed in some cycle: the closure will be second-time */
  closure_limit_missed: ColumnType<boolean, boolean | undefined, boolean>
  /** retention: when the complainant's personal data was removed */
  anonymised_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  /** YYYY-MM-DD, the earliest review due date of a CAPA measure not yet reviewed (select with to_char) */
  capa_review_due: ColumnType<string | null, string | null | undefined, string | null>
}

/** a clock pause (waiting for the customer); `to` is null while it lasts */
export interface Pause {
  from: string
  to: string | null
  reason: string
}

export interface SlaPolicyTable {
  version: number
  policy: Json<unknown>
  note: string | null
  created_at: ColumnType<Date, Date | string | undefined, never>
  created_by: string | null
}

export interface CalendarOverrideTable {
  /** YYYY-MM-DD (date columns come back as text, see create-db.ts) */
  day: string
  working: boolean
  note: string | null
  created_at: ColumnType<Date, Date | string | undefined, never>
}

export interface BreachTable {
  id: Generated<number>
  complaint_id: string
  clock: string
  cycle: number
  due_at: Timestamp
  detected_at: Timestamp
  department_id: string | null
  level: string | null
}

export interface DueSoonTable {
  complaint_id: string
  clock: string
  cycle: number
  warned_at: Timestamp
}

export interface JobTickTable {
  key: string
  job: string
  holder: string
  claimed_at: Timestamp
  finished_at: Timestamp | null
  /** the run's outcome: null while it runs */
  succeeded: ColumnType<boolean | null, boolean | null | undefined, boolean | null>
}

export interface JobLeaseTable {
  job: string
  holder: string
  lease_until: Timestamp
}

export interface TimelineTable {
  id: Generated<number>
  complaint_id: string
  at: Timestamp
  actor: Json<Actor>
  action: string
  from_status: string | null
  to_status: string
  before: Json<Record<string, unknown>>
  after: Json<Record<string, unknown>>
  data: Json<Record<string, unknown>>
}

export interface NoteTable {
  id: string
  /** insertion order: several notes can share a timestamp */
  seq: Generated<number>
  complaint_id: string
  kind: string
  body: string
  actor: Json<Actor>
  created_at: Timestamp
}

export interface ReplyTable {
  id: string
  seq: Generated<number>
  complaint_id: string
  body: string
  via: string | null
  decision: Json<unknown> | null
  is_first: boolean
  actor: Json<Actor>
  created_at: Timestamp
}

export interface DepartmentTable {
  id: string
  name: string
  name_zh: string | null
  active: boolean
  created_at: Timestamp
  updated_at: Timestamp
}

export interface ReceiverTable {
  id: string
  department_id: string
  name: string
  phone: string | null
  email: string | null
  is_default: boolean
  active: boolean
  created_at: Timestamp
  updated_at: Timestamp
}

export interface CategoryTable {
  id: string
  name: string
  name_zh: string | null
  active: boolean
  created_at: Timestamp
  updated_at: Timestamp
}

export interface OutboxTable {
  id: Generated<number>
  event_id: string
  type: string
  complaint_id: string | null
  payload: Json<Record<string, unknown>>
  occurred_at: Timestamp
  created_at: Generated<Timestamp>
  dispatched_at: Timestamp | null
}

export interface IdempotencyTable {
  scope: string
  key: string
  request_hash: string
  status_code: number | null
  response: Json<unknown> | null
  created_at: Timestamp
}

export interface ReferenceCounterTable {
  year: number
  last_value: number
}

export interface ApiKeyTable {
  id: string
  name: string
  role: string
  department_id: string | null
  /** the visible start of the key, to tell keys apart in lists */
  prefix: string
  secret_hash: string
  created_at: Timestamp
  created_by: string | null
  last_used_at: Timestamp | null
  revoked_at: Timestamp | null
  rotated_to: string | null
}

export interface AuditTable {
  id: Generated<number>
  at: Timestamp
  actor_key_id: string | null
  actor_role: string | null
  actor_name: string | null
  operation: string
  entity_type: string
  entity_id: string
  before: Json<Record<string, unknown>> | null
  after: Json<Record<string, unknown>> | null
  request_id: string | null
}

export interface WebhookSubscriptionTable {
  id: string
  /** `http` targets only: where deliveries are POSTed */
  url: string | null
  /** the delivery target kind: `http`, or a built-in target (src/webhooks/targets.ts) */
  target: ColumnType<string, string | undefined, string>
  event_types: Json<string[]>
  description: string | null
  status: string
  /** whsec_…, sealed with SECRETS_KEY (src/webhooks/secrets.ts): opened only to sign; shown only at creation and rotation */
  secret: string
  previous_secret: string | null
  previous_secret_until: Timestamp | null
  failing_since: Timestamp | null
  disabled_reason: string | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface WebhookDeliveryTable {
  id: string
  subscription_id: string
  event_id: string
  event_type: string
  occurred_at: Timestamp
  status: string
  attempts: ColumnType<number, number | undefined, number>
  next_attempt_at: Timestamp
  locked_until: Timestamp | null
  last_status_code: number | null
  last_error: string | null
  last_latency_ms: number | null
  created_at: Timestamp
  delivered_at: Timestamp | null
}

export interface WebhookAttemptTable {
  id: Generated<number>
  delivery_id: string
  attempted_at: Timestamp
  status_code: number | null
  latency_ms: number
  error: string | null
  next_attempt_at: Timestamp | null
}

export interface PenaltyRulesTable {
  version: number
  rules: Json<unknown>
  note: string | null
  created_at: ColumnType<Date, Date | string | undefined, never>
  created_by: string | null
}

/** one change of a notice's status: who, when, why */
export interface NoticeChange {
  at: string
  status: string
  actor: Actor
  reason: string | null
}

export interface PenaltyNoticeTable {
  id: string
  /** PN-YYYY-NNNNNN; null for an unassigned finding, which is not a notice */
  number: string | null
  complaint_id: string
  complaint_reference: string
  kind: string
  /** the clock cycle of a breach, or the month of a monthly notice */
  period: number
  breach_id: number | null
  department_id: string | null
  level: string
  standard_fen: number
  factor: number
  amount_fen: number
  rules_version: number
  owed_at: Timestamp
  reason: string
  status: string
  issued_at: Timestamp
  bulletin_id: string | null
  history: Json<NoticeChange[]>
  updated_at: Timestamp
}

export interface PenaltyMonthsCheckedTable {
  complaint_id: string
  months: number
}

export interface PenaltyNoticeCounterTable {
  year: number
  last_value: number
}

export interface PenaltyBulletinTable {
  id: string
  /** YYYY-MM-DD, the Monday of the week in the business time zone */
  week_start: string
  status: string
  notices: number
  total_fen: number
  drawn_up_at: Timestamp
  drawn_up_by: Json<Actor>
  signed_at: Timestamp | null
  signed_by: Json<Actor> | null
}

export interface PenaltyBulletinLineTable {
  bulletin_id: string
  department_id: string
  kind: string
  notices: number
  amount_fen: number
}

/** the figure an organisation posts per category and period, against which complaint rates are computed */
export interface DenominatorTable {
  category_id: string
  period: 'week' | 'month'
  /** YYYY-MM-DD (select with to_char) */
  period_start: string
  kind: 'orders' | 'customers' | 'vehicles'
  value: number
  created_at: Timestamp
  updated_at: Timestamp
}

/** a published report: its figures never change (a trigger refuses updates and deletes) */
export interface ReportTable {
  id: string
  kind: 'weekly' | 'monthly'
  period_start: string
  period_end: string
  generated_at: Timestamp
  figures: Json<Record<string, unknown>>
  created_at: Timestamp
}

export interface CapaReviewNoticeTable {
  complaint_id: string
  measure_id: string
  review_due: string
  notified_at: Timestamp
}

/** a 悟空CRM customer as the complainant it stands for (src/integrations/wukong/mapping.ts) */
export interface WukongCustomerTable {
  customer_id: number
  name: string
  phone: string | null
  email: string | null
  address: string | null
  /** the CRM's status: 1 normal, 2 locked, 3 deleted */
  crm_status: number
  crm_update_time: Timestamp
  created_at: Timestamp
  updated_at: Timestamp
}

/** a CRM record received as a complaint, once */
export interface WukongComplaintImportTable {
  import_key: string
  request_hash: string
  complaint_id: string | null
  customer_id: number
  crm_category: string | null
  created_at: Timestamp
}

export interface WukongPullStateTable {
  stream: string
  cursor_time: Timestamp | null
  cursor_page: ColumnType<number, number | undefined, number>
  last_run_at: Timestamp | null
  last_result: Json<Record<string, unknown>> | null
  updated_at: Timestamp
}

export interface Database {
  wukong_customers: WukongCustomerTable
  wukong_complaint_imports: WukongComplaintImportTable
  wukong_pull_state: WukongPullStateTable
  penalty_rules: PenaltyRulesTable
  penalty_notices: PenaltyNoticeTable
  penalty_notice_counters: PenaltyNoticeCounterTable
  penalty_months_checked: PenaltyMonthsCheckedTable
  penalty_bulletins: PenaltyBulletinTable
  penalty_bulletin_lines: PenaltyBulletinLineTable
  denominators: DenominatorTable
  reports: ReportTable
  capa_review_notices: CapaReviewNoticeTable
  webhook_subscriptions: WebhookSubscriptionTable
  webhook_deliveries: WebhookDeliveryTable
  webhook_attempts: WebhookAttemptTable
  sla_policies: SlaPolicyTable
  calendar_overrides: CalendarOverrideTable
  breaches: BreachTable
  due_soon_notices: DueSoonTable
  job_ticks: JobTickTable
  job_leases: JobLeaseTable
  api_keys: ApiKeyTable
  audit_log: AuditTable
  complaints: ComplaintTable
  complaint_timeline: TimelineTable
  complaint_notes: NoteTable
  complaint_replies: ReplyTable
  departments: DepartmentTable
  receivers: ReceiverTable
  categories: CategoryTable
  outbox_events: OutboxTable
  idempotency_keys: IdempotencyTable
  reference_counters: ReferenceCounterTable
}

export type Complaint = Selectable<ComplaintTable>
export type ComplaintPatch = Updateable<ComplaintTable>
export type TimelineEntry = Selectable<TimelineTable>
export type Department = Selectable<DepartmentTable>
export type Receiver = Selectable<ReceiverTable>
export type Category = Selectable<CategoryTable>
export type Note = Selectable<NoteTable>
export type Reply = Selectable<ReplyTable>
export type ApiKey = Selectable<ApiKeyTable>
export type AuditEntry = Selectable<AuditTable>
export type WebhookSubscription = Selectable<WebhookSubscriptionTable>
export type WebhookDelivery = Selectable<WebhookDeliveryTable>
export type PenaltyNotice = Selectable<PenaltyNoticeTable>
export type PenaltyBulletin = Selectable<PenaltyBulletinTable>
export type WukongCustomer = Selectable<WukongCustomerTable>
