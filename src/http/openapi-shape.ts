import { PROBLEM_STATUSES, type ProblemStatus } from './common-schemas.js'
import { COMPONENT, DESCRIBED_FROM } from './named.js'

/**
 * Gives the generated OpenAPI document its shape for integrators: named schemas become
 * `components.schemas` referred to by name (one type per concept in a generated client), the error
 * responses become shared `components.responses`, and the headers the shared mechanisms send are
 * declared once in `components.headers` and referred to from every response that carries them.
 */
type Json = Record<string, any>

/** headers every response or some responses carry, as the mechanisms that send them decide */
export const HEADERS: Record<string, Json> = {
  RequestId: { description: 'the request id: yours if you sent `x-request-id`, else a new UUID; quote it when reporting a problem', schema: { type: 'string' }, required: true },
  RateLimitLimit: { description: 'requests allowed per minute for this key (or client address)', schema: { type: 'integer' } },
  RateLimitRemaining: { description: 'requests left in the current minute', schema: { type: 'integer' } },
  RateLimitReset: { description: 'seconds until the window resets', schema: { type: 'integer' } },
  RetryAfter: { description: 'seconds to wait before retrying', schema: { type: 'integer' }, required: true },
  ETag: { description: 'the complaint’s version as a strong entity tag (`"3"`); send it back as `If-Match`', schema: { type: 'string' }, required: true },
  Location: { description: 'the URL of the created resource', schema: { type: 'string' }, required: true },
  IdempotentReplayed: { description: '`true` when this is the stored response of an earlier request with the same `Idempotency-Key`', schema: { type: 'string', enum: ['true'] } },
  WWWAuthenticate: { description: 'the authentication scheme: `Bearer`', schema: { type: 'string' }, required: true },
  ContentDisposition: { description: 'with a downloadable form (CSV): the file name to save it under', schema: { type: 'string' } },
}
const ref = (name: string) => ({ $ref: `#/components/headers/${name}` })
const HEADER_NAMES: Record<string, string> = {
  RequestId: 'x-request-id', RateLimitLimit: 'x-ratelimit-limit', RateLimitRemaining: 'x-ratelimit-remaining', RateLimitReset: 'x-ratelimit-reset',
  RetryAfter: 'retry-after', ETag: 'etag', Location: 'location', IdempotentReplayed: 'idempotent-replayed', WWWAuthenticate: 'www-authenticate', ContentDisposition: 'content-disposition',
}
const BY_HEADER = Object.fromEntries(Object.entries(HEADER_NAMES).map(([name, header]) => [header, name]))
const withHeaders = (...names: string[]) => Object.fromEntries(names.map((n) => [HEADER_NAMES[n]!, ref(n)]))
const COMMON = ['RequestId', 'RateLimitLimit', 'RateLimitRemaining', 'RateLimitReset']

/** values, not schemas: copied as they are */
const DATA_KEYS = new Set(['examples', 'example', 'default', 'enum'])

/**
 * Schemas carrying the COMPONENT mark move to components.schemas and their places get a $ref. The
 * route schemas reach the document with `const` written as a one-value `enum` (@fastify/swagger);
 * schemas added to the document directly are written the same way, so one name is one shape.
 */
function hoist(node: unknown, schemas: Json): unknown {
  if (Array.isArray(node)) return node.map((n) => hoist(n, schemas))
  if (!node || typeof node !== 'object') return node
  let out: Json = {}
  for (const [key, value] of Object.entries(node)) out[key] = DATA_KEYS.has(key) ? value : hoist(value, schemas)
  if ('const' in out && !('enum' in out)) {
    const { const: value, ...rest } = out
    out = { ...rest, enum: [value] }
  }
  const name = out[COMPONENT]
  if (typeof name !== 'string') return out
  delete out[COMPONENT]
  const ref = `#/components/schemas/${name}`
  // the schema described for one use (withDescription): the component as defined, and the use's description beside the reference
  const describedFrom = out[DESCRIBED_FROM] as string | null | undefined
  delete out[DESCRIBED_FROM]
  const use = describedFrom === undefined ? undefined : (out.description as string)
  if (describedFrom !== undefined) {
    if (describedFrom === null) delete out.description
    else out.description = describedFrom
  }
  schemas[name] ??= out
  // a query or path parameter's schema reaches the document without its description (@fastify/swagger
  // moves it to the parameter): apart from descriptions, one name must be one shape
  const { description: _registered, ...registered } = schemas[name] as Json
  const { description: _here, ...here } = out
  if (JSON.stringify(registered) !== JSON.stringify(here)) throw new Error(`two different schemas are named ${name} in the route schemas`)
  return use === undefined ? { $ref: ref } : { $ref: ref, description: use }
}

const isProblem = (response: Json) => {
  const media = response.content?.['application/problem+json']
  return media?.schema?.$ref === '#/components/schemas/Problem' && Object.keys(response.content).length === 1
}

export function shapeDocument(doc: Json): Json {
  const schemas: Json = { ...(doc.components?.schemas ?? {}) }
  const paths = hoist(doc.paths, schemas) as Json
  const webhooks = hoist(doc.webhooks ?? {}, schemas) as Json
  const responses: Json = {}
  for (const item of Object.values(paths)) {
    for (const op of Object.values(item as Json) as Json[]) {
      for (const [code, response] of Object.entries(op.responses as Json) as Array<[string, Json]>) {
        const status = Number(code) as ProblemStatus
        if (isProblem(response) && PROBLEM_STATUSES[status]) {
          const [name, description] = PROBLEM_STATUSES[status]
          const extra = status === 429 || status === 503 ? ['RetryAfter'] : status === 401 ? ['WWWAuthenticate'] : []
          responses[name] ??= { description, headers: withHeaders(...COMMON, ...extra), content: response.content }
          op.responses[code] = { $ref: `#/components/responses/${name}` }
          continue
        }
        // headers the route declares (ETag, Location, Idempotent-Replayed) refer to their one description
        const declared = Object.keys(response.headers ?? {}).map((h) => BY_HEADER[h] ?? h)
        const unknown = declared.find((h) => !HEADERS[h])
        if (unknown) throw new Error(`${op.operationId} ${code}: header ${unknown} has no description in HEADERS`)
        response.headers = withHeaders(...COMMON, ...declared, ...(code === '503' ? ['RetryAfter'] : []))
      }
    }
  }
  const parameters: Json = {}
  shareRepeated(paths, webhooks, responses, parameters)
  const sorted = (o: Json) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)))
  return {
    ...doc,
    paths,
    webhooks,
    components: {
      ...doc.components,
      schemas: sorted(schemas),
      responses: sorted(responses),
      parameters: sorted(parameters),
      headers: HEADERS,
    },
  }
}

const pascal = (text: string) => text.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')

/**
 * A response or a parameter written the same way in several operations (every lifecycle step's
 * "the complaint after the step", the Standard Webhooks headers of every event) is described once in
 * components and referred to: one definition, and a document a generated client reads once.
 */
function shareRepeated(paths: Json, webhooks: Json, responses: Json, parameters: Json): void {
  const operations = [...Object.values(paths), ...Object.values(webhooks)].flatMap((item) => Object.values(item as Json) as Json[])
  const count = new Map<string, number>()
  const seen = (value: unknown) => { const key = JSON.stringify(value); count.set(key, (count.get(key) ?? 0) + 1) }
  for (const op of operations) {
    for (const response of Object.values(op.responses ?? {})) if (!(response as Json).$ref) seen(response)
    for (const parameter of op.parameters ?? []) seen(parameter)
  }
  const repeated = (value: unknown) => (count.get(JSON.stringify(value)) ?? 0) > 1
  const names = new Map<string, string>()
  const nameFor = (value: unknown, base: string, into: Json) => {
    const key = JSON.stringify(value)
    let name = names.get(key)
    if (!name) {
      name = base
      for (let n = 2; into[name]; n++) name = `${base}${n}`
      names.set(key, name)
      into[name] = value
    }
    return name
  }
  for (const op of operations) {
    for (const [code, response] of Object.entries(op.responses ?? {}) as Array<[string, Json]>) {
      if (response.$ref || !repeated(response)) continue
      const schema = (Object.values(response.content ?? {})[0] as Json | undefined)?.schema?.$ref?.split('/').pop() ?? `Status${code}`
      op.responses[code] = { $ref: `#/components/responses/${nameFor(response, `${schema}Response`, responses)}` }
    }
    if (op.parameters) {
      op.parameters = op.parameters.map((p: Json) => (repeated(p) ? { $ref: `#/components/parameters/${nameFor(p, `${pascal(p.name)}${pascal(p.in)}`, parameters)}` } : p))
    }
  }
}
