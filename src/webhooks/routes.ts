import { randomBytes, randomUUID } from 'node:crypto'
import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import type { WebhookDelivery, WebhookSubscription } from '../db/types.js'
import { audited } from '../audit/audit.js'
import { conflict, notFound } from '../errors.js'
import { afterCursor, page } from '../http/keyset.js'
import { DateTime, DateTimeInput, json, named, noContent, Nullable, PageQuery, problems, Text, Uuid } from '../http/common-schemas.js'
import { auditContext } from '../plugins/auth.js'
import { validateEventTypes } from './policy.js'
import { EVENT_TYPE_NAMES } from '../outbox/catalogue.js'
import { TARGET_KINDS, TARGETS, targetOf, type TargetKind } from './targets.js'

const strict = { additionalProperties: false } as const
const Pattern = Type.String({ pattern: '^(\\*|[a-z_]+\\.\\*|[a-z_]+\\.[a-z_]+)$', description: 'an event type, a family (`complaint.*`) or `*`; each must match an event type the service emits' })
const Status = Type.Enum(['active', 'paused', 'disabled'])
const TargetUrl = Type.String({ format: 'uri', maxLength: 2000, description: 'http targets: https to a public host (WEBHOOK_ALLOW_INSECURE_URLS allows http and private hosts for development)' })
const Target = Type.Enum([...TARGET_KINDS], { description: 'where deliveries go: `http` POSTs signed events to `url`; `wukong` writes them into 悟空CRM through its API (the 悟空CRM connector: at most one such subscription, no URL)' })
const EventTypes = Type.Array(Pattern, { minItems: 1, maxItems: 50, uniqueItems: true })

const subscriptionProperties = {
  id: Uuid(), target: Target, url: Nullable(Type.String({ description: 'http targets; null for a built-in target' })), eventTypes: Type.Array(Type.String()), description: Nullable(Type.String()), status: Status,
  disabledReason: Nullable(Type.String({ description: 'why a `disabled` subscription was disabled (failing too long, or 410 Gone)' })),
  failingSince: Nullable(DateTime()), previousSecretValidUntil: Nullable(DateTime('during a rotation: until when the old secret also signs')),
  createdAt: DateTime(), updatedAt: DateTime(),
}
const subscriptionExample = {
  id: '0195f7a4-3333-7000-8000-000000000001', target: 'http', url: 'https://crm.example.com/hooks/complaints', eventTypes: ['complaint.*', 'sla.breached'], description: '悟空CRM 同步',
  status: 'active', disabledReason: null, failingSince: null, previousSecretValidUntil: null, createdAt: '2026-11-20T01:00:00.000Z', updatedAt: '2026-11-20T01:00:00.000Z',
}
const SubscriptionSchema = named('Subscription', Type.Object(subscriptionProperties, { description: 'a webhook subscription (its secret is shown only at creation and rotation)', examples: [subscriptionExample] }))
const WithSecret = named('SubscriptionWithSecret', Type.Object({ ...subscriptionProperties, secret: Type.String({ description: 'whsec_…: shown only now; verify deliveries with it (built-in targets do not sign)' }) }, {
  description: 'a subscription with its signing secret, shown only now',
  examples: [{ ...subscriptionExample, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }],
}))
const SubscriptionList = named('SubscriptionList', Type.Object({ items: Type.Array(SubscriptionSchema) }, { description: 'oldest first' }))
const CreateSubscription = named('CreateSubscriptionRequest', Type.Object(
  { target: Type.Optional({ ...Target, default: 'http' }), url: Type.Optional(TargetUrl), eventTypes: EventTypes, description: Type.Optional(Text(500)) },
  {
    ...strict,
    description: 'an http target needs `url`; the `wukong` target has none and takes complaint.received, complaint.closed and complaint.callback_recorded',
    examples: [
      { url: 'https://crm.example.com/hooks/complaints', eventTypes: ['complaint.*', 'sla.breached'], description: '悟空CRM 同步' },
      { target: 'wukong', eventTypes: ['complaint.received', 'complaint.closed', 'complaint.callback_recorded'], description: '跟进记录与回访写入悟空CRM' },
    ],
  },
))
const UpdateSubscription = named('UpdateSubscriptionRequest', Type.Object(
  { url: Type.Optional(TargetUrl), eventTypes: Type.Optional(EventTypes), description: Type.Optional(Text(500)), status: Type.Optional(Type.Enum(['active', 'paused'])) },
  { ...strict, examples: [{ status: 'paused' }] },
))
const RotateSecret = named('RotateSecretRequest', Type.Object(
  { overlapMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_080, default: 1440, description: 'how long the old secret keeps signing too' })) },
  { ...strict, examples: [{ overlapMinutes: 1440 }] },
))
const deliveryProperties = {
  id: Uuid(), subscriptionId: Uuid(), eventId: Type.String(), eventType: Type.String(), occurredAt: DateTime(),
  status: Type.Enum(['pending', 'sending', 'retrying', 'succeeded', 'dead']), attempts: Type.Integer({ minimum: 0 }), nextAttemptAt: Nullable(DateTime()),
  lastStatusCode: Nullable(Type.Integer()), lastError: Nullable(Type.String()), lastLatencyMs: Nullable(Type.Integer()),
  createdAt: DateTime(), deliveredAt: Nullable(DateTime()),
}
const deliveryExample = {
  id: '0195f7a4-4444-7000-8000-000000000001', subscriptionId: '0195f7a4-3333-7000-8000-000000000001', eventId: 'msg_0195f7a4-5b1c-7c3e-9a10-2f4d6e8b1a09',
  eventType: 'complaint.signed', occurredAt: '2026-11-26T03:02:41.118Z', status: 'retrying', attempts: 2, nextAttemptAt: '2026-11-26T03:07:45.000Z',
  lastStatusCode: 503, lastError: 'HTTP 503', lastLatencyMs: 87, createdAt: '2026-11-26T03:02:41.500Z', deliveredAt: null,
}
const DeliverySchema = named('Delivery', Type.Object(deliveryProperties, { description: 'one event on its way to one subscription', examples: [deliveryExample] }))
const AttemptSchema = named('DeliveryAttempt', Type.Object({ attemptedAt: DateTime(), statusCode: Nullable(Type.Integer()), latencyMs: Type.Integer(), error: Nullable(Type.String()), nextAttemptAt: Nullable(DateTime()) }, { description: 'one try' }))
const DeliveryDetail = named('DeliveryDetail', Type.Object({ ...deliveryProperties, attemptLog: Type.Array(AttemptSchema) }, {
  description: 'a delivery with every attempt',
  examples: [{ ...deliveryExample, attemptLog: [{ attemptedAt: '2026-11-26T03:02:42.000Z', statusCode: 503, latencyMs: 91, error: 'HTTP 503', nextAttemptAt: '2026-11-26T03:03:45.000Z' }] }],
}))
const DeliveryPage = named('DeliveryPage', Type.Object({ items: Type.Array(DeliverySchema), nextCursor: Nullable(Type.String({ description: 'pass as `cursor` for the next page' })) }, { description: 'deliveries, newest first' }))
const ReplayRange = named('ReplayRequest', Type.Object(
  { from: DateTimeInput(), to: DateTimeInput(), statuses: Type.Optional(Type.Array(Type.Enum(['dead', 'retrying', 'succeeded']), { minItems: 1, default: ['dead'] })) },
  { ...strict, examples: [{ from: '2026-11-26T00:00:00+08:00', to: '2026-11-27T00:00:00+08:00', statuses: ['dead'] }] },
))
const ReplayResult = named('ReplayResult', Type.Object({ replayed: Type.Integer({ description: 'deliveries queued again' }) }, { examples: [{ replayed: 12 }] }))
const IdParams = Type.Object({ id: Uuid() }, strict)

const iso = (d: Date | null) => (d ? d.toISOString() : null)
const subDto = (x: WebhookSubscription) => ({
  id: x.id, target: x.target as TargetKind, url: x.url, eventTypes: x.event_types, description: x.description, status: x.status as 'active', disabledReason: x.disabled_reason,
  failingSince: iso(x.failing_since), previousSecretValidUntil: iso(x.previous_secret_until), createdAt: x.created_at.toISOString(), updatedAt: x.updated_at.toISOString(),
})
const deliveryDto = (d: WebhookDelivery) => ({
  id: d.id, subscriptionId: d.subscription_id, eventId: d.event_id, eventType: d.event_type, occurredAt: d.occurred_at.toISOString(),
  status: d.status as 'pending', attempts: d.attempts, nextAttemptAt: ['pending', 'retrying'].includes(d.status) ? d.next_attempt_at.toISOString() : null,
  lastStatusCode: d.last_status_code, lastError: d.last_error, lastLatencyMs: d.last_latency_ms, createdAt: d.created_at.toISOString(), deliveredAt: iso(d.delivered_at),
})
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`

/** webhook subscriptions and their delivery log (admin, integration) */
export default async function webhookRoutes(app: FastifyInstance) {
  const { services } = app
  const tags = ['webhooks']

  async function subscription(id: string) {
    const row = await services.db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound('webhook subscription', id)
    return row
  }

  app.post('/v1/webhooks', {
    schema: {
      operationId: 'createWebhook', tags, summary: 'Subscribe a URL to events',
      description: 'The service generates the signing secret (Standard Webhooks `whsec_…`) and shows it once. Targets must be https to a public host unless WEBHOOK_ALLOW_INSECURE_URLS is set. `target: wukong` subscribes the 悟空CRM connector instead of a URL (409 if it is already subscribed).',
      body: CreateSubscription,
      response: { 201: json('The subscription with its signing secret (shown only now).', WithSecret, ['location']), ...problems(409, 422) },
    },
  }, async (req, reply) => {
    const body = req.body as { target?: TargetKind; url?: string; eventTypes: string[]; description?: string }
    const target = body.target ?? 'http'
    validateEventTypes(body.eventTypes, EVENT_TYPE_NAMES)
    const url = TARGETS[target].validate(services, { url: body.url, eventTypes: body.eventTypes })
    const now = services.clock.now()
    const secret = newSecret()
    const sealed = services.secrets.seal(secret)
    const row = await audited(services.db, auditContext(req), now, async (trx) => {
      if (target !== 'http' && await trx.selectFrom('webhook_subscriptions').select('id').where('target', '=', target).executeTakeFirst()) {
        throw conflict(`the ${target} target is already subscribed: change that subscription instead`)
      }
      const created = await trx.insertInto('webhook_subscriptions').values({
        id: randomUUID(), target, url, event_types: JSON.stringify(body.eventTypes), description: body.description ?? null, status: 'active',
        secret: sealed, created_at: now, updated_at: now,
      }).returningAll().executeTakeFirstOrThrow()
      return { result: created, change: { entityType: 'webhook_subscription', entityId: created.id, before: null, after: subDto(created) } }
    })
    return reply.code(201).header('location', `/v1/webhooks/${row.id}`).send({ ...subDto(row), secret })
  })

  app.get('/v1/webhooks', {
    schema: { operationId: 'listWebhooks', tags, summary: 'List subscriptions', response: { 200: json('The subscriptions.', SubscriptionList) } },
  }, async () => ({ items: (await services.db.selectFrom('webhook_subscriptions').selectAll().orderBy('created_at').execute()).map(subDto) }))

  app.get('/v1/webhooks/:id', {
    schema: { operationId: 'getWebhook', tags, summary: 'One subscription', params: IdParams, response: { 200: json('The subscription.', SubscriptionSchema), ...problems(404) } },
  }, async (req) => subDto(await subscription((req.params as { id: string }).id)))

  app.patch('/v1/webhooks/:id', {
    schema: {
      operationId: 'updateWebhook', tags, summary: 'Change the URL or events, pause or resume',
      description: 'While `paused`, deliveries queue up and go out on resume. A `disabled` subscription (failing too long, or its receiver answered 410 Gone) is re-enabled with `status: active`.',
      params: IdParams,
      body: UpdateSubscription,
      response: { 200: json('The subscription as changed.', SubscriptionSchema), ...problems(404, 422) },
    },
  }, async (req) => {
    const { id } = req.params as { id: string }
    const body = req.body as { url?: string; eventTypes?: string[]; description?: string; status?: 'active' | 'paused' }
    if (body.eventTypes) validateEventTypes(body.eventTypes, EVENT_TYPE_NAMES)
    const now = services.clock.now()
    return audited(services.db, auditContext(req), now, async (trx) => {
      const before = await trx.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
      if (!before) throw notFound('webhook subscription', id)
      const url = targetOf(before).validate(services, { url: body.url, eventTypes: body.eventTypes ?? before.event_types }, before)
      const after = await trx.updateTable('webhook_subscriptions').set({
        url,
        ...(body.eventTypes ? { event_types: JSON.stringify(body.eventTypes) } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.status ? { status: body.status, ...(body.status === 'active' ? { disabled_reason: null, failing_since: null } : {}) } : {}),
        updated_at: now,
      }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
      return { result: subDto(after), change: { entityType: 'webhook_subscription', entityId: id, before: subDto(before), after: subDto(after) } }
    })
  })

  app.delete('/v1/webhooks/:id', {
    schema: { operationId: 'deleteWebhook', tags, summary: 'Delete a subscription and its delivery log', params: IdParams, response: { 204: noContent('Deleted, with its delivery log.'), ...problems(404) } },
  }, async (req, reply) => {
    const { id } = req.params as { id: string }
    await audited(services.db, auditContext(req), services.clock.now(), async (trx) => {
      const before = await trx.deleteFrom('webhook_subscriptions').where('id', '=', id).returningAll().executeTakeFirst()
      if (!before) throw notFound('webhook subscription', id)
      return { result: null, change: { entityType: 'webhook_subscription', entityId: id, before: subDto(before), after: null } }
    })
    return reply.code(204).send()
  })

  app.post('/v1/webhooks/:id/rotate-secret', {
    schema: {
      operationId: 'rotateWebhookSecret', tags, summary: 'New signing secret; the old one keeps signing during the overlap',
      description: 'During the overlap every delivery carries two signatures (`v1,… v1,…`), so receivers can switch secrets without losing deliveries.',
      params: IdParams,
      body: RotateSecret,
      response: { 200: json('The subscription with its new secret (shown only now).', WithSecret), ...problems(404) },
    },
  }, async (req) => {
    const { id } = req.params as { id: string }
    const { overlapMinutes } = req.body as { overlapMinutes?: number }
    const now = services.clock.now()
    const secret = newSecret()
    const sealed = services.secrets.seal(secret)
    const row = await audited(services.db, auditContext(req), now, async (trx) => {
      const before = await trx.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
      if (!before) throw notFound('webhook subscription', id)
      // the old secret stays sealed as it was: it signs too until the overlap ends
      const after = await trx.updateTable('webhook_subscriptions').set({
        secret: sealed, previous_secret: before.secret, previous_secret_until: new Date(now.getTime() + (overlapMinutes ?? 1440) * 60_000), updated_at: now,
      }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
      return { result: after, change: { entityType: 'webhook_subscription', entityId: id, before: subDto(before), after: subDto(after) } }
    })
    return { ...subDto(row), secret }
  })

  app.get('/v1/webhooks/:id/deliveries', {
    schema: {
      operationId: 'listWebhookDeliveries', tags, summary: 'The delivery log of a subscription, newest first',
      params: IdParams,
      querystring: Type.Object({ status: Type.Optional(Type.Enum(['pending', 'sending', 'retrying', 'succeeded', 'dead'])), ...PageQuery }, strict),
      response: { 200: json('A page of deliveries, newest first.', DeliveryPage), ...problems(404) },
    },
  }, async (req) => {
    const { id } = req.params as { id: string }
    const q = req.query as { status?: string; limit?: number; cursor?: string }
    await subscription(id)
    const limit = q.limit ?? 50
    let query = services.db.selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', id)
    if (q.status) query = query.where('status', '=', q.status)
    if (q.cursor) {
      query = query.where(afterCursor('webhook_deliveries', q.cursor))
    }
    const { items, nextCursor } = page(await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute(), limit)
    return { items: items.map(deliveryDto), nextCursor }
  })

  app.get('/v1/deliveries/:id', {
    schema: {
      operationId: 'getDelivery', tags, summary: 'One delivery with each attempt', params: IdParams,
      response: { 200: json('The delivery and its attempts.', DeliveryDetail), ...problems(404) },
    },
  }, async (req) => {
    const { id } = req.params as { id: string }
    const d = await services.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst()
    if (!d) throw notFound('delivery', id)
    const attempts = await services.db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', id).orderBy('id').execute()
    return {
      ...deliveryDto(d),
      attemptLog: attempts.map((a) => ({ attemptedAt: a.attempted_at.toISOString(), statusCode: a.status_code, latencyMs: a.latency_ms, error: a.error, nextAttemptAt: iso(a.next_attempt_at) })),
    }
  })

  app.post('/v1/deliveries/:id/replay', {
    schema: {
      operationId: 'replayDelivery', tags, summary: 'Send a delivery again (whatever its status)',
      params: IdParams, response: { 202: json('Queued to be sent again.', DeliverySchema), ...problems(404, 409) },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const now = services.clock.now()
    // not while a sender holds it: it would go out twice at once
    const row = await services.db.updateTable('webhook_deliveries')
      .set({ status: 'pending', attempts: 0, next_attempt_at: now, locked_until: null })
      .where('id', '=', id).where((eb) => eb.or([eb('status', '!=', 'sending'), eb('locked_until', '<', now)]))
      .returningAll().executeTakeFirst()
    if (!row) {
      const exists = await services.db.selectFrom('webhook_deliveries').select('id').where('id', '=', id).executeTakeFirst()
      throw exists ? conflict('this delivery is being sent right now; replay it once the attempt is recorded') : notFound('delivery', id)
    }
    return reply.code(202).send(deliveryDto(row))
  })

  app.post('/v1/webhooks/:id/replay', {
    schema: {
      operationId: 'replayWebhookDeliveries', tags, summary: 'Re-send a subscription’s failed deliveries of a time range',
      params: IdParams,
      body: ReplayRange,
      response: { 202: json('How many deliveries were queued again.', ReplayResult), ...problems(404) },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const body = req.body as { from: string; to: string; statuses?: string[] }
    await subscription(id)
    const now = services.clock.now()
    const rows = await services.db.updateTable('webhook_deliveries')
      .set({ status: 'pending', attempts: 0, next_attempt_at: now, locked_until: null })
      .where('subscription_id', '=', id).where('status', 'in', body.statuses ?? ['dead'])
      .where('occurred_at', '>=', new Date(body.from)).where('occurred_at', '<', new Date(body.to))
      .returning('id').execute()
    return reply.code(202).send({ replayed: rows.length })
  })
}
