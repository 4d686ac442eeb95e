// npm run bench [-- part …] [--n 1000] [--smoke] [--out file] [--keep]
//
// The performance harness of issue 15, against the machine's Postgres (DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432): it creates a database bench_*, applies the real migrations
// (dist/scripts/migrate.js), loads N complaints (scripts/bench/generate.ts, default 1,000,000), runs the
// parts — reads, intake, reports, sweep, startup (all by default; name some to run only those) — prints
// each as a table (measurement | service | baseline | ratio | target | pass/fail) and writes every figure
// to bench/results.json (--smoke: N = 1,000, a few seconds a measurement, results to a temp file). The
// database is dropped at the end (--keep leaves it). A missed target is a FAIL in the table, never the
// exit code: the process fails only when a measurement could not be taken.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { encodeCursor } from '../../src/http/keyset.js'
import {
  ADMIN_KEY, call, copyDatabase, createDatabase, dbUrl, dropDatabase, fmt, interleaved, load, median, quietDatabase, root, rssMb, runNode, serverOf, SERVICE_NODE_FLAGS, serviceEnv, shed, sleep, startChild, table,
  type Child, type Options, type Row, type Section,
} from './common.js'
import { generate, type GenerateResult } from './generate.js'

const PARTS = ['reads', 'intake', 'reports', 'sweep', 'startup'] as const
type Part = (typeof PARTS)[number]

function parseOptions(argv: string[]): { options: Options; parts: Part[] } {
  const flag = (name: string) => {
    const i = argv.indexOf(name)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const smoke = argv.includes('--smoke')
  const n = Number(flag('--n') ?? process.env.BENCH_N ?? (smoke ? 1000 : 1_000_000))
  if (!Number.isInteger(n) || n < 100) throw new Error(`--n must be an integer of at least 100, not ${flag('--n')}`)
  const small = n < 100_000
  const values = new Set(['--n', '--out', '--rounds'].flatMap((f) => (argv.includes(f) ? [argv[argv.indexOf(f) + 1]] : [])))
  const named = argv.filter((a) => !a.startsWith('--') && !values.has(a))
  const unknown = named.filter((p) => !(PARTS as readonly string[]).includes(p))
  if (unknown.length > 0) throw new Error(`unknown part ${unknown.join(', ')}; the parts are ${PARTS.join(', ')}`)
  return {
    parts: named.length > 0 ? (named as Part[]) : [...PARTS],
    options: {
      n, smoke,
      intakeSeconds: smoke ? 1.5 : small ? 5 : 20,
      readSeconds: smoke ? 1.5 : small ? 5 : 10,
      rounds: Number(flag('--rounds') ?? (smoke ? 1 : 3)),
      connections: 50,
      server: serverOf(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432'),
      out: flag('--out') ?? (smoke ? path.join(os.tmpdir(), `bench-smoke-${process.pid}.json`) : path.join(root, 'bench/results.json')),
      keep: argv.includes('--keep'),
    },
  }
}

const ratioCell = (service: number, baseline: number) => (baseline > 0 ? `${(service / baseline).toFixed(2)}×` : '—')
const ms = (x: number) => `${fmt(x, x < 10 ? 1 : 0)} ms`
const s = (x: number) => `${(x / 1000).toFixed(2)} s`
const rps = (x: number) => `${fmt(x)} req/s`
/** ", 560 µs CPU a request": the answering process's own CPU time per answer (median of the rounds) */
const cpu = (r: { cpuUsPerRequest: number | null }) => (r.cpuUsPerRequest === null ? '' : `, ${fmt(r.cpuUsPerRequest)} µs CPU a request`)
const mb = (x: number) => `${fmt(x)} MB`

interface Ctx {
  options: Options
  url: string
  service: Child
  baseline: Child
  keys: { cs: string; management: string }
  generated: GenerateResult
}

async function reads(ctx: Ctx): Promise<Section> {
  const { options, url, service, baseline, keys } = ctx
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  const ids = (await pool.query(`select id from complaints where random() < least(1.0, 4000.0 / $1) limit 2000`, [options.n])).rows.map((r) => r.id as string)
  const deepAt = Math.floor(options.n * 0.9)
  const deep = (await pool.query(`select created_at, id from complaints order by created_at desc, id desc offset $1 limit 1`, [deepAt])).rows[0] as { created_at: Date; id: string }
  await pool.end()
  const cursor = encodeCursor(deep.created_at, deep.id)
  const headers = { authorization: `Bearer ${keys.cs}` }
  const pair = (p: string | string[]) => {
    const paths = Array.isArray(p) ? p : undefined
    const one = Array.isArray(p) ? p[0]! : p
    return {
      service: { url: service.base + one, headers, paths, pid: service.child.pid },
      baseline: { url: baseline.base + one, headers, paths, pid: baseline.child.pid },
    }
  }
  const cases: Array<{ key: string; label: string; spec: ReturnType<typeof pair> }> = [
    { key: 'get', label: 'get one complaint (random ids)', spec: pair(ids.map((id) => `/v1/complaints/${id}`)) },
    { key: 'firstPage', label: 'list, first page of 50', spec: pair('/v1/complaints?limit=50') },
    { key: 'deepPage', label: `list, deep page of 50 (cursor at row ${fmt(deepAt)})`, spec: pair(`/v1/complaints?limit=50&cursor=${cursor}`) },
    { key: 'filtered', label: 'list, filtered (level=moderate, department=sales), 50', spec: pair('/v1/complaints?limit=50&level=moderate&departmentId=sales') },
  ]
  const rows: Row[] = []
  const figures: Record<string, unknown> = {}
  for (const c of cases) {
    console.log(`  ${c.label}: ${options.rounds} interleaved round(s) of ${options.readSeconds} s each`)
    const r = await interleaved(c.spec, options.rounds, options.readSeconds, options.connections, options.smoke ? 0.3 : 2)
    figures[c.key] = r
    const ratio = r.service!.rps / r.baseline!.rps
    rows.push({
      measurement: `${c.label}, ${options.connections} connections`, service: `${rps(r.service!.rps)}, p99 ${ms(r.service!.p99)}${cpu(r.service!)}${shed(r.service!)}`,
      baseline: `${rps(r.baseline!.rps)}, p99 ${ms(r.baseline!.p99)}${cpu(r.baseline!)}${shed(r.baseline!)}`, ratio: ratioCell(r.service!.rps, r.baseline!.rps), target: '≥ 0.70×', pass: ratio >= 0.7,
    })
  }
  const first = figures.firstPage as Record<string, { p50: number; mean: number }>
  const deepF = figures.deepPage as Record<string, { p50: number; mean: number }>
  const deepRatio = deepF.service!.mean / first.service!.mean
  rows.push({
    measurement: 'deep page latency ÷ first page latency (service, mean)', service: `${ms(deepF.service!.mean)} vs ${ms(first.service!.mean)}`,
    baseline: `${ms(deepF.baseline!.mean)} vs ${ms(first.baseline!.mean)}`, ratio: `${deepRatio.toFixed(2)}×`, target: '≤ 2×', pass: deepRatio <= 2,
  })
  return { title: 'Reads: get one and list pages, each beside the same SQL through a bare pg pool', rows, figures: { ...figures, deepAt } }
}

const intakeBody = JSON.stringify({ channel: 'hotline_400', complainant: { name: '客户', phone: '13800138000' }, description: '刹车异响，多次维修未解决' })

async function intake(ctx: Ctx): Promise<Section> {
  const { options, service, baseline, keys } = ctx
  const spec = (child: Child) => ({ url: `${child.base}/v1/complaints`, method: 'POST' as const, body: intakeBody, headers: { authorization: `Bearer ${keys.cs}`, 'content-type': 'application/json' }, pid: child.child.pid })
  console.log(`  intake: ${options.rounds} interleaved round(s) of ${options.intakeSeconds} s each`)
  const r = await interleaved({ service: spec(service), baseline: spec(baseline) }, options.rounds, options.intakeSeconds, options.connections, options.smoke ? 0.3 : 2)
  console.log(`  hello-world ceiling: ${options.readSeconds} s`)
  const hello = await load({ url: `${baseline.base}/hello` }, options.readSeconds, options.connections)
  const ratio = r.service!.rps / r.baseline!.rps
  return {
    title: 'Intake: POST /v1/complaints beside the same statement through a bare pg pool',
    rows: [
      { measurement: `intake, ${options.connections} connections`, service: `${rps(r.service!.rps)}${cpu(r.service!)}${shed(r.service!)}`, baseline: `${rps(r.baseline!.rps)}${cpu(r.baseline!)}${shed(r.baseline!)}`, ratio: ratioCell(r.service!.rps, r.baseline!.rps), target: '≥ 0.80×', pass: ratio >= 0.8 },
      { measurement: 'intake p99 latency', service: ms(r.service!.p99), baseline: ms(r.baseline!.p99), ratio: ratioCell(r.service!.p99, r.baseline!.p99), target: '< 100 ms', pass: r.service!.p99 < 100 },
      { measurement: 'intake p50 latency', service: ms(r.service!.p50), baseline: ms(r.baseline!.p50), ratio: ratioCell(r.service!.p50, r.baseline!.p50), target: '—', pass: null },
      { measurement: 'Fastify hello world (ceiling, for context)', service: '—', baseline: `${rps(hello.rps)}, p99 ${ms(hello.p99)}`, ratio: '—', target: '—', pass: null },
    ],
    figures: { intake: r, hello },
  }
}

async function reports(ctx: Ctx): Promise<Section> {
  const { options, service, keys } = ctx
  const runs = options.smoke ? 1 : 3
  const rows: Row[] = []
  const figures: Record<string, unknown> = {}
  for (const kind of ['weekly', 'monthly'] as const) {
    const times: number[] = []
    let period: unknown
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now()
      const res = await call(service.base, keys.management, 'GET', `/v1/reports/${kind}`)
      times.push(performance.now() - t0)
      if (res.status !== 200) throw new Error(`GET /v1/reports/${kind} answered ${res.status}: ${JSON.stringify(res.json).slice(0, 300)}`)
      period = res.json.period
      if (i === 0) figures[`${kind}Received`] = res.json.figures?.totals?.received ?? res.json.figures?.received
    }
    figures[kind] = { runsMs: times, medianMs: median(times), period }
    rows.push({ measurement: `${kind} report over N (GET /v1/reports/${kind}, last complete period; median of ${runs})`, service: s(median(times)), baseline: '—', ratio: '—', target: '< 10 s (SPEC §4: seconds, not minutes)', pass: median(times) < 10_000 })
  }
  return { title: 'Reports', rows, figures }
}

type SweepRun = { breaches: Record<string, number>; breachMs: number; escalated: number; escalateMs: number; totalMs: number; maxRssMb: number; rssBeforeMb: number }

/**
 * The sla-sweep job over the generated data, `rounds` times, each on a fresh copy of the database (a
 * sweep changes the data it sweeps) made after the parts before it, with Postgres quiet first (their
 * writes leave autovacuum busy): the medians of the rounds' times, and the highest peak RSS.
 */
async function sweep(ctx: Ctx): Promise<Section> {
  const { options, url, generated } = ctx
  const source = new URL(url).pathname.slice(1)
  const runs: SweepRun[] = []
  console.log(`  sla-sweep job in a child process (compiled, as npm run job -- sla-sweep), ${options.rounds} round(s), each on a fresh copy of the database`)
  for (let round = 0; round < options.rounds; round++) {
    const copy = await copyDatabase(options.server, source)
    try {
      const waited = await quietDatabase(options.server, options.smoke ? 5_000 : 120_000)
      const out = await runNode([...SERVICE_NODE_FLAGS, 'dist/scripts/bench/sweep-child.js'], serviceEnv(dbUrl(options.server, copy), { LOG_LEVEL: 'warn' }))
      const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{"breaches"'))
      if (!line) throw new Error(`the sweep child printed no result:\n${out}`)
      const r = JSON.parse(line) as SweepRun
      runs.push(r)
      console.log(`  round ${round + 1}: breach sweep ${s(r.breachMs)}, escalations ${s(r.escalateMs)}, peak RSS ${mb(r.maxRssMb)}${waited.ms >= 1000 ? ` (waited ${s(waited.ms)} for a quiet Postgres)` : ''}`)
    } finally {
      await dropDatabase(options.server, copy)
    }
  }
  const breachMs = median(runs.map((r) => r.breachMs))
  const escalateMs = median(runs.map((r) => r.escalateMs))
  const maxRssMb = Math.max(...runs.map((r) => r.maxRssMb))
  const recorded = median(runs.map((r) => Object.values(r.breaches).reduce((a, b) => a + b, 0)))
  const escalated = Math.min(...runs.map((r) => r.escalated))
  const of = runs.length > 1 ? `; median of ${runs.length}` : ''
  const scaled = ctx.options.n === 1_000_000 ? '' : ` (N/100 = ${fmt(generated.escalations)}; the target is for 10,000)`
  return {
    title: `Breach sweep over ${fmt(ctx.options.n)} complaints (${fmt(generated.overdue)} overdue, ${fmt(generated.escalations)} needing escalation), each round on a fresh copy`,
    rows: [
      { measurement: `breach sweep (recordBreaches): ${fmt(recorded)} breaches recorded${of}`, service: s(breachMs), baseline: '—', ratio: '—', target: '< 2 s', pass: breachMs < 2000 },
      { measurement: `peak RSS of the sweep job process${runs.length > 1 ? `; highest of ${runs.length}` : ''}`, service: mb(maxRssMb), baseline: '—', ratio: '—', target: '< 250 MB', pass: maxRssMb < 250 },
      { measurement: `pending escalations in one run: ${fmt(escalated)} escalated${scaled}${of}`, service: s(escalateMs), baseline: '—', ratio: '—', target: '< 10 s', pass: escalateMs < 10_000 && escalated >= generated.escalations },
    ],
    figures: { breachMs, escalateMs, maxRssMb, runs },
  }
}

async function startup(ctx: Ctx): Promise<Section> {
  const { options, url } = ctx
  const runs = options.smoke ? 1 : 3
  const idleMs = options.smoke ? 500 : 3000
  const waited = await quietDatabase(options.server, options.smoke ? 5_000 : 180_000)
  if (waited.ms >= 1000) console.log(`  waited ${s(waited.ms)} for Postgres's background work (autovacuum after the parts before) to end${waited.busy ? `; still busy: ${waited.busy}` : ''}`)
  type Figures = { readyMs: number[]; rssMb: number[] }
  const once = async (label: string, script: string, env: Record<string, string | undefined>, ready: string, into: Figures, nodeFlags: string[] = SERVICE_NODE_FLAGS) => {
    const child = await startChild(script, env, ready, nodeFlags)
    into.readyMs.push(child.readyMs)
    await sleep(idleMs)
    into.rssMb.push(rssMb(child.child.pid!))
    await child.stop()
    console.log(`  ${label}: ready in ${ms(child.readyMs)}, idle RSS ${mb(into.rssMb[into.rssMb.length - 1]!)}`)
  }
  const raw = { pg: { readyMs: [], rssMb: [] } as Figures, pglite: { readyMs: [], rssMb: [] } as Figures, bare: { readyMs: [], rssMb: [] } as Figures }
  // interleaved, as the load figures are: a slow minute of the machine falls on all three alike
  for (let i = 0; i < runs; i++) {
    await once('service on Postgres', 'dist/server.js', serviceEnv(url), '/readyz', raw.pg)
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-pglite-'))
    try {
      await once('service on a fresh PGlite', 'dist/server.js', serviceEnv(undefined, { DATA_DIR: dir }), '/readyz', raw.pglite)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    await once('bare Fastify', 'dist/scripts/bench/baseline-server.js', { DATABASE_URL: url, PORT: '0' }, '/hello', raw.bare, [])
  }
  const summary = (f: Figures) => ({ ...f, medianReadyMs: median(f.readyMs), medianRssMb: median(f.rssMb) })
  const [pg, pglite, bare] = [summary(raw.pg), summary(raw.pglite), summary(raw.bare)]
  return {
    title: `Start-up to ready (spawn → first 200 from /readyz; median of ${runs}) and idle RSS (${idleMs / 1000} s after ready)`,
    rows: [
      { measurement: 'start-up to ready, Postgres', service: ms(pg.medianReadyMs), baseline: `${ms(bare.medianReadyMs)} (bare Fastify)`, ratio: ratioCell(pg.medianReadyMs, bare.medianReadyMs), target: '< 1 s', pass: pg.medianReadyMs < 1000 },
      { measurement: 'start-up to ready, fresh PGlite (new data directory)', service: ms(pglite.medianReadyMs), baseline: `${ms(bare.medianReadyMs)} (bare Fastify)`, ratio: ratioCell(pglite.medianReadyMs, bare.medianReadyMs), target: '< 3 s', pass: pglite.medianReadyMs < 3000 },
      { measurement: 'idle RSS after start, Postgres', service: mb(pg.medianRssMb), baseline: `${mb(bare.medianRssMb)} (bare Fastify)`, ratio: ratioCell(pg.medianRssMb, bare.medianRssMb), target: '< 120 MB', pass: pg.medianRssMb < 120 },
      { measurement: 'idle RSS after start, PGlite', service: mb(pglite.medianRssMb), baseline: `${mb(bare.medianRssMb)} (bare Fastify)`, ratio: ratioCell(pglite.medianRssMb, bare.medianRssMb), target: '—', pass: null },
    ],
    figures: { postgres: pg, pglite, bareFastify: bare, waitedForPostgresMs: Math.round(waited.ms) },
  }
}

const CPU_CHECK_NOTE = 'the same virtual machine runs at different speeds from hour to hour: cpuCheckMs (a fixed loop, median of 3, at the start and the end) says how fast it was during this run; the ratios against baselines measured interleaved in the same run are the figures to compare across runs'

let cpuCheckSink = 0

/** how fast this machine is right now: a fixed integer loop of 10^8 steps, median of three, in ms */
function cpuCheck(): number {
  const times: number[] = []
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now()
    let sum = 0
    for (let i = 0; i < 100_000_000; i++) sum = (sum + i) | 0
    cpuCheckSink ^= sum // the loop's result is used, so it cannot be optimised away
    times.push(performance.now() - t0)
  }
  return median(times)
}

async function main() {
  const { options, parts } = parseOptions(process.argv.slice(2))
  const started = performance.now()
  const load0 = os.loadavg()
  const cpuCheckMs = cpuCheck()
  console.log(`# npm run bench — N = ${fmt(options.n)}${options.smoke ? ' (smoke)' : ''}, parts: ${parts.join(', ')}; ${os.cpus().length} cores, load average ${load0.map((x) => x.toFixed(2)).join(' ')}; CPU check ${cpuCheckMs.toFixed(0)} ms`)
  const name = await createDatabase(options.server)
  const url = dbUrl(options.server, name)
  const sections: Section[] = []
  const errors: Array<{ part: string; error: string }> = []
  let generated: GenerateResult | undefined
  let service: Child | undefined
  let baseline: Child | undefined
  let postgresVersion = ''
  try {
    console.log(`database ${name}: migrating (dist/scripts/migrate.js)`)
    await runNode(['dist/scripts/migrate.js'], { DATABASE_URL: url })
    console.log(`generating ${fmt(options.n)} complaints`)
    generated = await generate(url, options.n, console.log)
    const genSeconds = generated.ms / 1000
    console.log(`generated in ${genSeconds.toFixed(1)} s (${fmt(generated.timelineRows)} timeline entries)`)
    sections.push({
      title: 'Data',
      rows: [{ measurement: `generate ${fmt(options.n)} complaints (INSERT … SELECT generate_series, indexes built after, analyze)`, service: `${genSeconds.toFixed(1)} s`, baseline: '—', ratio: '—', target: options.n >= 1_000_000 ? '< 120 s' : '—', pass: options.n >= 1_000_000 ? genSeconds < 120 : null }],
      figures: generated as unknown as Record<string, unknown>,
    })
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    postgresVersion = (await c.query('show server_version')).rows[0].server_version
    await c.end()

    const needServers = parts.some((p) => p === 'reads' || p === 'intake' || p === 'reports')
    let keys = { cs: '', management: '' }
    if (needServers) {
      service = await startChild('dist/server.js', serviceEnv(url), '/readyz', SERVICE_NODE_FLAGS)
      // the baseline runs with the service's node flags: its V8 heap sizing changes throughput (README: Performance), and a ratio should compare the code, not the runtime's settings
      baseline = await startChild('dist/scripts/bench/baseline-server.js', { DATABASE_URL: url, PORT: '0', DB_POOL_SIZE: '10' }, '/hello', SERVICE_NODE_FLAGS)
      const make = async (role: string) => {
        const res = await call(service!.base, ADMIN_KEY, 'POST', '/v1/admin/api-keys', { name: `bench ${role}`, role })
        if (res.status !== 201) throw new Error(`could not create a ${role} key: ${res.status} ${JSON.stringify(res.json)}`)
        return res.json.key as string
      }
      keys = { cs: await make('cs_agent'), management: await make('management') }
    }
    const ctx = { options, url, service: service!, baseline: baseline!, keys, generated }
    const run: Record<Part, (ctx: Ctx) => Promise<Section>> = { reads, intake, reports, sweep, startup }
    // the order of a full run: reads and intake on the data as generated, the sweep (which changes it) after the reports, start-up alone at the end
    for (const part of PARTS.filter((p) => parts.includes(p))) {
      if (part === 'sweep' || part === 'startup') {
        await service?.stop()
        await baseline?.stop()
      }
      console.log(`\n## ${part}`)
      try {
        const section = await run[part](ctx)
        sections.push(section)
        console.log(`\n${section.title}\n\n${table(section.rows)}`)
      } catch (err) {
        errors.push({ part, error: (err as Error).stack ?? String(err) })
        console.error(`${part} failed: ${(err as Error).stack ?? String(err)}`)
      }
    }
  } finally {
    await service?.stop()
    await baseline?.stop()
    if (options.keep) console.log(`kept database ${name}`)
    else await dropDatabase(options.server, name)
  }

  const seconds = (performance.now() - started) / 1000
  const all = sections.flatMap((x) => x.rows)
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), loadAverageAtStart: load0, loadAverageAtEnd: os.loadavg(), cpuCheckMs, cpuCheckMsAtEnd: cpuCheck(), note: CPU_CHECK_NOTE },
    node: process.version, postgres: postgresVersion, n: options.n, smoke: options.smoke, parts,
    options: { rounds: options.rounds, intakeSeconds: options.intakeSeconds, readSeconds: options.readSeconds, connections: options.connections },
    seconds, sections, errors,
    summary: { pass: all.filter((r) => r.pass === true).length, fail: all.filter((r) => r.pass === false).length },
  }
  mkdirSync(path.dirname(options.out), { recursive: true })
  writeFileSync(options.out, JSON.stringify(results, null, 2) + '\n')
  console.log(`\n# All figures (N = ${fmt(options.n)}, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, PostgreSQL ${postgresVersion}, ${os.cpus().length} cores; load average at start ${load0.map((x) => x.toFixed(2)).join(' ')}; CPU check ${cpuCheckMs.toFixed(0)} ms)\n`)
  console.log(table(all))
  console.log(`\n${results.summary.pass} pass, ${results.summary.fail} fail (a missed target does not fail the run); ${errors.length} part(s) broke; ${seconds.toFixed(0)} s; results in ${path.relative(process.cwd(), options.out) || options.out}`)
  if (errors.length > 0) process.exit(1)
}

await main()
