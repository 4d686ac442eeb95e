import { sql } from 'kysely'
import t from 'tap'
import { createEventChecker } from '../contract.js'
import { testApp, type TestApp } from '../helper.js'
import { at, local, step } from '../reports-fixture.js'

/**
 * Retention: two years after a complaint closed (or was withdrawn) the complainant's personal data
 * goes — from the complaint, its notes and replies, its timeline and audit entries, its events and its
 * Idempotency-Key records — and every figure of the reports stays.
 */
const PII = ['张伟', '13800138000', 'zhang.wei@example.com', '310101199001011234', '上海市徐汇区漕溪北路88号', 'LSVAU2180N2183294', '沪A12345', 'customerId', '客户张伟说', 'receipt-photo']

const complainantBody = (receivedAt?: string) => ({
  channel: 'web',
  complainant: { name: '张伟', phone: '13800138000', email: 'zhang.wei@example.com', idNumber: '310101199001011234', address: '上海市徐汇区漕溪北路88号', externalIds: [{ system: 'wukong', customerId: '1024' }] },
  subject: { product: '帕萨特', vin: 'LSVAU2180N2183294', plate: '沪A12345' },
  description: '客户张伟说刹车异响，电话13800138000。',
  desiredOutcomeNote: '客户张伟说希望赔偿',
  attachments: [{ url: 'https://files.example.com/receipt-photo.jpg', sha256: 'a'.repeat(64), name: 'receipt-photo.jpg' }],
  ...(receivedAt ? { receivedAt } : {}),
})

/** a complaint received and closed at the given local times, with notes, replies and a callback comment */
async function closedComplaint(api: TestApp, received: string, closedAt: string, key: string) {
  await at(api, received)
  const created = await api.call('POST', '/v1/complaints', complainantBody(), { 'idempotency-key': key })
  const id = created.json.id as string
  const day = received.slice(0, 10)
  await step(api, id, `${day}T09:10:00`, 'assess', { categoryId: 'service_quality', level: 'general', departmentId: 'service-station' })
  await step(api, id, `${day}T09:10:00`, 'handover')
  await step(api, id, `${day}T09:20:00`, 'sign', { signedBy: '李娜' })
  await step(api, id, `${day}T09:30:00`, 'notes', { kind: 'fact', body: '客户张伟说异响在低速时出现，电话13800138000。' })
  await step(api, id, `${day}T09:40:00`, 'replies', { body: '张伟先生您好，周五为您更换刹车片。' })
  await step(api, id, `${day}T09:50:00`, 'investigation', { facts: '客户张伟说两次返修', rootCause: '刹车片批次错误', capa: { measures: [{ type: 'corrective', action: '更换原厂刹车片 5N0-698-451' }] } })
  await step(api, id, `${day}T10:00:00`, 'closure-request', { resultSummary: '已为张伟更换刹车片' })
  await step(api, id, `${day}T10:05:00`, 'closure-callback', { satisfied: true, satisfaction: 4, comment: '客户张伟说满意' })
  await step(api, id, closedAt, 'close')
  return id
}

async function snapshot(api: TestApp) {
  const [complaints, timeline, audit, notes, replies, outbox, keys] = await Promise.all([
    api.db.selectFrom('complaints').selectAll().orderBy('id').execute(),
    api.db.selectFrom('complaint_timeline').selectAll().orderBy('id').execute(),
    api.db.selectFrom('audit_log').selectAll().orderBy('id').execute(),
    api.db.selectFrom('complaint_notes').selectAll().orderBy('seq').execute(),
    api.db.selectFrom('complaint_replies').selectAll().orderBy('seq').execute(),
    api.db.selectFrom('outbox_events').selectAll().orderBy('id').execute(),
    api.db.selectFrom('idempotency_keys').selectAll().orderBy('key').execute(),
  ])
  return JSON.stringify({ complaints, timeline, audit, notes, replies, outbox, keys })
}

/** every row of the complaint, in every table, as one text to search */
async function everything(api: TestApp, id: string) {
  const [c, timeline, audit, notes, replies, outbox, keys] = await Promise.all([
    api.db.selectFrom('complaints').selectAll().where('id', '=', id).execute(),
    api.db.selectFrom('complaint_timeline').selectAll().where('complaint_id', '=', id).execute(),
    api.db.selectFrom('audit_log').selectAll().where('entity_id', '=', id).execute(),
    api.db.selectFrom('complaint_notes').selectAll().where('complaint_id', '=', id).execute(),
    api.db.selectFrom('complaint_replies').selectAll().where('complaint_id', '=', id).execute(),
    api.db.selectFrom('outbox_events').selectAll().where('complaint_id', '=', id).execute(),
    api.db.selectFrom('idempotency_keys').selectAll().where(sql<boolean>`response->>'id' = ${id}`).execute(),
  ])
  return { text: JSON.stringify({ c, timeline, audit, notes, replies, outbox, keys }), counts: { timeline: timeline.length, audit: audit.length, outbox: outbox.length, keys: keys.length } }
}

t.test('closed 2 years and a day ago: anonymised; 1 year ago: untouched; the old week’s figures stay; the dry run changes nothing', async (t) => {
  const api = await testApp(t, { now: local('2024-11-25T09:00:00'), env: { RATE_LIMIT_PER_MINUTE: '100000' } })
  // the old week of 25 November 2024: X closed 26 November 2024 10:00, W withdrawn 27 November 10:30
  const x = await closedComplaint(api, '2024-11-25T09:00:00', '2024-11-26T10:00:00', 'web-form-x')
  await at(api, '2024-11-27T10:00:00')
  const w = (await api.call('POST', '/v1/complaints', complainantBody())).json.id as string
  await step(api, w, '2024-11-27T10:30:00', 'withdraw', { reason: '客户张伟说不再追究' })
  // Y: closed one year before "now"
  const y = await closedComplaint(api, '2025-11-24T09:00:00', '2025-11-27T10:00:00', 'web-form-y')

  await at(api, '2026-11-27T10:00:00') // X closed 2 years and 1 day ago; W withdrawn 30 minutes less than 2 years ago
  const oldWeek = async () => (await api.call('GET', '/v1/reports/weekly?week=2024-11-25', undefined, {}, 'auditor')).json.figures
  const oldMonth = async () => (await api.call('GET', '/v1/reports/monthly?month=2024-11', undefined, {}, 'auditor')).json.figures
  const weekBefore = await oldWeek()
  const monthBefore = await oldMonth()
  t.equal(weekBefore.received, 2)
  const before = await snapshot(api)

  const dry = await api.call('GET', '/v1/admin/retention', undefined, {}, 'auditor')
  t.equal(dry.status, 200)
  t.match(dry.json, { dryRun: true, retentionYears: 2, cutoff: '2024-11-27T02:00:00.000Z', complaints: 1, closed: 1, withdrawn: 0 },
    'X (closed 2 years and 1 day ago) is due; W, withdrawn 2 years ago to the hour, is not yet')
  const xRows = await everything(api, x)
  t.same(dry.json.rows, { timelineEntries: xRows.counts.timeline, auditEntries: xRows.counts.audit, notes: 1, replies: 1, outboxEvents: xRows.counts.outbox, idempotencyRecords: 1 })
  t.equal(await snapshot(api), before, 'the dry run changed nothing')

  api.clock.advanceMinutes(60) // now W too was withdrawn more than two years ago
  const run = await api.call('POST', '/v1/admin/jobs/retention/run', undefined, {}, 'admin')
  t.equal(run.status, 200)
  t.match(run.json.result, { dryRun: false, complaints: 2, closed: 1, withdrawn: 1, rows: { notes: 1, replies: 1, idempotencyRecords: 1 } })

  for (const [name, id] of [['X', x], ['W', w]] as const) {
    const { text } = await everything(api, id)
    for (const pii of PII) t.notOk(text.includes(pii), `${name}: "${pii}" is gone from every table`)
  }
  const yText = (await everything(api, y)).text
  for (const pii of PII) t.ok(yText.includes(pii), `Y (closed a year ago) still has "${pii}"`)

  const shown = await api.call('GET', `/v1/complaints/${x}`, undefined, {}, 'cs_agent')
  t.match(shown.json, {
    complainant: { name: '[已匿名]', phone: null, email: null, idNumber: null, address: null, externalIds: [] },
    subject: { product: '帕萨特' }, description: '[已匿名]', desiredOutcomeNote: '[已匿名]', callbackComment: '[已匿名]', attachments: [],
    status: 'closed', closureType: 'first_time', satisfaction: 4, level: 'general', rootCause: '刹车片批次错误', anonymisedAt: '2026-11-27T03:00:00.000Z',
  }, 'what the reports use stays')
  t.same(Object.keys(shown.json.subject), ['product'], 'the VIN and the plate are gone, the product stays')
  const notes = await api.call('GET', `/v1/complaints/${x}/notes`, undefined, {}, 'cs_agent')
  t.equal(notes.json.items[0].body, '[已匿名]')
  const timeline = (await api.call('GET', `/v1/complaints/${x}/timeline`, undefined, {}, 'cs_agent')).json.items
  t.match(timeline.at(-1), { action: 'anonymise', actor: { type: 'system', name: 'retention' }, before: {}, after: {} }, 'the timeline says when it was anonymised')
  t.equal(timeline.find((e: { action: string }) => e.action === 'record_callback').after.satisfaction, 4, 'the score on the timeline stays (the satisfaction figures read it)')

  t.same(await oldWeek(), weekBefore, 'the old week’s report figures are the same after anonymisation')
  const monthAfter = await oldMonth()
  t.same({ ...monthAfter, repeats: undefined }, { ...monthBefore, repeats: undefined }, 'and the month’s, but for repeat matching, which needs the removed keys')

  const checkEvent = createEventChecker()
  const events = await api.db.selectFrom('outbox_events').select('payload').where('complaint_id', 'in', [x, w]).execute()
  t.same(events.flatMap((e) => checkEvent(e.payload as { type: string })), [], 'anonymised event payloads still match their webhook schemas')

  const audit = await api.db.selectFrom('audit_log').select(['operation', 'entity_type', 'after']).where('operation', 'like', 'retention.%').orderBy('id').execute()
  t.same(audit.map((a) => `${a.operation} ${a.entity_type}`).sort(), ['retention.anonymise complaint', 'retention.anonymise complaint', 'retention.run retention_run'])
  t.match(audit.find((a) => a.operation === 'retention.run')!.after, { complaints: 2, closed: 1, withdrawn: 1 }, 'the run is logged with its counts')

  const again = await api.call('POST', '/v1/admin/jobs/retention/run', undefined, {}, 'admin')
  t.match(again.json.result, { complaints: 0 }, 'anonymised once')
  t.equal((await api.call('GET', '/v1/admin/retention', undefined, {}, 'admin')).json.complaints, 0)
})

t.test('the timeline and the audit log stay append-only outside the retention job', async (t) => {
  const api = await testApp(t, { now: local('2026-11-23T09:00:00') })
  const id = (await api.call('POST', '/v1/complaints', complainantBody())).json.id as string
  await t.rejects(sql`update complaint_timeline set data = '{}' where complaint_id = ${id}`.execute(api.db), /append-only/)
  await t.rejects(sql`update audit_log set after = '{}' where entity_id = ${id}`.execute(api.db), /append-only/)
  await t.rejects(api.db.transaction().execute(async (trx) => {
    await sql`select set_config('complaints.anonymising', 'on', true)`.execute(trx)
    await sql`update complaint_timeline set data = '{}' where complaint_id = ${id}`.execute(trx)
  }), /append-only/, 'even with the retention setting, not for a complaint that was not anonymised')
  await t.rejects(api.db.transaction().execute(async (trx) => {
    await sql`select set_config('complaints.anonymising', 'on', true)`.execute(trx)
    await sql`update complaints set anonymised_at = now() where id = ${id}`.execute(trx)
    await sql`delete from complaint_timeline where complaint_id = ${id}`.execute(trx)
  }), /append-only/, 'and never a delete')
  await t.rejects(api.db.transaction().execute(async (trx) => {
    await sql`select set_config('complaints.anonymising', 'on', true)`.execute(trx)
    await sql`update complaints set anonymised_at = now() where id = ${id}`.execute(trx)
    await sql`update complaint_timeline set action = 'close' where complaint_id = ${id}`.execute(trx)
  }), /append-only/, 'nor a change of what happened, when or by whom')
})
