// What the parts of `npm run bench` share: options, the bench database, child processes (the compiled
// service, the baseline server), autocannon rounds, medians, the result table.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import pg from 'pg'

export const root = fileURLToPath(new URL('../..', import.meta.url))
export const ADMIN_KEY = `cpk_bench_${randomBytes(24).toString('hex')}`
export const SECRETS_KEY = randomBytes(32).toString('base64')
/**
 * The node flags `npm start` and `npm run job` run the service with (package.json config.nodeFlags:
 * source maps and the V8 heap sizing, README "Performance"): the bench measures the service as it is
 * run, and its same-SQL baseline with the same flags (the bare-Fastify start-up figures use node's defaults).
 */
export const SERVICE_NODE_FLAGS: string[] = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).config.nodeFlags as string).split(/\s+/)

export interface Options {
  n: number
  smoke: boolean
  /** seconds of each intake round, of each read round */
  intakeSeconds: number
  readSeconds: number
  rounds: number
  connections: number
  /** the server without database name: postgres://postgres@127.0.0.1:5432 */
  server: string
  /** where the results go */
  out: string
  keep: boolean
}

export interface Row {
  measurement: string
  service: string
  baseline: string
  ratio: string
  target: string
  pass: boolean | null
}

export interface Section {
  title: string
  rows: Row[]
  /** the figures behind the rows, for results.json */
  figures: Record<string, unknown>
  notes?: string[]
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
export const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—')

/** the database URL without its database name, and a URL for `name` on the same server */
export function serverOf(url: string): string {
  const u = new URL(url)
  u.pathname = ''
  return u.toString().replace(/\/$/, '')
}
export const dbUrl = (server: string, name: string) => `${server}/${name}`

export async function adminQuery(server: string, text: string, values?: unknown[]) {
  const c = new pg.Client({ connectionString: dbUrl(server, 'postgres') })
  await c.connect()
  try {
    return await c.query(text, values)
  } finally {
    await c.end()
  }
}

/**
 * Waits (at most `limitMs`) until no other session of the server is working: no autovacuum worker and no
 * other active query. The parts before write tens of thousands of rows (the intake's), after which
 * autovacuum works for tens of seconds; on two cores a start-up or a sweep timed meanwhile measures
 * the contention, not the service (a fresh PGlite took 3.0 s to be ready right after the data was
 * generated, 2.4 s on a quiet machine).
 */
export async function quietDatabase(server: string, limitMs: number): Promise<{ ms: number; busy: string | null }> {
  const t0 = performance.now()
  let busy: string | null = null
  for (;;) {
    const { rows } = await adminQuery(server, `select coalesce(string_agg(distinct coalesce(nullif(backend_type, 'client backend'), 'query'), ', '), '') as busy
      from pg_stat_activity where pid <> pg_backend_pid() and (backend_type = 'autovacuum worker' or (backend_type = 'client backend' and state = 'active'))`)
    busy = (rows[0].busy as string) || null
    if (!busy || performance.now() - t0 > limitMs) return { ms: performance.now() - t0, busy }
    await sleep(500)
  }
}

/** a new bench database's name: `dropDatabase` drops nothing else */
const benchName = () => `bench_${process.pid}_${randomBytes(3).toString('hex')}`

export async function createDatabase(server: string): Promise<string> {
  const name = benchName()
  await adminQuery(server, `create database ${name}`)
  return name
}

/**
 * A copy of database `source` (which no session may be using): `create database … template`, with the
 * FILE_COPY strategy where Postgres has it (15 and later), which copies the files between two checkpoints
 * instead of writing gigabytes of WAL (6 s against 15 s for the 1M database, and no checkpoint left to
 * fall on what is timed next).
 */
export async function copyDatabase(server: string, source: string): Promise<string> {
  const name = benchName()
  const version = Number((await adminQuery(server, 'show server_version_num')).rows[0].server_version_num)
  await adminQuery(server, `create database ${name} template ${source}${version >= 150000 ? ' strategy file_copy' : ''}`)
  return name
}

export async function dropDatabase(server: string, name: string) {
  if (!/^bench_[a-z0-9_]+$/.test(name)) throw new Error(`refusing to drop ${name}: not a bench database`)
  await adminQuery(server, `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [name])
  await adminQuery(server, `drop database if exists ${name}`)
}

/** runs a compiled script to its end; rejects with its output when it fails */
export function runNode(args: string[], env: Record<string, string | undefined>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`node ${args.join(' ')} exited ${code}:\n${out}`))))
  })
}

export const baseEnv = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' })

/** the environment the service runs with in the bench: no scheduler, no dispatcher, no rate limit in the way */
export const serviceEnv = (databaseUrl: string | undefined, extra: Record<string, string> = {}): Record<string, string | undefined> => ({
  ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  PORT: '0', HOST: '127.0.0.1', ADMIN_API_KEY: ADMIN_KEY, SECRETS_KEY, LOG_LEVEL: 'warn', LOG_FORMAT: 'json',
  RATE_LIMIT_PER_MINUTE: '100000000', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100000000', SCHEDULER_ENABLED: 'false', WEBHOOK_DISPATCHER_ENABLED: 'false',
  SLOW_QUERY_MS: '5000', ...extra,
})

export interface Child {
  child: ChildProcess
  base: string
  /** ms from spawn to the first 200 of `readyPath` */
  readyMs: number
  out: { text: string }
  stop(): Promise<void>
}

/**
 * Spawns `node [flags] <script>` and polls `readyPath` on the port it prints (`listening on http://…` or the
 * service's `API docs: http://…/docs`) until 200. `readyMs` is spawn → first 200.
 */
export async function startChild(script: string, env: Record<string, string | undefined>, readyPath: string, nodeFlags: string[] = [], timeoutMs = 120_000): Promise<Child> {
  const t0 = performance.now()
  const child = spawn(process.execPath, [...nodeFlags, script], { cwd: root, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const out = { text: '' }
  // the start-up lines, and the first of the log under load: enough to say why it failed
  const keep = (d: Buffer) => { if (out.text.length < 200_000) out.text += d }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  let exited = false
  child.on('exit', () => (exited = true))
  const stop = async () => {
    if (exited) return
    const gone = new Promise((resolve) => child.on('exit', resolve))
    try { process.kill(-child.pid!, 'SIGTERM') } catch { /* gone */ }
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch { /* gone */ } }, 15_000)
    await gone
    clearTimeout(timer)
  }
  const until = t0 + timeoutMs
  let base: string | undefined
  for (;;) {
    if (exited) throw new Error(`${script} exited before it was ready:\n${out.text}`)
    if (performance.now() > until) {
      await stop()
      throw new Error(`${script} was not ready in ${timeoutMs} ms:\n${out.text}`)
    }
    base ??= /(?:listening on|API docs:)\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out.text)?.[1]
    if (base) {
      try {
        const res = await fetch(base + readyPath)
        await res.arrayBuffer()
        if (res.status === 200) return { child, base, readyMs: performance.now() - t0, out, stop }
      } catch { /* not yet */ }
    }
    await sleep(10)
  }
}

/** CPU time a process has used so far (user + system, all its threads), in µs (Linux /proc: clock ticks of 10 ms) */
export function cpuUs(pid: number): number {
  // the fields after the command name, which is in parentheses and may hold spaces
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * (1_000_000 / 100)
}

/** resident set size of a process now, in MB (Linux /proc) */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

export async function call(base: string, key: string | null, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  let json: any = text
  try { json = JSON.parse(text) } catch { /* not JSON */ }
  return { status: res.status, json }
}

export interface LoadResult {
  /** answers per second with a 2xx status (load shedding's 503s are not throughput) */
  rps: number
  /** every answer per second, 2xx or not */
  allRps: number
  statusCodes: Record<string, number>
  p50: number
  p99: number
  mean: number
  requests: number
  non2xx: number
  errors: number
  /** CPU time the process answering spent per answer during the round (µs; `LoadSpec.pid`), or null */
  cpuUsPerRequest: number | null
}

export interface LoadSpec {
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** a fresh path per request (e.g. a random complaint id) */
  paths?: string[]
  /** the process answering, to measure its CPU time per answer */
  pid?: number
}

/** one autocannon round */
export async function load(spec: LoadSpec, seconds: number, connections: number): Promise<LoadResult> {
  const paths = spec.paths
  const cpuBefore = spec.pid ? cpuUs(spec.pid) : null
  const result = await autocannon({
    url: spec.url,
    connections,
    duration: seconds,
    method: spec.method ?? 'GET',
    headers: spec.headers,
    body: spec.body,
    ...(paths ? { requests: [{ setupRequest: (req: any) => ({ ...req, path: paths[Math.floor(Math.random() * paths.length)] }) }] } : {}),
  })
  const cpuUsPerRequest = cpuBefore !== null && result.requests.total > 0 ? (cpuUs(spec.pid!) - cpuBefore) / result.requests.total : null
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, v]) => [code, (v as { count: number }).count]))
  return {
    rps: result['2xx'] / result.duration, allRps: result.requests.average, statusCodes, p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.average,
    requests: result.requests.total, non2xx: result.non2xx, errors: result.errors + result.timeouts, cpuUsPerRequest,
  }
}

/**
 * Interleaved rounds of each contender (A B A B …, the order alternating), medians of each figure:
 * the machine's noise (another process, the CI beside us) falls on both alike.
 */
export async function interleaved(contenders: Record<string, LoadSpec>, rounds: number, seconds: number, connections: number, warmupSeconds = 1) {
  const names = Object.keys(contenders)
  for (const name of names) await load(contenders[name]!, warmupSeconds, connections)
  const runs: Record<string, LoadResult[]> = Object.fromEntries(names.map((n) => [n, []]))
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse()
    for (const name of order) runs[name]!.push(await load(contenders[name]!, seconds, connections))
  }
  const summary = Object.fromEntries(names.map((n) => {
    const xs = runs[n]!
    const statusCodes: Record<string, number> = {}
    for (const x of xs) for (const [code, count] of Object.entries(x.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count
    return [n, {
      rps: median(xs.map((x) => x.rps)), allRps: median(xs.map((x) => x.allRps)), statusCodes, p50: median(xs.map((x) => x.p50)), p99: median(xs.map((x) => x.p99)), mean: median(xs.map((x) => x.mean)),
      requests: xs.reduce((s, x) => s + x.requests, 0), non2xx: xs.reduce((s, x) => s + x.non2xx, 0), errors: xs.reduce((s, x) => s + x.errors, 0),
      cpuUsPerRequest: xs.every((x) => x.cpuUsPerRequest !== null) ? median(xs.map((x) => x.cpuUsPerRequest!)) : null,
      rounds: xs,
    }]
  }))
  // a refused connection or a 4xx is the harness's fault and breaks the run; a 5xx under load (the
  // service sheds load with 503) is a figure, shown beside the throughput of 2xx answers
  for (const [name, s] of Object.entries(summary)) {
    const clientErrors = Object.entries(s.statusCodes).filter(([code]) => code.startsWith('4'))
    if (s.errors > 0 || clientErrors.length > 0) throw new Error(`${name}: ${s.errors} connection errors or timeouts, answers ${JSON.stringify(s.statusCodes)} under load`)
  }
  return summary as Record<string, LoadResult & { rounds: LoadResult[] }>
}

const cellOf = (r: Row) => [r.measurement, r.service, r.baseline, r.ratio, r.target, r.pass === null ? '—' : r.pass ? 'pass' : 'FAIL']

/** ", 1,234 × 503" for the non-2xx answers of a load run, or nothing */
export const shed = (r: Pick<LoadResult, 'statusCodes'>) => {
  const others = Object.entries(r.statusCodes).filter(([code]) => !code.startsWith('2'))
  return others.map(([code, count]) => `, ${count.toLocaleString('en-US')} × ${code}`).join('')
}

export function table(rows: Row[]): string {
  const header = ['measurement', 'service', 'baseline', 'ratio', 'target', 'pass/fail']
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${cellOf(r).join(' | ')} |`),
  ].join('\n')
}
