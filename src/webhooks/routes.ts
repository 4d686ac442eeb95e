import { randomBytes, randomUUID } from 'node:crypto'
import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import type { WebhookDelivery, WebhookSubscription } from '../db/types.js'
import { audited } from '../audit/audit.js'
import { conflict, notFound } from '../errors.js'
import { decodeCursor, page } from '../http/keyset.js'
import { DateInput, DateTime, DateTimeInput, Nullable, PageQuery, problems, Text, Uuid } from '../http/common-schemas.js'
import { auditContext } from '../plugins/auth.js'
import { validateTargetUrl } from './policy.js'

const strict = { additionalProperties: false } as const
const Pattern = Type.String({ pattern: '^(\\*|[a-z_]+\\.\\*|[a-z_]+\\.[a-z_]+)$', description: 'an event type, a family (`complaint.*`) or `*`' })
const Status = Type.Enum(['active', 'paused', 'disabled'])

const SubscriptionSchema = Type.Object({
  id: Uuid(), url: Type.String(), eventTypes: Type.Array(Type.String()), description: Nullable(Type.String()), status: Status,
  disabledReason: Nullable(Type.String()), failingSince: Nullable(DateTime()), previousSecretValidUntil: Nullable(DateTime()),
  createdAt: DateTime(), updatedAt: DateTime(),
})
const WithSecret = Type.Object({ ...SubscriptionSchema.properties, secret: Type.String({ description: 'whsec_…: shown only now; verify deliveries with it' }) })
const DeliverySchema = Type.Object({
  id: Uuid(), subscriptionId: Uuid(), eventId: Type.String(), eventType: Type.String(), occurredAt: DateTime(),
  status: Type.Enum(['pending', 'sending', 'retrying', 'succeeded', 'dead']), attempts: Type.Integer(), nextAttemptAt: Nullable(DateTime()),
  lastStatusCode: Nullable(Type.Integer()), lastError: Nullable(Type.String()), lastLatencyMs: Nullable(Type.Integer()),
  createdAt: DateTime(), deliveredAt: Nullable(DateTime()),
})
const AttemptSchema = Type.Object({ attemptedAt: DateTime(), statusCode: Nullable(Type.Integer()), latencyMs: Type.Integer(), error: Nullable(Type.String()), nextAttemptAt: Nullable(DateTime()) })
const IdParams = Type.Object({ id: Uuid() }, strict)

const iso = (d: Date | null) => (d ? d.toISOString() : null)
const subDto = (x: WebhookSubscription) => ({
  id: x.id, url: x.url, eventTypes: x.event_types, description: x.description, status: x.status as 'active', disabledReason: x.disabled_reason,
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
  const allowInsecure = services.config.WEBHOOK_ALLOW_INSECURE_URLS

  async function subscription(id: string) {
    const row = await services.db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound('webhook subscription', id)
    return row
  }

  app.post('/v1/webhooks', {
    schema: {
      operationId: 'createWebhook', tags, summary: 'Subscribe a URL to events',
      description: 'The service generates the signing secret (Standard Webhooks `whsec_…`) and shows it once. Targets must be https to a public host unless WEBHOOK_ALLOW_INSECURE_URLS is set.',
      body: Type.Object({ url: Type.String({ maxLength: 2000 }), eventTypes: Type.Array(Pattern, { minItems: 1, maxItems: 50, uniqueItems: true }), description: Type.Optional(Text(500)) },
        { ...strict, examples: [{ url: 'https://crm.example.com/hooks/complaints', eventTypes: ['complaint.*', 'sla.breached'], description: '悟空CRM sync' }] }),
      response: { 201: WithSecret, ...problems(400, 422) },
    },
  }, async (req, reply) => {
    const body = req.body as { url: string; eventTypes: string[]; description?: string }
    const url = validateTargetUrl(body.url, allowInsecure)
    const now = services.clock.now()
    const row = await audited(services.db, auditContext(req), now, async (trx) => {
      const created = await trx.insertInto('webhook_subscriptions').values({
        id: randomUUID(), url, event_types: JSON.stringify(body.eventTypes), description: body.description ?? null, status: 'active',
        secret: newSecret(), created_at: now, updated_at: now,
      }).returningAll().executeTakeFirstOrThrow()
      return { result: created, change: { entityType: 'webhook_subscription', entityId: created.id, before: null, after: subDto(created) } }
    })
    return reply.code(201).send({ ...subDto(row), secret: row.secret })
  })

  app.get('/v1/webhooks', {
    schema: { operationId: 'listWebhooks', tags, summary: 'List subscriptions', response: { 200: Type.Object({ items: Type.Array(SubscriptionSchema) }) } },
  }, async () => ({ items: (await services.db.selectFrom('webhook_subscriptions').selectAll().orderBy('created_at').execute()).map(subDto) }))

  app.get('/v1/webhooks/:id', {
    schema: { operationId: 'getWebhook', tags, summary: 'One subscription', params: IdParams, response: { 200: SubscriptionSchema, ...problems(404) } },
  }, async (req) => subDto(await subscription((req.params as { id: string }).id)))

  app.patch('/v1/webhooks/:id', {
    schema: {
      operationId: 'updateWebhook', tags, summary: 'Change the URL or events, pause or resume',
      description: 'While `paused`, deliveries queue up and go out on resume. A `disabled` subscription (failing too long, or its receiver answered 410 Gone) is re-enabled with `status: active`.',
      params: IdParams,
      body: Type.Object({ url: Type.Optional(Type.String({ maxLength: 2000 })), eventTypes: Type.Optional(Type.Array(Pattern, { minItems: 1, maxItems: 50, uniqueItems: true })), description: Type.Optional(Text(500)), status: Type.Optional(Type.Enum(['active', 'paused'])) }, strict),
      response: { 200: SubscriptionSchema, ...problems(400, 404, 422) },
    },
  }, async (req) => {
    const { id } = req.params as { id: string }
    const body = req.body as { url?: string; eventTypes?: string[]; description?: string; status?: 'active' | 'paused' }
    const url = body.url === undefined ? undefined : validateTargetUrl(body.url, allowInsecure)
    const now = services.clock.now()
    return audited(services.db, auditContext(req), now, async (trx) => {
      const before = await trx.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
      if (!before) throw notFound('webhook subscription', id)
      const after = await trx.updateTable('webhook_subscriptions').set({
        ...(url !== undefined ? { url } : {}),
        ...(body.eventTypes ? { event_types: JSON.stringify(body.eventTypes) } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.status ? { status: body.status, ...(body.status === 'active' ? { disabled_reason: null, failing_since: null } : {}) } : {}),
        updated_at: now,
      }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
      return { result: subDto(after), change: { entityType: 'webhook_subscription', entityId: id, before: subDto(before), after: subDto(after) } }
    })
  })

  app.delete('/v1/webhooks/:id', {
    schema: { operationId: 'deleteWebhook', tags, summary: 'Delete a subscription and its delivery log', params: IdParams, response: { 204: Type.Null(), ...problems(404) } },
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
      body: Type.Object({ overlapMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_080, default: 1440 })) }, strict),
      response: { 200: WithSecret, ...problems(404) },
    },
  }, async (req) => {
    const { id } = req.params as { id: string }
    const { overlapMinutes } = req.body as { overlapMinutes?: number }
    const now = services.clock.now()
    const row = await audited(services.db, auditContext(req), now, async (trx) => {
      const before = await trx.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
      if (!before) throw notFound('webhook subscription', id)
      const after = await trx.updateTable('webhook_subscriptions').set({
        secret: newSecret(), previous_secret: before.secret, previous_secret_until: new Date(now.getTime() + (overlapMinutes ?? 1440) * 60_000), updated_at: now,
      }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
      return { result: after, change: { entityType: 'webhook_subscription', entityId: id, before: subDto(before), after: subDto(after) } }
    })
    return { ...subDto(row), secret: row.secret }
  })

  app.get('/v1/webhooks/:id/deliveries', {
    schema: {
      operationId: 'listWebhookDeliveries', tags, summary: 'The delivery log of a subscription, newest first',
      params: IdParams,
      querystring: Type.Object({ status: Type.Optional(Type.Enum(['pending', 'sending', 'retrying', 'succeeded', 'dead'])), ...PageQuery }, strict),
      response: { 200: Type.Object({ items: Type.Array(DeliverySchema), nextCursor: Nullable(Type.String()) }), ...problems(400, 404) },
    },
  }, async (req) => {
    const { id } = req.params as { id: string }
    const q = req.query as { status?: string; limit?: number; cursor?: string }
    await subscription(id)
    const limit = q.limit ?? 50
    let query = services.db.selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', id)
    if (q.status) query = query.where('status', '=', q.status)
    if (q.cursor) {
      const after = decodeCursor(q.cursor)
      query = query.where((eb) => eb.or([eb('created_at', '<', after.at), eb.and([eb('created_at', '=', after.at), eb('id', '<', after.id)])]))
    }
    const { items, nextCursor } = page(await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute(), limit)
    return { items: items.map(deliveryDto), nextCursor }
  })

  app.get('/v1/deliveries/:id', {
    schema: {
      operationId: 'getDelivery', tags, summary: 'One delivery with each attempt', params: IdParams,
      response: { 200: Type.Object({ ...DeliverySchema.properties, attemptLog: Type.Array(AttemptSchema) }), ...problems(404) },
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
      params: IdParams, response: { 202: DeliverySchema, ...problems(404, 409) },
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
      body: Type.Object({ from: DateTimeInput(), to: DateTimeInput(), statuses: Type.Optional(Type.Array(Type.Enum(['dead', 'retrying', 'succeeded']), { minItems: 1, default: ['dead'] })) }, strict),
      response: { 202: Type.Object({ replayed: Type.Integer() }), ...problems(400, 404) },
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
