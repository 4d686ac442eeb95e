import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { shapeDocument } from '../http/openapi-shape.js'
import { webhookDefinitions } from '../webhooks/event-schemas.js'

export const OPENAPI_INFO = {
  title: 'Complaint handling service',
  version: '0.2.0',
  description: [
    'Headless backend for the ISO 10002 complaint lifecycle (receive, track, acknowledge, assess, investigate, respond, close)',
    'with the rules of a Chinese customer-service centre (客户服务中心): levels, time limits on a business calendar, escalation and penalties.',
    'The domain — vocabulary with the Chinese terms, lifecycle, time limits, escalation, penalties, reports — is described in the',
    'repository’s `docs/` folder (start at `docs/README.md`).',
    '',
    'Errors are RFC 9457 `application/problem+json` (`Problem`). Mutations take `If-Match` (the ETag you read) and answer 412 on a stale',
    'version; illegal transitions answer 409 naming the allowed actions. Each operation lists the roles allowed in `x-roles`.',
    '',
    'Authenticate with an API key: `Authorization: Bearer cpk_…` (in this page: **Authorize**). A new installation prints its first admin key at',
    'start-up; `npm run demo` makes one key per role and a sample complaint to try the whole lifecycle from this page.',
  ].join('\n'),
  license: { name: 'MIT', identifier: 'MIT' },
  contact: { name: 'Complaint service maintainers' },
}

/** OpenAPI 3.1 generated from the route schemas; docs UI at /docs, raw document at /openapi.json */
export default fp(async function openapi(app: FastifyInstance) {
  await app.register(swagger, {
    // OpenAPI 3.1 `webhooks`: what subscribers receive, one entry per event type
    transformObject: (doc) => ('openapiObject' in doc ? shapeDocument({ ...doc.openapiObject, webhooks: webhookDefinitions() }) : doc.swaggerObject) as never,
    openapi: {
      openapi: '3.1.0',
      info: OPENAPI_INFO,
      servers: [{ url: 'http://127.0.0.1:3000', description: 'a local `npm start` (PUBLIC_BASE_URL sets the printed address)' }],
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
        { name: 'penalties', description: 'Penalty rules, notices (处罚通知单), the ledger and the weekly bulletin (处罚通报)' },
        { name: 'sla', description: 'SLA policy versions and the business calendar (工作时间, 法定节假日, 调休)' },
        { name: 'reports', description: '数据统计: weekly and monthly reports (JSON, CSV, printable HTML with charts), published reports, complaint-rate denominators' },
        { name: 'integrations', description: '悟空CRM (WukongCRM): customers and complaints in, in the CRM’s field names; the connector’s status' },
        { name: 'system', description: 'Health, readiness and metrics' },
        { name: 'events', description: 'What webhook subscribers receive (under `webhooks`)' },
      ],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { persistAuthorization: true, tryItOutEnabled: true } })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}, { name: 'openapi' })
