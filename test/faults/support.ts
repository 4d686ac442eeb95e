import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Test } from 'tap'
import type { Database } from '../../src/db/types.js'

/**
 * What the fault tests share: a database of their own on the machine's Postgres, the real server
 * process (compiled, as `npm start` runs it), a TCP proxy that can cut the database away, and a loopback
 * webhook receiver.
 */
export const root = fileURLToPath(new URL('../..', import.meta.url))
export const PG = process.env.FAULTS_PG ?? 'postgres://postgres@127.0.0.1:5432'
export const ADMIN_KEY = `cpk_faults_${randomBytes(24).toString('hex')}`
/** the key that seals webhook secrets in the fault tests' servers */
export const SECRETS_KEY = randomBytes(32).toString('base64')

/** a fresh database, dropped when the test ends */
export async function freshDatabase(t: Test): Promise<{ url: string; name: string; db: Kysely<Database> }> {
  const name = `faults_${process.pid}_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client({ connectionString: `${PG}/postgres` })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: `${PG}/${name}`, max: 3 }) }) })
  t.teardown(async () => {
    await db.destroy()
    const c = new pg.Client({ connectionString: `${PG}/postgres` })
    await c.connect()
    await c.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [name])
    await c.query(`drop database if exists ${name}`)
    await c.end()
  })
  return { url: `${PG}/${name}`, name, db }
}

export interface ServerProcess {
  base: string
  child: ChildProcess
  out: { text: string }
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  signal(signal: NodeJS.Signals): void
}

/** the compiled server on `databaseUrl`, in its own process group; resolves when it listens */
export async function startServer(t: Test, databaseUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', ADMIN_API_KEY: ADMIN_KEY, SECRETS_KEY,
      LOG_LEVEL: 'info', WEBHOOK_ALLOW_INSECURE_URLS: 'true', RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000000',
      SCHEDULER_ENABLED: 'false', WEBHOOK_DISPATCHER_ENABLED: 'false', ...env,
    },
  })
  const out = { text: '' }
  child.stdout!.on('data', (d) => (out.text += d))
  child.stderr!.on('data', (d) => (out.text += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  const signal = (s: NodeJS.Signals) => { try { process.kill(-child.pid!, s) } catch { /* already gone */ } }
  t.teardown(() => signal('SIGKILL'))
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${out.text}`)), 60_000)
    const check = () => {
      const m = /API docs: (http:\/\/127\.0\.0\.1:\d+)\/docs/.exec(out.text)
      if (m) { clearTimeout(timer); resolve(m[1]!) }
    }
    child.stdout!.on('data', check)
    child.stderr!.on('data', check)
    void exited.then(() => { clearTimeout(timer); reject(new Error(`the server exited at start:\n${out.text}`)) })
  })
  return { base, child, out, exited, signal }
}

export interface Answer { status: number; json: any; headers: Headers; ms: number }

/** one HTTP call with a key; network errors become status 0 */
export async function call(base: string, key: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const started = performance.now()
  try {
    const res = await fetch(base + path, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    })
    const text = await res.text()
    let json: unknown = text
    try { json = JSON.parse(text) } catch { /* not JSON */ }
    return { status: res.status, json, headers: res.headers, ms: performance.now() - started }
  } catch (err) {
    return { status: 0, json: { error: String(err) }, headers: new Headers(), ms: performance.now() - started }
  }
}

/**
 * `call` as a well-behaved client makes it: a 503 with Retry-After (load shed before any work was done)
 * is sent again after the time it names, up to `attempts` times; `shed` counts those 503s.
 */
export async function callRetrying(shed: { count: number }, base: string, key: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, attempts = 5): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    const answer = await call(base, key, method, path, body, headers)
    const wait = Number(answer.headers.get('retry-after'))
    if (answer.status !== 503 || !(wait > 0) || attempt === attempts) return answer
    shed.count++
    await new Promise((resolve) => setTimeout(resolve, wait * 1000 * (0.5 + Math.random())))
  }
}

/** keys of the roles a journey needs, made by the first admin key */
export async function roleKeys(base: string) {
  const make = async (name: string, role: string, departmentId?: string) =>
    (await call(base, ADMIN_KEY, 'POST', '/v1/admin/api-keys', { name, role, ...(departmentId ? { departmentId } : {}) })).json.key as string
  return { admin: ADMIN_KEY, cs: await make('faults cs', 'cs_agent'), department: await make('faults dept', 'department', 'service-station'), management: await make('faults gm', 'management') }
}

export const complaintBody = (n: number) => ({
  channel: 'hotline_400', complainant: { name: `客户${n}`, phone: '13800138000' }, description: `刹车异响 ${n}`,
})

/**
 * A TCP proxy between the service and Postgres. `cut()` resets every connection through it and
 * refuses new ones — the database is away — until `restore()`.
 */
export async function dbProxy(t: Test, targetPort = 5432): Promise<{ port: number; cut(): void; restore(): void }> {
  const sockets = new Set<Socket>()
  let away = false
  const server: Server = createServer((client) => {
    if (away) return client.destroy()
    const upstream = connect(targetPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    client.pipe(upstream).pipe(client)
    const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close() })
  return {
    port: (server.address() as { port: number }).port,
    cut() { away = true; for (const s of sockets) s.resetAndDestroy?.() ?? s.destroy() },
    restore() { away = false },
  }
}

/** a loopback webhook receiver: answers `status()` (200 by default), records every request */
export async function receiver(t: Test) {
  const received: Array<{ id: string; body: any }> = []
  let answer = 200
  const { createServer: http } = await import('node:http')
  const server = http((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      if (answer >= 200 && answer < 300) received.push({ id: String(req.headers['webhook-id']), body: JSON.parse(body) })
      res.writeHead(answer).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`,
    received,
    answer(status: number) { answer = status },
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** polls `check` until it returns a value (not undefined) or `ms` pass */
export async function eventually<T>(check: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(200)
  }
}

/** where each fault test leaves its row of the summary table (scripts/faults.ts prints it) */
export const REPORT_DIR = process.env.FAULTS_REPORT_DIR ?? path.join(root, '.faults')

export interface FaultRow {
  /** the fault's name, as `npm run test:faults -- <name>` takes it: the test file's name */
  name: string
  fault: string
  /** what was done, in a line */
  tried: string
  /** how many cases, known at the end: requests sent, events delivered, kills… */
  cases: () => string
}

/**
 * Records the test's row of the summary table when the process exits, with the result the test's
 * assertions gave. A test that never finishes (killed by the tap timeout) leaves no row, and the
 * summary says so.
 */
export function report(t: Test, row: FaultRow) {
  const started = performance.now()
  let seconds = 0
  t.teardown(() => { seconds = Math.round((performance.now() - started) / 1000) })
  process.on('exit', () => {
    mkdirSync(REPORT_DIR, { recursive: true })
    const failures = t.counts.fail
    writeFileSync(path.join(REPORT_DIR, `${row.name}.json`), JSON.stringify({
      name: row.name, fault: row.fault, tried: row.tried, cases: safe(row.cases), result: failures === 0 && t.passing() ? 'pass' : `FAIL (${failures} failed)`, seconds,
    }))
  })
}

/** a count as the table shows it: 17,000 */
export const n = (value: number) => value.toLocaleString('en-US')

const safe = (f: () => string) => { try { return f() } catch (err) { return `? (${String(err)})` } }
