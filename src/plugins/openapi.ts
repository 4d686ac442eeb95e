import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { EVENT_TYPES } from '../outbox/catalogue.js'

/** the envelope every delivery carries (Standard Webhooks headers: webhook-id = id) */
export const EventEnvelope = Type.Object({
  id: Type.String({ description: 'msg_ + UUIDv7: unique and time-sortable; the `webhook-id` header. Deduplicate on it.' }),
  type: Type.String(),
  occurredAt: Type.String({ format: 'date-time' }),
  data: Type.Object({
    complaint: Type.Optional(Type.Object({}, {
      additionalProperties: true,
      description: 'the complaint as GET /v1/complaints/{id} shows it (without clocks), at `version`: drop an update older than the one you hold. complainant.externalIds carries your CRM ids.',
    })),
    facts: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'what the step recorded (its timeline data)' })),
  }, { additionalProperties: true }),
})

function webhookDefinitions() {
  return Object.fromEntries(Object.entries(EVENT_TYPES).map(([type, description]) => [type, {
    post: {
      summary: type,
      description: `${description}. Signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature); delivered at least once, in no global order.`,
      requestBody: { required: true, content: { 'application/json': { schema: EventEnvelope } } },
      responses: { '2XX': { description: 'received; any other answer is retried (network errors, timeouts, 408, 429, 5xx) or dead-lettered' } },
    },
  }]))
}

export const OPENAPI_INFO = {
  title: 'Complaint handling service',
  version: '0.1.0',
  description: [
    'Headless backend for the ISO 10002 complaint lifecycle (receive, track, acknowledge, assess, investigate, respond, close)',
    'with the rules of a Chinese customer-service centre (客户服务中心): levels, time limits, escalation and penalties.',
    '',
    'Errors are RFC 9457 problem+json. Mutations take `If-Match` (the ETag you read) and answer 412 on a stale version;',
    'illegal transitions answer 409 naming the allowed actions.',
    '',
    'Authenticate with an API key: `Authorization: Bearer cpk_…` (in this page: **Authorize**). A new installation prints its first admin key at start-up.',
  ].join('\n'),
}

/** OpenAPI 3.1 generated from the route schemas; docs UI at /docs, raw document at /openapi.json */
export default fp(async function openapi(app: FastifyInstance) {
  await app.register(swagger, {
    // OpenAPI 3.1 `webhooks`: what subscribers receive, one entry per event type
    transformObject: (doc) => ('openapiObject' in doc ? { ...doc.openapiObject, webhooks: webhookDefinitions() } : doc.swaggerObject) as never,
    openapi: {
      openapi: '3.1.0',
      info: OPENAPI_INFO,
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (`cpk_…`) as `Authorization: Bearer <key>`. Each operation lists the roles allowed.' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'The METRICS_TOKEN the service was started with, for GET /metrics only (Prometheus: `authorization: { credentials_file: … }`).' },
        },
      },
      security: [{ apiKey: [] }],
      tags: [
        { name: 'complaints', description: 'The lifecycle: 受理, 评估, 移交/签收, 调查, 回复, 关闭申请, 回访, 关闭' },
        { name: 'tracking', description: 'Complainant-facing status' },
        { name: 'admin', description: 'Departments, receivers, categories' },
        { name: 'access', description: 'API keys and the audit log' },
        { name: 'webhooks', description: 'Subscriptions, the delivery log and replays; the events are listed under `webhooks`' },
        { name: 'sla', description: 'SLA policy versions and the business calendar (工作时间, 法定节假日, 调休)' },
        { name: 'system', description: 'Health, readiness and metrics' },
      ],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { persistAuthorization: true, tryItOutEnabled: true } })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}, { name: 'openapi' })
