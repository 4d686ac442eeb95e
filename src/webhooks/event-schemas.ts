import { Type, type TSchema } from 'typebox'
import { ComplaintSchema, StepFacts } from '../complaints/schemas.js'
import { DateTime, named, Uuid } from '../http/common-schemas.js'
import { PenaltyBulletinSchema, PenaltyNoticeSchema } from '../penalties/schemas.js'
import { EVENT_TYPES, EVENT_TYPE_NAMES, type EventType } from '../outbox/catalogue.js'

/**
 * The payload of each event type, for the `webhooks` section of the OpenAPI document: one named
 * schema per event (`ComplaintClosedEvent`, …) with `type` as a constant, so a generated client can
 * tell them apart. Every outbox payload the tests produce is checked against these.
 */
const ComplaintEventData = named('ComplaintEventData', Type.Object({
  complaint: ComplaintSchema,
  facts: StepFacts,
}, { description: 'the complaint as of the change (drop an update whose `version` is older than the one you hold) and the facts of the step' }))

const SubscriptionDisabledData = named('SubscriptionDisabledData', Type.Object({
  subscription: Type.Object({ id: Uuid(), host: Type.String({ description: 'the target’s host (not the URL, which may carry a token)' }) }),
  reason: Type.String(),
}, { description: 'which subscription stopped receiving events, and why' }))

const PenaltyEventData = named('PenaltyEventData', Type.Object({ notice: PenaltyNoticeSchema }, { description: 'the notice after the change, with its history' }))
const BulletinEventData = named('BulletinEventData', Type.Object({ bulletin: PenaltyBulletinSchema }, { description: 'the signed bulletin: its figures per department and its totals' }))
const ReportReadyData = named('ReportReadyData', Type.Object({
  report: Type.Object({
    id: Uuid(),
    kind: Type.Enum(['weekly', 'monthly']),
    periodStart: Type.String({ format: 'date' }),
    periodEnd: Type.String({ format: 'date' }),
    generatedAt: DateTime(),
    href: Type.String({ description: 'GET it (JSON, or CSV/HTML by Accept)' }),
  }),
}, { description: 'the published report: fetch it from `href`' }))

const CapaReviewDueData = named('CapaReviewDueData', Type.Object({
  complaint: Type.Object({ id: Uuid(), reference: Type.String(), departmentId: Type.Union([Type.String(), Type.Null()]), href: Type.String() }),
  measure: Type.Object({
    id: Type.String(), type: Type.Enum(['corrective', 'preventive']), action: Type.String(), owner: Type.Union([Type.String(), Type.Null()]),
    dueDate: Type.Union([Type.String({ format: 'date' }), Type.Null()]), reviewDueDate: Type.String({ format: 'date' }),
  }),
}, { description: 'the measure whose review is overdue: record it with POST /v1/complaints/{id}/capa/{measureId}/review' }))

function dataOf(type: EventType): TSchema {
  if (type.startsWith('complaint.') || type.startsWith('sla.')) return ComplaintEventData
  if (type === 'webhook.subscription_disabled') return SubscriptionDisabledData
  if (type.startsWith('penalty.')) return PenaltyEventData
  if (type === 'bulletin.published') return BulletinEventData
  if (type === 'report.weekly_ready' || type === 'report.monthly_ready') return ReportReadyData
  if (type === 'capa.review_due') return CapaReviewDueData
  throw new Error(`no payload schema for event type ${type}: add it to src/webhooks/event-schemas.ts`)
}

export const pascal = (type: string) => type.split(/[._]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')

/** what every event carries besides its type and data: the Standard Webhooks message id and when it happened */
const EventEnvelope = named('EventEnvelope', Type.Object({
  id: Type.String({ description: 'msg_ + UUIDv7: unique and time-sortable; also the `webhook-id` header. Deduplicate on it.' }),
  occurredAt: DateTime(),
}, { description: 'the part every event shares' }))

export function eventSchema(type: EventType): TSchema {
  return named(`${pascal(type)}Event`, Type.Intersect([
    EventEnvelope,
    Type.Object({ type: Type.Literal(type), data: dataOf(type) }),
  ], { description: EVENT_TYPES[type] }))
}

const signatureHeaders = [
  { name: 'webhook-id', in: 'header', required: true, description: 'the event id (`msg_…`); the same on every retry', schema: { type: 'string' } },
  { name: 'webhook-timestamp', in: 'header', required: true, description: 'when this attempt was signed, in Unix seconds; reject one far from your clock', schema: { type: 'string', pattern: '^[0-9]+$' } },
  { name: 'webhook-signature', in: 'header', required: true, description: 'space-separated `v1,<base64 HMAC-SHA256>` signatures of `id.timestamp.body` (two during a secret rotation); verify with the subscription’s `whsec_…` secret', schema: { type: 'string' } },
]

/** OpenAPI 3.1 `webhooks`: what a subscriber receives, one operation per event type */
export function webhookDefinitions() {
  return Object.fromEntries(EVENT_TYPE_NAMES.map((type) => [type, {
    post: {
      operationId: `on${pascal(type)}`,
      summary: type,
      description: `${EVENT_TYPES[type]}. Signed per Standard Webhooks; delivered at least once, in no global order.`,
      tags: ['events'],
      security: [],
      parameters: signatureHeaders,
      requestBody: { required: true, content: { 'application/json': { schema: eventSchema(type) } } },
      responses: {
        '2XX': { description: 'received' },
        '4XX': { description: 'refused for good: the delivery is dead-lettered (408 and 429 are retried); 410 Gone also disables the subscription' },
        '5XX': { description: 'failed: retried with backoff, then dead-lettered' },
      },
    },
  }]))
}
