import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance } from 'fastify'
import { ProblemError, type ProblemFieldError } from '../errors.js'
import { isDatabaseUnavailable } from '../db/errors.js'

/** what a 503 of an unreachable database asks the client to wait */
export const DATABASE_RETRY_AFTER_SECONDS = 5

interface AjvError { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }

/** Ajv's errors as fields the caller can find: `/body/complainant/phone`, `/body/extra` (unknown) */
export function fieldErrors(context: string, errors: AjvError[]): ProblemFieldError[] {
  return errors.map((e) => {
    const base = `/${context}${e.instancePath}`
    if (e.keyword === 'required') return { field: `${base}/${String(e.params.missingProperty)}`, message: 'is required' }
    if (e.keyword === 'additionalProperties') return { field: `${base}/${String(e.params.additionalProperty)}`, message: 'is not a known property' }
    return { field: base, message: e.message ?? e.keyword }
  })
}

/** invalid_text_representation, character_not_in_repertoire, untranslatable_character */
const INVALID_INPUT_SQLSTATES = new Set(['22P02', '22021', '22P05'])

/**
 * The one place errors become RFC 9457 problem+json. Fastify's errors before routing (a malformed
 * URL, a path parameter over maxParamLength) come here too, through `frameworkErrors` in app.ts;
 * errors of the HTTP parser, before there is a request, through clientErrorHandler below.
 */
export default fp(async function problems(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError | ProblemError, request, reply) => {
    let problem: ProblemError
    if (error instanceof ProblemError) {
      problem = error
    } else if ('validation' in error && error.validation) {
      const errors = fieldErrors(error.validationContext ?? 'body', error.validation as unknown as AjvError[])
      problem = new ProblemError({
        status: 400, code: 'validation', title: 'Bad Request',
        detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors,
      })
    } else if (isDatabaseUnavailable(error)) {
      // the database is away (restarting, failing over, connections exhausted): say so and when to retry
      request.log.warn({ err: error }, 'database unavailable')
      reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
      problem = new ProblemError({ status: 503, code: 'database-unavailable', title: 'Service Unavailable', detail: 'the database cannot be reached right now; retry after Retry-After seconds (a create with the same Idempotency-Key, or a step with the same If-Match, is applied at most once)' })
    } else if (INVALID_INPUT_SQLSTATES.has(String((error as { code?: unknown }).code))) {
      // the database refused a value the schemas let through (e.g. text it cannot encode)
      problem = new ProblemError({ status: 400, code: 'invalid-value', title: 'Bad Request', detail: 'a value in the request cannot be stored or searched for' })
    } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      problem = new ProblemError({
        status: error.statusCode, code: (error.code ?? 'client-error').toLowerCase().replace(/_/g, '-'),
        title: STATUS_CODES[error.statusCode] ?? 'Client Error', detail: error.message,
      })
    } else {
      request.log.error({ err: error }, 'unhandled error')
      problem = new ProblemError({
        status: 500, code: 'internal', title: 'Internal Server Error',
        detail: `an unexpected error occurred; see the logs for request ${request.id}`, extensions: { requestId: request.id },
      })
    }
    // the document promises Retry-After with every 429 and 503
    if ((problem.status === 429 || problem.status === 503) && reply.getHeader('retry-after') === undefined) reply.header('retry-after', '60')
    // also here: errors found before routing (a malformed URL) never reach the onSend hook that sets it
    reply.header('x-request-id', request.id)
    return reply.code(problem.status).type('application/problem+json').send(problem.toJSON(request.url))
  })

  // while the service drains for shutdown, new requests are told so (the load balancer sends them elsewhere),
  // and every answer closes its connection: a keep-alive connection left idle would hold the close open
  // until its keep-alive timeout
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', async (_request, reply) => { if (closing) reply.header('connection', 'close') })
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return
    reply.header('connection', 'close').header('retry-after', '5')
    throw new ProblemError({ status: 503, code: 'shutting-down', title: 'Service Unavailable', detail: 'this replica is shutting down: retry (another replica, or this one after its restart)' })
  })

  // a path with routes, but not for this method, is 405 with Allow: the methods are collected as routes are added
  const routes: Array<{ methods: string[]; pattern: RegExp }> = []
  app.addHook('onRoute', (route) => {
    const source = route.url.split(/(:[^/]+|\*)/).map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))).join('')
    routes.push({ methods: [route.method].flat(), pattern: new RegExp(`^${source}$`) })
  })
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0]!
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))]
    if (allowed.length === 0) throw new ProblemError({ status: 404, code: 'not-found', title: 'Not Found', detail: `no route ${request.method} ${path}` })
    reply.header('allow', allowed.join(', '))
    throw new ProblemError({ status: 405, code: 'method-not-allowed', title: 'Method Not Allowed', detail: `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}` })
  })
}, { name: 'problems' })

/**
 * Errors Node's HTTP parser finds before there is a request (request line and headers over
 * maxHeaderSize, malformed HTTP, a request timeout), written to the socket as problem+json instead
 * of Fastify's own JSON.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, code, detail] = err.code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'headers-too-large', 'the request line and headers exceed the server limit (16 KB): shorten the URL or the headers']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request-timeout', 'the request did not arrive in time']
      : [400, 'malformed-request', 'the request is not valid HTTP/1.1']
  const body = JSON.stringify(new ProblemError({ status, code, title: STATUS_CODES[status]!, detail }).toJSON())
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
}
