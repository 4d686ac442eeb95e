import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import t from 'tap'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** runs a script of the project as a person would, on the embedded database in `dataDir` */
function run(script: string, dataDir: string, databaseUrl?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' }
  delete env.DATABASE_URL
  if (databaseUrl) Object.assign(env, { DATABASE_URL: databaseUrl, SCHEDULER_ENABLED: 'false', WEBHOOK_DISPATCHER_ENABLED: 'false' })
  // tap wraps spawn() to put its coverage hooks into NODE_OPTIONS; they would merge the child's
  // tsx-compiled modules into the report as different files, so the shell takes them out again
  const child = spawn('/bin/sh', ['-c', `exec env -u NODE_OPTIONS -u NODE_V8_COVERAGE "${process.execPath}" --import tsx ${script}`], {
    cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out = { text: '' }
  child.stdout.on('data', (d) => (out.text += d))
  child.stderr.on('data', (d) => (out.text += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, out, exited }
}

async function startServer(dataDir: string, databaseUrl?: string) {
  const server = run('src/server.ts', dataDir, databaseUrl)
  const docsUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no docs URL printed:\n${server.out.text}`)), 60_000)
    server.child.stdout.on('data', () => {
      const m = /API docs: (http:\/\/127\.0\.0\.1:\d+)\/docs/.exec(server.out.text)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
  })
  return { ...server, docsUrl }
}

/** resolves once `pattern` appears in the output (the first-key lines follow the docs URL) */
function waitForOutput(out: { text: string }, pattern: RegExp, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const poll = setInterval(() => {
      if (pattern.test(out.text)) {
        clearInterval(poll)
        resolve()
      } else if (Date.now() - started > ms) {
        clearInterval(poll)
        reject(new Error(`no ${pattern} in:\n${out.text}`))
      }
    }, 20)
  })
}

const tempDir = (t: { teardown(fn: () => void): void }) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'complaints-server-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** the server process from its sources (test/process/ runs the compiled one through `npm start`): embedded database, docs URL printed, SIGTERM handled */
t.test('the server starts on the embedded database, prints the docs URL and shuts down gracefully on SIGTERM', async (t) => {
  const { child, out, exited, docsUrl } = await startServer(tempDir(t))
  const output = () => out.text
  const ready = await fetch(`${docsUrl}/readyz`)
  t.equal(ready.status, 200)
  t.same(await ready.json(), { status: 'ready', database: 'ok', pendingMigrations: [] })
  const docs = await fetch(`${docsUrl}/docs/`)
  t.equal(docs.status, 200)
  // a new installation prints its first admin key; with it an admin makes a key for the CS desk
  const adminKey = /First admin API key[^\n]*\n\s+(cpk_\S+)/.exec(output())?.[1]
  t.ok(adminKey, 'the first admin key is printed at start-up')
  t.match(output(), 'Lost it? Stop the service and run `npm run create-admin-key`', 'the embedded database allows one process')
  t.equal((await fetch(`${docsUrl}/v1/complaints`)).status, 401, 'no key, no data')
  const desk = await fetch(`${docsUrl}/v1/admin/api-keys`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ name: 'CS desk', role: 'cs_agent' }),
  })
  t.equal(desk.status, 201)
  const deskKey = ((await desk.json()) as { key: string }).key
  const created = await fetch(`${docsUrl}/v1/complaints`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${deskKey}` },
    body: JSON.stringify({ channel: 'phone', complainant: { name: '张伟', phone: '13800138000', email: 'zw@example.com' }, description: 'noise' }),
  })
  t.equal(created.status, 201)
  t.ok(created.headers.get('x-request-id'), 'every response carries a request id')

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'exits cleanly after SIGTERM')
  t.match(output(), /"signal":"SIGTERM".*shutting down/)
  t.notMatch(output(), /13800138000|zw@example\.com/, 'no PII in the logs')
  t.notMatch(output(), new RegExp(deskKey), 'keys other than the first admin key are never printed')
})

t.test('npm run create-admin-key makes a key the server then accepts; no first key is printed then', async (t) => {
  const dataDir = tempDir(t)
  const script = run('scripts/create-admin-key.ts "ops team"', dataDir)
  t.equal(await script.exited, 0)
  const key = /(cpk_\S+)/.exec(script.out.text)?.[1]
  t.ok(key, 'the key is printed once')
  const job = run('scripts/job.ts calendar-coverage', dataDir)
  t.equal(await job.exited, 0, 'npm run job runs a job on demand')
  t.match(job.out.text, /"coveredThrough": \d{4}/)
  const server = await startServer(dataDir)
  const keys = await fetch(`${server.docsUrl}/v1/admin/api-keys`, { headers: { authorization: `Bearer ${key}` } })
  t.equal(keys.status, 200)
  t.same(((await keys.json()) as { items: Array<{ name: string }> }).items.map((k) => k.name), ['ops team'])
  t.notMatch(server.out.text, /First admin API key/)
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0)
})

t.test('on Postgres the first-key hint does not ask to stop the service', { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL' }, async (t) => {
  const url = new URL(process.env.DATABASE_URL!)
  const name = `server_${process.pid}_${Date.now()}`
  const admin = new pg.Client({ connectionString: url.toString() })
  await admin.connect()
  await admin.query(`create database ${name}`)
  t.teardown(async () => {
    await admin.query(`drop database if exists ${name}`)
    await admin.end()
  })
  url.pathname = `/${name}`
  const server = await startServer(tempDir(t), url.toString())
  await waitForOutput(server.out, /Lost it\?[^\n]*/)
  t.match(server.out.text, /First admin API key/)
  t.match(server.out.text, 'Lost it? Run `npm run create-admin-key` with the same DATABASE_URL; the service can keep running.')
  t.notMatch(server.out.text, /Stop the service/)
  t.match(server.out.text, /"backend":"postgres","applied":\["2026-11-26T0900_initial"/, 'the log names the migrations applied at start')
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0)
})
