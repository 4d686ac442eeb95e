import t from 'tap'
import { testApp, webComplaint, type TestApp } from '../helper.js'

/** POSTs a lifecycle step with the ETag of the version we hold, as a careful integrator would */
async function step(api: TestApp, c: { id: string; version: number }, path: string, body: unknown) {
  const res = await api.call('POST', `/v1/complaints/${c.id}/${path}`, body, { 'if-match': `"${c.version}"` })
  if (res.status !== 200) throw new Error(`${path} → ${res.status} ${JSON.stringify(res.json)}`)
  return res.json
}

async function timelineOf(api: TestApp, id: string) {
  const res = await api.call('GET', `/v1/complaints/${id}/timeline`)
  return res.json.items as Array<{ action: string; fromStatus: string | null; toStatus: string; at: string; actor: { type: string }; before: any; after: any; data: any }>
}

t.test('a general web complaint goes from receipt to first-time closure', async (t) => {
  const api = await testApp(t)
  const created = await api.call('POST', '/v1/complaints', webComplaint())
  t.equal(created.status, 201)
  t.match(created.json.reference, /^CP-2026-\d{6}$/)
  t.equal(created.headers.etag, '"1"')
  t.equal(created.headers.location, `/v1/complaints/${created.json.id}`)
  let c = created.json

  api.clock.advanceMinutes(5)
  c = await step(api, c, 'acknowledge', { via: 'sms', message: '已受理' })
  t.equal(c.status, 'acknowledged')
  c = await step(api, c, 'assess', { categoryId: 'service_quality', level: 'general', nature: 'good_faith', departmentId: 'service-station' })
  t.equal(c.status, 'assessed')
  t.equal(c.level, 'general')
  t.equal(c.major, false)
  t.equal(c.departmentId, 'service-station')
  c = await step(api, c, 'handover', {})
  t.equal(c.status, 'handed_over')
  api.clock.advanceMinutes(30)
  c = await step(api, c, 'sign', { signedBy: '李娜' })
  t.equal(c.status, 'in_progress')
  t.ok(c.deadlines.firstReplyDueAt, 'signing starts the first-reply clock')
  c = await step(api, c, 'replies', { body: 'We will refit the pads on Friday.', via: 'phone', decision: { optionsOffered: ['refit', 'refund'], chosenOption: 'refit', compensationFen: 5000 } })
  t.equal(c.status, 'responded')
  t.ok(c.firstRepliedAt)
  c = await step(api, c, 'investigation', {
    facts: 'Pads replaced 2026-11-20; noise reproduced on a test drive.',
    rootCause: 'A superseded pad part number was still orderable.',
    capa: { measures: [{ type: 'corrective', action: 'Refit OEM pads 5N0-698-451 on this vehicle', owner: '王工', dueDate: '2026-11-28' }, { type: 'preventive', action: '加强培训' }] },
  })
  t.equal(c.rootCause, 'A superseded pad part number was still orderable.')
  t.equal(c.capa.measures.length, 2)
  c = await step(api, c, 'closure-request', { resultSummary: 'Pads refitted; test drive with the customer, no noise.' })
  t.equal(c.status, 'closure_requested')
  t.equal(Date.parse(c.deadlines.callbackDueAt) - Date.parse(c.closureRequestedAt), 12 * 3600_000, 'callback due 12 h after the closure request')
  c = await step(api, c, 'closure-callback', { satisfied: true, satisfaction: 5, comment: '满意' })
  t.equal(c.status, 'closure_confirmed')
  t.equal(c.satisfaction, 5)
  c = await step(api, c, 'close', { comment: 'approved' })
  t.equal(c.status, 'closed')
  t.equal(c.closureType, 'first_time')
  // its CAPA measure waits for the effectiveness review, which comes after closure
  t.same(c.allowedActions, ['add_note', 'reopen', 'link_external_ids', 'review_capa'])

  const timeline = await timelineOf(api, c.id)
  t.same(
    timeline.map((e) => [e.action, e.toStatus]),
    [
      ['receive', 'received'], ['acknowledge', 'acknowledged'], ['assess', 'assessed'], ['handover', 'handed_over'], ['sign', 'in_progress'],
      ['reply', 'responded'], ['record_investigation', 'responded'], ['request_closure', 'closure_requested'],
      ['record_callback', 'closure_confirmed'], ['close', 'closed'],
    ],
  )
  // who did what follows the seed's responsibilities
  const byRole: Record<string, string> = {
    receive: 'cs_agent', acknowledge: 'cs_agent', assess: 'cs_agent', handover: 'cs_agent', sign: 'department', reply: 'department',
    record_investigation: 'department', request_closure: 'department', record_callback: 'cs_agent', close: 'management',
  }
  for (const e of timeline) {
    t.ok(Date.parse(e.at), `${e.action} is time-stamped`)
    t.equal(e.actor.type, 'api_key', `${e.action} names its actor`)
    t.equal((e.actor as { role?: string }).role, byRole[e.action], `${e.action} was done by ${byRole[e.action]}`)
  }
  const sign = timeline.find((e) => e.action === 'sign')!
  t.same(sign.before.status, 'handed_over')
  t.same(sign.after.signedBy, '李娜')
  t.equal(Date.parse(sign.at) - Date.parse(timeline[0]!.at), 35 * 60_000, 'timestamps come from the clock')
  const close = timeline.at(-1)!
  t.equal(close.data.closureType, 'first_time')

  // every mutation is in the audit log with its actor and before/after
  const audit = (await api.call('GET', `/v1/audit?entityType=complaint&entityId=${c.id}`, undefined, {}, 'auditor')).json.items.reverse()
  t.same(audit.map((e: { operation: string }) => e.operation), [
    'receiveComplaint', 'acknowledgeComplaint', 'assessComplaint', 'handOverComplaint', 'signComplaint', 'replyToComplaint',
    'recordInvestigation', 'requestClosure', 'recordClosureCallback', 'closeComplaint',
  ])
  for (const e of audit) {
    t.ok(e.actorKeyId && e.actorRole && e.requestId, `${e.operation}: actor key, role and request id`)
    t.ok(e.after && Object.keys(e.after).length > 0, `${e.operation}: after`)
    if (e.operation !== 'receiveComplaint') t.ok(e.before && Object.keys(e.before).length > 0, `${e.operation}: before`)
  }
  const assessAudit = audit.find((e: { operation: string }) => e.operation === 'assessComplaint')
  t.same([assessAudit.before.level, assessAudit.after.level], [null, 'general'])
  t.equal(assessAudit.actorRole, 'cs_agent')

  const replies = await api.call('GET', `/v1/complaints/${c.id}/replies`)
  t.equal(replies.json.items.length, 1)
  t.equal(replies.json.items[0].decision.compensationFen, 5000)

  const events = await api.db.selectFrom('outbox_events').select(['type']).where('complaint_id', '=', c.id).orderBy('id').execute()
  t.same(events.map((e) => e.type), [
    'complaint.received', 'complaint.acknowledged', 'complaint.assessed', 'complaint.handed_over', 'complaint.signed',
    'complaint.replied', 'complaint.closure_requested', 'complaint.callback_recorded', 'complaint.closed',
  ])
})

t.test('a strong consumer-association complaint is rejected at callback, then deferred as second-stage irrational', async (t) => {
  const api = await testApp(t)
  const created = await api.call('POST', '/v1/complaints', webComplaint({ channel: 'consumer_association', description: '消费者协会转来的投诉：车辆多次维修未解决' }))
  t.equal(created.status, 201)
  let c = created.json
  t.equal(c.externalBody, 'consumer_association', 'an external body is recorded from the channel')
  t.equal(c.major, true, 'external complaints are major')
  t.equal(Date.parse(c.deadlines.handoverDueAt) - Date.parse(c.receivedAt), 30 * 60_000, 'external: hand over within 30 minutes')

  c = await step(api, c, 'acknowledge', { via: 'phone' })
  c = await step(api, c, 'assess', { categoryId: 'product_quality', level: 'strong', departmentId: 'service-station', major: false })
  t.equal(c.major, true, 'an external complaint stays major even when assessment says otherwise')
  c = await step(api, c, 'handover', {})
  c = await step(api, c, 'sign', { signedBy: '王强' })
  c = await step(api, c, 'replies', { body: 'Engineer visit booked.' })
  c = await step(api, c, 'investigation', { rootCause: 'Intermittent ECU fault not covered by the diagnostic script.' })
  c = await step(api, c, 'closure-request', { resultSummary: 'ECU reflashed.' })
  c = await step(api, c, 'closure-callback', { satisfied: false, satisfaction: 1, comment: '问题依旧' })
  t.equal(c.status, 'in_progress', 'a rejected closure goes back to work')
  t.equal(c.closureRejectedCount, 1)
  t.equal(c.level, 'strong', 'strong stays strong')
  t.equal(c.closureRequestedAt, null)

  c = await step(api, c, 'deferral', { reason: 'Waiting for the manufacturer’s lab report (4–6 weeks).' })
  t.equal(c.status, 'in_progress', 'a deferral request waits for review')
  c = await step(api, c, 'deferral/review', { approved: true, followUpMode: 'monitor', comment: 'approved by CS' })
  t.equal(c.status, 'deferred')
  t.equal(c.level, 'irrational')
  t.equal(c.irrationalStage, 'second')
  t.equal(c.followUpMode, 'monitor')

  const timeline = await timelineOf(api, c.id)
  t.same(
    timeline.map((e) => [e.action, e.toStatus]),
    [
      ['receive', 'received'], ['acknowledge', 'acknowledged'], ['assess', 'assessed'], ['handover', 'handed_over'], ['sign', 'in_progress'],
      ['reply', 'responded'], ['record_investigation', 'responded'], ['request_closure', 'closure_requested'],
      ['record_callback', 'in_progress'], ['request_deferral', 'in_progress'], ['review_deferral', 'deferred'],
    ],
  )
  const callback = timeline.find((e) => e.action === 'record_callback')!
  t.equal(callback.data.outcome, 'rejected_closure')
  t.equal(callback.data.upgrade.flagManagement, true, 'a strong complaint that fails again is flagged to management')
  const review = timeline.at(-1)!
  t.same(review.after.level, 'irrational')
  t.same(review.after.irrationalStage, 'second')
  t.same(review.after.followUpMode, 'monitor')

  const events = await api.db.selectFrom('outbox_events').select(['type', 'payload']).where('complaint_id', '=', c.id).orderBy('id').execute()
  t.ok(events.some((e) => e.type === 'complaint.external_reported'), 'PR is notified of an external complaint')
  t.ok(events.some((e) => e.type === 'complaint.level_upgraded'))
  t.ok(events.some((e) => e.type === 'complaint.deferred'))
  const last = events.at(-1)!.payload as any
  t.same(last.data.complaint.complainant.externalIds, [{ system: 'wukong', customerId: '1024' }], 'events carry the CRM ids')
  t.equal(last.data.complaint.version, c.version, 'events carry the version they describe')
})

t.test('a general complaint rejected at callback upgrades to moderate and closes second-time', async (t) => {
  const api = await testApp(t)
  let c = (await api.call('POST', '/v1/complaints', webComplaint())).json
  for (const [path, body] of [
    ['assess', { categoryId: 'sales', level: 'general', departmentId: 'sales' }],
    ['handover', {}], ['sign', { signedBy: '赵敏' }], ['replies', { body: 'Called back.' }],
    ['closure-request', { resultSummary: 'Refund issued.', rootCause: 'Price list out of date at the showroom.' }],
    ['closure-callback', { satisfied: false }],
  ] as const) c = await step(api, c, path, body)
  t.equal(c.level, 'moderate')
  t.equal(c.clockStartedAt, api.clock.now().toISOString(), 'clocks restart at the upgrade')
  c = await step(api, c, 'closure-request', { resultSummary: 'Refund and apology letter.' })
  c = await step(api, c, 'closure-callback', { satisfied: true })
  c = await step(api, c, 'close', {})
  t.equal(c.closureType, 'second_time')

  api.clock.advanceMinutes(60 * 24 * 10)
  c = await step(api, c, 'reopen', { reason: 'Refund never arrived.' })
  t.equal(c.status, 'in_progress')
  t.equal(c.reopenCount, 1)
  t.equal(c.closedAt, null)

  // a withdrawn complaint accepts nothing more but notes are refused too
  c = await step(api, c, 'withdraw', { reason: 'Customer settled directly.' })
  t.equal(c.status, 'withdrawn')
  t.same(c.allowedActions, ['link_external_ids'], 'only linking CRM ids remains')
})

t.test('reopen is refused after the reopen window', async (t) => {
  const api = await testApp(t, { env: { REOPEN_WINDOW_DAYS: '30' } })
  let c = (await api.call('POST', '/v1/complaints', webComplaint())).json
  for (const [path, body] of [
    ['assess', { categoryId: 'billing', level: 'general', departmentId: 'finance' }], ['handover', {}], ['sign', { signedBy: 'x' }],
    ['replies', { body: 'ok' }], ['closure-request', { resultSummary: 'done', rootCause: 'typo in invoice' }], ['closure-callback', { satisfied: true }], ['close', {}],
  ] as const) c = await step(api, c, path, body)
  api.clock.advanceMinutes(31 * 24 * 60)
  const res = await api.call('POST', `/v1/complaints/${c.id}/reopen`, { reason: 'again' })
  t.equal(res.status, 409)
  t.match(res.json.detail, /reopen window of 30 days/)
})
