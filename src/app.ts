import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import pino from 'pino'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import adminRoutes from './admin/routes.js'
import complaintRoutes from './complaints/routes.js'
import type { Config } from './config.js'
import { secretBox } from './webhooks/secrets.js'
import { systemClock, type Clock, type Services } from './context.js'
import type { DbHandle } from './db/create-db.js'
import { createSlaStore } from './sla/store.js'
import { hasBody, InFlight } from './http/in-flight.js'
import rateLimit from '@fastify/rate-limit'
import accessRoutes from './access/routes.js'
import jobRoutes from './jobs/routes.js'
import webhookRoutes from './webhooks/routes.js'
import reportRoutes from './reports/routes.js'
import retentionRoutes from './retention/routes.js'
import wukongRoutes from './integrations/wukong/routes.js'
import dispatcher from './plugins/dispatcher.js'
import scheduler from './plugins/scheduler.js'
import slaRoutes from './sla/routes.js'
import penaltyRoutes from './penalties/routes.js'
import addressLimit from './plugins/address-limit.js'
import auth from './plugins/auth.js'
import responses from './plugins/responses.js'
import openapi from './plugins/openapi.js'
import metrics from './plugins/metrics.js'
import { ProblemError } from './errors.js'
import problems, { clientErrorHandler } from './plugins/problems.js'
import overload from './plugins/overload.js'
import securityHeaders from './plugins/security-headers.js'
import validation from './plugins/validation.js'
import systemRoutes from './system/routes.js'

declare module 'fastify' {
  interface FastifyInstance {
    services: Services
  }
}

export interface AppOptions {
  config: Config
  /** an open, migrated database; the app closes it on close */
  database: DbHandle
  clock?: Clock
  /** defaults to a pino logger at LOG_LEVEL with PII redaction */
  logger?: FastifyBaseLogger
}

/** PII paths never written to logs (bodies are not logged, but errors may carry them) */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers["x-api-key"]',
  '*.complainant.phone', '*.complainant.email', '*.complainant.idNumber', '*.complainant.address',
  '*.complainant_phone', '*.complainant_email', '*.complainant_id_number', '*.complainant_address',
]

/** query strings can carry PII (a search for a phone number): the log keeps parameter names only */
export const urlForLog = (url: string) => {
  const q = url.indexOf('?')
  if (q < 0) return url
  const names = [...new URLSearchParams(url.slice(q + 1)).keys()]
  return `${url.slice(0, q)}?${names.map((n) => `${encodeURIComponent(n)}=…`).join('&')}`
}

/** readable lines for a person at a terminal, JSON for everything that reads logs by machine */
export const prettyLogs = (format: Config['LOG_FORMAT'] | undefined, stdoutIsTTY: boolean) => format === 'pretty' || (format !== 'json' && stdoutIsTTY)

/**
 * The service's logger: JSON lines with PII redaction, or (prettyLogs) the same records through
 * pino-pretty, which runs as a transport in a worker thread. A `destination` (tests) takes JSON.
 */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'> & Partial<Pick<Config, 'LOG_FORMAT'>>,
  destination?: pino.DestinationStream,
  stdoutIsTTY = process.stdout.isTTY === true,
): FastifyBaseLogger {
  const pretty = !destination && prettyLogs(config.LOG_FORMAT, stdoutIsTTY)
  return pino(
    {
      level: config.LOG_LEVEL,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        req: (req: { method: string; url: string; headers?: Record<string, unknown>; socket?: { remoteAddress?: string } }) => ({
          method: req.method,
          url: urlForLog(req.url),
          remoteAddress: req.socket?.remoteAddress,
        }),
      },
      ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: stdoutIsTTY, singleLine: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
    },
    destination,
  )
}

/** Builds the application without listening: server.ts listens, tests call inject(). */
/**
 * Fastify's own serialiser factory (fast-json-stringify), each route's serialiser built when it first
 * answers instead of when the app starts: building them all took about half the start-up time
 * (`npm run bench`, profiled with --cpu-prof), for routes most processes never call.
 */
const defaultSerializers = SerializerSelector()
export const lazySerializers: typeof defaultSerializers = (externalSchemas, options) => {
  const compile = defaultSerializers(nullableAsTypeList(externalSchemas) as typeof externalSchemas, options)
  // no shared schemas (nothing calls addSchema) and the same options in every app: a serialiser depends
  // on its route's schema alone, so apps built in one process share it (the test suite builds 140)
  const shareable = Object.keys(externalSchemas ?? {}).length === 0
  return (route) => {
    let serialize: ((doc: unknown) => string) | undefined
    const build = () => {
      const key = route.schema as object
      const built = shareable ? serialisers.get(key) : undefined
      if (built) return built
      const schema = nullableAsTypeList(route.schema) as typeof route.schema
      const whole = compile({ ...route, schema }) as (doc: unknown) => string
      const itemSchema = listItemSchema(schema)
      const made = itemSchema ? listSerializer(whole, compile({ ...route, schema: itemSchema as typeof route.schema }) as (doc: unknown) => string) : whole
      if (shareable) serialisers.set(key, made)
      return made
    }
    return (doc) => (serialize ??= build())(doc)
  }
}
/** each route schema's serialiser, built once a process (lazySerializers) */
const serialisers = new WeakMap<object, (doc: unknown) => string>()

/** the schema of a list's items when `schema` is a list envelope, an object whose first property is `items`, an array of objects */
export function listItemSchema(schema: unknown): object | undefined {
  const props = (schema as { type?: unknown; properties?: Record<string, { type?: unknown; items?: { type?: unknown } }> } | undefined)
  if (props?.type !== 'object' || !props.properties) return undefined
  const [first] = Object.keys(props.properties)
  const items = first === 'items' ? props.properties.items : undefined
  return items?.type === 'array' && items.items?.type === 'object' ? items.items : undefined
}

/** where a list envelope serialised with no items begins: its items go between this and the rest */
const LIST_HEAD = '{"items":['

/**
 * A list envelope's serialiser that answers a Buffer: each item serialised on its own (by the serialiser of
 * the items' schema, as the whole one would), the envelope with no items around them, the parts written
 * into one Buffer. One string of a whole page is what Node 20, 22 and 24 write slowly: a page of 50
 * complaints is some 200 KB of JSON holding Chinese text, one string of which Node makes flat and encodes
 * at 3.7–4.5 ms of CPU a response, against 1.2–1.6 ms for the same bytes from 50 small strings written
 * into a Buffer (a bare node:http server under autocannon on this machine; Node 26 takes 1.2 ms either
 * way). The bytes are the same as the whole serialiser's; an envelope that does not begin as expected is
 * answered by it.
 */
export function listSerializer(whole: (doc: unknown) => string, item: (doc: unknown) => string): (doc: unknown) => string {
  return (doc) => {
    const items = (doc as { items?: unknown } | null)?.items
    if (!Array.isArray(items) || items.length < 2) return whole(doc)
    const envelope = whole({ ...(doc as object), items: [] })
    if (!envelope.startsWith(`${LIST_HEAD}]`)) return whole(doc)
    const rest = envelope.slice(LIST_HEAD.length)
    const parts = items.map(item)
    let bytes = LIST_HEAD.length + parts.length - 1 + Buffer.byteLength(rest)
    for (const part of parts) bytes += Buffer.byteLength(part)
    const out = Buffer.allocUnsafe(bytes)
    let at = out.write(LIST_HEAD, 0, 'latin1')
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) at = out.writeUInt8(0x2c, at) // ,
      at += out.write(parts[i]!, at)
    }
    out.write(rest, at)
    // Fastify sends a Buffer as it is (Content-Length from its length); its serialiser type says string
    return out as unknown as string
  }
}

const PRIMITIVE_TYPES = new Set(['string', 'integer', 'number', 'boolean'])

/**
 * A copy of `schema` for serialising in which every nullable primitive — TypeBox's
 * `anyOf: [{ type: 'string', … }, { type: 'null' }]` — is `type: ['string', 'null']`. The two mean the
 * same, but fast-json-stringify picks an `anyOf` branch by running Ajv on the value, for every nullable
 * field of every response (ajv-formats' date checks were the largest cost after pg in a profile of a list
 * page); a list of types it serialises directly. Validation and the OpenAPI document keep the `anyOf`.
 */
export function nullableAsTypeList(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(nullableAsTypeList)
  if (schema === null || typeof schema !== 'object') return schema
  const node = schema as Record<string, unknown>
  const branches = node.anyOf
  if (Array.isArray(branches) && branches.length === 2) {
    const nullAt = branches.findIndex((b) => (b as { type?: unknown }).type === 'null' && Object.keys(b as object).length === 1)
    const other = branches[1 - nullAt] as Record<string, unknown> | undefined
    const stringEnum = other && other.type === undefined && Array.isArray(other.enum) && other.enum.every((v) => typeof v === 'string')
    if (nullAt >= 0 && other && ((typeof other.type === 'string' && PRIMITIVE_TYPES.has(other.type) && !('enum' in other) && !('const' in other)) || stringEnum)) {
      const { anyOf: _anyOf, ...annotations } = node
      return stringEnum
        ? { ...annotations, ...other, type: ['string', 'null'], enum: [...(other.enum as string[]), null] }
        : { ...annotations, ...other, type: [other.type, 'null'] }
    }
  }
  const copy: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) copy[key] = nullableAsTypeList(value)
  return copy
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config, database } = opts
  const app = Fastify({
    loggerInstance: opts.logger ?? createLogger(config),
    // framework errors before routing (a malformed URL, a path parameter over 100 characters: 414)
    // and the HTTP parser's errors go through the one problem+json renderer (plugins/problems.ts)
    frameworkErrors: (error, request, reply): void => void app.errorHandler(error, request, reply),
    clientErrorHandler,
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    // behind a load balancer the client address (rate limits, logs) comes from X-Forwarded-For
    trustProxy: config.TRUST_PROXY === 'true' ? true : config.TRUST_PROXY === 'false' ? false : (config.TRUST_PROXY ?? false),
    ajv: { customOptions: { strict: false } },
    // response serialisers are built on a route's first response, not at start (see lazySerializers)
    schemaController: { compilersFactory: { buildSerializer: lazySerializers } },
    // shutting down is answered by plugins/problems.ts, as problem+json with Retry-After
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>()

  const services: Services = {
    db: database.db,
    reportsDb: database.reportsDb ?? database.db,
    config,
    clock: opts.clock ?? systemClock,
    sla: createSlaStore(database.db, { timeZone: config.BUSINESS_TIMEZONE }),
    log: app.log,
    secrets: secretBox(config.SECRETS_KEY, config.SECRETS_KEY_PREVIOUS),
  }
  app.decorate('services', services)
  // the database outlives every request being worked on, those whose client has gone included
  // (http/in-flight.ts); the first hook of every request, so the count starts before anything costs
  const inFlight = new InFlight()
  app.addHook('onRequest', (req, _reply, done) => {
    inFlight.start(req)
    done()
  })
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id)
    inFlight.end(req)
    done(null, payload)
  })
  // except one: a request with a body whose client hung up before the body was read never goes on
  // (Fastify reads the body after the onRequest hooks, from a stream gone by then): it ends here
  app.addHook('onRequestAbort', (req, done) => {
    if (req.body === undefined && hasBody(req.raw)) inFlight.end(req)
    done()
  })
  app.addHook('onClose', async () => {
    if (!(await inFlight.drained(config.SHUTDOWN_GRACE_MS))) {
      app.log.warn({ requests: inFlight.size }, 'closing the database under requests still running after SHUTDOWN_GRACE_MS')
    }
    await database.close()
  })

  // external and shared plugins first, then the features that use them
  await app.register(securityHeaders)
  await app.register(validation)
  await app.register(problems)
  // before anything that costs: a saturated replica answers 503 at once
  await app.register(overload, { database })
  // before authentication: requests without a valid key, per client address (key guessing included)
  await app.register(addressLimit)
  await app.register(auth)
  await app.register(responses)
  // requests with a valid key, per key: a route hook, so it runs after authentication (an app hook)
  // and before validation, so requests that fail validation count too
  await app.register(rateLimit, {
    hook: 'onRequest',
    max: config.RATE_LIMIT_PER_MINUTE,
    timeWindow: 60_000,
    keyGenerator: (req) => (req.principal ? `key:${req.principal.keyId}` : 'no key'),
    allowList: (req) => !req.principal,
    errorResponseBuilder: (_req, ctx) =>
      new ProblemError({ status: 429, code: 'rate-limited', title: 'Too Many Requests', detail: `more than ${ctx.max} requests per minute; retry after ${ctx.after}` }),
  })
  await app.register(openapi)
  await app.register(metrics, { schema: database.schema })
  await app.register(systemRoutes, { schema: database.schema })
  await app.register(complaintRoutes)
  await app.register(adminRoutes)
  await app.register(accessRoutes)
  await app.register(slaRoutes)
  await app.register(penaltyRoutes)
  await app.register(scheduler)
  await app.register(jobRoutes)
  await app.register(webhookRoutes)
  await app.register(reportRoutes)
  await app.register(retentionRoutes)
  await app.register(wukongRoutes)
  await app.register(dispatcher)
  return app
}
