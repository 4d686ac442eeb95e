import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { sql } from 'kysely'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { EVENT_TYPES } from '../../src/outbox/catalogue.js'
import { appendEvents } from '../../src/outbox/outbox.js'
import { dispatchOnce, publicOnlyLookup } from '../../src/webhooks/dispatcher.js'
import { retryDelayMs } from '../../src/webhooks/policy.js'
import { failInserts, metricsHeaders, testApp, webComplaint, type TestApp } from '../helper.js'

interface Received { id: string; body: string; headers: IncomingHttpHeaders; verified: boolean }

/** a real HTTP receiver on loopback that verifies every delivery with the standardwebhooks library */
async function receiver(t: { teardown(fn: () => unknown): void }, answers: number[] = []) {
  const state = { secret: '', received: [] as Received[], answers: [...answers] }
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      let verified = false
      try {
        new Webhook(state.secret).verify(body, req.headers as Record<string, string>)
        verified = true
      } catch {
        verified = false
      }
      state.received.push({ id: String(req.headers['webhook-id']), body, headers: req.headers, verified })
      res.writeHead(verified ? (state.answers.shift() ?? 200) : 401).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  return { ...state, state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` }
}

async function subscribe(api: TestApp, url: string, eventTypes = ['complaint.*', 'sla.*']) {
  const res = await api.call('POST', '/v1/webhooks', { url, eventTypes })
  if (res.status !== 201) throw new Error(JSON.stringify(res.json))
  return res.json as { id: string; secret: string }
}

async function drain(api: TestApp, random = () => 0.5) {
  for (let i = 0; i < 100; i++) {
    const r = await dispatchOnce(api.app.services, { random })
    if (r.fannedOut === 0 && r.sent === 0) return
  }
  throw new Error('dispatcher did not settle')
}

t.test('every delivery is signed per Standard Webhooks; a tampered body fails verification', async (t) => {
  const api = await testApp(t)
  const rx = await receiver(t)
  const sub = await subscribe(api, rx.url)
  rx.state.secret = sub.secret
  t.match(sub.secret, /^whsec_/)
  const c = (await api.call('POST', '/v1/complaints', webComplaint())).json
  await api.call('POST', `/v1/complaints/${c.id}/acknowledge`, { via: 'sms' })
  await drain(api)
  // no global ordering is promised: compare as a set
  t.same(rx.state.received.map((r) => JSON.parse(r.body).type).sort(), ['complaint.acknowledged', 'complaint.received'])
  t.ok(rx.state.received.every((r) => r.verified), 'the receiver verified every signature')
  const first = rx.state.received.find((r) => JSON.parse(r.body).type === 'complaint.received')!
  const envelope = JSON.parse(first.body)
  t.equal(envelope.id, first.id, 'webhook-id is the event id')
  const stored = await sql<{ text: string }>`select payload::text as text from outbox_events where event_id = ${first.id}`.execute(api.db)
  t.equal(first.body, stored.rows[0]!.text, 'the body is the payload as the outbox wrote it, byte for byte')
  t.ok(first.body.startsWith(`{"id":"${first.id}","type":"complaint.received","occurredAt":`), 'in the envelope\'s own order')
  t.match(envelope.id, /^msg_[0-9a-f]{8}-[0-9a-f]{4}-7/, 'a UUIDv7')
  t.equal(envelope.data.complaint.version, 1)
  t.same(envelope.data.complaint.complainant.externalIds, [{ system: 'wukong', customerId: '1024' }], 'the CRM id travels with the event')
  const tampered = first.body.replace('"channel":"web"', '"channel":"wechat"')
  t.not(tampered, first.body)
  t.throws(() => new Webhook(sub.secret).verify(tampered, first.headers as Record<string, string>), 'a tampered body is rejected')
  t.throws(() => new Webhook(`whsec_${Buffer.from('another secret of 32 bytes.....').toString('base64')}`).verify(first.body, first.headers as Record<string, string>), 'another secret is rejected')
})

t.test('an integration links the complainant to its CRM record later; later events carry the id', async (t) => {
  const api = await testApp(t)
  const c = (await api.call('POST', '/v1/complaints', webComplaint({ complainant: { name: '王芳' } }))).json
  t.same(c.complainant.externalIds, [])
  const linked = await api.call('POST', `/v1/complaints/${c.id}/external-ids`, { externalIds: [{ system: 'wukong', customerId: '88' }] }, {}, 'integration')
  t.equal(linked.status, 200)
  const relinked = await api.call('POST', `/v1/complaints/${c.id}/external-ids`, { externalIds: [{ system: 'wukong', customerId: '89' }, { system: 'erp', customerId: 'C-7' }] }, {}, 'integration')
  t.same(relinked.json.complainant.externalIds, [{ system: 'wukong', customerId: '89' }, { system: 'erp', customerId: 'C-7' }], 'one id per system')
  await api.call('POST', `/v1/complaints/${c.id}/acknowledge`, { via: 'sms' })
  const event = await api.db.selectFrom('outbox_events').select('payload').where('complaint_id', '=', c.id).where('type', '=', 'complaint.acknowledged').executeTakeFirstOrThrow()
  t.same((event.payload as any).data.complaint.complainant.externalIds, relinked.json.complainant.externalIds)
})

t.test('500, 500, 200: three attempts with growing delays; a replay sends it once more', async (t) => {
  const api = await testApp(t)
  const rx = await receiver(t, [500, 500, 200])
  const sub = await subscribe(api, rx.url, ['complaint.received'])
  rx.state.secret = sub.secret
  await api.call('POST', '/v1/complaints', webComplaint())
  await drain(api)
  t.equal(rx.state.received.length, 1, 'the first attempt')
  api.clock.advanceMinutes(1)
  await drain(api)
  api.clock.advanceMinutes(2)
  await drain(api)
  t.equal(rx.state.received.length, 3)
  const log = (await api.call('GET', `/v1/webhooks/${sub.id}/deliveries`)).json.items
  t.equal(log.length, 1)
  t.equal(log[0].status, 'succeeded')
  t.equal(log[0].attempts, 3)
  t.equal(log[0].lastStatusCode, 200)
  const detail = (await api.call('GET', `/v1/deliveries/${log[0].id}`)).json
  t.same(detail.attemptLog.map((a: { statusCode: number }) => a.statusCode), [500, 500, 200])
  const delays = detail.attemptLog.slice(0, 2).map((a: { attemptedAt: string; nextAttemptAt: string }) => Date.parse(a.nextAttemptAt) - Date.parse(a.attemptedAt))
  t.same(delays, [60_000, 120_000], 'the delay doubles (jitter pinned to the middle)')
  t.equal(detail.attemptLog[2].nextAttemptAt, null)

  const replay = await api.call('POST', `/v1/deliveries/${log[0].id}/replay`)
  t.equal(replay.status, 202)
  await drain(api)
  t.equal(rx.state.received.length, 4)
  t.equal(rx.state.received[3]!.id, rx.state.received[0]!.id, 'the same event (same webhook-id) arrives once more')
})

t.test('retry schedule: exponential, capped, jittered, never before Retry-After; about a day in total', async (t) => {
  const s = { baseSeconds: 60, maxSeconds: 21_600, maxAttempts: 12 }
  t.equal(retryDelayMs(1, s, null, () => 0.5), 60_000)
  t.equal(retryDelayMs(3, s, null, () => 0.5), 240_000)
  t.equal(retryDelayMs(20, s, null, () => 0.5), 21_600_000, 'capped at 6 hours')
  t.equal(retryDelayMs(1, s, null, () => 0), 48_000, '-20% jitter')
  t.equal(retryDelayMs(1, s, null, () => 1), 72_000, '+20% jitter')
  t.equal(retryDelayMs(1, s, 600, () => 0.5), 600_000, 'Retry-After wins when longer')
  let total = 0
  for (let a = 1; a < s.maxAttempts; a++) total += retryDelayMs(a, s, null, () => 0.5)
  t.ok(total > 18 * 3_600_000 && total < 30 * 3_600_000, `last attempt ${Math.round(total / 3_600_000)} h after the first`)
})

t.test('two dispatchers on one database, 500 queued events: each delivered exactly once', async (t) => {
  const api = await testApp(t)
  const rx = await receiver(t)
  const sub = await subscribe(api, rx.url, ['*'])
  rx.state.secret = sub.secret
  const now = api.clock.now()
  await api.db.transaction().execute((trx) => appendEvents(trx, Array.from({ length: 500 }, (_, i) => ({ type: 'sla.due_soon', complaintId: null, occurredAt: now, data: { n: i } }))))
  const loop = async () => {
    let idleRounds = 0
    while (idleRounds < 3) {
      const r = await dispatchOnce(api.app.services, { batchSize: 40, concurrency: 8 })
      idleRounds = r.fannedOut === 0 && r.sent === 0 ? idleRounds + 1 : 0
    }
  }
  await Promise.all([loop(), loop()])
  const ids = rx.state.received.map((r) => r.id)
  t.equal(new Set(ids).size, 500, 'every event arrived')
  t.equal(ids.length, 500, 'none arrived twice')
  t.ok(rx.state.received.every((r) => r.verified))
  const { n } = (await sql<{ n: number }>`select count(*)::int as n from webhook_deliveries where status = 'succeeded'`.execute(api.db)).rows[0]!
  t.equal(n, 500)
})

t.test('a change whose transaction rolls back leaves no outbox row; a committed one always has one', async (t) => {
  const api = await testApp(t)
  const c = (await api.call('POST', '/v1/complaints', webComplaint())).json
  // fail the transaction *after* its event row was written
  const repair = await failInserts(t, api.db, 'outbox_events', 'after')
  const failed = await api.call('POST', `/v1/complaints/${c.id}/acknowledge`, { via: 'sms' })
  t.equal(failed.status, 500)
  const types = async () => (await api.db.selectFrom('outbox_events').select('type').where('complaint_id', '=', c.id).orderBy('id').execute()).map((e) => e.type)
  t.same(await types(), ['complaint.received'], 'the rolled-back step left no event')
  await repair()
  const ok = await api.call('POST', `/v1/complaints/${c.id}/acknowledge`, { via: 'sms' })
  t.equal(ok.status, 200)
  t.same(await types(), ['complaint.received', 'complaint.acknowledged'])
})

t.test('subscriptions: https to public hosts in production mode; patterns; pause; rotation with overlap', async (t) => {
  const strictApi = await testApp(t, { env: { WEBHOOK_ALLOW_INSECURE_URLS: 'false' } })
  for (const url of ['http://crm.example.com/h', 'https://127.0.0.1/h', 'https://localhost/h', 'https://10.1.2.3/h', 'https://[::1]/h', 'ftp://x/y', 'https://user:pw@crm.example.com/h']) {
    const res = await strictApi.call('POST', '/v1/webhooks', { url, eventTypes: ['*'] })
    t.equal(res.status, 422, `${url} is refused`)
    t.equal(res.json.errors[0].field, '/body/url')
  }
  t.equal((await strictApi.call('POST', '/v1/webhooks', { url: 'https://crm.example.com/hooks', eventTypes: ['complaint.*'] })).status, 201)
  t.equal((await strictApi.call('POST', '/v1/webhooks', { url: 'https://crm.example.com/hooks', eventTypes: ['Complaint received'] })).status, 400)
  t.equal((await strictApi.call('POST', '/v1/webhooks', { url: 'https://crm.example.com/hooks', eventTypes: ['*'] }, {}, 'cs_agent')).status, 403)

  const api = await testApp(t)
  const rx = await receiver(t)
  const sub = await subscribe(api, rx.url, ['complaint.acknowledged'])
  rx.state.secret = sub.secret
  const c = (await api.call('POST', '/v1/complaints', webComplaint())).json
  await drain(api)
  t.equal(rx.state.received.length, 0, 'complaint.received does not match complaint.acknowledged')

  await api.call('PATCH', `/v1/webhooks/${sub.id}`, { status: 'paused' })
  await api.call('POST', `/v1/complaints/${c.id}/acknowledge`, { via: 'sms' })
  await drain(api)
  t.equal(rx.state.received.length, 0, 'paused: queued, not sent')
  const rotated = await api.call('POST', `/v1/webhooks/${sub.id}/rotate-secret`, { overlapMinutes: 60 })
  t.not(rotated.json.secret, sub.secret)
  await api.call('PATCH', `/v1/webhooks/${sub.id}`, { status: 'active' })
  await drain(api)
  t.equal(rx.state.received.length, 1, 'resumed: the queued event goes out')
  const r = rx.state.received[0]!
  t.equal(String(r.headers['webhook-signature']).split(' ').length, 2, 'two signatures during the overlap')
  t.doesNotThrow(() => new Webhook(sub.secret).verify(r.body, r.headers as Record<string, string>), 'the old secret still verifies')
  t.doesNotThrow(() => new Webhook(rotated.json.secret).verify(r.body, r.headers as Record<string, string>), 'the new one too')
  t.equal((await api.call('DELETE', `/v1/webhooks/${sub.id}`)).status, 204)
  t.equal((await api.call('GET', `/v1/webhooks/${sub.id}`)).status, 404)
})

t.test('dead letters: a 4xx is not retried, retries end after the limit, a failing subscription is disabled', async (t) => {
  const api = await testApp(t, { env: { WEBHOOK_MAX_ATTEMPTS: '2', WEBHOOK_DISABLE_AFTER_HOURS: '1' } })
  const gone = await receiver(t, [410])
  const subGone = await subscribe(api, gone.url, ['complaint.received'])
  gone.state.secret = subGone.secret
  const down = await receiver(t, [503, 503, 503, 503])
  const subDown = await subscribe(api, down.url, ['complaint.*'])
  down.state.secret = subDown.secret
  await api.call('POST', '/v1/complaints', webComplaint())
  await drain(api)
  const goneLog = (await api.call('GET', `/v1/webhooks/${subGone.id}/deliveries`)).json.items[0]
  t.same([goneLog.status, goneLog.attempts, goneLog.lastStatusCode], ['dead', 1, 410], '410 is dead-lettered at once')
  api.clock.advanceMinutes(2)
  await drain(api)
  const downLog = (await api.call('GET', `/v1/webhooks/${subDown.id}/deliveries`)).json.items[0]
  t.same([downLog.status, downLog.attempts], ['dead', 2], 'dead after WEBHOOK_MAX_ATTEMPTS')
  t.equal((await api.call('GET', `/v1/webhooks/${subDown.id}/deliveries?status=dead`)).json.items.length, 1)

  api.clock.advanceMinutes(61)
  await api.call('POST', '/v1/complaints', webComplaint())
  await drain(api)
  const disabled = (await api.call('GET', `/v1/webhooks/${subDown.id}`)).json
  t.equal(disabled.status, 'disabled')
  t.match(disabled.disabledReason, /failed for 1 hours/)
  const events = await api.db.selectFrom('outbox_events').select('payload').where('type', '=', 'webhook.subscription_disabled').execute()
  t.ok(events.some((e) => (e.payload as any).data.subscription.id === subDown.id), 'and says so with an event')

  down.state.answers.length = 0
  await api.call('PATCH', `/v1/webhooks/${subDown.id}`, { status: 'active' })
  const bulk = await api.call('POST', `/v1/webhooks/${subDown.id}/replay`, { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', statuses: ['dead', 'retrying'] })
  t.equal(bulk.json.replayed, 2, 'the failed deliveries of the range')
  await drain(api)
  t.equal((await api.call('GET', `/v1/webhooks/${subDown.id}/deliveries?status=succeeded`)).json.items.length, 2)
  const page1 = (await api.call('GET', `/v1/webhooks/${subDown.id}/deliveries?limit=1`)).json
  const page2 = (await api.call('GET', `/v1/webhooks/${subDown.id}/deliveries?limit=1&cursor=${page1.nextCursor}`)).json
  t.equal(page2.nextCursor, null)
  t.not(page2.items[0].id, page1.items[0].id, 'keyset pages do not overlap')
  t.equal((await api.call('GET', `/v1/webhooks/${subDown.id}/deliveries?cursor=nonsense`)).status, 400)
  const metrics = (await api.app.inject({ method: 'GET', url: '/metrics', headers: metricsHeaders })).body
  t.match(metrics, /complaint_webhook_deliveries\{status="succeeded"\} 2\n/, 'the two replayed and sent')
  t.match(metrics, /complaint_webhook_deliveries\{status="pending"\} 1\n/, 'the second complaint to the receiver that answered 410: held')
  t.match(metrics, /complaint_webhook_deliveries\{status="dead"\} 1\n/, 'the 410 one')
  t.match(metrics, /complaint_outbox_lag_seconds 0\n/, 'every event fanned out')
})

t.test('a receiver answering 410 Gone: the delivery is dead-lettered and the subscription disabled at once, with an event', async (t) => {
  const api = await testApp(t) // WEBHOOK_DISABLE_AFTER_HOURS 72: time plays no part
  const gone = await receiver(t, [410])
  const sub = await subscribe(api, gone.url, ['complaint.received'])
  gone.state.secret = sub.secret
  const watcher = await receiver(t)
  const ops = await subscribe(api, watcher.url, ['webhook.*'])
  watcher.state.secret = ops.secret
  await api.call('POST', '/v1/complaints', webComplaint())
  await drain(api)
  const log = (await api.call('GET', `/v1/webhooks/${sub.id}/deliveries`)).json.items
  t.same(log.map((d: { status: string; lastStatusCode: number }) => [d.status, d.lastStatusCode]), [['dead', 410]], 'dead-lettered after one attempt')
  const disabled = (await api.call('GET', `/v1/webhooks/${sub.id}`)).json
  t.equal(disabled.status, 'disabled')
  t.equal(disabled.disabledReason, 'the receiver answered 410 Gone')
  const events = watcher.state.received.map((r) => JSON.parse(r.body))
  t.same(events.map((e) => [e.type, e.data.subscription.id, e.data.reason]), [['webhook.subscription_disabled', sub.id, 'the receiver answered 410 Gone']],
    'webhook.subscription_disabled went out through the outbox')
  t.same(events[0].data.subscription.host, new URL(gone.url).host, 'naming the host, not the URL')

  await api.call('POST', '/v1/complaints', webComplaint())
  await drain(api)
  t.equal(gone.state.received.length, 1, 'nothing more is sent to it')
  t.equal(watcher.state.received.length, 1, 'and it is disabled once')
})

t.test('the event catalogue lists every event type the code emits', async (t) => {
  const root = new URL('../../src/', import.meta.url).pathname
  const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(path.join(dir, f)).isDirectory() ? files(path.join(dir, f)) : [path.join(dir, f)]))
  const emitted = new Set(files(root).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/'((?:complaint|sla|webhook|penalty|bulletin)\.[a-z_]+)'/g)].map((m) => m[1]!)))
  for (const type of emitted) t.ok(type in EVENT_TYPES, `${type} is in the catalogue`)
  const doc = (await testApp(t)).app.swagger() as any
  t.same(Object.keys(doc.webhooks).sort(), Object.keys(EVENT_TYPES).sort(), 'and in the OpenAPI document')
})

t.test('a sender whose claim expired cannot record over the sender that took the delivery over', async (t) => {
  const api = await testApp(t, { env: { WEBHOOK_TIMEOUT_MS: '5000' } })
  let releaseFirst: () => void = () => {}
  const gate = new Promise<void>((resolve) => (releaseFirst = resolve))
  let calls = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      calls++
      if (calls === 1) void gate.then(() => res.writeHead(200).end())
      else res.writeHead(200).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  await subscribe(api, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, ['complaint.received'])
  await api.call('POST', '/v1/complaints', webComplaint())
  const first = dispatchOnce(api.app.services) // claims and waits at the gate
  while (calls === 0) await new Promise((resolve) => setImmediate(resolve))
  api.clock.advanceMinutes(60) // the first claim's lease has run out
  const second = await dispatchOnce(api.app.services)
  t.equal(second.succeeded, 1, 'another sender took the delivery over and recorded it')
  releaseFirst()
  t.equal((await first).succeeded, 0, 'the first sender finds its claim gone and records nothing')
  const d = await api.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow()
  t.same([d.status, d.attempts], ['succeeded', 1])
  t.equal((await api.db.selectFrom('webhook_attempts').select('id').execute()).length, 1, 'one attempt on record')
})

t.test('a delivery being sent cannot be replayed; SSRF checks in production mode', async (t) => {
  const api = await testApp(t)
  const sub = await subscribe(api, 'http://127.0.0.1:9/none', ['complaint.received'])
  await api.call('POST', '/v1/complaints', webComplaint())
  await dispatchOnce(api.app.services, { concurrency: 0 }) // fan out only
  const d = await api.db.selectFrom('webhook_deliveries').select('id').where('subscription_id', '=', sub.id).executeTakeFirstOrThrow()
  await api.db.updateTable('webhook_deliveries').set({ status: 'sending', locked_until: new Date(api.clock.now().getTime() + 60_000) }).where('id', '=', d.id).execute()
  t.equal((await api.call('POST', `/v1/deliveries/${d.id}/replay`)).status, 409)
  api.clock.advanceMinutes(2)
  t.equal((await api.call('POST', `/v1/deliveries/${d.id}/replay`)).status, 202, 'once the claim has expired it can')

  const strict = await testApp(t, { env: { WEBHOOK_ALLOW_INSECURE_URLS: 'false' } })
  for (const url of ['https://localhost./h', 'https://metadata.google.internal./h', 'https://[::ffff:127.0.0.1]/h', 'https://[::7f00:1]/h', 'https://[fe90::1]/h', 'https://[64:ff9b::a9fe:a9fe]/h', 'https://224.0.0.1/h', 'https://198.18.0.1/h', 'https://100.64.0.1/h']) {
    t.equal((await strict.call('POST', '/v1/webhooks', { url, eventTypes: ['*'] })).status, 422, `${url} is refused`)
  }
  const lookup = await new Promise<{ err: NodeJS.ErrnoException | null }>((resolve) => publicOnlyLookup('localhost', {}, (err) => resolve({ err })))
  t.equal(lookup.err?.code, 'EBLOCKED', 'at send time a name resolving to a loopback address is refused (DNS rebinding)')
})

t.test('secrets at rest: stored sealed (AES-256-GCM), opened only to sign; without a key no subscription is made', async (t) => {
  const api = await testApp(t)
  const rx = await receiver(t)
  const sub = await subscribe(api, rx.url, ['complaint.received'])
  rx.state.secret = sub.secret
  const stored = await api.db.selectFrom('webhook_subscriptions').select(['secret']).where('id', '=', sub.id).executeTakeFirstOrThrow()
  t.match(stored.secret, /^enc:v1:[0-9a-f]{8}:/, 'sealed with a key id')
  t.notOk(stored.secret.includes(sub.secret.slice(6, 20)), 'the plain secret is not in the row')
  t.equal(api.app.services.secrets.open(stored.secret), sub.secret, 'and opens to what the subscriber was shown')
  const rotated = (await api.call('POST', `/v1/webhooks/${sub.id}/rotate-secret`, { overlapMinutes: 0 })).json
  const after = await api.db.selectFrom('webhook_subscriptions').select(['secret', 'previous_secret']).where('id', '=', sub.id).executeTakeFirstOrThrow()
  t.equal(after.previous_secret, stored.secret, 'the old secret stays sealed as it was')
  t.equal(api.app.services.secrets.open(after.secret), rotated.secret)
  rx.state.secret = rotated.secret
  await api.call('POST', '/v1/complaints', webComplaint())
  await drain(api)
  t.equal(rx.state.received.length, 1)
  t.ok(rx.state.received[0]!.verified, 'deliveries are signed with the opened secret')
  // a sealed value is authenticated: one changed character and it does not open
  const tampered = after.secret.slice(0, -3) + (after.secret.at(-3) === 'A' ? 'B' : 'A') + after.secret.slice(-2)
  t.throws(() => api.app.services.secrets.open(tampered), 'tampering is detected (GCM tag)')

  const keyless = await testApp(t, { env: { SECRETS_KEY: '' } })
  const refused = await keyless.call('POST', '/v1/webhooks', { url: rx.url, eventTypes: ['complaint.received'] })
  t.equal(refused.status, 503)
  t.match(refused.json.type, /\/secrets-key-missing$/)
  t.match(refused.json.detail, /SECRETS_KEY/)
  t.equal((await keyless.db.selectFrom('webhook_subscriptions').select('id').execute()).length, 0, 'nothing written')
})

t.test('key rotation by re-encryption: the previous key opens what it sealed until everything is sealed with the new one', async (t) => {
  const { parseKey, sealStoredSecrets, secretBox } = await import('../../src/webhooks/secrets.js')
  const api = await testApp(t)
  const a = await subscribe(api, 'http://127.0.0.1:9/a')
  const b = await subscribe(api, 'http://127.0.0.1:9/b')
  await api.call('POST', `/v1/webhooks/${b.id}/rotate-secret`, { overlapMinutes: 60 })
  // a subscription from before encryption: its secret in plain text
  const legacy = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
  await api.db.updateTable('webhook_subscriptions').set({ secret: legacy }).where('id', '=', a.id).execute()
  const oldKey = api.config.SECRETS_KEY!
  const newKey = Buffer.alloc(32, 9).toString('hex')
  t.equal(parseKey(newKey, 'SECRETS_KEY').length, 32, 'hex keys are accepted too')
  t.throws(() => parseKey('c2hvcnQ=', 'SECRETS_KEY'), /32 bytes/)

  await t.rejects(sealStoredSecrets(api.db, secretBox(newKey)), /neither SECRETS_KEY nor SECRETS_KEY_PREVIOUS/, 'the new key alone cannot open the old secrets: the start is refused')
  await t.rejects(sealStoredSecrets(api.db, secretBox(undefined)), /SECRETS_KEY is not set/, 'no key with subscriptions: the start is refused')
  const rotation = secretBox(newKey, oldKey)
  t.equal(await sealStoredSecrets(api.db, rotation), 2, 'both subscriptions re-sealed (one had a plain secret)')
  t.equal(await sealStoredSecrets(api.db, rotation), 0, 'a second run has nothing to do')
  const rows = await api.db.selectFrom('webhook_subscriptions').select(['id', 'secret', 'previous_secret']).execute()
  const onlyNew = secretBox(newKey)
  for (const row of rows) {
    t.ok(onlyNew.current(row.secret), 'sealed with the new key')
    t.ok(row.previous_secret === null || onlyNew.current(row.previous_secret), 'the previous secret of a rotation too')
  }
  t.equal(onlyNew.open(rows.find((r) => r.id === a.id)!.secret), legacy, 'the plain secret, now sealed, opens to itself')
  t.equal(onlyNew.open(rows.find((r) => r.id === b.id)!.secret).startsWith('whsec_'), true)
  t.throws(() => secretBox(oldKey).open(rows[0]!.secret), /neither/, 'the old key no longer opens anything')
})

t.test('housekeeping prunes delivered events, their deliveries and attempt logs, dead letters and idempotency keys by age, in batches', async (t) => {
  const api = await testApp(t, { env: { OUTBOX_RETENTION_DAYS: '30', DEAD_LETTER_RETENTION_DAYS: '90', IDEMPOTENCY_KEY_HOURS: '24', WEBHOOK_MAX_ATTEMPTS: '1' } })
  const ok = await receiver(t)
  const okSub = await subscribe(api, ok.url, ['complaint.received'])
  ok.state.secret = okSub.secret
  const gone = await receiver(t, [500])
  const goneSub = await subscribe(api, gone.url, ['complaint.acknowledged'])
  gone.state.secret = goneSub.secret
  const old = (await api.call('POST', '/v1/complaints', webComplaint(), { 'idempotency-key': 'old-one' })).json
  await api.call('POST', `/v1/complaints/${old.id}/acknowledge`, { via: 'sms' })
  await drain(api)
  t.same(await counts(), { events: 2, deliveries: 2, attempts: 2, keys: 1 })
  // 2,500 old Idempotency-Keys: three batches
  await sql`insert into idempotency_keys (scope, key, request_hash, created_at)
    select 'test', 'k' || g, 'h', ${new Date(api.clock.now().getTime() - 2 * 86_400_000)} from generate_series(1, 2500) g`.execute(api.db)

  api.clock.advanceMinutes(31 * 24 * 60)
  const fresh = (await api.call('POST', '/v1/complaints', webComplaint(), { 'idempotency-key': 'fresh-one' })).json
  t.ok(fresh.id)
  // an event not yet dispatched stays however old: the dispatcher has not seen it
  const run1 = (await api.call('POST', '/v1/admin/jobs/housekeeping/run', {})).json.result
  t.same(run1, { prunedDeliveries: 1, prunedEvents: 1, prunedIdempotencyKeys: 2501, prunedTicks: 0 }, 'the successful delivery, its event, the old keys')
  t.same(await counts(), { events: 2, deliveries: 1, attempts: 1, keys: 1 }, 'the dead letter and its event stay (replayable); the fresh complaint’s event and key stay')
  t.equal((await api.call('POST', '/v1/complaints', webComplaint(), { 'idempotency-key': 'fresh-one' })).headers['idempotent-replayed'], 'true', 'a fresh key still replays')

  await drain(api)
  api.clock.advanceMinutes(60 * 24 * 60)
  const run2 = (await api.call('POST', '/v1/admin/jobs/housekeeping/run', {})).json.result
  t.equal(run2.prunedDeliveries, 2, 'the dead letter after 90 days, the fresh one after 30')
  t.equal(run2.prunedEvents, 2)
  t.same(await counts(), { events: 0, deliveries: 0, attempts: 0, keys: 0 })
  // the complaint record itself is never pruned
  t.equal((await api.call('GET', `/v1/complaints/${old.id}/timeline`)).json.items.length, 2)

  async function counts() {
    const n = async (table: 'outbox_events' | 'webhook_deliveries' | 'webhook_attempts' | 'idempotency_keys') =>
      Number((await api.db.selectFrom(table).select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n)
    return { events: await n('outbox_events'), deliveries: await n('webhook_deliveries'), attempts: await n('webhook_attempts'), keys: await n('idempotency_keys') }
  }
})

t.test('a redirect is not followed: the delivery is dead-lettered at once and the redirect target gets nothing', async (t) => {
  const api = await testApp(t)
  const elsewhere = await receiver(t)
  const redirecting = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(307, { location: elsewhere.url }).end())
  })
  await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => redirecting.close(resolve)))
  const sub = await subscribe(api, `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/hooks`, ['complaint.received'])
  await api.call('POST', '/v1/complaints', webComplaint())
  await drain(api)
  const log = (await api.call('GET', `/v1/webhooks/${sub.id}/deliveries`)).json.items
  t.same(log.map((d: { status: string; attempts: number; lastStatusCode: number }) => [d.status, d.attempts, d.lastStatusCode]), [['dead', 1, 307]])
  t.equal(elsewhere.state.received.length, 0, 'the Location was not visited')
})
