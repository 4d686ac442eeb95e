import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyBaseLogger, FastifyInstance, LightMyRequestResponse } from 'fastify'
import { insertKey } from '../src/access/keys.js'
import { PERMISSIONS, type Role } from '../src/access/policy.js'
import pg from 'pg'
import { sql, type Kysely, type KyselyPlugin, type OperationNode } from 'kysely'
import tap, { type Test } from 'tap'
import { buildApp, createLogger } from '../src/app.js'
import { loadConfig, type Config } from '../src/config.js'

/** the key sealing webhook secrets in test apps (a test can pass another, or none, in `env`) */
export const TEST_SECRETS_KEY = 'kHcMZ3cTF0rJ8a0m3W9xQyq2m6oV7b1DjE4uR5sL8nA='
import type { Clock } from '../src/context.js'
import type { Database } from '../src/db/types.js'
import { createDb, type DbHandle } from '../src/db/create-db.js'
import { migrateToLatest } from '../src/db/migrate.js'
import { createContractChecker } from './contract.js'

/** A clock tests set and move by hand: nothing ever sleeps. */
export class TestClock implements Clock {
  private t: number
  constructor(iso: string) {
    this.t = Date.parse(iso)
  }
  now() {
    return new Date(this.t)
  }
  set(iso: string) {
    this.t = Date.parse(iso)
  }
  advanceMinutes(m: number) {
    this.t += m * 60_000
  }
}

/**
 * One migrated database per test process (each test file is a process): on real Postgres
 * (DATABASE_URL) a fresh schema, so files run in parallel; otherwise an in-memory PGlite.
 * PGlite takes seconds to start, so tests share it and start from clean tables instead.
 */
let shared: Promise<DbHandle> | undefined

async function openShared(): Promise<DbHandle> {
  const url = process.env.DATABASE_URL
  if (!url) {
    const handle = await createDb({})
    await migrateToLatest(handle.db)
    tap.teardown(() => handle.close())
    return handle
  }
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  // as the service runs by default (DB_PREPARED_STATEMENTS): its large appends as named prepared statements
  const handle = await createDb({ databaseUrl: url, schema, poolSize: 6, preparedStatements: true })
  await migrateToLatest(handle.db, schema)
  tap.teardown(async () => {
    await handle.close()
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query(`drop schema if exists ${schema} cascade`)
    await client.end()
  })
  return handle
}

/** removes complaints and everything written about them, keeping keys, reference data and subscriptions */
export async function clearComplaints(db: DbHandle['db']): Promise<void> {
  // cascade: every table about complaints (timeline, notes, replies, breaches, penalty notices, reports' notices …) goes with them
  await sql`truncate complaints, outbox_events, idempotency_keys, reference_counters, audit_log, webhook_attempts, webhook_deliveries,
    penalty_bulletin_lines, penalty_bulletins, penalty_notice_counters cascade`.execute(db)
}

/** the shared database with the complaint data of earlier tests removed; closing it is the process's job */
export async function testDatabase(): Promise<DbHandle> {
  const handle = await (shared ??= openShared())
  await clearComplaints(handle.db)
  await sql`truncate webhook_subscriptions, receivers, api_keys, calendar_overrides, job_ticks, job_leases, reports, denominators, wukong_complaint_imports, wukong_customers, wukong_pull_state cascade`.execute(handle.db)
  await sql`delete from sla_policies where version > 1`.execute(handle.db)
  await sql`delete from penalty_rules where version > 1`.execute(handle.db)
  return { ...handle, close: async () => {} }
}

/** who makes a test request: a role (department keys: the complaint's own department), a department key, or nobody */
export type As = Role | `department:${string}` | 'anonymous'

export interface TestApp {
  app: FastifyInstance
  clock: TestClock
  config: Config
  db: DbHandle['db']
  /** API keys made for the test, by role and by `department:<id>` */
  keys: Map<string, { id: string; secret: string }>
  /** `as` defaults to the first role the authorisation table allows for the operation */
  call(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, body?: unknown, headers?: Record<string, string>, as?: As): Promise<Reply>
  keyFor(as: Exclude<As, 'anonymous'>): Promise<string>
  /** what the responses so far did against the committed OpenAPI document (test/contract.ts) */
  violations: string[]
}

export interface Reply {
  status: number
  json: any
  headers: LightMyRequestResponse['headers']
}

/**
 * The default `now`: Thursday 26 November 2026 between 10:00 and 11:00 in Shanghai, at a random
 * second and millisecond — a clock that stands still at a whole minute hides arithmetic that breaks
 * on fractions. TEST_NOW pins it to reproduce a run; tests that check a rule's exact figures pass
 * their own instant.
 */
export function defaultNow(): string {
  if (process.env.TEST_NOW) return process.env.TEST_NOW
  return new Date(Date.parse('2026-11-26T02:00:00Z') + Math.floor(Math.random() * 3_600_000)).toISOString()
}

const documentContract = createContractChecker()

const PREFERENCE: Role[] = ['cs_agent', 'cs_manager', 'department', 'management', 'admin', 'auditor', 'integration', 'finance']

type Paths = { paths: Record<string, Record<string, { operationId: string }>> }

/** method + path pattern → operationId, from the app's own OpenAPI document */
export const operationMatchers = (app: FastifyInstance) => matchersOf(app.swagger() as unknown as Paths)

/**
 * the same from the committed document (test/http/openapi.test.ts: the app's is the same), read once a
 * process: building the app's own document for each test app cost 0.2 s of CPU (4 of 27 s in sla.test.ts)
 */
let committedOperations: ReturnType<typeof matchersOf> | undefined
const documentOperations = () => (committedOperations ??= matchersOf(JSON.parse(readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8')) as Paths))

function matchersOf(doc: Paths) {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      operationId: op.operationId,
      pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    })),
  )
}

/** the METRICS_TOKEN of test apps: `authorization: Bearer <it>` on GET /metrics */
export const METRICS_TOKEN = 'test-metrics-token-0123456789'
export const metricsHeaders = { authorization: `Bearer ${METRICS_TOKEN}` }

export async function testApp(t: Test, opts: {
  /** the clock's start; default defaultNow() */
  now?: string; env?: Record<string, string>; logger?: FastifyBaseLogger
  /** the contract responses are checked against; default: the committed openapi/openapi.json */
  contract?: ReturnType<typeof createContractChecker>
  /** a database of the test's own (the app closes it); default: the shared test database, emptied */
  database?: DbHandle
  /** the databases the app is given, from the test's one (e.g. a spying primary and read replica) */
  databases?: (db: DbHandle['db']) => { db?: DbHandle['db']; reportsDb?: DbHandle['db'] }
} = {}): Promise<TestApp> {
  // the event-loop check of load shedding measures this whole test process (tap, fast-check, the contract
  // checker's schema compiles): off here, tested on a real server in test/faults
  const config = loadConfig({ LOG_LEVEL: 'silent', SCHEDULER_ENABLED: 'false', WEBHOOK_DISPATCHER_ENABLED: 'false', WEBHOOK_ALLOW_INSECURE_URLS: 'true', METRICS_TOKEN, OVERLOAD_EVENT_LOOP_DELAY_MS: '0', SECRETS_KEY: TEST_SECRETS_KEY, ...opts.env })
  const now = opts.now ?? defaultNow()
  if (!opts.now) t.comment(`now = ${now} (TEST_NOW=${now} reproduces this run)`)
  const clock = new TestClock(now)
  const database = opts.database ?? await testDatabase()
  const app = await buildApp({ config, database: { ...database, ...opts.databases?.(database.db) }, clock, logger: opts.logger ?? createLogger(config) })
  await app.ready()
  t.teardown(() => app.close())

  const keys = new Map<string, { id: string; secret: string }>()
  async function keyFor(as: Exclude<As, 'anonymous'>): Promise<string> {
    let key = keys.get(as)
    if (!key) {
      const [role, departmentId] = as.split(':') as [Role, string | undefined]
      const { row, secret } = await insertKey(database.db, { name: `test ${as}`, role, departmentId: role === 'department' ? (departmentId ?? 'service-station') : null }, clock.now(), null)
      key = { id: row.id, secret }
      keys.set(as, key)
    }
    return key.secret
  }

  const operations = documentOperations()
  async function defaultActor(method: string, url: string): Promise<As> {
    const path = url.split('?')[0]!
    const op = operations.find((o) => o.method === method && o.pattern.test(path))
    const roles = op ? PERMISSIONS[op.operationId] : undefined
    if (!roles || typeof roles === 'string') return 'anonymous'
    const role = PREFERENCE.find((r) => roles.includes(r))!
    if (role !== 'department') return role
    const id = /^\/v1\/complaints\/([0-9a-f-]{36})/.exec(path)?.[1]
    const row = id ? await database.db.selectFrom('complaints').select('department_id').where('id', '=', id).executeTakeFirst() : undefined
    return `department:${row?.department_id ?? 'service-station'}`
  }

  const violations: string[] = []
  const checkContract = opts.contract ?? documentContract
  return {
    app,
    clock,
    config,
    db: database.db,
    keys,
    keyFor,
    violations,
    async call(method, url, body, headers = {}, as) {
      const who = as ?? (await defaultActor(method, url))
      const auth: Record<string, string> = who === 'anonymous' ? {} : { authorization: `Bearer ${await keyFor(who)}` }
      const res = await app.inject({ method, url, payload: body as object | undefined, headers: { ...auth, ...headers } })
      // every response is checked against the committed document: a violation fails the test at once
      const found = checkContract({ method, url, status: res.statusCode, headers: res.headers, body: res.body })
      for (const v of found) t.fail(`response breaks the OpenAPI document: ${v}`)
      violations.push(...found)
      let json: unknown = null
      if (res.body) {
        try {
          json = res.json()
        } catch {
          json = res.body
        }
      }
      return { status: res.statusCode, json, headers: res.headers }
    },
  }
}

/** number of rows in each table that a lifecycle step writes */
export async function rowCounts(db: DbHandle['db']) {
  const r = await sql<{ complaints: number; timeline: number; outbox: number; notes: number; replies: number; keys: number }>`
    select (select count(*)::int from complaints) as complaints,
           (select count(*)::int from complaint_timeline) as timeline,
           (select count(*)::int from outbox_events) as outbox,
           (select count(*)::int from complaint_notes) as notes,
           (select count(*)::int from complaint_replies) as replies,
           (select count(*)::int from idempotency_keys) as keys`.execute(db)
  return r.rows[0]!
}

export const webComplaint = (overrides: Record<string, unknown> = {}) => ({
  channel: 'web',
  complainant: { name: '张伟', phone: '13800138000', email: 'zhang.wei@example.com', externalIds: [{ system: 'wukong', customerId: '1024' }] },
  subject: { product: 'Sedan S', vin: 'LSVAU2180N2183294', plate: '沪A12345' },
  description: 'Brake noise came back two days after the repair.',
  desiredOutcomes: ['resolution', 'explanation'],
  ...overrides,
})

/**
 * Makes every insert into `table` fail (before or after the row is written) until the returned
 * function is called; the test's teardown removes it in any case.
 */
export async function failInserts(t: Test, db: DbHandle['db'], table: string, timing: 'before' | 'after'): Promise<() => Promise<void>> {
  const name = `fail_${timing}_${table}`
  await sql`create function ${sql.id(name)}() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`.execute(db)
  await sql`create trigger ${sql.id(name)} ${sql.raw(timing)} insert on ${sql.id(table)} for each row execute function ${sql.id(name)}()`.execute(db)
  const remove = async () => {
    await sql`drop trigger if exists ${sql.id(name)} on ${sql.id(table)}`.execute(db)
    await sql`drop function if exists ${sql.id(name)}()`.execute(db)
  }
  t.teardown(remove)
  return remove
}

/** a new, empty database on the server of DATABASE_URL, dropped after the test; returns its URL */
export async function scratchDatabase(t: Test, prefix: string): Promise<string> {
  const url = process.env.DATABASE_URL
  if (!url) throw new Error('scratchDatabase needs DATABASE_URL')
  const name = `${prefix}_${process.pid}_${Date.now()}_${randomBytes(2).toString('hex')}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    await c.query(`drop database if exists ${name} with (force)`)
    await c.end()
  })
  const target = new URL(url)
  target.pathname = `/${name}`
  return target.toString()
}

/**
 * A second Postgres session (DATABASE_URL) with a schema of its own; the session rolls back, the schema
 * is dropped and the session closed after the test. `beforeDrop` runs first at teardown.
 */
export async function neighbourSession(t: Test, schema: string, beforeDrop: () => Promise<void> = async () => {}): Promise<pg.Client> {
  const session = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await session.connect()
  t.teardown(async () => {
    await beforeDrop()
    await session.query('rollback').catch(() => {})
    await session.query(`drop schema if exists ${schema} cascade`)
    await session.end()
  })
  await session.query(`create schema ${schema}`)
  return session
}

/**
 * Another session dropping and creating tables in a schema of its own, each statement its own commit,
 * until the returned function stops it (at teardown at the latest): what another application's
 * migrations, or other test files' schemas coming and going, do beside the service.
 */
export async function tableChurn(t: Test, schema: string): Promise<() => Promise<void>> {
  let stopped = false
  let running: Promise<void> = Promise.resolve()
  const stop = async () => {
    stopped = true
    await running
  }
  const session = await neighbourSession(t, schema, stop)
  running = (async () => {
    for (let i = 0; !stopped; i++) {
      await session.query(`drop table if exists ${schema}.t${i % 20}`)
      await session.query(`create table ${schema}.t${i % 20} (id serial primary key, note text default 'x')`)
    }
  })()
  return stop
}

/**
 * The same database, recording every statement sent through it: by default the kind of its operation
 * node (`InsertQueryNode`, `RawNode` …), or what `label` makes of the node. For tests that count round trips.
 */
export function countingStatements(db: Kysely<Database>, label: (node: OperationNode) => string = (node) => node.kind) {
  const statements: string[] = []
  const counter: KyselyPlugin = {
    transformQuery: (args) => { statements.push(label(args.node)); return args.node },
    transformResult: async (args) => args.result,
  }
  return { db: db.withPlugin(counter), statements }
}
