import { Writable } from 'node:stream'
import t from 'tap'
import { ROLES, OWN_CREDENTIAL, PERMISSIONS, PUBLIC, type Role } from '../../src/access/policy.js'
import { createLogger } from '../../src/app.js'
import { operationMatchers, testApp, webComplaint, type TestApp } from '../helper.js'
import { dispatchOnce } from '../../src/webhooks/dispatcher.js'
import { runSlaSweep } from '../../src/jobs/sla-sweep.js'
import { runPenalties } from '../../src/jobs/penalties.js'
import { publishReport } from '../../src/reports/reports.js'

/** a complaint of the service-station, handed over, so every lifecycle operation has something to act on */
async function fixture(api: TestApp) {
  const c = (await api.call('POST', '/v1/complaints', webComplaint())).json
  await api.call('POST', `/v1/complaints/${c.id}/assess`, { categoryId: 'service_quality', level: 'general', departmentId: 'service-station' })
  await api.call('POST', `/v1/complaints/${c.id}/handover`, {})
  const receiver = (await api.call('POST', '/v1/admin/departments/service-station/receivers', { name: '李娜' })).json
  const spare = (await api.call('POST', '/v1/admin/api-keys', { name: 'spare', role: 'finance' })).json
  const webhook = (await api.call('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hooks', eventTypes: ['complaint.*'] })).json
  await dispatchOnce(api.app.services) // one delivery (to a closed port): something for the delivery log
  const delivery = await api.db.selectFrom('webhook_deliveries').select('id').executeTakeFirstOrThrow()
  // a penalty notice (its handover limit ran out at 18:00, unsigned) and last week's bulletin
  const later = new Date(Date.parse(c.deadlines.handoverDueAt) + 60 * 60_000)
  await runSlaSweep(api.app.services, later)
  await runPenalties(api.app.services, later)
  const notice = await api.db.selectFrom('penalty_notices').select('id').where('complaint_id', '=', c.id).executeTakeFirstOrThrow()
  const bulletin = (await api.call('POST', '/v1/penalty-bulletins', { weekStart: '2026-11-16' })).json
  const report = await publishReport(api.app.services, 'weekly', api.clock.now())
  return { reportId: report.id, complaint: c, noticeId: notice.id, bulletinId: bulletin.id as string, receiverId: receiver.id as string, spareKeyId: spare.id as string, webhookId: webhook.id as string, deliveryId: delivery.id }
}

t.test('every operation in the OpenAPI document: allowed roles get through, others get 403, no key gets 401', async (t) => {
  const api = await testApp(t)
  const f = await fixture(api)
  // deletions last, so that what they remove is still there for the other operations
  const ops = operationMatchers(api.app).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'))
  t.ok(ops.length >= 35, `${ops.length} operations`)
  for (const op of ops) {
    const roles = PERMISSIONS[op.operationId]
    t.ok(roles, `${op.operationId} has a row in the authorisation table`)
    if (!roles) continue
    const url = op.path
      .replace('/v1/track/{reference}', `/v1/track/${f.complaint.reference}?token=${f.complaint.trackingToken}`)
      .replace('/v1/admin/receivers/{id}', `/v1/admin/receivers/${f.receiverId}`)
      .replace('/v1/admin/api-keys/{id}', `/v1/admin/api-keys/${f.spareKeyId}`)
      .replace('/v1/admin/departments/{id}', '/v1/admin/departments/service-station')
      .replace('/v1/admin/categories/{id}', '/v1/admin/categories/sales')
      .replace('/v1/webhooks/{id}', `/v1/webhooks/${f.webhookId}`)
      .replace('/v1/deliveries/{id}', `/v1/deliveries/${f.deliveryId}`)
      .replace('/v1/penalty-notices/{id}', `/v1/penalty-notices/${f.noticeId}`)
      .replace('/v1/penalty-bulletins/{id}', `/v1/penalty-bulletins/${f.bulletinId}`)
      .replace('{departmentId}', 'service-station')
      .replace('/v1/reports/{id}', `/v1/reports/${f.reportId}`)
      .replace('{date}', '2027-01-01')
      .replace('{name}', 'calendar-coverage')
      .replace('{id}', f.complaint.id)
    const body = op.method === 'GET' ? undefined : {}
    if (roles === PUBLIC) {
      const res = await api.call(op.method as 'GET', url, body, {}, 'anonymous')
      t.equal(res.status, 200, `${op.operationId} is public`)
      continue
    }
    if (roles === OWN_CREDENTIAL) {
      t.equal((await api.call(op.method as 'GET', url, body, {}, 'anonymous')).status, 401, `${op.operationId} without its credential`)
      for (const role of ROLES) t.equal((await api.call(op.method as 'GET', url, body, {}, role)).status, 401, `${op.operationId}: an API key (${role}) is not its credential`)
      continue
    }
    const anonymous = await api.call(op.method as 'GET', url, body, {}, 'anonymous')
    t.equal(anonymous.status, 401, `${op.operationId} without a key`)
    t.equal(anonymous.headers['www-authenticate'], 'Bearer')
    for (const role of ROLES) {
      const res = await api.call(op.method as 'GET', url, body, {}, role)
      if (roles.includes(role)) {
        t.notOk([401, 403].includes(res.status), `${op.operationId} as ${role}: allowed (${res.status})`)
        t.ok(res.status < 500, `${op.operationId} as ${role}: no server error`)
        if (op.method === 'GET') t.equal(res.status, 200, `${op.operationId} as ${role}: succeeds`)
      } else {
        t.equal(res.status, 403, `${op.operationId} as ${role}: forbidden`)
        t.match(res.json.detail, `role ${role} may not ${op.operationId}`)
      }
    }
  }
})

t.test('the OpenAPI document shows the security scheme and each operation’s roles', async (t) => {
  const api = await testApp(t)
  const doc = api.app.swagger() as any
  t.equal(doc.components.securitySchemes.apiKey.scheme, 'bearer')
  t.same(doc.security, [{ apiKey: [] }])
  t.same(doc.paths['/v1/track/{reference}'].get.security, [], 'public operations need no key')
  t.match(doc.paths['/v1/complaints/{id}/close'].post.description, /\*\*Roles:\*\* management$/)
  for (const item of Object.values<any>(doc.paths)) {
    for (const op of Object.values<any>(item)) t.ok((op.description ?? '').split('**Roles:**').length <= 2, `${op.operationId} lists its roles once`)
  }
})

t.test('a department key sees and acts on its own department’s complaints only: others are 404', async (t) => {
  const api = await testApp(t)
  const { complaint } = await fixture(api)
  const other = 'department:sales'
  for (const url of [`/v1/complaints/${complaint.id}`, `/v1/complaints/${complaint.id}/timeline`, `/v1/complaints/${complaint.id}/notes`]) {
    t.equal((await api.call('GET', url, undefined, {}, other)).status, 404, `GET ${url}`)
  }
  const sign = await api.call('POST', `/v1/complaints/${complaint.id}/sign`, { signedBy: 'x' }, {}, other)
  t.equal(sign.status, 404)
  t.equal((await api.call('GET', `/v1/complaints/${complaint.id}`)).json.status, 'handed_over', 'nothing changed')
  t.same((await api.call('GET', '/v1/complaints', undefined, {}, other)).json.items, [], 'the list is scoped too')

  const own = await api.call('POST', `/v1/complaints/${complaint.id}/sign`, { signedBy: '李娜' }, {}, 'department:service-station')
  t.equal(own.status, 200)
  t.equal(own.json.complainant.phone, '13800138000', 'a department sees PII of complaints assigned to it')
  t.equal((await api.call('GET', '/v1/complaints', undefined, {}, 'department:service-station')).json.items.length, 1)
})

t.test('PII is masked for roles without need', async (t) => {
  const api = await testApp(t)
  const { complaint } = await fixture(api)
  const full = (await api.call('GET', `/v1/complaints/${complaint.id}`, undefined, {}, 'cs_agent')).json.complainant
  t.equal(full.phone, '13800138000')
  t.equal(full.email, 'zhang.wei@example.com')
  for (const role of ['auditor', 'management'] as const) {
    const masked = (await api.call('GET', `/v1/complaints/${complaint.id}`, undefined, {}, role)).json.complainant
    t.equal(masked.phone, '138****8000', `${role} sees a masked phone`)
    t.equal(masked.email, 'z***@example.com', `${role} sees a masked email`)
    t.equal(masked.name, '张伟')
  }
  const audit = (await api.call('GET', `/v1/audit?entityId=${complaint.id}&operation=receiveComplaint`, undefined, {}, 'auditor')).json.items[0]
  t.equal(audit.after.complainant.phone, '138****8000', 'the audit log masks PII too')
})

t.test('revoked and rotated keys get 401; the secret is never shown again', async (t) => {
  const api = await testApp(t)
  const created = await api.call('POST', '/v1/admin/api-keys', { name: 'CRM sync', role: 'integration' })
  t.equal(created.status, 201)
  t.match(created.json.key, /^cpk_/)
  const asKey = (key: string) => api.app.inject({ method: 'GET', url: '/v1/complaints', headers: { authorization: `Bearer ${key}` } })
  t.equal((await asKey(created.json.key)).statusCode, 200)

  const rotated = await api.call('POST', `/v1/admin/api-keys/${created.json.id}/rotate`)
  t.equal(rotated.status, 201)
  t.equal((await asKey(created.json.key)).statusCode, 401, 'the old secret stops working')
  t.equal((await asKey(rotated.json.key)).statusCode, 200)

  const revoked = await api.call('POST', `/v1/admin/api-keys/${rotated.json.id}/revoke`)
  t.ok(revoked.json.revokedAt)
  const after = await asKey(rotated.json.key)
  t.equal(after.statusCode, 401)
  t.match(after.headers['content-type'], /^application\/problem\+json/)

  const list = await api.call('GET', '/v1/admin/api-keys?includeRevoked=true')
  const text = JSON.stringify(list.json)
  t.notMatch(text, created.json.key.slice(12), 'no secret in the list')
  t.notMatch(text, /secret|hash/i)
  const listed = list.json.items.find((k: { id: string }) => k.id === created.json.id)
  t.ok(listed.rotatedTo)
  t.equal(listed.lastUsedAt, api.clock.now().toISOString(), 'last use is recorded')
  t.equal((await api.call('POST', '/v1/admin/api-keys', { name: 'x', role: 'department' })).status, 422, 'a department key needs its department')
  t.equal((await api.call('POST', '/v1/admin/api-keys', { name: 'x', role: 'root' })).status, 400)

  const adminId = api.keys.get('admin')!.id
  const last = await api.call('POST', `/v1/admin/api-keys/${adminId}/revoke`)
  t.equal(last.status, 422, 'the last admin key stays')
})

t.test('log lines never carry complainant PII', async (t) => {
  const lines: string[] = []
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done() } })
  const api = await testApp(t, { logger: createLogger({ LOG_LEVEL: 'trace' }, sink) })
  const c = await api.call('POST', '/v1/complaints', webComplaint({ complainant: { name: '张伟', phone: '13800138000', email: 'zhang.wei@example.com', address: '上海市浦东新区世纪大道100号', idNumber: '110101199003070012' } }))
  await api.call('GET', `/v1/complaints?q=13800138000`)
  await api.call('GET', `/v1/complaints?q=zhang.wei%40example.com`)
  api.app.log.info({ complaint: { complainant: { phone: '13800138000', email: 'zhang.wei@example.com' } } }, 'an object with PII')
  api.app.log.info({ row: { complainant_phone: '13800138000' } }, 'a row with PII')
  const log = lines.join('')
  t.ok(c.json.id)
  t.match(log, /request completed/, 'requests were logged')
  t.match(log, /an object with PII/)
  t.match(log, /\[redacted\]/)
  for (const pii of ['13800138000', 'zhang.wei@example.com', 'zhang.wei%40example.com', '世纪大道', '110101199003070012']) t.notMatch(log, pii, `no ${pii} in the log`)
})

t.test('rate limit per key: 429 problem+json with Retry-After', async (t) => {
  const api = await testApp(t, { env: { RATE_LIMIT_PER_MINUTE: '3' } })
  for (let i = 0; i < 3; i++) t.equal((await api.call('GET', '/v1/complaints', undefined, {}, 'auditor')).status, 200)
  const limited = await api.call('GET', '/v1/complaints', undefined, {}, 'auditor')
  t.equal(limited.status, 429)
  t.ok(Number(limited.headers['retry-after']) > 0)
  t.match(limited.headers['content-type'], /^application\/problem\+json/)
  t.equal((await api.call('GET', '/v1/complaints', undefined, {}, 'cs_agent')).status, 200, 'another key has its own budget')
  t.equal((await api.call('GET', '/healthz')).status, 200, 'health checks are not limited')
})

t.test('security headers and the body size limit', async (t) => {
  const api = await testApp(t, { env: { BODY_LIMIT_BYTES: '2048' } })
  const res = await api.call('GET', '/healthz')
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.ok(res.headers['strict-transport-security'])
  t.ok(res.headers['content-security-policy'])
  t.equal(res.headers['x-powered-by'], undefined)
  const big = await api.call('POST', '/v1/complaints', webComplaint({ description: 'x'.repeat(5000) }))
  t.equal(big.status, 413)
  t.match(big.headers['content-type'], /^application\/problem\+json/)
})

t.test('roles of the authorisation table are the documented ones (docs/roles.md)', async (t) => {
  t.same([...ROLES].sort(), ['admin', 'auditor', 'cs_agent', 'cs_manager', 'department', 'finance', 'integration', 'management'])
  const everyRoleUsed = new Set(Object.values(PERMISSIONS).flatMap((r) => (typeof r === 'string' ? [] : [...r])))
  t.same([...everyRoleUsed].sort(), [...ROLES].sort(), 'every role can do something')
  const allowed = (op: string, role: Role) => (PERMISSIONS[op] as Role[]).includes(role)
  t.ok(allowed('closeComplaint', 'management') && !allowed('closeComplaint', 'cs_agent'), 'management approves closure')
  t.ok(allowed('signComplaint', 'department') && !allowed('signComplaint', 'cs_agent'), 'departments sign')
  t.ok(allowed('listAuditLog', 'auditor') && !allowed('assessComplaint', 'auditor'), 'auditors read only')
})
