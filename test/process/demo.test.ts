import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

/**
 * The first minute of a newcomer: `npm run demo` prints one key per role and a sample complaint, then
 * serves the docs; with nothing else, the complaint walks its whole lifecycle, each step taken with the
 * key of the role the rules give it (as a person would from the docs page's Authorize and Execute).
 */
const root = fileURLToPath(new URL('../..', import.meta.url))

function npmRun(script: string, env: NodeJS.ProcessEnv) {
  const child = spawn('/bin/sh', ['-c', `exec env -u NODE_OPTIONS -u NODE_V8_COVERAGE npm run ${script}`], {
    cwd: root, env: { ...env, npm_config_update_notifier: 'false' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out = { text: '' }
  child.stdout.on('data', (d) => (out.text += d))
  child.stderr.on('data', (d) => (out.text += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, out, exited }
}

t.test('npm run demo prints a key per role and a sample complaint that walks the lifecycle from the docs', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'demo-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const env: NodeJS.ProcessEnv = { ...process.env, DEMO_DATA_DIR: path.join(dir, 'demo'), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' }
  delete env.DATABASE_URL
  const demo = npmRun('demo', env)
  t.teardown(() => { try { process.kill(-demo.child.pid!, 'SIGKILL') } catch { /* gone */ } })
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no docs URL:\n${demo.out.text}`)), 90_000)
    const check = () => {
      const m = /API docs: (http:\/\/127\.0\.0\.1:\d+)\/docs/.exec(demo.out.text)
      if (m) { clearTimeout(timer); resolve(m[1]!) }
    }
    demo.child.stdout.on('data', check)
    demo.child.stderr.on('data', check)
  })
  const key = (role: string) => new RegExp(`^\\s+${role}(?: \\([a-z-]+\\))?\\s+(cpk_\\S+)$`, 'm').exec(demo.out.text)?.[1]
  for (const role of ['cs_agent', 'cs_manager', 'department', 'management', 'finance', 'auditor', 'integration', 'admin']) t.ok(key(role), `a ${role} key is printed`)
  const id = /Sample complaint CP-\d{4}-\d{6}: id ([0-9a-f-]{36})/.exec(demo.out.text)?.[1]
  t.ok(id, 'the sample complaint is printed')
  t.notMatch(demo.out.text, /First admin API key/, 'no separate first key: the demo made its own')

  const as = async (role: string, method: string, url: string, body?: unknown) => {
    const res = await fetch(base + url, { method, headers: { authorization: `Bearer ${key(role)}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
    return { status: res.status, json: (await res.json()) as { status: string; closureType: string | null; allowedActions: string[] } }
  }
  const steps: Array<[string, string, unknown]> = [
    ['cs_agent', 'acknowledge', { via: 'sms' }],
    ['cs_agent', 'assess', { categoryId: 'product_quality', level: 'general', departmentId: 'service-station' }],
    ['cs_agent', 'handover', {}],
    ['department', 'sign', { signedBy: '李娜' }],
    ['department', 'replies', { body: '周五免费更换刹车片。' }],
    ['department', 'investigation', { rootCause: '刹车片批次错误', capa: { measures: [{ type: 'corrective', action: '为该车更换原厂刹车片' }] } }],
    ['department', 'closure-request', { resultSummary: '已更换，试车无异响。' }],
    ['cs_agent', 'closure-callback', { satisfied: true, satisfaction: 5 }],
    ['management', 'close', {}],
  ]
  let last = (await as('cs_agent', 'GET', `/v1/complaints/${id}`)).json
  for (const [role, step, body] of steps) {
    const res = await as(role, 'POST', `/v1/complaints/${id}/${step}`, body)
    t.equal(res.status, 200, `${role}: ${step}`)
    last = res.json
  }
  t.equal(last.status, 'closed')
  t.equal(last.closureType, 'first_time')
  process.kill(-demo.child.pid!, 'SIGTERM')
  t.equal(await demo.exited, 0, 'stops cleanly')
})

t.test('npm run demo refuses a real database: keys for every role belong in a sandbox', async (t) => {
  const demo = npmRun('demo', { ...process.env, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' })
  t.equal(await demo.exited, 2)
  t.match(demo.out.text, /runs on its own embedded database only/)
})
