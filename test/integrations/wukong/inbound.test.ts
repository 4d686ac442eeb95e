import fc from 'fast-check'
import { sql } from 'kysely'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { rowCounts, testApp, type TestApp } from '../../helper.js'
import { crmTime } from '../../wukong-double.js'
import { gap, shanghaiInstant } from '../../arbitraries.js'
import { wukongApp } from './fixture.js'

/** The inbound endpoints: customers and complaints in 悟空CRM's field names, idempotent on the CRM's ids. */

const SECRET = `whsec_${Buffer.from('a secret the CRM adapter shares with us').toString('base64')}`

const customer = (id: number, updateTime: string, extra: Record<string, unknown> = {}) => ({
  customerId: id, customerName: `客户${id}`, mobile: `1390000${String(id).padStart(4, '0')}`, telephone: '', email: `c${id}@example.com`,
  address: '上海市,上海城区,浦东新区', detailAddress: '张江路 88 号', status: 1, updateTime, ...extra,
})

/** everything an inbound replay could touch */
async function footprint(api: TestApp) {
  const counts = await rowCounts(api.db)
  const r = await sql<{ audit: number; customers: number; imports: number; versions: number; touched: string }>`
    select (select count(*)::int from audit_log) as audit, (select count(*)::int from wukong_customers) as customers,
           (select count(*)::int from wukong_complaint_imports) as imports, (select coalesce(sum(version), 0)::int from complaints) as versions,
           (select coalesce(max(updated_at)::text, '') from wukong_customers) as touched`.execute(api.db)
  return { ...counts, ...r.rows[0]! }
}

t.test('customers: one or a batch, mapped to the complainant’s terms; older updates are stale; locked and deleted are recorded', async (t) => {
  // after the updateTimes below (10:05–10:07 Beijing time): one from the future is refused, as the next test shows
  const api = await testApp(t, { now: '2026-11-26T02:30:00.250Z' })
  const one = await api.call('POST', '/v1/integrations/wukong/customers', customer(1024, '2026-11-26 10:05:00', { mobile: '', telephone: '021-55667788' }))
  t.same(one.json, { items: [{ customerId: 1024, outcome: 'created', status: 'normal', updateTime: '2026-11-26 10:05:00' }] })
  const row = await api.db.selectFrom('wukong_customers').selectAll().executeTakeFirstOrThrow()
  t.same([row.name, row.phone, row.email, row.address], ['客户1024', '021-55667788', 'c1024@example.com', '上海市上海城区浦东新区 张江路 88 号'])
  t.equal(row.crm_update_time.toISOString(), '2026-11-26T02:05:00.000Z', 'GMT+8')

  const batch = await api.call('POST', '/v1/integrations/wukong/customers', [
    customer(1024, '2026-11-26 10:04:59', { customerName: '旧名字' }),
    customer(1025, '2026-11-26 10:06:00', { status: 2 }),
    customer(1026, '2026-11-26 10:06:00', { status: 3, customerName: '', email: 'no-address' }),
    customer(1025, '2026-11-26 10:07:00', { status: 1, customerName: '李娜' }),
  ])
  t.equal(batch.status, 200, JSON.stringify(batch.json))
  t.same(batch.json.items.map((i: { outcome: string; status: string }) => [i.outcome, i.status]),
    [['stale', 'normal'], ['created', 'locked'], ['created', 'deleted'], ['updated', 'normal']], 'in the order sent')
  t.equal(batch.json.items[0].updateTime, '2026-11-26 10:05:00', 'a stale one reports the updateTime kept')
  const deleted = await api.db.selectFrom('wukong_customers').selectAll().where('customer_id', '=', 1026).executeTakeFirstOrThrow()
  t.same([deleted.name, deleted.email, deleted.crm_status], ['悟空客户 1026', null, 3])
  const audit = (await api.call('GET', '/v1/audit?entityType=wukong_customer', undefined, {}, 'auditor')).json.items
  t.same(audit.map((a: { entityId: string }) => a.entityId).sort(), ['1024', '1025', '1026'], 'one entry per customer a request changed (1025’s two versions in one batch: one change)')
  t.match(audit.find((a: { entityId: string }) => a.entityId === '1024').after, { phone: '021****7788', email: 'c***@example.com' }, 'PII masked for auditors')
})

t.test('validation names the CRM’s fields', async (t) => {
  const api = await testApp(t)
  const missing = await api.call('POST', '/v1/integrations/wukong/customers', { customerId: 1, customerName: '张伟' })
  t.equal(missing.status, 400)
  t.ok(missing.json.errors.some((e: { field: string }) => e.field === '/body/updateTime'))
  const badTime = await api.call('POST', '/v1/integrations/wukong/customers', [customer(1, '2026-11-26 10:00:00'), customer(2, '2026-02-30 10:00:00')])
  t.same([badTime.status, badTime.json.errors], [400, [{ field: '/body/1/updateTime', message: '2026-02-30 10:00:00 is not a date and time (yyyy-MM-dd HH:mm:ss, GMT+8)' }]])
  const future = await api.call('POST', '/v1/integrations/wukong/customers', customer(1, crmTime(new Date(api.clock.now().getTime() + 3_600_000))))
  t.same([future.status, future.json.errors[0].field], [422, '/body/updateTime'], 'an updateTime from the future would make every real update look stale')
  const iso = await api.call('POST', '/v1/integrations/wukong/complaints', { customerId: 1, content: '异响', createTime: '2026-11-26T10:00:00+08:00' })
  t.same([iso.status, iso.json.errors[0].field], [400, '/body/createTime'])
  const unknown = await api.call('POST', '/v1/integrations/wukong/complaints', { customerId: 1, content: '异响', createTime: '2026-11-26 10:00:00', lastContent: 'x' })
  t.same([unknown.status, unknown.json.errors[0].field], [400, '/body/lastContent'])
  t.equal((await api.call('POST', '/v1/integrations/wukong/customers', customer(1, '2026-11-26 10:00:00'), {}, 'cs_agent')).status, 403, 'the integration role only')
})

t.test('a complaint recorded in the CRM: received with channel crm_sync, receivedAt from its GMT+8 time, the complainant from the customer', async (t) => {
  const api = await testApp(t, { now: '2026-11-26T02:30:00.250Z' })
  await api.call('POST', '/v1/integrations/wukong/customers', customer(1024, '2026-11-20 09:00:00'))
  const res = await api.call('POST', '/v1/integrations/wukong/complaints', { customerId: 1024, content: '刹车异响，要求重新检修。', createTime: '2026-11-26 09:41:07', category: '打电话', activityId: 88231 })
  t.equal(res.status, 201)
  t.same([res.json.outcome, res.json.customerId], ['created', 1024])
  t.match(res.json.trackingToken, /^[A-Za-z0-9_-]{24}$/)
  t.equal(res.headers.location, `/v1/complaints/${res.json.complaintId}`)
  const c = (await api.call('GET', res.headers.location as string)).json
  t.same([c.channel, c.receivedAt, c.reference, c.description], ['crm_sync', '2026-11-26T01:41:07.000Z', res.json.reference, '刹车异响，要求重新检修。'])
  t.same(c.complainant, { name: '客户1024', kind: 'person', phone: '13900001024', email: 'c1024@example.com', idNumber: null, address: '上海市上海城区浦东新区 张江路 88 号', externalIds: [{ system: 'wukong', customerId: '1024' }] })
  const event = await api.db.selectFrom('outbox_events').select('payload').where('type', '=', 'complaint.received').executeTakeFirstOrThrow()
  t.same((event.payload as any).data.complaint.complainant.externalIds, [{ system: 'wukong', customerId: '1024' }], 'its events carry the CRM id')
  const imported = await api.db.selectFrom('wukong_complaint_imports').selectAll().executeTakeFirstOrThrow()
  t.same([imported.import_key, imported.crm_category, imported.complaint_id], ['activity:88231', '打电话', c.id])

  const edited = await api.call('POST', '/v1/integrations/wukong/complaints', { customerId: 1024, content: '改过的内容', createTime: '2026-11-26 09:41:07', activityId: 88231 })
  t.equal(edited.status, 409, 'the same CRM record with other content is not imported again')
  const future = await api.call('POST', '/v1/integrations/wukong/complaints', { customerId: 1024, content: '未来', createTime: '2026-11-26 10:40:00' })
  t.same([future.status, future.json.errors[0].field], [422, '/body/createTime'], 'the receive rules, named by the CRM field')
  const skew = await api.call('POST', '/v1/integrations/wukong/complaints', { customerId: 1024, content: '时钟快两分钟', createTime: '2026-11-26 10:32:00' })
  t.equal((await api.call('GET', `/v1/complaints/${skew.json.complaintId}`)).json.receivedAt, '2026-11-26T02:30:00.250Z', 'a CRM clock a little ahead: received now')
  const old = await api.call('POST', '/v1/integrations/wukong/complaints', { customerId: 1024, content: '太久以前', createTime: '2026-10-01 10:00:00' })
  t.same([old.status, old.json.errors[0].field], [422, '/body/createTime'])
  const stranger = await api.call('POST', '/v1/integrations/wukong/complaints', { customerId: 999, content: '未知客户', createTime: '2026-11-26 09:00:00' })
  t.same([stranger.status, stranger.json.errors[0].field], [422, '/body/customerId'], 'not mirrored, and no CRM to ask')
})

t.test('a customer the mirror lacks is asked of the CRM; a deleted one is refused; a CRM that is down is a 503', async (t) => {
  const { api, crm } = await wukongApp(t)
  const c = crm.addCustomer({ customerName: '冯敏', mobile: '13512345678', updateTime: crmTime(new Date(api.clock.now().getTime() - 86_400_000)) })
  const res = await api.call('POST', '/v1/integrations/wukong/complaints', { customerId: c.customerId, content: '空调不制冷', createTime: crmTime(api.clock.now()) })
  t.equal(res.status, 201)
  t.same(crm.calls(`/crmCustomer/queryById/${c.customerId}`).length, 1)
  t.equal((await api.call('GET', `/v1/complaints/${res.json.complaintId}`)).json.complainant.phone, '13512345678')
  const gone = crm.addCustomer({ customerName: '已删除', status: 3 })
  const deleted = await api.call('POST', '/v1/integrations/wukong/complaints', { customerId: gone.customerId, content: 'x', createTime: crmTime(api.clock.now()) })
  t.same([deleted.status, deleted.json.errors[0].field], [422, '/body/customerId'])
  t.match(deleted.json.detail, /has no customer \d+ \(deleted, or it never existed\)/)
  crm.answerNext('/crmCustomer/queryById/4242', { code: 500, msg: '网络错误，请稍候再试' })
  const down = await api.call('POST', '/v1/integrations/wukong/complaints', { customerId: 4242, content: 'x', createTime: crmTime(api.clock.now()) })
  t.same([down.status, down.headers['retry-after']], [503, '60'])
  crm.deny('/crmCustomer/queryById/4243')
  const denied = await api.call('POST', '/v1/integrations/wukong/complaints', { customerId: 4243, content: 'x', createTime: crmTime(api.clock.now()) })
  t.same([denied.status, denied.json.errors[0].field], [422, '/body/customerId'])
  t.match(denied.json.detail, /refused to show it: 无权操作/)
})

t.test('a replay of 100 payloads changes nothing: no write, no version, no event, no audit entry', async (t) => {
  const api = await testApp(t)
  const payloads: Array<[string, unknown]> = []
  for (let i = 0; i < 50; i++) payloads.push(['/v1/integrations/wukong/customers', customer(2000 + i, `2026-11-2${i % 5} 10:00:${String(i).padStart(2, '0')}`)])
  for (let i = 0; i < 50; i++) {
    payloads.push(['/v1/integrations/wukong/complaints', { customerId: 2000 + (i % 50), content: `第${i}号投诉：异响。`, createTime: '2026-11-26 09:00:00', ...(i % 2 ? { activityId: 70000 + i } : {}) }])
  }
  const first = []
  for (const [url, body] of payloads) first.push(await api.call('POST', url, body))
  t.same(first.map((r) => r.status), [...Array(50).fill(200), ...Array(50).fill(201)])
  const before = await footprint(api)
  t.same([before.customers, before.complaints, before.imports], [50, 50, 50])
  api.clock.advanceMinutes(3)
  const again = []
  for (const [url, body] of payloads) again.push(await api.call('POST', url, body))
  t.same(again.map((r) => r.status), [...Array(50).fill(200), ...Array(50).fill(200)])
  t.ok(again.slice(0, 50).every((r) => r.json.items[0].outcome === 'unchanged'))
  t.same(again.slice(50).map((r) => [r.json.outcome, r.json.complaintId, r.json.trackingToken]), first.slice(50).map((r) => ['unchanged', r.json.complaintId, null]), 'the complaint each record became')
  t.same(await footprint(api), before, 'nothing changed anywhere')
  // a burst of the same record at once still makes one complaint
  const burst = await Promise.all(Array.from({ length: 10 }, () => api.call('POST', '/v1/integrations/wukong/complaints', { customerId: 2001, content: '同时到达', createTime: '2026-11-26 09:30:00', activityId: 99 })))
  t.same(burst.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201])
  t.equal(new Set(burst.map((r) => r.json.complaintId)).size, 1)
})

t.test('with WUKONG_INBOUND_SECRET, a payload needs a valid Standard Webhooks signature', async (t) => {
  const api = await testApp(t, { env: { WUKONG_INBOUND_SECRET: SECRET } })
  const body = JSON.stringify(customer(3000, '2026-11-26 10:00:00'))
  const sign = (payload: string, secret = SECRET, id = 'msg_1') => {
    const at = new Date()
    return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, payload) }
  }
  const send = (payload: string, headers: Record<string, string>) => api.app.inject({
    method: 'POST', url: '/v1/integrations/wukong/customers', payload, headers: { authorization: '', ...headers },
  })
  const key = await api.keyFor('integration')
  const auth = { authorization: `Bearer ${key}` }
  const unsigned = await api.app.inject({ method: 'POST', url: '/v1/integrations/wukong/customers', payload: body, headers: { ...auth, 'content-type': 'application/json' } })
  t.equal(unsigned.statusCode, 400)
  t.equal(unsigned.json().errors[0].field, '/headers/webhook-signature')
  const wrong = await send(body, { ...auth, ...sign(body, `whsec_${Buffer.from('someone else entirely, not us').toString('base64')}`) })
  t.same([wrong.statusCode, wrong.json().errors[0].field], [400, '/headers/webhook-signature'], 'a wrong signature is refused')
  const tampered = await send(body.replace('客户3000', '客户3001'), { ...auth, ...sign(body) })
  t.equal(tampered.statusCode, 400, 'a body other than the signed one is refused')
  t.equal(await api.db.selectFrom('wukong_customers').select('customer_id').executeTakeFirst(), undefined, 'nothing was stored')
  const signed = await send(body, { ...auth, ...sign(body) })
  t.same([signed.statusCode, signed.json().items[0].outcome], [200, 'created'])
  const complaint = JSON.stringify({ customerId: 3000, content: '签名的投诉', createTime: '2026-11-26 09:00:00' })
  const c = await api.app.inject({ method: 'POST', url: '/v1/integrations/wukong/complaints', payload: complaint, headers: { ...auth, ...sign(complaint, SECRET, 'msg_2') } })
  t.equal(c.statusCode, 201)
  const noKey = await send(body, sign(body))
  t.equal(noKey.statusCode, 401, 'a signature does not replace the API key')
})

t.test('the status endpoint checks the settings against the CRM', async (t) => {
  const { api, crm } = await wukongApp(t, { env: { WUKONG_FOLLOWUP_CATEGORIES: 'wechat=微信沟通', WUKONG_RETURN_VISIT_TYPES: '*=电话', WUKONG_SATISFICING_FIELD_ID: '4242' } })
  const status = (await api.call('GET', '/v1/integrations/wukong', undefined, {}, 'admin')).json
  t.same([status.configured, status.baseUrl, status.account], [true, crm.url, crm.username])
  t.same(status.crm.missingCategories, ['微信沟通'], 'a category the CRM does not offer')
  t.same(status.crm.returnVisitFields, [
    { setting: 'WUKONG_RETURN_VISIT_TYPE_FIELD_ID', fieldId: 1101898, found: true, missingOptions: [] },
    { setting: 'WUKONG_SATISFICING_FIELD_ID', fieldId: 4242, found: false, missingOptions: ['很不满意', '不满意', '一般', '满意', '很满意'] },
  ])
  t.same(status.mapping.find((m: { channel: string }) => m.channel === 'wechat'), { channel: 'wechat', category: '微信沟通', returnVisitType: '电话' })
  t.same([status.subscription, status.pull.cursor, status.customers], [null, null, 0])
  // the password was changed in the CRM: its tokens are gone, and our login is refused
  crm.changePassword('a new one')
  const down = (await api.call('GET', '/v1/integrations/wukong', undefined, {}, 'admin')).json
  t.same([down.crm.reachable, down.crm.error], [false, 'login as 18688888888 refused: 账号或密码错误 (悟空CRM code 1004, /login)'])
  await api.call('GET', '/v1/integrations/wukong', undefined, {}, 'admin')
  t.equal(crm.loginFailures, 1, 'no new login for a while after a refused one: three wrong passwords lock the account')
  api.clock.advanceMinutes(6)
  await api.call('GET', '/v1/integrations/wukong', undefined, {}, 'admin')
  t.equal(crm.loginFailures, 2, 'then it tries again')
  const plain = await testApp(t)
  const off = (await plain.call('GET', '/v1/integrations/wukong', undefined, {}, 'integration')).json
  t.same([off.configured, off.crm, off.pull.scheduled], [false, null, null])
})

t.test('at any instant, a CRM createTime becomes the receivedAt it names, and the reference the year it falls in', async (t) => {
  const api = await testApp(t)
  await api.call('POST', '/v1/integrations/wukong/customers', customer(1, '2026-01-01 00:00:00'))
  const shanghaiYear = (at: Date) => new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(at)
  let n = 0
  await fc.assert(fc.asyncProperty(shanghaiInstant, gap, async (now, back) => {
    api.clock.set(now.toISOString())
    const at = new Date(now.getTime() - back)
    const res = await api.call('POST', '/v1/integrations/wukong/complaints', { customerId: 1, content: `第${++n}次`, createTime: crmTime(at) })
    const c = await api.db.selectFrom('complaints').select(['received_at', 'reference']).where('id', '=', res.json.complaintId).executeTakeFirstOrThrow()
    return res.status === 201 && c.received_at.getTime() === Math.floor(at.getTime() / 1000) * 1000 && c.reference.startsWith(`CP-${shanghaiYear(at)}-`)
  }), { numRuns: 40 })
})
