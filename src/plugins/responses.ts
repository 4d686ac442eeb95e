import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { OWN_CREDENTIAL } from '../access/policy.js'
import { problemResponse, type ProblemStatus } from '../http/common-schemas.js'

/**
 * The error responses that come from shared mechanisms rather than from a route, added to every
 * route they apply to so that the document lists every status an operation can answer:
 * validation (400), the one authorisation check (401, 403), the body parser (413, 415), the URL
 * limit (414), the rate limiter (429), the error handler (500) and shutting down or losing the
 * database (503). A route declares only its own (404, 409, 412, 422).
 */
const UNLIMITED = new Set(['/healthz', '/readyz'])

export default fp(async function responses(app: FastifyInstance) {
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { hide?: boolean; body?: unknown; querystring?: unknown; params?: unknown; headers?: unknown; response?: Record<string, unknown> } | undefined
    if (!schema || schema.hide) return
    const shared: ProblemStatus[] = [414, 500, 503]
    if (schema.body || schema.querystring || schema.params || schema.headers) shared.push(400)
    if (schema.body) shared.push(413, 415)
    const roles = route.config?.roles
    if (Array.isArray(roles)) shared.push(401, 403)
    else if (roles === OWN_CREDENTIAL) shared.push(401)
    if (!UNLIMITED.has(route.url)) shared.push(429)
    const response = { ...(schema.response ?? {}) }
    for (const status of shared) response[status] ??= problemResponse(status)
    schema.response = response
  })
}, { name: 'responses', dependencies: ['auth'] })
