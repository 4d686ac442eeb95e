import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { prettyLogs } from '../../src/app.js'
import { describeDatabase, startupBanner } from '../../src/banner.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '')

t.test('log format: pretty on a terminal unless LOG_FORMAT=json; JSON off a terminal unless LOG_FORMAT=pretty', async (t) => {
  t.equal(prettyLogs('auto', true), true)
  t.equal(prettyLogs('auto', false), false)
  t.equal(prettyLogs(undefined, false), false)
  t.equal(prettyLogs('json', true), false, 'a production deployment sets json and gets it even on a terminal')
  t.equal(prettyLogs('pretty', false), true)
})

t.test('the banner names the database without its password, the docs and the first key', async (t) => {
  const pgDb = describeDatabase({ DATABASE_URL: 'postgres://app:s3cr%40t@db.internal:5432/complaints?sslmode=require', DATA_DIR: './data' })
  t.equal(pgDb, 'PostgreSQL database complaints on db.internal:5432 as app')
  t.notMatch(pgDb, /s3cr/)
  t.equal(describeDatabase({ DATA_DIR: './data' }), `embedded PGlite, data directory ${path.resolve('data')}`)
  const banner = startupBanner({ base: 'http://127.0.0.1:3000', database: pgDb, metricsOn: false, firstKey: 'cpk_example', backend: 'postgres' })
  t.match(banner, 'API docs:  http://127.0.0.1:3000/docs')
  t.match(banner, 'Database:  PostgreSQL database complaints on db.internal:5432 as app')
  t.match(banner, 'Metrics:   off (set METRICS_TOKEN')
  t.match(banner, /First admin API key[^\n]*\n\s+cpk_example\n/)
  t.notMatch(startupBanner({ base: 'http://x', database: pgDb, metricsOn: true, backend: 'postgres' }), /First admin API key/, 'no key line when no key was created')
})

/**
 * The server from its sources under a pseudo-terminal (util-linux `script`), as a person runs
 * `npm start`; stopped once it printed its docs line.
 */
async function onTerminal(t: Test, env: Record<string, string>) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'complaints-logs-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const vars = Object.entries({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, SCHEDULER_ENABLED: 'false', WEBHOOK_DISPATCHER_ENABLED: 'false', ...env }).map(([k, v]) => `${k}=${v}`).join(' ')
  const command = `exec env -u NODE_OPTIONS -u NODE_V8_COVERAGE -u DATABASE_URL -u LOG_FORMAT ${vars} "${process.execPath}" --import tsx src/server.ts`
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise((resolve) => child.on('exit', resolve))
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch { /* already gone */ }
  })
  const seen = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 60_000)
    const check = () => {
      // the log line and the banner both name the docs; wait for the log line's own text after "API docs:"
      if (/First admin API key[\s\S]*(INFO|"level":30)[^\n]*API docs: http/.test(plain(output)) || /(INFO|"level":30)[^\n]*API docs: http[\s\S]*First admin API key[\s\S]*Lost it/.test(plain(output))) {
        clearTimeout(timer)
        resolve(true)
      }
    }
    child.stdout.on('data', check)
  })
  process.kill(-child.pid!, 'SIGTERM')
  await exited
  return { seen, output: plain(output) }
}

t.test('npm start on a terminal prints readable log lines and the banner; LOG_FORMAT=json keeps JSON there', { skip: process.platform !== 'linux' && 'needs util-linux script' }, async (t) => {
  const pretty = await onTerminal(t, {})
  t.ok(pretty.seen, pretty.output)
  t.match(pretty.output, /\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: API docs: http:\/\/127\.0\.0\.1:\d+\/docs/, 'a time, a level and the message')
  t.notMatch(pretty.output, /"level":/, 'no JSON on a terminal')
  t.match(pretty.output, /Database:  embedded PGlite, data directory \//)
  t.match(pretty.output, /First admin API key[^\n]*\n\s+cpk_\S+/)

  const json = await onTerminal(t, { LOG_FORMAT: 'json' })
  t.ok(json.seen, json.output)
  t.match(json.output, /^\{"level":30,"time":\d+,"pid":\d+,"hostname":"[^"]+","database":"embedded PGlite[^"]*","msg":"API docs: /m)
  t.match(json.output, /Database:  embedded PGlite/, 'the banner is plain lines in either format')
})
