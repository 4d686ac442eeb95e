import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import cron from 'node-cron'
import { CHANNELS } from './domain/vocabulary.js'
import { parseKey } from './webhooks/secrets.js'

/** an address or CIDR (IPv4 or IPv6), or a named range of proxy-addr */
const PROXY = '([0-9A-Fa-f]*[.:][0-9A-Fa-f.:]*(/\\d{1,3})?|loopback|linklocal|uniquelocal)'

/** `channel=value` pairs separated by commas; `*` names the value for every other channel */
const CHANNEL_MAP = '^\\s*[a-z0-9_*]+\\s*=[^,=]+(,\\s*[a-z0-9_*]+\\s*=[^,=]+)*$'

/**
 * The service's configuration: environment variables checked once at boot.
 * A bad value stops the start with the variable's name (no NODE_ENV branching elsewhere).
 */
const Env = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'HTTP port' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'interface to listen on' }),
  TRUST_PROXY: Type.Optional(Type.String({
    pattern: `^(true|false|${PROXY}(\\s*,\\s*${PROXY})*)$`,
    description: 'proxies whose X-Forwarded-For gives the client address: true (any), or addresses, CIDRs, loopback, linklocal, uniquelocal separated by commas',
  })),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'Postgres connection string; unset = embedded PGlite' })),
  DATABASE_REPLICA_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'a read replica of DATABASE_URL: report queries go there; unset = the primary' })),
  DATA_DIR: Type.String({ minLength: 1, default: './data', description: 'PGlite data directory when DATABASE_URL is unset' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  LOG_FORMAT: Type.Enum(['auto', 'json', 'pretty'], { default: 'auto', description: 'json: one JSON object a line; pretty: readable lines (pino-pretty); auto: pretty when stdout is a terminal, else json' }),
  PUBLIC_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'URL printed for the docs; default http://HOST:PORT' })),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  REOPEN_WINDOW_DAYS: Type.Integer({ minimum: 0, default: 30, description: 'days after closure in which a complaint can be reopened' }),
  BACKDATE_WINDOW_DAYS: Type.Integer({ minimum: 0, default: 30, description: 'how far back a complaint\'s receivedAt may lie (letters, calls entered late, CRM imports)' }),
  BUSINESS_TIMEZONE: Type.String({ minLength: 1, default: 'Asia/Shanghai' }),
  REFERENCE_PREFIX: Type.String({ pattern: '^[A-Z]{1,8}$', default: 'CP' }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  SLOW_QUERY_MS: Type.Integer({ minimum: 0, default: 200 }),
  DB_POOL_SIZE: Type.Integer({ minimum: 1, default: 10, description: 'Postgres connections per replica' }),
  DB_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 3_000, description: 'a request waits at most this long for a database connection, then answers 503' }),
  OVERLOAD_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1_000, description: 'answer 503 while the mean event-loop delay is above this (0: off; not applied on the embedded database, whose queries run on the event loop)' }),
  OVERLOAD_MAX_WAITING_QUERIES: Type.Integer({ minimum: 0, default: 200, description: 'answer 503 while more queries than this wait for a database connection (0: off)' }),
  DB_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 30_000, description: 'Postgres cancels a statement running longer (0: no limit)' }),
  DB_PREPARED_STATEMENTS: Type.Boolean({ default: true, description: 'send the intake\'s statement and the timeline, audit and event appends as named prepared statements, parsed and planned once per connection (false behind PgBouncer in transaction mode before 1.21)' }),
  ADMIN_API_KEY: Type.Optional(Type.String({ pattern: '^cpk_[A-Za-z0-9_-]{32,}$', description: 'an admin key to create at start (first start of a deployment)' })),
  SECRETS_KEY: Type.Optional(Type.String({ minLength: 32, description: 'the key that encrypts webhook signing secrets at rest: 32 bytes as 64 hex digits or base64 (`openssl rand -base64 32`). Required once webhook subscriptions exist; on the embedded database one is generated into DATA_DIR when unset' })),
  SECRETS_KEY_PREVIOUS: Type.Optional(Type.String({ minLength: 32, description: 'during a key rotation: the key being replaced, so secrets it sealed still open until `npm run secrets:rotate` (or the next start) seals them with SECRETS_KEY' })),
  OUTBOX_RETENTION_DAYS: Type.Integer({ minimum: 1, default: 30, description: 'dispatched events, their successful deliveries and the attempt logs are pruned this many days later (the housekeeping job)' }),
  DEAD_LETTER_RETENTION_DAYS: Type.Integer({ minimum: 1, default: 90, description: 'dead-lettered deliveries (still replayable until then) and their events and attempts are pruned this many days after they were created' }),
  IDEMPOTENCY_KEY_HOURS: Type.Integer({ minimum: 1, default: 24, description: 'an Idempotency-Key replays its first response at least this long, then the housekeeping job prunes it' }),
  SCHEDULER_ENABLED: Type.Boolean({ default: true, description: 'run the scheduled jobs in this process (coordinated through the database across replicas)' }),
  CALENDAR_WARN_DAYS: Type.Integer({ minimum: 1, default: 60, description: 'warn this many days before the holiday data runs out' }),
  WEBHOOK_DISPATCHER_ENABLED: Type.Boolean({ default: true, description: 'run the webhook dispatch loop in this process (replicas share the work)' }),
  WEBHOOK_ALLOW_INSECURE_URLS: Type.Boolean({ default: false, description: 'allow http:// and loopback/private targets (development and tests only)' }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  WEBHOOK_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 12, description: 'then the delivery is dead-lettered' }),
  WEBHOOK_RETRY_BASE_SECONDS: Type.Integer({ minimum: 1, default: 60, description: 'first retry delay; doubles each attempt' }),
  WEBHOOK_RETRY_MAX_SECONDS: Type.Integer({ minimum: 1, default: 21_600, description: 'longest delay between attempts' }),
  WEBHOOK_DISABLE_AFTER_HOURS: Type.Integer({ minimum: 1, default: 72, description: 'a subscription failing this long is disabled' }),
  WEBHOOK_POLL_MS: Type.Integer({ minimum: 10, default: 1000, description: 'dispatch loop pause when idle' }),
  METRICS_TOKEN: Type.Optional(Type.String({ pattern: '^[\\x21-\\x7e]{16,}$', description: 'GET /metrics needs `Authorization: Bearer <this>` (16+ printable characters); unset = /metrics is off (404)' })),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: Type.Integer({ minimum: 1, default: 120, description: 'requests per minute per client address without a valid API key (public routes, unknown paths, 401s), checked before authentication, per replica' }),
  RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, default: 600, description: 'requests per minute per API key, per replica' }),
  PENALTIES_FROM: Type.Optional(Type.String({
    pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})$',
    description: 'penalty notices are owed only for deadlines missed and months completed from this instant on (RFC 3339); unset = all. Set it when penalties start on an installation that already has breaches',
  })),
  PENALTY_BULLETIN_CRON: Type.String({ minLength: 9, default: '0 17 * * 5', description: 'when the weekly penalty bulletin is drawn up for the previous week: a cron expression in BUSINESS_TIMEZONE (default Friday 17:00)' }),
  CAPA_REVIEW_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 30, description: 'a CAPA measure\'s effectiveness review is due this many days after the measure\'s due date (or after the investigation)' }),
  RETENTION_YEARS: Type.Integer({ minimum: 1, maximum: 100, default: 2, description: 'complainant data is anonymised this many years after the complaint closed or was withdrawn' }),
  WUKONG_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', description: '悟空CRM gateway, e.g. https://crm.example.com (no /api prefix); with WUKONG_USERNAME and WUKONG_PASSWORD it turns on the pull and the `wukong` delivery target' })),
  WUKONG_USERNAME: Type.Optional(Type.String({ minLength: 1, description: 'the dedicated 悟空CRM account' })),
  WUKONG_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'its password (sent to /login as the CRM expects: use https)' })),
  WUKONG_PULL_SCHEDULE: Type.String({ minLength: 9, default: '*/5 * * * *', description: 'cron expression (business time zone) of the customer pull' }),
  WUKONG_ALLOW_CREATE_CUSTOMER: Type.Boolean({ default: false, description: 'create a CRM customer for a complainant no CRM customer matches by phone' }),
  WUKONG_INBOUND_SECRET: Type.Optional(Type.String({ pattern: '^whsec_[A-Za-z0-9+/]{32,}={0,2}$', description: 'when set, the inbound 悟空CRM endpoints require a Standard Webhooks signature made with it' })),
  WUKONG_FOLLOWUP_CATEGORIES: Type.Optional(Type.String({ pattern: CHANNEL_MAP, description: 'channel=跟进类型 pairs overriding the default follow-up categories (`*` = every other channel)' })),
  WUKONG_RETURN_VISIT_TYPES: Type.Optional(Type.String({ pattern: CHANNEL_MAP, description: 'channel=回访形式 pairs overriding the default return visit types (`*` = every other channel)' })),
  WUKONG_RETURN_VISIT_TYPE_FIELD_ID: Type.Integer({ minimum: 1, default: 1101898, description: 'fieldId of return_visit_type (回访形式) on this CRM install' }),
  WUKONG_SATISFICING_FIELD_ID: Type.Integer({ minimum: 1, default: 1101902, description: 'fieldId of satisficing (客户满意度) on this CRM install' }),
  WUKONG_SATISFICING_OPTIONS: Type.String({ pattern: '^[^,]+(,[^,]+){4}$', default: '很不满意,不满意,一般,满意,很满意', description: 'the five satisficing options for satisfaction 1 to 5' }),
})

export type Config = Static<typeof Env>

export class ConfigError extends Error {}

const integerKeys = new Set(['PORT', 'BODY_LIMIT_BYTES', 'REOPEN_WINDOW_DAYS', 'BACKDATE_WINDOW_DAYS', 'SHUTDOWN_GRACE_MS', 'SLOW_QUERY_MS', 'DB_POOL_SIZE', 'DB_CONNECT_TIMEOUT_MS', 'DB_STATEMENT_TIMEOUT_MS', 'OVERLOAD_EVENT_LOOP_DELAY_MS', 'OVERLOAD_MAX_WAITING_QUERIES', 'RATE_LIMIT_PER_MINUTE', 'CALENDAR_WARN_DAYS',
  'WEBHOOK_TIMEOUT_MS', 'WEBHOOK_MAX_ATTEMPTS', 'WEBHOOK_RETRY_BASE_SECONDS', 'WEBHOOK_RETRY_MAX_SECONDS', 'WEBHOOK_DISABLE_AFTER_HOURS', 'WEBHOOK_POLL_MS',
  'RATE_LIMIT_ANONYMOUS_PER_MINUTE', 'OUTBOX_RETENTION_DAYS', 'DEAD_LETTER_RETENTION_DAYS', 'IDEMPOTENCY_KEY_HOURS', 'CAPA_REVIEW_DAYS', 'RETENTION_YEARS', 'WUKONG_RETURN_VISIT_TYPE_FIELD_ID', 'WUKONG_SATISFICING_FIELD_ID'])
const booleanKeys = new Set(['DB_PREPARED_STATEMENTS', 'SCHEDULER_ENABLED', 'WEBHOOK_DISPATCHER_ENABLED', 'WEBHOOK_ALLOW_INSECURE_URLS', 'WUKONG_ALLOW_CREATE_CUSTOMER'])
const SECRETS = new Set(['SECRETS_KEY', 'SECRETS_KEY_PREVIOUS', 'ADMIN_API_KEY', 'METRICS_TOKEN', 'WUKONG_PASSWORD', 'WUKONG_INBOUND_SECRET'])

/** what the schema cannot say: settings that need each other, channel names, a cron expression */
function crossChecks(c: Config): string[] {
  const problems: string[] = []
  const crm = ['WUKONG_BASE_URL', 'WUKONG_USERNAME', 'WUKONG_PASSWORD'] as const
  const given = crm.filter((k) => c[k] !== undefined)
  if (given.length > 0 && given.length < crm.length) {
    for (const k of crm.filter((k) => c[k] === undefined)) problems.push(`${k}: required with ${given.join(', ')} (the 悟空CRM connector needs all three)`)
  }
  for (const key of ['WUKONG_FOLLOWUP_CATEGORIES', 'WUKONG_RETURN_VISIT_TYPES'] as const) {
    const unknown = (c[key] ?? '').split(',').map((pair) => pair.split('=')[0]!.trim()).filter((ch) => ch !== '' && ch !== '*' && !(CHANNELS as readonly string[]).includes(ch))
    if (unknown.length > 0) problems.push(`${key}: unknown channel ${unknown.join(', ')} (channels: ${CHANNELS.join(', ')}, or *)`)
  }
  for (const key of ['WUKONG_PULL_SCHEDULE', 'PENALTY_BULLETIN_CRON'] as const) {
    if (!cron.validate(c[key])) problems.push(`${key}: is not a cron expression (got ${JSON.stringify(c[key])})`)
  }
  if (c.PENALTIES_FROM && Number.isNaN(Date.parse(c.PENALTIES_FROM))) problems.push(`PENALTIES_FROM: is not an instant (got ${JSON.stringify(c.PENALTIES_FROM)})`)
  for (const key of ['SECRETS_KEY', 'SECRETS_KEY_PREVIOUS'] as const) {
    const value = c[key]
    if (value === undefined) continue
    try { parseKey(value, key) } catch (e) { problems.push((e as Error).message) }
  }
  if (c.SECRETS_KEY_PREVIOUS && !c.SECRETS_KEY) problems.push('SECRETS_KEY_PREVIOUS: needs SECRETS_KEY (the key that replaces it)')
  if (c.SECRETS_KEY && c.SECRETS_KEY === c.SECRETS_KEY_PREVIOUS) problems.push('SECRETS_KEY_PREVIOUS: is the same key as SECRETS_KEY')
  if (c.DATABASE_REPLICA_URL && !c.DATABASE_URL) problems.push('DATABASE_REPLICA_URL: a read replica needs DATABASE_URL (the embedded database has no replicas)')
  return problems
}

/** Reads the known variables from `env`, converts integers, fills defaults and validates. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(Env.properties)) {
    const value = env[key]
    if (value === undefined || value === '') continue
    raw[key] = integerKeys.has(key) && /^-?\d+$/.test(value) ? Number(value) : booleanKeys.has(key) && /^(true|false)$/.test(value) ? value === 'true' : value
  }
  const withDefaults = Value.Default(Env, raw)
  const errors = [...Value.Errors(Env, withDefaults)]
  if (errors.length > 0) {
    const lines = new Set(errors.map((e) => {
      const name = e.instancePath.replace(/^\//, '')
      const got = SECRETS.has(name) ? '[secret]' : JSON.stringify(raw[name])
      return `${name}: ${e.message} (got ${got})`
    }))
    throw new ConfigError(`invalid configuration:\n  ${[...lines].join('\n  ')}`)
  }
  if (!Value.Check(Env, withDefaults)) throw new ConfigError('invalid configuration')
  const problems = crossChecks(withDefaults)
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`)
  return withDefaults
}
