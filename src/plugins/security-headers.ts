import fp from 'fastify-plugin'
import helmet from 'helmet'
import type { FastifyInstance } from 'fastify'

/**
 * Helmet's security headers (Content-Security-Policy, Strict-Transport-Security, X-Content-Type-Options,
 * …) on every response. The middleware is built once, at start: the Fastify wrapper (@fastify/helmet)
 * built it again for every request, parsing the whole policy each time, in two hooks — about 2.5% of the
 * CPU of a `GET /v1/complaints/{id}` in a profile. Headers go on the raw response, which Fastify's reply
 * writes with its own.
 */
export default fp(async function securityHeaders(app: FastifyInstance) {
  // upgrade-insecure-requests would send the docs UI's own scripts to https on a plain-http install
  const apply = helmet({ contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null } } })
  app.addHook('onRequest', (request, reply, done) => apply(request.raw, reply.raw, (err?: unknown) => done(err as Error | undefined)))
}, { name: 'security-headers' })
