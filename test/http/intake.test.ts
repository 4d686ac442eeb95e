import t from 'tap'
import { testApp, webComplaint } from '../helper.js'

const DAY = 86_400_000

t.test('receivedAt: a letter or a late-entered call runs its clocks from receipt and keeps both times', async (t) => {
  const api = await testApp(t)
  const now = api.clock.now()
  const receivedAt = new Date(now.getTime() - 2 * DAY - 1234).toISOString()
  const res = await api.call('POST', '/v1/complaints', webComplaint({ channel: 'letter', receivedAt }))
  t.equal(res.status, 201)
  t.equal(res.json.receivedAt, receivedAt)
  t.equal(res.json.clockStartedAt, receivedAt, 'the clocks run from receipt')
  t.equal(res.json.createdAt, now.toISOString(), 'createdAt is when it was entered')
  const fresh = (await api.call('POST', '/v1/complaints', webComplaint({ channel: 'letter' }))).json
  t.ok(Date.parse(res.json.deadlines.closureDueAt) < Date.parse(fresh.deadlines.closureDueAt), 'an earlier receipt is due earlier')
  const receive = (await api.call('GET', `/v1/complaints/${res.json.id}/timeline`)).json.items[0]
  t.equal(receive.at, receivedAt, 'the receive entry is stamped with the time of receipt')
  t.same([receive.data.receivedAt, receive.data.enteredAt], [receivedAt, now.toISOString()], 'and records when it was entered')
})

t.test('receivedAt is never in the future nor older than BACKDATE_WINDOW_DAYS; occurredAt is not after it', async (t) => {
  const api = await testApp(t, { env: { BACKDATE_WINDOW_DAYS: '10' } })
  const now = api.clock.now().getTime()
  for (const [receivedAt, why] of [[now + 1, 'in the future'], [now - 10 * DAY - 1, 'older than the window']] as const) {
    const res = await api.call('POST', '/v1/complaints', webComplaint({ receivedAt: new Date(receivedAt).toISOString() }))
    t.equal(res.status, 422, why)
    t.equal(res.json.errors[0].field, '/body/receivedAt', why)
  }
  t.equal((await api.call('POST', '/v1/complaints', webComplaint({ receivedAt: new Date(now - 10 * DAY).toISOString() }))).status, 201, 'the window’s edge is accepted')
  const late = await api.call('POST', '/v1/complaints', webComplaint({ receivedAt: new Date(now - DAY).toISOString(), occurredAt: new Date(now - DAY + 1).toISOString() }))
  t.equal(late.status, 422)
  t.equal(late.json.errors[0].field, '/body/occurredAt')
})

t.test('the reference number takes the year of receipt', async (t) => {
  const api = await testApp(t, { now: '2027-01-01T01:30:00.500Z' }) // 09:30 on 1 January in Shanghai
  const res = await api.call('POST', '/v1/complaints', webComplaint({ channel: 'letter', receivedAt: '2026-12-31T09:00:00.000Z' }))
  t.equal(res.status, 201)
  t.match(res.json.reference, /^CP-2026-\d{6}$/, 'received on 31 December: a 2026 number')
  const today = await api.call('POST', '/v1/complaints', webComplaint())
  t.match(today.json.reference, /^CP-2027-000001$/, 'received today: the new year’s first number')
})
