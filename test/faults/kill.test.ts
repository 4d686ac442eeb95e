import t from 'tap'
import { checkInvariants } from '../invariants.js'
import { call, complaintBody, eventually, freshDatabase, n, report, roleKeys, sleep, startServer } from './support.js'

const tally = { created: 0, steps: 0 }
report(t, {
  name: 'kill', fault: 'Process killed (SIGKILL) under load',
  tried: '12 clients receiving complaints and taking lifecycle steps; SIGKILL at a random moment; restart on the same database',
  cases: () => `1 kill; ${n(tally.created)} complaints and ${n(tally.steps)} steps acknowledged before it, all stored; invariants hold`,
})

/**
 * kill -9 under load: the server is killed while intakes and lifecycle steps are in flight, then
 * restarted on the same database. Every request that was acknowledged (a 2xx reached the client) must be
 * in the database, and the invariants must hold: nothing half written, references gap-free.
 */
t.test('SIGKILL during a load of intakes and steps: every acknowledged request survives, nothing is half written', async (t) => {
  const { url, db } = await freshDatabase(t)
  const first = await startServer(t, url)
  const keys = await roleKeys(first.base)
  const acknowledged = { created: new Set<string>(), steps: [] as Array<{ id: string; version: number }> }
  let stop = false
  let n = 0
  const worker = async () => {
    while (!stop) {
      const i = n++
      const created = await call(first.base, keys.cs, 'POST', '/v1/complaints', complaintBody(i), { 'idempotency-key': `kill-${i}` })
      if (created.status !== 201) continue
      acknowledged.created.add(created.json.id)
      const steps: Array<[string, unknown]> = [['acknowledge', { via: 'sms' }], ['assess', { categoryId: 'sales', level: 'general', departmentId: 'service-station' }], ['handover', {}]]
      for (const [path, body] of steps) {
        const res = await call(first.base, keys.cs, 'POST', `/v1/complaints/${created.json.id}/${path}`, body)
        if (res.status !== 200) break
        acknowledged.steps.push({ id: created.json.id, version: res.json.version })
      }
    }
  }
  const workers = Array.from({ length: 12 }, worker)
  // kill in the middle of it: once work is flowing, at an arbitrary moment after that
  await eventually(async () => (acknowledged.created.size >= 20 ? true : undefined), 60_000, 'the load to get going')
  await sleep(200 + Math.random() * 800)
  first.signal('SIGKILL')
  const killed = await first.exited
  stop = true
  await Promise.all(workers)
  t.equal(killed.signal, 'SIGKILL')
  tally.created = acknowledged.created.size
  tally.steps = acknowledged.steps.length
  t.ok(acknowledged.created.size > 10, `${acknowledged.created.size} complaints and ${acknowledged.steps.length} steps acknowledged before the kill`)

  const second = await startServer(t, url)
  const ready = await call(second.base, null, 'GET', '/readyz')
  t.equal(ready.status, 200, `the restarted server is ready: ${JSON.stringify(ready.json)}`)
  const stored = new Map((await db.selectFrom('complaints').select(['id', 'version']).execute()).map((c) => [c.id, c.version]))
  t.same([...acknowledged.created].filter((id) => !stored.has(id)), [], 'every acknowledged complaint is stored')
  t.same(acknowledged.steps.filter((s) => (stored.get(s.id) ?? 0) < s.version), [], 'every acknowledged step is stored')
  t.same(await checkInvariants(db), [], 'the invariants hold')
  // and the service goes on where it stopped: the next reference follows the last one
  const next = await call(second.base, keys.cs, 'POST', '/v1/complaints', complaintBody(-1))
  t.equal(next.status, 201)
  t.equal(Number(next.json.reference.split('-')[2]), stored.size + 1, 'references continue without a gap')
  second.signal('SIGTERM')
  t.equal((await second.exited).code, 0)
})
