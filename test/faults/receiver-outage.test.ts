import { createServer } from 'node:http'
import t from 'tap'
import { dispatchOnce } from '../../src/webhooks/dispatcher.js'
import { checkInvariants } from '../invariants.js'
import { testApp, webComplaint } from '../helper.js'
import { n, report } from './support.js'

const tally = { received: 0, attempts: 0 }
report(t, {
  name: 'receiver-outage', fault: 'Webhook receiver down',
  tried: 'a subscriber answers 503 while 5,000 events accrue over hours of retries, then comes back',
  cases: () => `5,000 events; ${n(tally.attempts)} attempts; ${n(tally.received)} received, each webhook-id once, per-complaint order recoverable from version`,
})

/**
 * A subscriber is down while 5,000 events accrue, then comes back: everything is delivered, each
 * webhook-id is received successfully once, and the order of a complaint's events — which the
 * service does not promise on the wire — is recoverable from the complaint's `version`.
 */
t.test('a receiver down while 5,000 events accrue gets them all once it is back, each once, in recoverable order', async (t) => {
  const api = await testApp(t, { env: { RATE_LIMIT_PER_MINUTE: '10000000', WEBHOOK_RETRY_BASE_SECONDS: '60', WEBHOOK_MAX_ATTEMPTS: '30', WEBHOOK_DISABLE_AFTER_HOURS: '72' } })
  let up = false
  const received: Array<{ id: string; complaint: string; version: number }> = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      if (!up) return void res.writeHead(503).end()
      const event = JSON.parse(body) as { data: { complaint: { id: string; version: number } } }
      received.push({ id: String(req.headers['webhook-id']), complaint: event.data.complaint.id, version: event.data.complaint.version })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const port = (server.address() as { port: number }).port
  t.equal((await api.call('POST', '/v1/webhooks', { url: `http://127.0.0.1:${port}/h`, eventTypes: ['complaint.*'] }, {}, 'admin')).status, 201)

  // 250 complaints × (receipt + 19 pauses and resumes) = 5,000 events, while the receiver is down: ten
  // complaints at a time, each one's steps in order (one after another they took 58 s, much of it
  // waiting on commits), and the dispatcher trying after every fifty
  const walk = async () => {
    const c = (await api.call('POST', '/v1/complaints', webComplaint())).json
    for (let k = 0; k < 19; k++) await api.call('POST', `/v1/complaints/${c.id}/${k % 2 ? 'resume' : 'pause'}`, k % 2 ? {} : { reason: '等待客户回复' })
  }
  for (let i = 10; i <= 250; i += 10) {
    await Promise.all(Array.from({ length: 10 }, walk))
    if (i % 50 === 0) await dispatchOnce(api.app.services, { batchSize: 1000, concurrency: 50 })
  }
  const total = (await api.db.selectFrom('outbox_events').select('id').execute()).length
  t.equal(total, 5000)

  // the outage lasts a few hours of the injected clock: each round sends what is due, then time moves on
  const round = async () => {
    for (;;) {
      const r = await dispatchOnce(api.app.services, { batchSize: 1000, concurrency: 50 })
      if (r.fannedOut === 0 && r.sent === 0) break
    }
    const next = await api.db.selectFrom('webhook_deliveries').select((eb) => eb.fn.min('next_attempt_at').as('at')).where('status', 'in', ['pending', 'retrying']).executeTakeFirst()
    if (next?.at) api.clock.set(new Date(Math.max(api.clock.now().getTime(), new Date(next.at).getTime()) + 1000).toISOString())
    return next?.at
  }
  for (let i = 0; i < 6; i++) await round()
  t.equal(received.length, 0, 'nothing arrives while the receiver is down')
  up = true
  while (await round());
  const statuses = await api.db.selectFrom('webhook_deliveries').select(['status']).execute()
  t.ok(statuses.every((d) => d.status === 'succeeded'), `every delivery succeeded (${statuses.length})`)
  t.equal(new Set(received.map((r) => r.id)).size, 5000, 'every event arrived')
  t.equal(received.length, 5000, 'each exactly once')
  tally.received = received.length
  tally.attempts = (await api.db.selectFrom('webhook_attempts').select('id').execute()).length
  const byComplaint = new Map<string, number[]>()
  for (const r of received) byComplaint.set(r.complaint, [...(byComplaint.get(r.complaint) ?? []), r.version])
  const recoverable = [...byComplaint.values()].every((versions) => [...versions].sort((x, y) => x - y).every((v, i) => v === i + 1))
  t.ok(recoverable, 'sorting a complaint’s events by version gives 1, 2, 3, … 20: the order is recoverable')
  t.same(await checkInvariants(api.db), [])
})
