import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import t from 'tap'
import { createLogger } from '../../src/app.js'
import { failInserts, rowCounts, testApp, webComplaint, type TestApp } from '../helper.js'

async function received(api: TestApp) {
  const res = await api.call('POST', '/v1/complaints', webComplaint())
  return res.json as { id: string; version: number }
}

async function assessed(api: TestApp) {
  const c = await received(api)
  await api.call('POST', `/v1/complaints/${c.id}/assess`, { categoryId: 'service_quality', level: 'general', departmentId: 'service-station' })
  await api.call('POST', `/v1/complaints/${c.id}/handover`, {})
  await api.call('POST', `/v1/complaints/${c.id}/sign`, { signedBy: '李娜' })
  return (await api.call('GET', `/v1/complaints/${c.id}`)).json
}

t.test('an illegal transition is 409 problem+json naming the current state and the allowed actions', async (t) => {
  const api = await testApp(t)
  const c = await received(api)
  await api.call('POST', `/v1/complaints/${c.id}/assess`, { categoryId: 'service_quality', level: 'general', departmentId: 'service-station' })
  const res = await api.call('POST', `/v1/complaints/${c.id}/sign`, { signedBy: '李娜' })
  t.equal(res.status, 409)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.equal(res.json.currentStatus, 'assessed')
  t.same(res.json.allowedActions, ['acknowledge', 'assess', 'handover', 'add_note', 'withdraw', 'pause', 'link_external_ids'])
  t.match(res.json.type, /problems\/conflict$/)
  t.match(res.json.detail, /cannot sign a complaint in status assessed/)
})

t.test('closure needs a first reply and a root cause: 422 naming what is missing', async (t) => {
  const api = await testApp(t)
  const c = await assessed(api)
  t.notOk(c.allowedActions.includes('request_closure'), 'not offered before the first reply')
  const early = await api.call('POST', `/v1/complaints/${c.id}/closure-request`, { resultSummary: 'done' })
  t.equal(early.status, 422)
  t.match(early.json.detail, /has not replied yet/)
  t.same(early.json.errors.map((e: { field: string }) => e.field), ['/complaint/firstRepliedAt'])
  t.notOk(early.json.allowedActions.includes('request_closure'), 'the refusal does not list what it refused')
  await api.call('POST', `/v1/complaints/${c.id}/replies`, { body: 'on it' })
  const noCause = await api.call('POST', `/v1/complaints/${c.id}/closure-request`, { resultSummary: 'done' })
  t.equal(noCause.status, 422)
  t.same(noCause.json.errors, [{ field: '/body/rootCause', message: noCause.json.errors[0].message }])
})

t.test('a stale If-Match is 412 and changes nothing', async (t) => {
  const api = await testApp(t)
  const c = await received(api)
  const ok = await api.call('POST', `/v1/complaints/${c.id}/acknowledge`, { via: 'sms' }, { 'if-match': '"1"' })
  t.equal(ok.status, 200)
  t.equal(ok.headers.etag, '"2"')
  const before = await rowCounts(api.db)
  const stale = await api.call('POST', `/v1/complaints/${c.id}/assess`, { categoryId: 'sales', level: 'general', departmentId: 'sales' }, { 'if-match': '"1"' })
  t.equal(stale.status, 412)
  t.equal(stale.json.currentVersion, 2)
  t.same(await rowCounts(api.db), before)
  t.equal((await api.call('GET', `/v1/complaints/${c.id}`)).json.level, null)
})

t.test('acknowledging twice changes nothing the second time', async (t) => {
  const api = await testApp(t)
  const c = await received(api)
  const first = await api.call('POST', `/v1/complaints/${c.id}/acknowledge`, { via: 'sms' })
  const second = await api.call('POST', `/v1/complaints/${c.id}/acknowledge`, { via: 'email' })
  t.equal(second.status, 200)
  t.equal(second.json.version, first.json.version)
  t.equal(second.json.acknowledgedVia, 'sms')
})

t.test('Idempotency-Key: a retry returns the first result, a different body with the same key is 422', async (t) => {
  const api = await testApp(t)
  const body = webComplaint()
  const first = await api.call('POST', '/v1/complaints', body, { 'idempotency-key': 'crm-sync-42' })
  const retry = await api.call('POST', '/v1/complaints', { ...body, description: body.description, channel: 'web' }, { 'idempotency-key': 'crm-sync-42' })
  t.equal(first.status, 201)
  t.equal(retry.status, 201)
  t.equal(retry.json.id, first.json.id)
  t.equal(retry.json.reference, first.json.reference)
  t.equal(retry.headers['idempotent-replayed'], 'true')
  t.equal((await rowCounts(api.db)).complaints, 1)

  const reordered = await api.call('POST', '/v1/complaints', Object.fromEntries(Object.entries(body).reverse()), { 'idempotency-key': 'crm-sync-42' })
  t.equal(reordered.json.id, first.json.id, 'key order does not make a different request')

  const other = await api.call('POST', '/v1/complaints', { ...body, description: 'something else' }, { 'idempotency-key': 'crm-sync-42' })
  t.equal(other.status, 422)
  t.equal(other.json.errors[0].field, '/headers/idempotency-key')
  t.equal((await rowCounts(api.db)).complaints, 1)

  const withoutKey = await api.call('POST', '/v1/complaints', body)
  t.not(withoutKey.json.id, first.json.id, 'no key, no deduplication')
})

t.test('bad bodies are 400 naming the field: wrong types and unknown properties are never coerced or dropped', async (t) => {
  const api = await testApp(t)
  const wrongType = await api.call('POST', '/v1/complaints', webComplaint({ complainant: { name: 123 } }))
  t.equal(wrongType.status, 400)
  t.match(wrongType.headers['content-type'], /^application\/problem\+json/)
  t.same(wrongType.json.errors, [{ field: '/body/complainant/name', message: 'must be string' }])

  const unknown = await api.call('POST', '/v1/complaints', webComplaint({ priority: 'high' }))
  t.equal(unknown.status, 400)
  t.same(unknown.json.errors, [{ field: '/body/priority', message: 'is not a known property' }])

  const missing = await api.call('POST', '/v1/complaints', { channel: 'fax', complainant: { name: 'x' } })
  t.equal(missing.status, 400)
  t.same(missing.json.errors.map((e: { field: string }) => e.field).sort(), ['/body/channel', '/body/description'])

  const c = await received(api)
  for (const satisfaction of ['5', 7]) {
    const res = await api.call('POST', `/v1/complaints/${c.id}/closure-callback`, { satisfied: true, satisfaction })
    t.equal(res.status, 400, `satisfaction ${JSON.stringify(satisfaction)} is rejected`)
    t.equal(res.json.errors[0].field, '/body/satisfaction')
  }
  const notJson = await api.app.inject({
    method: 'POST', url: '/v1/complaints', payload: '{"channel":',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await api.keyFor('cs_agent')}` },
  })
  t.equal(notJson.statusCode, 400)
  t.match(notJson.headers['content-type'], /^application\/problem\+json/)
  t.equal((await rowCounts(api.db)).complaints, 1)
})

t.test('a CAPA whose measures are all vague is 422 and nothing is recorded', async (t) => {
  const api = await testApp(t)
  const c = await assessed(api)
  const before = await rowCounts(api.db)
  const res = await api.call('POST', `/v1/complaints/${c.id}/investigation`, {
    rootCause: 'Staff did not follow the procedure.',
    capa: { measures: [{ type: 'preventive', action: '加强培训' }, { type: 'corrective', action: '加强检查' }, { type: 'preventive', action: 'Pay more attention' }] },
  })
  t.equal(res.status, 422)
  t.match(res.json.type, /vague-capa$/)
  t.equal(res.json.errors[0].field, '/body/capa/measures')
  t.same(await rowCounts(api.db), before)
  t.equal((await api.call('GET', `/v1/complaints/${c.id}`)).json.rootCause, null)
})

t.test('unknown ids are 404, malformed ids 400', async (t) => {
  const api = await testApp(t)
  const id = randomUUID()
  for (const [method, url] of [['GET', `/v1/complaints/${id}`], ['GET', `/v1/complaints/${id}/timeline`], ['POST', `/v1/complaints/${id}/withdraw`]] as const) {
    const res = await api.call(method, url, method === 'POST' ? { reason: 'x' } : undefined)
    t.equal(res.status, 404, `${method} ${url}`)
    t.match(res.json.detail, id)
  }
  const malformed = await api.call('GET', '/v1/complaints/not-a-uuid')
  t.equal(malformed.status, 400)
  t.equal(malformed.json.errors[0].field, '/params/id')
  const noRoute = await api.call('GET', '/v1/nothing-here')
  t.equal(noRoute.status, 404)
  t.match(noRoute.headers['content-type'], /^application\/problem\+json/)
})

t.test('a request that fails half-way leaves nothing half written', async (t) => {
  const api = await testApp(t)
  const c = await received(api)

  // a rule failure after the row is locked: nothing changes
  const before = await rowCounts(api.db)
  const bad = await api.call('POST', `/v1/complaints/${c.id}/assess`, { categoryId: 'no-such-category', level: 'general', departmentId: 'sales' })
  t.equal(bad.status, 422)
  t.equal(bad.json.errors[0].field, '/body/categoryId')
  t.same(await rowCounts(api.db), before)

  // a database failure on the last write of the step (the outbox insert) rolls back the complaint and timeline too
  const repair = await failInserts(t, api.db, 'outbox_events', 'before')
  const failed = await api.call('POST', `/v1/complaints/${c.id}/acknowledge`, { via: 'sms' })
  t.equal(failed.status, 500)
  t.notMatch(JSON.stringify(failed.json), /injected failure/, 'internal errors do not leak details')
  const createFailed = await api.call('POST', '/v1/complaints', webComplaint(), { 'idempotency-key': 'k-1' })
  t.equal(createFailed.status, 500)
  // without a key the intake is one statement outside any transaction: its failure, too, leaves nothing
  t.equal((await api.call('POST', '/v1/complaints', webComplaint())).status, 500)
  t.same(await rowCounts(api.db), before, 'no complaint, timeline entry, event or idempotency key was left behind')
  const still = (await api.call('GET', `/v1/complaints/${c.id}`)).json
  t.equal(still.status, 'received')
  t.equal(still.version, 1)

  await repair()
  const retried = await api.call('POST', '/v1/complaints', webComplaint(), { 'idempotency-key': 'k-1' })
  t.equal(retried.status, 201, 'the key of a failed create is free for the retry')
  t.equal(retried.json.reference, 'CP-2026-000002', 'the failed create did not use up a reference number')
})

t.test('the timeline is append-only in the database itself', async (t) => {
  const api = await testApp(t)
  await received(api)
  await t.rejects(sql`update complaint_timeline set action = 'forged'`.execute(api.db), /append-only/)
  await t.rejects(sql`delete from complaint_timeline`.execute(api.db), /append-only/)
})

t.test('hostile input is a 400, never a database error', async (t) => {
  const api = await testApp(t)
  await received(api)
  const forged = Buffer.from(JSON.stringify({ c: '2026-01-01T00:00:00Z', i: 'x' })).toString('base64url')
  t.equal((await api.call('GET', `/v1/complaints?cursor=${forged}`)).status, 400, 'a forged cursor')
  t.equal((await api.call('GET', '/v1/complaints?q=%00')).status, 400, 'NUL in a search')
  const nul = await api.call('POST', '/v1/complaints', webComplaint({ description: 'a\u0000b' }))
  t.equal(nul.status, 400, 'NUL in a body')
  t.equal(nul.json.errors[0].field, '/body/description')
  t.equal((await rowCounts(api.db)).complaints, 1)
})

t.test('If-Match compares strongly: a weak tag never matches', async (t) => {
  const api = await testApp(t)
  const c = await received(api)
  t.equal((await api.call('POST', `/v1/complaints/${c.id}/acknowledge`, { via: 'sms' }, { 'if-match': 'W/"1"' })).status, 412)
  t.equal((await api.call('POST', `/v1/complaints/${c.id}/acknowledge`, { via: 'sms' }, { 'if-match': '"7", "1"' })).status, 200, 'any listed tag may match')
})

t.test('an Idempotency-Key belongs to the key that used it', async (t) => {
  const api = await testApp(t)
  const body = webComplaint()
  const first = await api.call('POST', '/v1/complaints', body, { 'idempotency-key': 'same' }, 'cs_agent')
  const other = await api.call('POST', '/v1/complaints', body, { 'idempotency-key': 'same' }, 'integration')
  t.equal(other.status, 201)
  t.not(other.json.id, first.json.id, 'another caller does not get the first caller’s response')
})

t.test('a response that cannot be produced rolls its change back: a 500 naming the request id, logged with the complaint id', async (t) => {
  const lines: string[] = []
  const api = await testApp(t, { logger: createLogger({ LOG_LEVEL: 'error' }, { write: (line: string) => void lines.push(line) }) })
  const c = await received(api)
  const before = await rowCounts(api.db)
  // a calendar without working hours: the clocks of the response cannot be computed
  const { sla } = api.app.services
  const calendar = sla.calendar
  sla.calendar = async (via) => ({ ...(await calendar(via)), blocks: [] })
  t.teardown(() => void (sla.calendar = calendar))

  const step = await api.call('POST', `/v1/complaints/${c.id}/notes`, { kind: 'fact', body: '客户来电补充' }, { 'x-request-id': 'req-render-step' })
  t.equal(step.status, 500)
  t.match(step.headers['content-type'], /^application\/problem\+json/)
  t.equal(step.json.requestId, 'req-render-step')
  t.match(step.json.detail, /req-render-step/)
  const create = await api.call('POST', '/v1/complaints', webComplaint(), { 'x-request-id': 'req-render-create' })
  t.equal(create.status, 500)
  t.same(await rowCounts(api.db), before, 'neither the note nor the new complaint was committed')
  sla.calendar = calendar
  t.equal((await api.call('GET', `/v1/complaints/${c.id}`)).json.version, 1)

  const logged = lines.map((l) => JSON.parse(l) as { reqId?: string; complaintId?: string; msg: string })
  t.ok(logged.some((l) => l.reqId === 'req-render-step' && l.complaintId === c.id && l.msg === 'unhandled error'), 'the error is logged with the request and the complaint')
  t.ok(logged.some((l) => l.reqId === 'req-render-create' && l.msg === 'unhandled error'), 'a failed create is logged with its request')
})

t.test('every date input is checked against one range and answers 400 naming the field, never 500', async (t) => {
  const api = await testApp(t)
  const c = await received(api)
  const bad = ['2026-12-31T23:59:60Z', '2016-12-31T23:59:60Z', '0000-01-01T00:00:00Z', '1899-12-31T23:59:59Z', '3000-01-01T00:00:00Z',
    '+275760-09-13T00:00:00Z', '-010000-01-01T00:00:00Z', '2026-02-30T10:00:00Z', '2026-11-28T10:00:00', '2026-11-28T24:00:00Z', '2026-11-28T10:00:00+24:00']
  for (const value of bad) {
    const cases: Array<[string, Promise<{ status: number; json: any }>]> = [
      ['/body/occurredAt', api.call('POST', '/v1/complaints', webComplaint({ occurredAt: value }))],
      ['/body/receivedAt', api.call('POST', '/v1/complaints', webComplaint({ receivedAt: value }))],
      ['/body/acknowledgedAt', api.call('POST', `/v1/complaints/${c.id}/acknowledge`, { via: 'sms', acknowledgedAt: value })],
      ['/querystring/createdFrom', api.call('GET', `/v1/complaints?createdFrom=${encodeURIComponent(value)}`)],
      ['/querystring/createdTo', api.call('GET', `/v1/complaints?createdTo=${encodeURIComponent(value)}`)],
      ['/querystring/from', api.call('GET', `/v1/audit?from=${encodeURIComponent(value)}`, undefined, {}, 'auditor')],
      ['/querystring/to', api.call('GET', `/v1/audit?to=${encodeURIComponent(value)}`, undefined, {}, 'auditor')],
    ]
    for (const [field, pending] of cases) {
      const res = await pending
      t.equal(res.status, 400, `${field} = ${value}: 400`)
      t.ok(res.json.errors?.some((e: { field: string }) => e.field === field), `${field} = ${value}: the field is named`)
    }
  }
  for (const value of ['0000-01-01', '1899-12-31', '3000-01-01', '2026-02-30', '+275760-01-01']) {
    const res = await api.call('PUT', `/v1/admin/calendar/overrides/${encodeURIComponent(value)}`, { working: false }, {}, 'admin')
    t.equal(res.status, 400, `calendar date ${value}: 400`)
  }
  const cursor = (c: unknown, i: unknown = '0195f7a4-1111-7000-8000-000000000000') => Buffer.from(JSON.stringify({ c, i })).toString('base64url')
  for (const c of ['-010000-01-01T00:00:00.000Z', '+275760-09-13T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '2026-12-31T23:59:60.000Z', 99999999999999999999, '99999999999999999999']) {
    const res = await api.call('GET', `/v1/complaints?cursor=${cursor(c)}`)
    t.equal(res.status, 400, `a cursor at ${c}: 400`)
    t.equal(res.json.errors?.[0]?.field, '/querystring/cursor')
  }
  const huge = await api.call('GET', '/v1/audit?cursor=99999999999999999999', undefined, {}, 'auditor')
  t.equal(huge.status, 400, 'an audit cursor beyond any id')
  t.equal(huge.json.errors?.[0]?.field, '/querystring/cursor')
  const ok = await api.call('GET', `/v1/complaints?createdFrom=${encodeURIComponent('1900-01-01T08:00:00+08:00')}&createdTo=${encodeURIComponent('2999-12-31T23:59:59.999Z')}`)
  t.equal(ok.status, 200, 'the ends of the range are accepted (with an offset)')
})
