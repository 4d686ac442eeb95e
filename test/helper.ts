import { randomBytes } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import pg from 'pg'
import { sql } from 'kysely'
import tap, { type Test } from 'tap'
import { buildApp, createLogger } from '../src/app.js'
import { loadConfig, type Config } from '../src/config.js'
import type { Clock } from '../src/context.js'
import { createDb, type DbHandle } from '../src/db/create-db.js'
import { migrateToLatest } from '../src/db/migrate.js'

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
  const handle = await createDb({ databaseUrl: url, schema, poolSize: 6 })
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

/** the shared database with the complaint data of earlier tests removed; closing it is the process's job */
export async function testDatabase(): Promise<DbHandle> {
  const handle = await (shared ??= openShared())
  await sql`truncate complaint_timeline, complaint_notes, complaint_replies, outbox_events, idempotency_keys, reference_counters, complaints, receivers`.execute(handle.db)
  return { ...handle, close: async () => {} }
}

export interface TestApp {
  app: FastifyInstance
  clock: TestClock
  config: Config
  db: DbHandle['db']
  call(method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>
}

export interface Reply {
  status: number
  json: any
  headers: LightMyRequestResponse['headers']
}

/** one app per test file over its own database; `now` is a Shanghai business-hours Thursday */
export async function testApp(t: Test, opts: { now?: string; env?: Record<string, string> } = {}): Promise<TestApp> {
  const config = loadConfig({ LOG_LEVEL: 'silent', ...opts.env })
  const clock = new TestClock(opts.now ?? '2026-11-26T02:00:00Z') // Thu 10:00 Asia/Shanghai
  const database = await testDatabase()
  const app = await buildApp({ config, database, clock, logger: createLogger(config) })
  await app.ready()
  t.teardown(() => app.close())
  return {
    app,
    clock,
    config,
    db: database.db,
    async call(method, url, body, headers = {}) {
      const res = await app.inject({ method, url, payload: body as object | undefined, headers })
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
