import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

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
    openapi: {
      openapi: '3.1.0',
      info: OPENAPI_INFO,
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (`cpk_…`) as `Authorization: Bearer <key>`. Each operation lists the roles allowed.' },
        },
      },
      security: [{ apiKey: [] }],
      tags: [
        { name: 'complaints', description: 'The lifecycle: 受理, 评估, 移交/签收, 调查, 回复, 关闭申请, 回访, 关闭' },
        { name: 'tracking', description: 'Complainant-facing status' },
        { name: 'admin', description: 'Departments, receivers, categories' },
        { name: 'access', description: 'API keys and the audit log' },
        { name: 'sla', description: 'SLA policy versions and the business calendar (工作时间, 法定节假日, 调休)' },
        { name: 'system', description: 'Health and readiness' },
      ],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { persistAuthorization: true, tryItOutEnabled: true } })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}, { name: 'openapi' })
