import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { authenticate, type Principal } from '../access/keys.js'
import { OWN_CREDENTIAL, PERMISSIONS, PUBLIC, type Role } from '../access/policy.js'
import type { Actor } from '../db/types.js'
import { ProblemError } from '../errors.js'
import type { AuditContext } from '../audit/audit.js'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
  interface FastifyContextConfig {
    roles?: readonly Role[] | typeof PUBLIC | typeof OWN_CREDENTIAL
  }
}

const unauthorized = (detail: string) =>
  new ProblemError({ status: 401, code: 'unauthorized', title: 'Unauthorized', detail, extensions: {} })

/**
 * The one authorisation check: `Authorization: Bearer <key>` is authenticated, then the key's role is
 * checked against PERMISSIONS for the route's operationId — before the body is even validated.
 * Every documented route must have a row in the table; the app does not start otherwise.
 */
export default fp(async function auth(app: FastifyInstance) {
  app.decorateRequest('principal', null)

  app.addHook('onRoute', (route) => {
    const schema = (route.schema ?? {}) as { operationId?: string; hide?: boolean; description?: string; security?: unknown }
    if (!schema.operationId) {
      if (!schema.hide) throw new Error(`route ${route.method} ${route.url} has no operationId, so no row in the authorisation table`)
      route.config = { ...route.config, roles: PUBLIC } // the docs UI and the raw OpenAPI document
      return
    }
    const roles = PERMISSIONS[schema.operationId]
    if (!roles) throw new Error(`operation ${schema.operationId} has no row in the authorisation table (src/access/policy.ts)`)
    route.config = { ...route.config, roles }
    if (roles === PUBLIC) {
      schema.security = []
    } else if (roles !== OWN_CREDENTIAL && !schema.description?.includes('**Roles:**')) {
      // once: Fastify's automatic HEAD route shares the GET route's schema object
      schema.description = `${schema.description ? `${schema.description}\n\n` : ''}**Roles:** ${roles.join(', ')}`
      // the same list for tools: the document carries it as an extension of the operation
      ;(schema as Record<string, unknown>)['x-roles'] = [...roles]
    }
  })

  app.addHook('onRequest', async (request, reply) => {
    const roles = request.routeOptions.config.roles
    if (roles === undefined || roles === PUBLIC || roles === OWN_CREDENTIAL) return
    const header = request.headers.authorization
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    if (!match) {
      reply.header('www-authenticate', 'Bearer')
      throw unauthorized('send an API key as `Authorization: Bearer <key>`')
    }
    const principal = await authenticate(app.services.db, match[1]!, app.services.clock.now())
    if (!principal) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"')
      throw unauthorized('this API key is unknown or revoked')
    }
    request.principal = principal
    if (!roles.includes(principal.role)) {
      throw new ProblemError({
        status: 403, code: 'forbidden', title: 'Forbidden',
        detail: `role ${principal.role} may not ${request.routeOptions.schema?.operationId ?? 'do this'}; allowed: ${roles.join(', ')}`,
      })
    }
  })
}, { name: 'auth', dependencies: ['problems'] })

/** who is calling, as the timeline and the audit log record it */
export function actorOf(req: FastifyRequest): Actor {
  const p = req.principal
  return p ? { type: 'api_key', id: p.keyId, role: p.role, name: p.name } : { type: 'anonymous', id: null, role: null, name: null }
}

export function auditContext(req: FastifyRequest): AuditContext {
  return { actor: actorOf(req), operation: String(req.routeOptions.schema?.operationId ?? req.routeOptions.url), requestId: req.id }
}

/** a department key works on its own department's complaints only */
export const departmentScope = (req: FastifyRequest): string | null =>
  req.principal?.role === 'department' ? req.principal.departmentId : null
