import pg from 'pg'
import t from 'tap'
import { checkInvariants } from '../invariants.js'
import { call, complaintBody, dbProxy, eventually, freshDatabase, n, PG, receiver, report, roleKeys, sleep, startServer, type Answer } from './support.js'

const tally = { requests: 0, failed: 0, slowest: 0 }
report(t, {
  name: 'database-away', fault: 'Database away',
  tried: 'under load, the service’s sessions terminated (pg_terminate_backend) and new connections refused for 4 s',
  cases: () => `${n(tally.requests)} requests, ${n(tally.failed)} failed fast with 503 + Retry-After (slowest ${tally.slowest} ms); /readyz unready then ready; recovery, deliveries and jobs without a restart`,
})

/**
 * The database goes away under load: the service's connections are terminated (pg_terminate_backend)
 * and new ones refused for a few seconds. Requests must fail fast — 503 problem+json with Retry-After,
 * never a 500, never hanging — /readyz must say not ready and then ready again, and the service must
 * recover by itself: requests succeed, the dispatcher delivers again, jobs run again.
 */
t.test('database away: fast 503s with Retry-After, unready then ready, recovery without a restart', async (t) => {
  const { url, name, db } = await freshDatabase(t)
  const proxy = await dbProxy(t)
  const viaProxy = url.replace(/:\d+\//, `:${proxy.port}/`)
  const connectTimeoutMs = 1000
  const server = await startServer(t, viaProxy, { DB_CONNECT_TIMEOUT_MS: String(connectTimeoutMs), WEBHOOK_DISPATCHER_ENABLED: 'true', WEBHOOK_POLL_MS: '200' })
  const keys = await roleKeys(server.base)
  const hooks = await receiver(t)
  t.equal((await call(server.base, keys.admin, 'POST', '/v1/webhooks', { url: hooks.url, eventTypes: ['complaint.received'] })).status, 201)

  const answers: Array<Answer & { phase: string }> = []
  let phase = 'before'
  let stop = false
  let n = 0
  const load = async () => {
    while (!stop) {
      const res = await call(server.base, keys.cs, 'POST', '/v1/complaints', complaintBody(n++))
      answers.push({ ...res, phase })
      if (res.status !== 201) await sleep(50)
    }
  }
  const workers = Array.from({ length: 6 }, load)
  await eventually(async () => (answers.filter((a) => a.status === 201).length >= 10 ? true : undefined), 60_000, 'load to start')

  // away: the service's sessions are terminated and the proxy refuses new connections for 4 seconds
  phase = 'away'
  proxy.cut()
  const admin = new pg.Client({ connectionString: `${PG}/postgres` })
  await admin.connect()
  await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = 'complaint-service'`, [name])
  await admin.end()
  await sleep(1500)
  const unready = await call(server.base, null, 'GET', '/readyz')
  await sleep(2500)
  phase = 'back'
  proxy.restore()
  const seen: string[] = []
  const ready = await eventually(async () => {
    const r = await call(server.base, null, 'GET', '/readyz')
    seen.push(`${r.status} ${JSON.stringify(r.json)}`)
    return r.status === 200 ? r : undefined
  }, 15_000, '/readyz to recover').catch((err: Error) => {
    stop = true
    throw new Error(`${err.message}: ${seen.slice(-5).join(' | ')}\n${server.out.text.split('\n').filter((l) => /"level":(40|50)/.test(l)).slice(-5).join('\n')}`)
  })
  await sleep(1500)
  stop = true
  await Promise.all(workers)

  t.equal(unready.status, 503, '/readyz says not ready while the database is away')
  t.equal(unready.json.database, 'unreachable')
  t.ok(unready.headers.get('retry-after'), 'with Retry-After, as every 503')
  t.equal(ready.status, 200, 'and ready again once it is back')
  const away = answers.filter((a) => a.phase === 'away')
  const failed = away.filter((a) => a.status !== 201)
  t.ok(failed.length > 0, `${failed.length} of ${away.length} requests while away failed`)
  t.same([...new Set(answers.map((a) => a.status))].filter((s) => s !== 201 && s !== 503), [], 'every answer is a 201 or a 503: never a 500, never a dropped connection')
  t.ok(failed.every((a) => a.headers.get('retry-after') && String(a.headers.get('content-type')).startsWith('application/problem+json')), 'each 503 is problem+json with Retry-After')
  const slowest = Math.max(...failed.map((a) => a.ms))
  Object.assign(tally, { requests: answers.length, failed: failed.length, slowest: Math.round(slowest) })
  t.ok(slowest < connectTimeoutMs * 3 + 2000, `failing fast: the slowest failure took ${Math.round(slowest)} ms (connect timeout ${connectTimeoutMs} ms)`)
  t.ok(answers.some((a) => a.phase === 'back' && a.status === 201), 'requests succeed again without a restart')

  // the dispatcher delivers again: every event of a committed complaint reaches the receiver
  const committed = await db.selectFrom('complaints').select('id').execute()
  const delivered = () => new Set(hooks.received.map((r) => r.body.data.complaint.id))
  await eventually(async () => (delivered().size >= committed.length ? true : undefined), 60_000, 'the dispatcher to deliver everything').catch(() => undefined)
  t.same(committed.map((c) => c.id).filter((id) => !delivered().has(id)), [], `all ${committed.length} complaint.received events delivered after the outage`)
  // jobs run again: the coordinator's lease and tick tables answer
  t.equal((await call(server.base, keys.admin, 'POST', '/v1/admin/jobs/sla-sweep/run')).status, 200, 'a job runs after the outage')
  t.same(await checkInvariants(db), [], 'the invariants hold')
  server.signal('SIGTERM')
  t.equal((await server.exited).code, 0, 'and it still shuts down cleanly')
})
