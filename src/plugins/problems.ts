import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance } from 'fastify'
import { ProblemError, type ProblemFieldError } from '../errors.js'

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

/** The one place errors become RFC 9457 problem+json. */
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
    } else if (INVALID_INPUT_SQLSTATES.has(String((error as { code?: unknown }).code))) {
      // the database refused a value the schemas let through (e.g. text it cannot encode)
      problem = new ProblemError({ status: 400, code: 'invalid-value', title: 'Bad Request', detail: 'a value in the request cannot be stored or searched for' })
    } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      problem = new ProblemError({
        status: error.statusCode, code: (error.code ?? 'client-error').toLowerCase().replace(/_/g, '-'),
        title: error.name === 'Error' ? 'Client Error' : error.name, detail: error.message,
      })
    } else {
      request.log.error({ err: error }, 'unhandled error')
      problem = new ProblemError({
        status: 500, code: 'internal', title: 'Internal Server Error',
        detail: `an unexpected error occurred; see the logs for request ${request.id}`, extensions: { requestId: request.id },
      })
    }
    if (problem.status === 429 && reply.getHeader('retry-after') === undefined) reply.header('retry-after', '60')
    return reply.code(problem.status).type('application/problem+json').send(problem.toJSON(request.url))
  })

  app.setNotFoundHandler((request, reply) => {
    const problem = new ProblemError({ status: 404, code: 'not-found', title: 'Not Found', detail: `no route ${request.method} ${request.url.split('?')[0]}` })
    return reply.code(404).type('application/problem+json').send(problem.toJSON(request.url))
  })
}, { name: 'problems' })
