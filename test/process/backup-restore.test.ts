import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { createDb, type DbHandle } from '../../src/db/create-db.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { STATUSES } from '../../src/domain/vocabulary.js'
import { defaultNow, scratchDatabase, testApp, webComplaint, type TestApp } from '../helper.js'

/**
 * docs/operations.md's backup procedures, run as written: a database with complaints in every state
 * is backed up and restored into a new one, and a service opened on the copy finds the same
 * complaints, timelines and references, and is ready.
 */
const run = promisify(execFile)

async function step(api: TestApp, c: { id: string; version: number }, action: string, body: unknown) {
  const res = await api.call('POST', `/v1/complaints/${c.id}/${action}`, body, { 'if-match': `"${c.version}"` })
  if (res.status !== 200) throw new Error(`${action} → ${res.status} ${JSON.stringify(res.json)}`)
  return res.json as { id: string; version: number; status: string }
}

/** one complaint in each status of the lifecycle, walked there through the API */
async function complaintsInEveryState(api: TestApp) {
  const walk: Array<[string, unknown]> = [
    ['acknowledge', { via: 'sms' }],
    ['assess', { categoryId: 'service_quality', level: 'general', departmentId: 'service-station' }],
    ['handover', {}],
    ['sign', { signedBy: '李娜' }],
    ['replies', { body: '周五为您重新安装刹车片。', decision: { chosenOption: 'refit', compensationFen: 5000 } }],
    ['investigation', { rootCause: '旧零件号仍可订购。', capa: { measures: [{ type: 'preventive', action: 'Block superseded part numbers in the parts system', owner: 'IT' }] } }],
    ['closure-request', { resultSummary: '已重新安装，试驾无异响。' }],
    ['closure-callback', { satisfied: true, satisfaction: 5 }],
    ['close', {}],
  ]
  const reached = new Map<string, string>()
  // the n-th complaint stops after n steps of the walk: received, acknowledged, … closed
  for (let stop = 0; stop <= walk.length; stop++) {
    let c = (await api.call('POST', '/v1/complaints', webComplaint({ description: `刹车异响，第 ${stop} 件` }))).json
    for (const [action, body] of walk.slice(0, stop)) c = await step(api, c, action, body)
    reached.set(c.status, c.id)
  }
  let deferred = (await api.call('POST', '/v1/complaints', webComplaint({ description: '客户要求全额退款，拒绝维修。' }))).json
  for (const [action, body] of walk.slice(0, 4)) deferred = await step(api, deferred, action, body)
  deferred = await step(api, deferred, 'deferral', { reason: 'Waiting for the manufacturer’s lab report (4–6 weeks).' })
  deferred = await step(api, deferred, 'deferral/review', { approved: true, followUpMode: 'monitor' })
  reached.set(deferred.status, deferred.id)
  const withdrawn = await step(api, (await api.call('POST', '/v1/complaints', webComplaint())).json, 'withdraw', { reason: '客户已与服务站直接和解。' })
  reached.set(withdrawn.status, withdrawn.id)
  return reached
}

/** every complaint as the API shows it, with its timeline, by reference */
async function snapshot(api: TestApp) {
  const complaints: Record<string, unknown> = {}
  let url: string | undefined = '/v1/complaints?limit=100'
  while (url) {
    const page: { items: Array<{ id: string; reference: string }>; nextCursor: string | null } = (await api.call('GET', url)).json
    for (const item of page.items) {
      const one = await api.call('GET', `/v1/complaints/${item.id}`)
      const timeline = await api.call('GET', `/v1/complaints/${item.id}/timeline`)
      complaints[item.reference] = { complaint: one.json, etag: one.headers.etag, timeline: timeline.json.items }
    }
    url = page.nextCursor ? `/v1/complaints?limit=100&cursor=${encodeURIComponent(page.nextCursor)}` : undefined
  }
  return complaints
}

const tempDir = (t: Test) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'complaints-backup-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function openMigrated(options: Parameters<typeof createDb>[0]): Promise<DbHandle> {
  const handle = await createDb(options)
  await migrateToLatest(handle.db)
  return handle
}

t.test('Postgres: pg_dump -Fc, pg_restore into a new database, and the service finds everything and is ready', { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL (the machine\'s PostgreSQL)' }, async (t) => {
  const sourceUrl = await scratchDatabase(t, 'backup_source')
  const now = defaultNow()

  const source = await testApp(t, { now, database: await openMigrated({ databaseUrl: sourceUrl }) })
  const reached = await complaintsInEveryState(source)
  t.same([...reached.keys()].sort(), [...STATUSES].sort(), 'a complaint in every state')
  const before = await snapshot(source)

  // the documented commands, with the machine's client tools
  const dump = path.join(tempDir(t), 'complaints.dump')
  await run('pg_dump', ['--format=custom', '--no-owner', `--file=${dump}`, sourceUrl])
  const restoredUrl = await scratchDatabase(t, 'backup_restored')
  await run('pg_restore', ['--no-owner', '--exit-on-error', `--dbname=${restoredUrl}`, dump])

  // a fresh handle on the copy: nothing is migrated, the copy must be complete as it is
  const restored = await testApp(t, { now, database: await createDb({ databaseUrl: restoredUrl }) })
  const ready = await restored.call('GET', '/readyz')
  t.equal(ready.status, 200)
  t.same(ready.json, { status: 'ready', database: 'ok', pendingMigrations: [] }, 'every migration is recorded in the copy')
  const after = await snapshot(restored)
  t.same(after, before, 'the same complaints, versions, deadlines, clocks and timelines under the same references')

  // the copy goes on where the original stopped: the next reference follows the last one
  const next = await restored.call('POST', '/v1/complaints', webComplaint())
  const last = Math.max(...Object.keys(before).map((r) => Number(r.split('-').at(-1))))
  t.equal(Number(next.json.reference.split('-').at(-1)), last + 1, 'the reference counter came along')
  const closed = reached.get('closed')!
  t.equal((await restored.call('POST', `/v1/complaints/${closed}/reopen`, { reason: 'Refund never arrived.' })).status, 200, 'a restored complaint takes its next step')
})

t.test('PGlite: stop the service, copy the data directory, and the copy opens with the same complaints', async (t) => {
  const dataDir = tempDir(t)
  const now = defaultNow()
  const original = await createDb({ dataDir })
  await migrateToLatest(original.db)
  const api = await testApp(t, { now, database: original })
  // what is copied is files, whatever they hold: a few complaints suffice (PGlite is slow to walk many)
  const received = (await api.call('POST', '/v1/complaints', webComplaint())).json
  await step(api, received, 'withdraw', { reason: '客户已与服务站直接和解。' })
  await api.call('POST', '/v1/complaints', webComplaint({ description: '刹车异响。' }))
  const before = await snapshot(api)
  t.equal(Object.keys(before).length, 2)
  // stopping the service closes the database; only a closed directory is a consistent copy
  await api.app.close()

  const copy = path.join(tempDir(t), 'data-copy')
  cpSync(dataDir, copy, { recursive: true })
  const restored = await testApp(t, { now, database: await createDb({ dataDir: copy }) })
  t.equal((await restored.call('GET', '/readyz')).status, 200)
  t.same(await snapshot(restored), before)
})
