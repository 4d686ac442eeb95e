import t from 'tap'
import { deliveries, drain, handle, receive, subscribeWukong, wukongApp } from './fixture.js'

/**
 * Push: complaint events written into 悟空CRM by the `wukong` delivery target, through the one
 * webhook dispatcher (its retries, dead letters, delivery log and replay), against the CRM double.
 */

t.test('receipt to closure with a callback (satisfaction 4): two follow-ups and one return visit, 满意, numbered by the reference', async (t) => {
  const { api, crm } = await wukongApp(t)
  const customer = crm.addCustomer({ customerName: '张伟', mobile: '13800138000' })
  await subscribeWukong(api)
  const c = await receive(api, { name: '张伟', phone: '13800138000', externalIds: [{ system: 'wukong', customerId: String(customer.customerId) }] })
  await drain(api)
  await handle(api, c.id, { satisfied: true, satisfaction: 4 })
  await drain(api)

  const followUps = crm.followUps(customer.customerId)
  t.equal(followUps.length, 2, 'two follow-up records: receipt and closure')
  t.match(followUps[0]!.content, new RegExp(`^【客户抱怨受理】${c.reference}（400热线）\\n`))
  t.match(followUps[1]!.content, new RegExp(`^【客户抱怨关闭】${c.reference}（一次关闭）\\n处理结果：已更换原厂刹车片`))
  t.same(followUps.map((f) => f.category), ['打电话', '打电话'], 'the 400 hotline maps to the category 打电话')
  t.same(crm.calls('/crmActivity/addCrmActivityRecord').map((r) => [r.body.activityType, r.body.activityTypeId]), [[2, customer.customerId], [2, customer.customerId]],
    'on the customer (activityType 2)')

  t.equal(crm.visits.length, 1, 'one return visit')
  const visit = crm.visits[0]!
  t.equal(visit.entity.visitNumber, c.reference, 'numbered by the complaint’s reference')
  t.equal(visit.entity.customerId, customer.customerId)
  const complaint = (await api.call('GET', `/v1/complaints/${c.id}`)).json
  const gmt8 = new Date(Date.parse(complaint.callbackAt) + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ')
  t.equal(visit.entity.visitTime, gmt8, 'at the callback time, in GMT+8')
  t.same(visit.field.map((f) => [f.fieldId, f.fieldName, f.value]), [[1101898, 'return_visit_type', '电话'], [1101902, 'satisficing', '满意']])
  t.ok(Array.isArray(visit.field), 'field is an array')

  const sub = (await api.db.selectFrom('webhook_subscriptions').select('id').where('target', '=', 'wukong').executeTakeFirstOrThrow()).id
  const log = (await api.call('GET', `/v1/webhooks/${sub}/deliveries`)).json.items
  t.same(log.map((d: { eventType: string; status: string }) => d.status), ['succeeded', 'succeeded', 'succeeded'], 'the delivery log shows three delivered events')
  t.same(log.map((d: { eventType: string }) => d.eventType).sort(), ['complaint.callback_recorded', 'complaint.closed', 'complaint.received'])
})

t.test('the CRM expires the token mid-run: the connector logs in again, and nothing is lost or sent twice', async (t) => {
  const { api, crm } = await wukongApp(t)
  const customer = crm.addCustomer({ customerName: '王芳', mobile: '13700137000' })
  await subscribeWukong(api)
  const cs = [
    await receive(api, { name: '王芳', externalIds: [{ system: 'wukong', customerId: String(customer.customerId) }] }),
    await receive(api, { name: '王芳', externalIds: [{ system: 'wukong', customerId: String(customer.customerId) }] }),
  ]
  await drain(api)
  t.equal(crm.logins, 1, 'one login for both deliveries')
  crm.expireTokens()
  // both complaints go on at once: concurrent deliveries meet the stale token together
  await Promise.all(cs.map((c) => handle(api, c.id, { satisfied: true, satisfaction: 5 })))
  await drain(api)
  t.equal(crm.logins, 2, 'one more login, shared by the deliveries that met the expired token')
  t.ok(crm.received.some((r) => r.code === 302), 'the CRM did answer 302 on the way')
  t.equal(crm.followUps(customer.customerId).length, 4, 'two follow-ups per complaint: none lost')
  t.equal(new Set(crm.followUps(customer.customerId).map((f) => f.content)).size, 4, 'none twice')
  t.same(crm.visits.map((v) => v.entity.visitNumber).sort(), cs.map((c) => c.reference).sort(), 'one return visit per complaint')

  // a second login of the same account elsewhere (another replica) replaces this process's token
  const other = await fetch(`${crm.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: crm.username, password: crm.password }) })
  t.equal((await other.json() as { code: number }).code, 0)
  const third = await receive(api, { name: '王芳', externalIds: [{ system: 'wukong', customerId: String(customer.customerId) }] })
  await drain(api)
  t.equal(crm.followUps(customer.customerId).filter((f) => f.content.includes(third.reference)).length, 1, 'delivered after logging in again')
  t.equal(crm.logins, 4, 'the other login, and this process logging in again after its token was replaced')
})

t.test('the CRM answers code 400: dead-lettered with the CRM’s message, and delivered by a replay once fixed', async (t) => {
  const { api, crm } = await wukongApp(t)
  const customer = crm.addCustomer({ customerName: '赵磊', mobile: '13600136000' })
  const sub = await subscribeWukong(api)
  crm.answerNext('/crmActivity/addCrmActivityRecord', { code: 400, msg: '跟进类型不能为空' })
  await receive(api, { name: '赵磊', externalIds: [{ system: 'wukong', customerId: String(customer.customerId) }] })
  await drain(api)
  const [dead] = await deliveries(api, sub.id)
  t.equal(dead!.status, 'dead', 'not retried: a 400 would fail again')
  t.equal(dead!.attempts, 1)
  t.match(dead!.last_error, /^跟进类型不能为空 \(悟空CRM code 400, \/crmActivity\/addCrmActivityRecord\)$/, 'last_error carries the CRM’s msg')
  t.equal(crm.followUps(customer.customerId).length, 0)
  const detail = (await api.call('GET', `/v1/deliveries/${dead!.id}`)).json
  t.equal(detail.attemptLog[0].error, dead!.last_error, 'the delivery log shows it')

  // the fix (here: the CRM accepts again); the replay goes through the same dispatcher
  const replay = await api.call('POST', `/v1/deliveries/${dead!.id}/replay`)
  t.equal(replay.status, 202)
  await drain(api)
  const [again] = await deliveries(api, sub.id)
  t.same([again!.status, again!.last_error], ['succeeded', null])
  t.equal(crm.followUps(customer.customerId).length, 1, 'written once')
})

t.test('what is retried and what is not: 500, rate limit (403), a dropped connection retry; 401 and 2xxx are permanent; 2030 counts as delivered', async (t) => {
  const { api, crm } = await wukongApp(t)
  const customer = crm.addCustomer({ customerName: '孙丽', mobile: '13500135000' })
  const sub = await subscribeWukong(api)
  const linked = { name: '孙丽', externalIds: [{ system: 'wukong', customerId: String(customer.customerId) }] }
  crm.answerNext('/crmActivity/addCrmActivityRecord', { code: 500, msg: '网络错误，请稍候再试' })
  crm.answerNext('/crmActivity/addCrmActivityRecord', { httpStatus: 400, code: 403, msg: '请求频率过快,请稍后再试' })
  crm.answerNext('/crmActivity/addCrmActivityRecord', 'drop')
  await receive(api, linked)
  await drain(api)
  for (let minutes = 1; minutes <= 4; minutes *= 2) {
    api.clock.advanceMinutes(minutes)
    await drain(api)
  }
  const [d] = await deliveries(api, sub.id)
  const log = (await api.call('GET', `/v1/deliveries/${d!.id}`)).json.attemptLog
  t.same(log.slice(0, 2).map((a: { error: string }) => a.error.replace(/ \(.*$/, '')), ['网络错误，请稍候再试', '请求频率过快,请稍后再试'], 'code 500, then the rate limit (HTTP 400, code 403)')
  t.match(log[2].error, /\(悟空CRM no answer, \/crmActivity\/addCrmActivityRecord\)$/, 'then the dropped connection')
  t.same(log.map((a: { statusCode: number | null }) => a.statusCode), [200, 400, null, 200])
  t.equal(d!.status, 'succeeded', 'delivered on the fourth attempt')
  t.equal(crm.followUps(customer.customerId).length, 1, 'once: the retries looked for the follow-up before writing again')

  // permanent: the gateway refuses the menu (HTTP 401), and a business error (2029)
  crm.deny('/crmActivity/addCrmActivityRecord')
  await receive(api, linked)
  await drain(api)
  crm.allow('/crmActivity/addCrmActivityRecord')
  crm.answerNext('/crmActivity/addCrmActivityRecord', { code: 2029, msg: '最后跟进时间必须大于当前时间' })
  await receive(api, linked)
  await drain(api)
  const dead = (await deliveries(api, sub.id)).filter((x) => x.status === 'dead')
  t.same(dead.map((x) => [x.attempts, x.last_status_code, x.last_error?.replace(/ \(.*$/, '')]), [[1, 401, '无权操作'], [1, 200, '最后跟进时间必须大于当前时间']])

  // a return visit already in the CRM (2030) counts as delivered
  const c = await receive(api, linked)
  crm.visits.push({ visitId: 99, entity: { visitNumber: c.reference }, field: [] })
  await handle(api, c.id, { satisfied: true }, false)
  await drain(api)
  const visit = (await deliveries(api, sub.id)).find((x) => x.event_type === 'complaint.callback_recorded')!
  t.same([visit.status, visit.last_error], ['succeeded', `return visit ${c.reference} was already in 悟空CRM (2030)`])
  t.equal(crm.visits.length, 1, 'nothing added')
})

t.test('a complainant without a CRM id is found by phone and linked through link_external_ids; the timeline shows it', async (t) => {
  const { api, crm } = await wukongApp(t)
  const customer = crm.addCustomer({ customerName: '周杰', telephone: '021-55667788' })
  crm.addLead('周杰（线索）', '13900001111')
  await subscribeWukong(api)
  const c = await receive(api, { name: '周杰', phone: '021-55667788' })
  await drain(api)
  t.equal(crm.followUps(customer.customerId).length, 1, 'the follow-up went to the customer with that telephone')
  t.same(crm.calls('/crmCustomer/dataCheck').map((r) => r.body), [{ phone: '021-55667788' }], 'dataCheck with the phone only')
  const complaint = (await api.call('GET', `/v1/complaints/${c.id}`)).json
  t.same(complaint.complainant.externalIds, [{ system: 'wukong', customerId: String(customer.customerId) }], 'linked')
  const timeline = (await api.call('GET', `/v1/complaints/${c.id}/timeline`)).json.items
  const link = timeline.find((e: { action: string }) => e.action === 'link_external_ids')
  t.same([link.actor.type, link.actor.name, link.data.systems], ['system', 'wukong-connector', ['wukong']])
  const mirrored = await api.db.selectFrom('wukong_customers').selectAll().where('customer_id', '=', customer.customerId).executeTakeFirst()
  t.equal(mirrored?.phone, '021-55667788', 'and mirrored')

  // the closure finds the link on the complaint: no second dataCheck, no second link
  await handle(api, c.id, { satisfied: true, satisfaction: 2 })
  await drain(api)
  t.equal(crm.calls('/crmCustomer/dataCheck').length, 1)
  t.equal((await api.call('GET', `/v1/complaints/${c.id}/timeline`)).json.items.filter((e: { action: string }) => e.action === 'link_external_ids').length, 1)
  t.equal(crm.visits[0]!.field.find((f) => f.fieldName === 'satisficing')!.value, '不满意', 'satisfaction 2 → 不满意')

  // a lead with the phone is not a customer; no customer: nothing written (creation is off by default)
  const lead = await receive(api, { name: '线索客户', phone: '13900001111' })
  const none = await receive(api, { name: '新客户', phone: '13912345678' })
  const noPhone = await receive(api, { name: '匿名' })
  await drain(api)
  const byComplaint = async (id: string) => {
    const e = await api.db.selectFrom('outbox_events').select('event_id').where('complaint_id', '=', id).where('type', '=', 'complaint.received').executeTakeFirstOrThrow()
    return api.db.selectFrom('webhook_deliveries').selectAll().where('event_id', '=', e.event_id).executeTakeFirstOrThrow()
  }
  for (const [x, why] of [[lead, /no 悟空CRM customer has phone 139\*\*\*\*1111, and WUKONG_ALLOW_CREATE_CUSTOMER is off/], [none, /no 悟空CRM customer has phone 139\*\*\*\*5678/], [noPhone, /no 悟空CRM id and no phone/]] as const) {
    const d = await byComplaint(x.id)
    t.equal(d.status, 'succeeded', 'nothing to write is not a failure')
    t.match(d.last_error, why, 'the log says why nothing was written (phone masked)')
  }
})

t.test('two customers with the phone: dead-lettered until someone links the right one; with creation allowed, a new customer', async (t) => {
  const { api, crm } = await wukongApp(t, { env: { WUKONG_ALLOW_CREATE_CUSTOMER: 'true' } })
  const a = crm.addCustomer({ customerName: '吴刚', mobile: '13811112222' })
  crm.addCustomer({ customerName: '吴刚（公司）', telephone: '13811112222', ownerUserId: null })
  const sub = await subscribeWukong(api)
  const c = await receive(api, { name: '吴刚', phone: '138 1111 2222' })
  await drain(api)
  const [d] = await deliveries(api, sub.id)
  t.equal(d!.status, 'dead')
  t.match(d!.last_error, /phone 138\*\*\*\*2222 belongs to several 悟空CRM customers \(\d+, \d+\): link the right one/)
  t.same(crm.calls('/crmCustomer/dataCheck').map((r) => r.body.phone), ['138 1111 2222', '13811112222'], 'the phone as stored, then its digits')
  await api.call('POST', `/v1/complaints/${c.id}/external-ids`, { externalIds: [{ system: 'wukong', customerId: String(a.customerId) }] })
  await api.call('POST', `/v1/deliveries/${d!.id}/replay`)
  await drain(api)
  t.equal(crm.followUps(a.customerId).length, 1, 'after the link, the replay writes to the linked customer')

  const before = crm.customers.size
  // the new customer will be 1003; the account may not read it back: it is not mirrored, the delivery goes on
  crm.deny('/crmCustomer/queryById/1003')
  const n = await receive(api, { name: '郑新', phone: '+86 139-8765-4321', email: 'zheng.xin@example.com' })
  await drain(api)
  t.equal(await api.db.selectFrom('wukong_customers').select('customer_id').where('customer_id', '=', 1003).executeTakeFirst(), undefined, 'not mirrored')
  t.equal(crm.customers.size, before + 1, 'a customer was created')
  const created = [...crm.customers.values()].at(-1)!
  t.same([created.customerName, created.mobile, created.email], ['郑新', '+86 139-8765-4321', 'zheng.xin@example.com'])
  t.equal(crm.followUps(created.customerId).length, 1)
  t.same((await api.call('GET', `/v1/complaints/${n.id}`)).json.complainant.externalIds, [{ system: 'wukong', customerId: String(created.customerId) }])
})

t.test('a wukong subscription: only when configured, only the events it writes, at most one; paused like any other', async (t) => {
  const { api } = await wukongApp(t)
  const wrong = await api.call('POST', '/v1/webhooks', { target: 'wukong', eventTypes: ['complaint.*'] })
  t.equal(wrong.status, 422)
  t.equal(wrong.json.errors[0].field, '/body/eventTypes/0')
  t.equal((await api.call('POST', '/v1/webhooks', { target: 'wukong', url: 'https://x.example/h', eventTypes: ['complaint.closed'] })).json.errors[0].field, '/body/url')
  t.equal((await api.call('POST', '/v1/webhooks', { eventTypes: ['complaint.closed'] })).json.errors[0].field, '/body/url', 'an http target needs a URL')
  const sub = await subscribeWukong(api)
  t.equal((await api.call('POST', '/v1/webhooks', { target: 'wukong', eventTypes: ['complaint.closed'] })).status, 409, 'one wukong subscription')
  const got = (await api.call('GET', `/v1/webhooks/${sub.id}`)).json
  t.same([got.target, got.url], ['wukong', null])
  t.equal((await api.call('PATCH', `/v1/webhooks/${sub.id}`, { eventTypes: ['sla.breached'] })).status, 422)
  t.equal((await api.call('PATCH', `/v1/webhooks/${sub.id}`, { url: 'https://x.example/h' })).status, 422)
  t.equal((await api.call('PATCH', `/v1/webhooks/${sub.id}`, { status: 'paused' })).json.status, 'paused')

  const plain = await wukongApp(t, { env: { WUKONG_BASE_URL: '', WUKONG_USERNAME: '', WUKONG_PASSWORD: '' } })
  const refused = await plain.api.call('POST', '/v1/webhooks', { target: 'wukong', eventTypes: ['complaint.closed'] })
  t.same([refused.status, refused.json.errors[0].field], [422, '/body/target'])
  t.match(refused.json.detail, /not configured/)
})
