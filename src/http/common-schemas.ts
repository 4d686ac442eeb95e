import { Type, type TSchema } from 'typebox'
import { INSTANT_RANGE_TEXT } from './instants.js'
import { named, withDescription } from './named.js'
import { LifecycleAction, Status } from './vocabulary-schemas.js'

/** Primitives every feature's schemas are built from. Inline (no $ref) so handler types survive; `named` ones become components of the document. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

export const Uuid = (description?: string) => Type.String({ format: 'uuid', ...(description ? { description } : {}) })
export const DateTime = (description?: string) => Type.String({ format: 'date-time', ...(description ? { description } : {}) })
/** a date-time the caller sends: the one accepted range (src/http/instants.ts), stated in the document */
export const DateTimeInput = (description?: string) =>
  Type.String({ format: 'date-time', description: `${description ? `${description}. ` : ''}${INSTANT_RANGE_TEXT}` })
/** a calendar date the caller sends, YYYY-MM-DD, years 1900–2999 */
export const DateInput = (description?: string) => Type.String({ format: 'date', description: `${description ? `${description}. ` : ''}YYYY-MM-DD, 1900–2999` })
export const Slug = (description: string) => Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', maxLength: 64, description })
/** Postgres text cannot hold NUL: refuse it as a 400 instead of failing in the database */
export const NO_NUL = '^[^\\u0000]*$'

export const Text = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, pattern: NO_NUL, ...(description ? { description } : {}) })

export const IdParams = Type.Object({ id: Uuid('complaint id') }, { additionalProperties: false })

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'ETag of the version you read (`"3"`); a stale one gives 412' })),
})

export { COMPONENT, named, withDescription } from './named.js'

export const ProblemSchema = named('Problem', Type.Object(
  {
    type: Type.String({ format: 'uri', description: 'identifies the kind of problem' }),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String({ description: 'what went wrong, for a person' }),
    instance: Type.Optional(Type.String({ description: 'the request path' })),
    errors: Type.Optional(Type.Array(Type.Object({
      field: Type.String({ description: 'JSON pointer to the field, e.g. `/body/complainant/phone`, `/querystring/limit`' }),
      message: Type.String(),
    }), { description: '400 and 422: each field at fault' })),
    currentStatus: Type.Optional(withDescription(Status, '409 and 422 of a lifecycle step: the complaint’s status')),
    action: Type.Optional(withDescription(LifecycleAction, '409 and 422 of a lifecycle step: the refused action')),
    allowedActions: Type.Optional(Type.Array(LifecycleAction, { description: '409 and 422 of a lifecycle step: what the complaint accepts now' })),
    currentVersion: Type.Optional(Type.Integer({ description: '412: the version to reload' })),
    requestId: Type.Optional(Type.String({ description: '500: the request to look for in the logs' })),
  },
  {
    description: 'RFC 9457 problem details, sent as application/problem+json',
    examples: [{
      type: 'https://complaints.example/problems/conflict', title: 'Conflict', status: 409,
      detail: 'cannot sign a complaint in status assessed; allowed: acknowledge, assess, handover, add_note, withdraw, pause, link_external_ids',
      instance: '/v1/complaints/0195f7a4-5b1c-7c3e-9a10-2f4d6e8b1a01/sign', currentStatus: 'assessed', action: 'sign',
      allowedActions: ['acknowledge', 'assess', 'handover', 'add_note', 'withdraw', 'pause', 'link_external_ids'],
    }],
  },
))

/** what each error status means, wherever it is answered (the shared responses of the document) */
export const PROBLEM_STATUSES = {
  400: ['BadRequest', 'The request is malformed: a parameter, header or body field is missing, of the wrong type or unknown. `errors` names each field.'],
  401: ['Unauthorized', 'No API key, or an unknown or revoked one. Send `Authorization: Bearer <key>`.'],
  403: ['Forbidden', 'The key’s role may not do this operation (the roles allowed are listed under the operation as `x-roles`).'],
  404: ['NotFound', 'No such resource, or not one this key may see (a department key sees its own department’s complaints only).'],
  409: ['Conflict', 'The resource’s state does not allow this now. For a lifecycle step, `currentStatus` and `allowedActions` say what it accepts.'],
  412: ['PreconditionFailed', '`If-Match` does not match the current version (`currentVersion`): reload and retry.'],
  413: ['PayloadTooLarge', 'The body is larger than the service accepts (BODY_LIMIT_BYTES).'],
  414: ['UriTooLong', 'The URL is longer than the service accepts.'],
  415: ['UnsupportedMediaType', 'The body must be sent as `application/json`.'],
  422: ['UnprocessableContent', 'Well-formed, but a business rule refuses it; `errors` names the field (or the missing fact).'],
  429: ['TooManyRequests', 'Too many requests from this key or client address: retry after `Retry-After` seconds.'],
  500: ['InternalError', 'An unexpected error; `requestId` finds the request in the logs. A complaint step or create that fails this way has changed nothing.'],
  503: ['ServiceUnavailable', 'The service is shutting down or cannot reach its database: retry after `Retry-After` seconds.'],
} as const satisfies Record<number, readonly [string, string]>
export type ProblemStatus = keyof typeof PROBLEM_STATUSES

const problemResponse = (status: ProblemStatus) => ({
  description: PROBLEM_STATUSES[status][1],
  content: { 'application/problem+json': { schema: ProblemSchema } },
})

/** the error responses an operation answers besides the ones every operation shares (src/plugins/responses.ts) */
export function problems(...codes: ProblemStatus[]) {
  return Object.fromEntries(codes.map((c) => [c, problemResponse(c)])) as Record<ProblemStatus, ReturnType<typeof problemResponse>>
}
export { problemResponse }

/** response headers a route sets itself; the document describes each once (src/http/openapi-shape.ts) */
export type RouteHeader = 'etag' | 'location' | 'idempotent-replayed' | 'content-disposition'

/** a JSON success response, described in words, with the headers the route sets */
export const json = <T extends TSchema>(description: string, schema: T, headers: RouteHeader[] = []) => ({
  description,
  ...(headers.length ? { headers: Object.fromEntries(headers.map((h) => [h, { type: 'string' }])) } : {}),
  content: { 'application/json': { schema } },
})

/** a success response without a body */
export const noContent = (description: string) => ({ description, type: 'null' as const })

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'page size' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'nextCursor of the previous page' })),
}
