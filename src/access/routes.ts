import { Type } from 'typebox'
import { Role } from '../http/vocabulary-schemas.js'
import type { FastifyInstance } from 'fastify'
import type { ApiKey } from '../db/types.js'
import { DateTime, DateTimeInput, json, named, Nullable, problems, Slug, Text, Uuid } from '../http/common-schemas.js'
import { audited, listAudit, type AuditQuery } from '../audit/audit.js'
import { auditContext } from '../plugins/auth.js'
import { unprocessable } from '../errors.js'
import { insertKey, listKeys, lockKey, revokeKey, type NewKey } from './keys.js'
import { maskPii } from './pii.js'
import { ROLES } from './policy.js'

const strict = { additionalProperties: false } as const

const ApiKeySchema = named('ApiKey', Type.Object({
  id: Uuid(), name: Type.String(), role: Role, departmentId: Nullable(Type.String()),
  prefix: Type.String({ description: 'the start of the key, to tell keys apart' }),
  createdAt: DateTime(), lastUsedAt: Nullable(DateTime()), revokedAt: Nullable(DateTime()),
  rotatedTo: Nullable(Uuid('the key that replaced this one')),
}, {
  description: 'an API key (never its secret)',
  examples: [{ id: '0195f7a4-0000-7000-8000-0000000000d5', name: '服务站 接收台', role: 'department', departmentId: 'service-station', prefix: 'cpk_Zx81nQ2', createdAt: '2026-11-20T01:00:00.000Z', lastUsedAt: '2026-11-26T03:02:00.000Z', revokedAt: null, rotatedTo: null }],
}))
const keyProperties = ApiKeySchema.properties
const CreatedKeySchema = named('CreatedApiKey', Type.Object({ ...keyProperties, key: Type.String({ description: 'the secret: shown once, only its hash is stored' }) }, {
  description: 'a new API key with its secret, shown only now',
  examples: [{ id: '0195f7a4-0000-7000-8000-0000000000d5', name: '服务站 接收台', role: 'department', departmentId: 'service-station', prefix: 'cpk_Zx81nQ2', createdAt: '2026-11-20T01:00:00.000Z', lastUsedAt: null, revokedAt: null, rotatedTo: null, key: 'cpk_Zx81nQ2vH7c0_ExampleOnly_9sW3kLpQ4rT6yU8iO' }],
}))
const KeyList = named('ApiKeyList', Type.Object({ items: Type.Array(ApiKeySchema) }, { description: 'API keys, oldest first' }))
const CreateKeyBody = named('CreateApiKeyRequest', Type.Object(
  {
    name: Text(200, 'who or what uses the key'),
    role: Role,
    departmentId: Type.Optional(Slug('required for, and only for, department keys')),
  },
  { ...strict, examples: [{ name: '服务站 接收台', role: 'department', departmentId: 'service-station' }] },
))
const KeyParams = Type.Object({ id: Uuid() }, strict)

const keyDto = (k: ApiKey) => ({
  id: k.id, name: k.name, role: k.role as (typeof ROLES)[number], departmentId: k.department_id, prefix: k.prefix,
  createdAt: k.created_at.toISOString(), lastUsedAt: k.last_used_at?.toISOString() ?? null, revokedAt: k.revoked_at?.toISOString() ?? null, rotatedTo: k.rotated_to,
})

const AuditEntrySchema = named('AuditEntry', Type.Object({
  id: Type.Integer(), at: DateTime(), actorKeyId: Nullable(Uuid()), actorRole: Nullable(Type.String()), actorName: Nullable(Type.String()),
  operation: Type.String(), entityType: Type.String(), entityId: Type.String(),
  before: Nullable(Type.Record(Type.String(), Type.Unknown())), after: Nullable(Type.Record(Type.String(), Type.Unknown())),
  requestId: Nullable(Type.String()),
}, {
  description: 'one mutation: who, what, before and after, when (PII masked)',
  examples: [{ id: 812, at: '2026-11-26T03:02:41.118Z', actorKeyId: '0195f7a4-0000-7000-8000-0000000000d5', actorRole: 'department', actorName: '服务站 接收台', operation: 'signComplaint', entityType: 'complaint', entityId: '0195f7a4-5b1c-7c3e-9a10-2f4d6e8b1a01', before: { version: 4, status: 'handed_over' }, after: { version: 5, status: 'in_progress', signedBy: '李娜' }, requestId: '4f0c2a1e-9b7d-4e3a-8c21-6d5f0a9b1c2e' }],
}))
const AuditPage = named('AuditPage', Type.Object({ items: Type.Array(AuditEntrySchema), nextCursor: Nullable(Type.String({ description: 'pass as `cursor` for the next page' })) }, { description: 'audit entries, newest first' }))
const AuditQuerySchema = Type.Object(
  {
    entityType: Type.Optional(Type.String({ maxLength: 50 })),
    entityId: Type.Optional(Type.String({ maxLength: 100 })),
    actorKeyId: Type.Optional(Uuid()),
    operation: Type.Optional(Type.String({ maxLength: 100, description: 'operationId, e.g. assessComplaint' })),
    from: Type.Optional(DateTimeInput('entries at or after')),
    to: Type.Optional(DateTimeInput('entries before')),
    cursor: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'nextCursor of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  strict,
)

/** API keys (admin) and the audit log (auditor, admin) */
export default async function accessRoutes(app: FastifyInstance) {
  const { services } = app
  const tags = ['access']

  app.get('/v1/admin/api-keys', {
    schema: {
      operationId: 'listApiKeys', tags, summary: 'List API keys (never their secrets)',
      querystring: Type.Object({ includeRevoked: Type.Optional(Type.Boolean({ default: false })) }, strict),
      response: { 200: json('The keys.', KeyList) },
    },
  }, async (req) => {
    const { includeRevoked } = req.query as { includeRevoked?: boolean }
    return { items: (await listKeys(services.db, includeRevoked ?? false)).map(keyDto) }
  })

  app.post('/v1/admin/api-keys', {
    schema: {
      operationId: 'createApiKey', tags, summary: 'Create an API key',
      description: 'The response is the only time the secret is shown. Department keys are bound to one department.',
      body: CreateKeyBody, response: { 201: json('The new key, with its secret (shown only now).', CreatedKeySchema), ...problems(422) },
    },
  }, async (req, reply) => {
    const now = services.clock.now()
    const created = await audited(services.db, auditContext(req), now, async (trx) => {
      const { row, secret } = await insertKey(trx, req.body as NewKey, now, req.principal?.keyId ?? null)
      return { result: { ...keyDto(row), key: secret }, change: { entityType: 'api_key', entityId: row.id, before: null, after: keyDto(row) } }
    })
    return reply.code(201).send(created)
  })

  app.post('/v1/admin/api-keys/:id/rotate', {
    schema: {
      operationId: 'rotateApiKey', tags, summary: 'Rotate a key: a new secret with the same name and role; the old key stops working',
      params: KeyParams, response: { 201: json('The new key, with its secret (shown only now); the old one is revoked.', CreatedKeySchema), ...problems(404, 422) },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const now = services.clock.now()
    const created = await audited(services.db, auditContext(req), now, async (trx) => {
      const old = await lockKey(trx, id)
      if (old.revoked_at) throw unprocessable('/params/id', 'this key is revoked; create a new one')
      const { row, secret } = await insertKey(trx, { name: old.name, role: old.role as NewKey['role'], departmentId: old.department_id }, now, req.principal?.keyId ?? null)
      const revoked = await revokeKey(trx, id, now, row.id)
      return { result: { ...keyDto(row), key: secret }, change: { entityType: 'api_key', entityId: id, before: keyDto(old), after: keyDto(revoked) } }
    })
    return reply.code(201).send(created)
  })

  app.post('/v1/admin/api-keys/:id/revoke', {
    schema: {
      operationId: 'revokeApiKey', tags, summary: 'Revoke a key at once',
      description: 'The last active admin key cannot be revoked (422): create another admin key first.',
      params: KeyParams, response: { 200: json('The revoked key.', ApiKeySchema), ...problems(404, 422) },
    },
  }, async (req) => {
    const { id } = req.params as { id: string }
    const now = services.clock.now()
    return audited(services.db, auditContext(req), now, async (trx) => {
      const old = await lockKey(trx, id)
      if (old.revoked_at) return { result: keyDto(old), change: { entityType: 'api_key', entityId: id, before: keyDto(old), after: keyDto(old) } }
      if (old.role === 'admin') {
        const admins = await trx.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'admin').where('revoked_at', 'is', null).executeTakeFirstOrThrow()
        if (Number(admins.n) <= 1) throw unprocessable('/params/id', 'this is the last active admin key')
      }
      const revoked = await revokeKey(trx, id, now)
      return { result: keyDto(revoked), change: { entityType: 'api_key', entityId: id, before: keyDto(old), after: keyDto(revoked) } }
    })
  })

  app.get('/v1/audit', {
    schema: {
      operationId: 'listAuditLog', tags, summary: 'The audit log: every mutation, newest first',
      description: 'Who (key id, role, name), what (operation, entity, before/after), when, request id. Complainant PII in before/after is masked.',
      querystring: AuditQuerySchema,
      response: { 200: json('A page of the audit log, newest first.', AuditPage) },
    },
  }, async (req) => {
    const page = await listAudit(services.db, req.query as AuditQuery)
    return {
      items: page.items.map((e) => ({
        id: e.id, at: e.at.toISOString(), actorKeyId: e.actor_key_id, actorRole: e.actor_role, actorName: e.actor_name,
        operation: e.operation, entityType: e.entity_type, entityId: e.entity_id,
        before: e.before === null ? null : maskPii(e.before), after: e.after === null ? null : maskPii(e.after), requestId: e.request_id,
      })),
      nextCursor: page.nextCursor,
    }
  })
}
