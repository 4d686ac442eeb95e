import t from 'tap'
import { checkInvariants } from '../invariants.js'
import { callRetrying, complaintBody, freshDatabase, n, report, roleKeys, startServer } from './support.js'

/**
 * Races a client can start: the same create sent in parallel with one Idempotency-Key (a retrying
 * client, a double-click), the same step sent in parallel with one If-Match (two agents on one
 * complaint), and a crowd of creates at once (reference numbers). One winner each time, the others
 * told why, nothing doubled, references gap-free.
 */
const tally = { requests: 0 }
/** 503s answered by load shedding (the crowd can exceed the queue for connections), each retried after its Retry-After */
const shed = { count: 0 }
report(t, {
  name: 'concurrency', fault: 'Races between clients',
  tried: '20 parallel creates with one Idempotency-Key; 20 parallel steps with one If-Match, on 10 complaints; 200 parallel creates',
  cases: () => `${n(tally.requests)} requests (${shed.count} shed with 503 and retried after Retry-After): one complaint per key, one step per version, 200 gap-free references`,
})

t.test('parallel duplicates: one complaint per Idempotency-Key, one step per If-Match, gap-free references', async (t) => {
  const { url, db } = await freshDatabase(t)
  const server = await startServer(t, url, { DB_POOL_SIZE: '20' })
  const keys = await roleKeys(server.base)

  const same = await Promise.all(Array.from({ length: 20 }, () => callRetrying(shed, server.base, keys.cs, 'POST', '/v1/complaints', complaintBody(1), { 'idempotency-key': 'double-click' })))
  tally.requests += same.length
  const statuses = [...new Set(same.map((a) => a.status))]
  t.ok(statuses.every((s) => s === 201 || s === 409), `each is the complaint or "still in progress": ${statuses.join(', ')}`)
  t.equal(new Set(same.filter((a) => a.status === 201).map((a) => a.json.id)).size, 1, 'every 201 is the same complaint')
  t.equal((await db.selectFrom('complaints').select('id').execute()).length, 1, 'one complaint stored')

  for (let i = 0; i < 10; i++) {
    const c = (await callRetrying(shed, server.base, keys.cs, 'POST', '/v1/complaints', complaintBody(100 + i))).json
    const steps = await Promise.all(Array.from({ length: 20 }, (_, k) => callRetrying(shed, server.base, keys.cs, 'POST', `/v1/complaints/${c.id}/assess`,
      { categoryId: 'sales', level: k % 2 ? 'general' : 'moderate', departmentId: 'service-station' }, { 'if-match': '"1"' })))
    tally.requests += steps.length + 1
    t.equal(steps.filter((a) => a.status === 200).length, 1, `complaint ${i}: one step wins`)
    t.ok(steps.filter((a) => a.status !== 200).every((a) => a.status === 412 && String(a.headers.get('content-type')).startsWith('application/problem+json')), 'the others: 412 problem+json')
    const stored = await db.selectFrom('complaints').select('version').where('id', '=', c.id).executeTakeFirstOrThrow()
    t.equal(stored.version, 2, 'one step stored')
  }

  const crowd = await Promise.all(Array.from({ length: 200 }, (_, i) => callRetrying(shed, server.base, keys.cs, 'POST', '/v1/complaints', complaintBody(1000 + i))))
  tally.requests += crowd.length
  t.comment(`${shed.count} requests were shed with 503 + Retry-After and sent again`)
  t.ok(crowd.every((a) => a.status === 201), `every create of the crowd succeeds (after a retry where it was shed): ${[...new Set(crowd.map((a) => a.status))].join(', ')}`)
  const numbers = crowd.map((a) => Number(String(a.json.reference).split('-')[2])).sort((a, b) => a - b)
  t.same(numbers, Array.from({ length: 200 }, (_, i) => i + 12), 'references 12 to 211: none twice, none skipped')
  t.same(await checkInvariants(db), [])
  server.signal('SIGTERM')
  t.equal((await server.exited).code, 0)
})
