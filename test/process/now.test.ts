import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

/**
 * The service as a fresh clone runs it, at the real current time: `npm start` on an empty embedded
 * database, today made a working day by a calendar override (so business-time clocks run now, whatever
 * the day), then complaints of every clock kind received, read and listed over HTTP — all 2xx.
 */
const root = fileURLToPath(new URL('../..', import.meta.url))

t.test('npm start serves create, get and list at the real current time, with today a working day', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'now-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: path.join(dir, 'data'), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SCHEDULER_ENABLED: 'false' }
  delete env.DATABASE_URL
  const child = spawn('/bin/sh', ['-c', 'exec env -u NODE_OPTIONS -u NODE_V8_COVERAGE npm start'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch { /* gone */ } })
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not started:\n${out}`)), 90_000)
    const check = () => {
      const m = /API docs: (http:\/\/127\.0\.0\.1:\d+)\/docs/.exec(out)
      if (m && /First admin API key/.test(out)) { clearTimeout(timer); resolve(m[1]!) }
    }
    child.stdout.on('data', check)
    child.stderr.on('data', check)
  })
  const admin = /First admin API key[^\n]*\n\s+(cpk_\S+)/.exec(out)![1]!
  const call = async (key: string, method: string, url: string, body?: unknown) => {
    const res = await fetch(base + url, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
    return { status: res.status, json: (await res.json()) as Record<string, any> }
  }
  const cs = (await call(admin, 'POST', '/v1/admin/api-keys', { name: 'CS desk', role: 'cs_agent' })).json.key as string
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date())
  t.equal((await call(admin, 'PUT', `/v1/admin/calendar/overrides/${today}`, { working: true, note: 'test: today works' })).status, 200)
  for (const channel of ['web', 'hotline_400', 'media', 'letter']) {
    const created = await call(cs, 'POST', '/v1/complaints', { channel, complainant: { name: '王芳', phone: '13900139000' }, description: '刹车异响，维修后复发。' })
    t.equal(created.status, 201, `receive ${channel} at ${new Date().toISOString()}`)
    const running = (created.json.clocks as Array<{ state: string; remainingMinutes: number | null }>).filter((c) => c.state === 'running')
    t.ok(running.every((c) => Number.isInteger(c.remainingMinutes)), `${channel}: whole minutes on the running clocks`)
    t.equal((await call(cs, 'GET', `/v1/complaints/${created.json.id}`)).status, 200, `get ${channel}`)
  }
  const list = await call(cs, 'GET', '/v1/complaints?limit=50')
  t.equal(list.status, 200)
  t.equal(list.json.items.length, 4)
  process.kill(-child.pid!, 'SIGTERM')
  t.equal(await exited, 0)
})
