import { Type } from 'typebox'
import { json, named } from '../http/common-schemas.js'
import type { FastifyInstance } from 'fastify'
import { DATABASE_RETRY_AFTER_SECONDS } from '../plugins/problems.js'
import { checkReadiness } from './readiness.js'

export default async function systemRoutes(app: FastifyInstance, opts: { schema: string }) {
  app.get('/healthz', {
    schema: { operationId: 'healthz', tags: ['system'], summary: 'The process is up', description: 'Liveness: answers while the process runs, whatever the database does. For a load balancer, use /readyz.', response: { 200: json('The process answers.', named('Health', Type.Object({ status: Type.Literal('ok') }, { examples: [{ status: 'ok' }] }))) } },
  }, async () => ({ status: 'ok' as const }))

  const Ready = named('Readiness', Type.Object(
    { status: Type.Enum(['ready', 'not_ready']), database: Type.Enum(['ok', 'unreachable']), pendingMigrations: Type.Array(Type.String()) },
    { examples: [{ status: 'ready', database: 'ok', pendingMigrations: [] }] },
  ))
  app.get('/readyz', {
    schema: { operationId: 'readyz', tags: ['system'], summary: 'Database reachable and migrated', description: 'Readiness: 200 when the database answers and no migration is pending, else 503. Route traffic to a replica only while it is ready.', response: { 200: json('Ready: the database answers and no migration is pending.', Ready), 503: json('Not ready: the database is unreachable or a migration is pending.', Ready) } },
  }, async (_req, reply) => {
    const readiness = await checkReadiness(app.services.db, opts.schema, (err) => app.log.warn({ err }, 'readiness check failed'))
    if (readiness.status === 'ready') return reply.code(200).send(readiness)
    // as every 503 of the document: when to ask again
    return reply.code(503).header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS)).send(readiness)
  })
}
