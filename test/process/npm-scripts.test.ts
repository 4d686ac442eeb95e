import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { SourceMap } from 'node:module'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { scratchDatabase } from '../helper.js'

/**
 * The npm scripts as an operator runs them: `npm start` and `npm run migrate` on compiled code, with
 * npm, its shell and the server in one process group as a terminal puts them.
 */
const root = fileURLToPath(new URL('../..', import.meta.url))

interface Run {
  child: ChildProcess
  out: { text: string }
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** `npm <args>` in a process group of its own (the child's pid is npm's pid and the group's id) */
function npm(args: string, env: NodeJS.ProcessEnv, nodeOptions?: string): Run {
  // tap puts its coverage hooks into NODE_OPTIONS of spawned processes; env takes them out again,
  // and exec keeps one pid from sh to npm
  const options = nodeOptions ? `NODE_OPTIONS='${nodeOptions}' ` : ''
  const child = spawn('/bin/sh', ['-c', `exec env -u NODE_OPTIONS -u NODE_V8_COVERAGE ${options}npm ${args}`], {
    cwd: root, env: { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out = { text: '' }
  child.stdout!.on('data', (d) => (out.text += d))
  child.stderr!.on('data', (d) => (out.text += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  return { child, out, exited }
}

/** resolves once `pattern` appears in the output (or `test` holds); fails after `ms` with the output so far */
function waitFor(run: Run, pattern: RegExp | ((text: string) => boolean), ms = 60_000): Promise<RegExpExecArray | string[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = typeof pattern === 'function' ? (pattern(run.out.text) ? [run.out.text] : null) : pattern.exec(run.out.text)
      if (!m) return false
      clearTimeout(timer)
      run.child.stdout!.off('data', check)
      run.child.stderr!.off('data', check)
      resolve(m)
      return true
    }
    const timer = setTimeout(() => {
      run.child.stdout!.off('data', check)
      run.child.stderr!.off('data', check)
      reject(new Error(`waited ${ms} ms for ${pattern}; output:\n${run.out.text.slice(-4000)}`))
    }, ms)
    if (check()) return
    run.child.stdout!.on('data', check)
    run.child.stderr!.on('data', check)
  })
}

/** log lines of requests to `url` that reached the router */
const incoming = (text: string, url: string) => text.split('\n').filter((l) => l.includes('incoming request') && l.includes(`"url":"${url}"`)).length

/** is any process of the group still alive? */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

function tempDir(t: Test) {
  const dir = mkdtempSync(path.join(tmpdir(), 'complaints-npm-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function serverEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info',
    SCHEDULER_ENABLED: 'false', WEBHOOK_DISPATCHER_ENABLED: 'false',
  }
  delete env.DATABASE_URL
  return env
}

async function npmStart(t: Test) {
  const run = npm('start', serverEnv(tempDir(t)))
  const pgid = run.child.pid!
  t.teardown(() => {
    if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL')
  })
  const base = (await waitFor(run, /API docs: (http:\/\/127\.0\.0\.1:\d+)\/docs/))[1]!
  const adminKey = (await waitFor(run, /First admin API key[^\n]*\n\s+(cpk_\S+)/))[1]!
  return { ...run, pgid, base, adminKey }
}

interface Slow {
  /** sends the rest of the body */
  finish(): void
  /** the status code, or the error that ended the request */
  result: Promise<number | string>
}

/** a POST whose body arrives in two halves: in flight until finish() is called */
function slowPost(base: string, key: string, body: object): Slow {
  const text = JSON.stringify(body)
  const half = Math.floor(text.length / 2)
  const req = request(`${base}/v1/admin/api-keys`, {
    method: 'POST', agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), authorization: `Bearer ${key}` },
  })
  const result = new Promise<number | string>((resolve) => {
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
      res.on('error', (err) => resolve(String(err)))
    })
    req.on('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? String(err)))
  })
  req.write(text.slice(0, half))
  return { finish: () => req.end(text.slice(half)), result }
}

// what `npm ci` does through `prepare`: compile to dist/ (incremental, so quick when it is current)
t.before(async () => {
  const build = npm('run build', process.env)
  const { code } = await build.exited
  if (code !== 0) throw new Error(`npm run build failed:\n${build.out.text}`)
})

const IN_FLIGHT = 20

type Server = Awaited<ReturnType<typeof npmStart>>

/**
 * Starts `npm start`, puts IN_FLIGHT requests in flight (headers received and authenticated, body
 * half sent), lets `stop` send signals, and completes the bodies once the server said it is shutting
 * down (or after a few seconds if it never does).
 */
async function shutdownUnderLoad(t: Test, label: string, stop: (server: Server) => Promise<void>) {
  const server = await npmStart(t)
  const before = incoming(server.out.text, '/v1/admin/api-keys')
  const requests = Array.from({ length: IN_FLIGHT }, (_, i) => slowPost(server.base, server.adminKey, { name: `in flight ${i}`, role: 'finance' }))
  // every request has reached the router and is waiting for the rest of its body
  await waitFor(server, (text) => incoming(text, '/v1/admin/api-keys') === before + IN_FLIGHT)
  await stop(server)
  const draining = /shutting down/.test(server.out.text)
  for (const r of requests) r.finish()
  const results = await Promise.all(requests.map((r) => r.result))
  const exit = await Promise.race([server.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 20_000))])
  const orphans = groupAlive(server.pgid)
  t.comment(`${label}: draining=${draining}, results=${JSON.stringify(results)}, exit=${JSON.stringify(exit)}, processes left in the group=${orphans}`)
  return { results, exit, orphans, draining, output: server.out.text }
}

/** sends `signal` and waits (a few seconds at most) for the server to say it is shutting down */
async function signal(server: Server, target: 'npm' | 'group' | 'server', name: NodeJS.Signals) {
  const pid = target === 'npm' ? server.pgid : target === 'group' ? -server.pgid : Number(/"pid":(\d+)/.exec(server.out.text)![1])
  process.kill(pid, name)
  await waitFor(server, /shutting down/, 5_000).catch(() => undefined)
}

t.test('every script that runs the compiled service, and the container, start node with the same flags (package.json config.nodeFlags)', async (t) => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; config: { nodeFlags: string } }
  const flags = pkg.config.nodeFlags.split(/\s+/)
  t.ok(flags.includes('--enable-source-maps'), 'stack traces name the TypeScript sources')
  t.ok(flags.some((f) => f.startsWith('--max-semi-space-size=')) && flags.some((f) => f.startsWith('--heap-growing-percent=')), 'the heap sizing of README "Performance"')
  // build's last step writes the PGlite seed at install time: a build tool, not the service
  const runsDist = Object.entries(pkg.scripts).filter(([name, command]) => name !== 'build' && /\bnode\b[^&]*dist\//.test(command))
  t.ok(runsDist.length >= 5, `${runsDist.map(([name]) => name).join(', ')}`)
  for (const [name, command] of runsDist) {
    for (const run of command.split('&&').filter((part) => /\bnode\b.*dist\//.test(part))) t.match(run, /\bnode \$npm_package_config_nodeFlags dist\//, `${name}: ${run.trim()}`)
  }
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(path.join(root, 'Dockerfile'), 'utf8'))
  const started = /dist\/\S+/.exec(pkg.scripts.start ?? '')?.[0]
  t.equal(started, 'dist/server.js', 'npm start runs the service bundle (scripts/bundle.ts)')
  t.same(cmd && JSON.parse(cmd[1]!), ['node', ...flags, started], 'the Dockerfile runs what npm start runs')
})

t.test('npm start, SIGTERM to the npm process alone: in-flight requests finish, then everything exits 0', async (t) => {
  const r = await shutdownUnderLoad(t, 'SIGTERM to npm', (server) => signal(server, 'npm', 'SIGTERM'))
  t.ok(r.draining, 'the server got the signal and drains')
  t.same(r.results, Array(IN_FLIGHT).fill(201), 'every in-flight request completed')
  t.same(r.exit, { code: 0, signal: null }, 'npm exits 0')
  t.notOk(r.orphans, 'no process of the group is left running')
})

t.test('npm start, SIGINT to the process group (Ctrl-C) and npm forwarding it again: in-flight requests finish, then everything exits 0', async (t) => {
  const r = await shutdownUnderLoad(t, 'SIGINT to the group, then once more to the server', async (server) => {
    await signal(server, 'group', 'SIGINT')
    // npm forwards the SIGINT it got to the server, which had its own from the group: when the copy
    // arrives after the first was handled (it may also merge with it), it must not count as a second Ctrl-C
    await signal(server, 'server', 'SIGINT')
  })
  t.ok(r.draining, 'the server got the signal and drains')
  t.same(r.results, Array(IN_FLIGHT).fill(201), 'every in-flight request completed')
  t.same(r.exit, { code: 0, signal: null }, 'npm exits 0')
  t.notOk(r.orphans, 'no process of the group is left running')
  t.notMatch(r.output, /second signal/, 'the copy is not taken for a second Ctrl-C')
})

t.test('a second Ctrl-C seconds after the first stops at once, without waiting for in-flight requests', async (t) => {
  const r = await shutdownUnderLoad(t, 'SIGINT to the group twice, 2.5 s apart', async (server) => {
    await signal(server, 'group', 'SIGINT')
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    await signal(server, 'group', 'SIGINT')
    await server.exited
  })
  t.match(r.output, /second signal: exiting/)
  t.ok(r.results.every((x) => x !== 201), 'the in-flight requests were cut')
  t.not((r.exit as { code: number | null }).code, 0, 'not a clean exit')
  t.notOk(r.orphans, 'no process of the group is left running')
})

/**
 * A fresh database for a script: on Postgres (DATABASE_URL set) a new database, dropped afterwards;
 * otherwise an empty PGlite data directory.
 */
async function freshDatabase(t: Test): Promise<NodeJS.ProcessEnv> {
  const url = process.env.DATABASE_URL
  const env: NodeJS.ProcessEnv = { ...process.env }
  if (!url) {
    delete env.DATABASE_URL
    return { ...env, DATA_DIR: tempDir(t) }
  }
  return { ...env, DATABASE_URL: await scratchDatabase(t, 'migrate') }
}

/** a module for --import that fails any import of the embedded database */
function pgliteGuard(t: Test): string {
  const file = path.join(tempDir(t), 'no-pglite.mjs')
  const hook = `export async function resolve(specifier, context, next) { if (specifier.includes('pglite')) throw new Error('imported ' + specifier); return next(specifier, context) }`
  writeFileSync(file, `import { register } from 'node:module'\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}))\n`)
  return `--import=${file}`
}

t.test('npm run migrate on a fresh database names the migrations it applied (or the seed brought); a second run has nothing to do', async (t) => {
  const env = await freshDatabase(t)
  const backend = env.DATABASE_URL ? 'postgres' : 'pglite'
  // on Postgres the embedded database must not even be loaded
  const guard = env.DATABASE_URL ? pgliteGuard(t) : undefined
  const names = readdirSync(path.join(root, 'migrations')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort()
  t.ok(names.length >= 4)
  const first = npm('run migrate', env, guard)
  t.same(await first.exited, { code: 0, signal: null }, first.out.text)
  const named = names.map((n) => `  ${n}`).join('\n')
  // a new embedded database starts from the seed `npm run build` made, which holds every migration
  t.match(first.out.text, backend === 'postgres' ? `postgres: applied ${names.length} migrations:\n${named}`
    : `pglite: created a new database from the install-time seed, with ${names.length} migrations:\n${named}\npglite: nothing more to apply, the database is up to date`)
  const second = npm('run migrate', env, guard)
  t.same(await second.exited, { code: 0, signal: null }, second.out.text)
  t.match(second.out.text, `${backend}: nothing to apply, the database is up to date`)
  t.notMatch(second.out.text, /applied/)
})

t.test('npm start on a fresh database: the service bundle knows every file of migrations/ (bundled at build time) and applies them', async (t) => {
  const env = await freshDatabase(t)
  const backend = env.DATABASE_URL ? 'postgres' : 'pglite'
  const names = readdirSync(path.join(root, 'migrations')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort()
  const run = npm('start', { ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', LOG_FORMAT: 'json', SCHEDULER_ENABLED: 'false', WEBHOOK_DISPATCHER_ENABLED: 'false' })
  const pgid = run.child.pid!
  t.teardown(() => {
    if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL')
  })
  const ready = JSON.parse((await waitFor(run, /\{[^\n]*"msg":"database ready and migrated"[^\n]*\}/))[0]!)
  // Postgres: the bundle applied them all, in order; PGlite: the seed held them all, and the bundle's
  // list had to match what the seed's database had applied (Kysely refuses a database holding a
  // migration it does not know)
  t.same(ready.applied, backend === 'postgres' ? names : [], `${backend}: applied at start`)
  const base = (await waitFor(run, /API docs: (http:\/\/127\.0\.0\.1:\d+)\/docs/))[1]!
  const readyz = await fetch(`${base}/readyz`)
  t.equal(readyz.status, 200)
  t.same((await readyz.json()).pendingMigrations, [], 'nothing pending by its own list')
  process.kill(pgid, 'SIGTERM')
  t.same(await run.exited, { code: 0, signal: null })
})

/** the service bundle and its source map as `npm run build` (t.before) made them (scripts/bundle.ts) */
function bundled() {
  return {
    bundle: readFileSync(path.join(root, 'dist', 'server.js'), 'utf8'),
    map: JSON.parse(readFileSync(path.join(root, 'dist', 'server.js.map'), 'utf8')),
  }
}

t.test('npm start runs the bundle with --enable-source-maps: a position in it maps to the TypeScript source it came from', async (t) => {
  const { bundle, map } = bundled()
  const sourceMap = new SourceMap(map)
  const cases: Array<[string, string, RegExp]> = [
    ['async function main()', 'src/server.ts', /^async function main\(\)/],
    ['async function buildApp(', 'src/app.ts', /^export async function buildApp\(/],
    ['function startBatch(', 'src/jobs/sla-sweep.ts', /^function startBatch\(/],
  ]
  for (const [needle, source, original] of cases) {
    const offset = bundle.indexOf(needle)
    t.ok(offset >= 0, `${needle} is in the bundle`)
    const before = bundle.slice(0, offset)
    const line = before.split('\n').length - 1
    const column = offset - (before.lastIndexOf('\n') + 1)
    const entry = sourceMap.findEntry(line, column) as { originalSource?: string; originalLine?: number }
    t.ok(entry.originalSource?.endsWith(source), `${needle} → ${entry.originalSource}`)
    const text = readFileSync(path.join(root, source), 'utf8').split('\n')[entry.originalLine!]!
    t.match(text, original, `at its own line (${source}:${entry.originalLine! + 1})`)
  }
})

t.test('the map names its sources without carrying their text: Node keeps a loaded map in memory for good', async (t) => {
  const { map } = bundled()
  // with the sources' text the service's idle RSS was 119–127 MB, without it 103–105 MB (README: Performance)
  t.notOk('sourcesContent' in map, 'no sourcesContent')
  t.ok(map.sources.some((s: string) => s === '../src/server.ts'), 'the service entry is among the sources')
})
