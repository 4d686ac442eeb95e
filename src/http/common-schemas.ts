import { Type, type TSchema } from 'typebox'
import { INSTANT_RANGE_TEXT } from './instants.js'

/** Primitives every feature's schemas are built from. Inline (no $ref) so handler types survive. */
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

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    currentStatus: Type.Optional(Type.String()),
    allowedActions: Type.Optional(Type.Array(Type.String())),
    currentVersion: Type.Optional(Type.Integer()),
  },
  { description: 'RFC 9457 problem details (application/problem+json)', additionalProperties: true },
)

/** the error responses an operation can give, by status code, as application/problem+json */
export function problems(...codes: number[]) {
  return Object.fromEntries(codes.map((c) => [c, { content: { 'application/problem+json': { schema: ProblemSchema } } }])) as Record<number, { content: { 'application/problem+json': { schema: typeof ProblemSchema } } }>
}

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'page size' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'nextCursor of the previous page' })),
}
