import assert from 'node:assert/strict'
import fc from 'fast-check'
import t from 'tap'
import { CHANNELS, COMPLAINANT_KINDS, DESIRED_OUTCOMES, EXTERNAL_CHANNELS } from '../../src/domain/vocabulary.js'
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

/**
 * The intake is one statement (receiveComplaint): Node makes the complaint whole, with a placeholder where
 * the reference number goes, and Postgres writes it with the number it takes. Whatever the body, the
 * complaint it answers is the complaint it stored, the number is in every record that carries it, and
 * what the caller sent is stored as sent — also text that looks like a placeholder.
 */
t.test('intake: the complaint answered is the complaint stored, its number in every record, every body stored as sent', async (t) => {
  const api = await testApp(t)
  const now = api.clock.now().getTime()
  const text = fc.oneof(
    fc.string({ minLength: 1, maxLength: 40 }).filter((s) => /\S/.test(s) && !/[\u0000-\u001f\u007f]/.test(s)),
    fc.constantFrom('reference-0123456789abcdef01234567', '"reference":"x"', '\\"CP-2026-000001\\"', '投诉 “刹车” \\ / </script>'),
  )
  const body = fc.record({
    channel: fc.constantFrom(...CHANNELS),
    complainant: fc.record({
      name: text,
      kind: fc.constantFrom(...COMPLAINANT_KINDS),
      phone: fc.constantFrom('13800138000', '+86 21 5555-0100'),
      email: fc.constantFrom('zhang.wei@example.com'),
      idNumber: text,
      address: text,
      externalIds: fc.array(fc.record({ system: fc.constantFrom('wukong', 'crm-2'), customerId: text }), { maxLength: 3 }),
    }, { requiredKeys: ['name'] }),
    subject: fc.record({ product: text, orderNo: text, vin: fc.constant('LSVAU2180N2183294'), plate: text.filter((s) => s.length <= 20) }, { requiredKeys: [] }),
    description: text,
    desiredOutcomes: fc.uniqueArray(fc.constantFrom(...DESIRED_OUTCOMES)),
    desiredOutcomeNote: text,
    attachments: fc.array(fc.record({ url: fc.constantFrom('https://files.example.com/a.jpg'), sha256: fc.constant('a'.repeat(64)), name: text }, { requiredKeys: ['url', 'sha256'] }), { maxLength: 2 }),
    receivedAt: fc.integer({ min: 0, max: 29 * DAY }).map((back) => new Date(now - back).toISOString()),
    externalBody: fc.constantFrom(...EXTERNAL_CHANNELS),
  }, { requiredKeys: ['channel', 'complainant', 'description'] })
  const counter = async () => (await api.db.selectFrom('reference_counters').select('last_value').where('year', '=', 2026).executeTakeFirst())?.last_value ?? 0
  let runs = 0
  await fc.assert(fc.asyncProperty(body, async (generated) => {
    const sent = JSON.parse(JSON.stringify(generated)) as typeof generated // plain objects, as a body arrives
    const last = await counter()
    const res = await api.call('POST', '/v1/complaints', sent)
    if (res.status !== 201) throw new Error(`${res.status} ${JSON.stringify(res.json)}`)
    const { trackingToken, ...answered } = res.json
    assert.match(trackingToken, /^[\w-]{24}$/)
    assert.equal(answered.reference, `CP-2026-${String(last + 1).padStart(6, '0')}`, 'the next number of the year: gap-free')
    const got = await api.call('GET', `/v1/complaints/${answered.id}`)
    assert.deepStrictEqual(got.json, answered, 'GET shows what POST answered')
    assert.equal(got.headers.etag, res.headers.etag)
    const row = await api.db.selectFrom('complaints').selectAll().where('id', '=', answered.id).executeTakeFirstOrThrow()
    assert.deepStrictEqual(
      [row.description, row.complainant_name, row.complainant_address, row.subject, row.complainant_external_ids, row.attachments, row.desired_outcome_note],
      [sent.description, sent.complainant.name, sent.complainant.address ?? null, sent.subject ?? {}, sent.complainant.externalIds ?? [], sent.attachments ?? [], sent.desiredOutcomeNote ?? null],
      'stored as sent')
    const timeline = await api.db.selectFrom('complaint_timeline').selectAll().where('complaint_id', '=', answered.id).execute()
    const audit = await api.db.selectFrom('audit_log').selectAll().where('entity_id', '=', answered.id).execute()
    const events = await api.db.selectFrom('outbox_events').selectAll().where('complaint_id', '=', answered.id).orderBy('id').execute()
    assert.deepStrictEqual(timeline.map((e) => (e.after as { reference: string }).reference), [answered.reference], 'the timeline entry carries the number')
    assert.deepStrictEqual(audit.map((a) => (a.after as { reference: string }).reference), [answered.reference], 'so does the audit entry')
    const external = sent.externalBody !== undefined || (EXTERNAL_CHANNELS as readonly string[]).includes(sent.channel)
    assert.deepStrictEqual(events.map((e) => e.type), external ? ['complaint.received', 'complaint.external_reported'] : ['complaint.received'])
    for (const e of events) assert.deepStrictEqual((e.payload as { data: { complaint: unknown } }).data.complaint, answered, 'each event carries the complaint as answered')
    runs++
  }), { numRuns: Math.ceil(Number(process.env.PROPERTY_RUNS ?? 300) / 5) })
  t.ok(runs > 0, `${runs} intakes: each answered as stored, numbered in turn, its records carrying its number`)
  t.same(api.violations, [], 'every answer as the OpenAPI document says')
})

t.test('reference numbers past 999,999 grow a digit', async (t) => {
  const api = await testApp(t)
  await api.db.insertInto('reference_counters').values({ year: 2026, last_value: 999_998 }).onConflict((oc) => oc.column('year').doUpdateSet({ last_value: 999_998 })).execute()
  const refs = []
  for (let i = 0; i < 2; i++) refs.push((await api.call('POST', '/v1/complaints', webComplaint())).json.reference)
  t.same(refs, ['CP-2026-999999', 'CP-2026-1000000'])
})
