import t from 'tap'
import { sql } from 'kysely'
import { testApp, webComplaint, type TestApp } from '../helper.js'

async function create(api: TestApp, over: Record<string, unknown> = {}) {
  const res = await api.call('POST', '/v1/complaints', webComplaint(over))
  api.clock.advanceMinutes(1)
  return res.json
}

t.test('list: rows sharing a millisecond, or one instant, as SQL writes them are each listed once', async (t) => {
  const api = await testApp(t)
  const ids: string[] = []
  for (let i = 0; i < 7; i++) ids.push((await create(api)).id)
  // an import by SQL: microseconds, and one statement's now() for a whole batch
  await sql`update complaints set created_at = case when id = any(${ids.slice(0, 3)}::uuid[]) then timestamptz '2026-11-20 10:00:00.123456+08'
    else timestamptz '2026-11-20 10:00:00.123' + (random() * 999)::int * interval '1 microsecond' end`.execute(api.db)
  const order = (await sql<{ id: string }>`select id from complaints order by created_at desc, id desc`.execute(api.db)).rows.map((r) => r.id)
  for (const limit of [1, 2, 3]) {
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res = await api.call('GET', `/v1/complaints?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`)
      t.equal(res.status, 200)
      seen.push(...res.json.items.map((c: { id: string }) => c.id))
      cursor = res.json.nextCursor
    } while (cursor && seen.length <= ids.length)
    t.same(seen, order, `pages of ${limit}: every complaint once, in the database's order`)
  }
  // the row a cursor stands on is no longer at the cursor's instant (moved here; gone, in life): the
  // cursor's own instant still places the next page
  const page = await api.call('GET', '/v1/complaints?limit=4')
  const moved = page.json.items[3].id as string
  await sql`update complaints set created_at = created_at - interval '1 day' where id = ${moved}::uuid`.execute(api.db)
  const rest = (await api.call('GET', `/v1/complaints?limit=10&cursor=${page.json.nextCursor}`)).json.items.map((c: { id: string }) => c.id)
  t.same(rest.filter((id: string) => id !== moved).filter((id: string) => order.indexOf(id) <= 3), [], 'nothing of the first page again')
  t.equal(rest[rest.length - 1], moved, 'the moved row, a day older now, last')
})

t.test('list: filters and keyset pagination, newest first', async (t) => {
  const api = await testApp(t)
  const start = api.clock.now().getTime()
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push((await create(api, { description: `noise report ${i}` })).id)
  const hotline = await create(api, { channel: 'hotline_400', description: 'invoice wrong amount' })
  await api.call('POST', `/v1/complaints/${hotline.id}/assess`, { categoryId: 'billing', level: 'moderate', departmentId: 'finance' })

  const page1 = await api.call('GET', '/v1/complaints?limit=4')
  t.equal(page1.status, 200)
  t.equal(page1.json.items.length, 4)
  t.equal(page1.json.items[0].id, hotline.id, 'newest first')
  const page2 = await api.call('GET', `/v1/complaints?limit=4&cursor=${page1.json.nextCursor}`)
  t.equal(page2.json.items.length, 2)
  t.equal(page2.json.nextCursor, null)
  const seen = [...page1.json.items, ...page2.json.items].map((c: { id: string }) => c.id)
  t.same(seen, [hotline.id, ...ids.slice().reverse()], 'every complaint exactly once, in order')

  t.same((await api.call('GET', '/v1/complaints?channel=hotline_400')).json.items.map((c: { id: string }) => c.id), [hotline.id])
  t.same((await api.call('GET', '/v1/complaints?level=moderate&departmentId=finance&categoryId=billing')).json.items.map((c: { id: string }) => c.id), [hotline.id])
  t.equal((await api.call('GET', '/v1/complaints?status=received&status=assessed')).json.items.length, 6)
  t.equal((await api.call('GET', '/v1/complaints?status=assessed')).json.items.length, 1)
  t.equal((await api.call('GET', '/v1/complaints?q=INVOICE')).json.items.length, 1, 'text search ignores case')
  t.equal((await api.call('GET', '/v1/complaints?q=LSVAU2180N2183294')).json.items.length, 6, 'text search covers the subject (VIN)')
  t.equal((await api.call('GET', '/v1/complaints?q=100%25')).json.items.length, 0, 'LIKE wildcards are taken literally')
  const from = encodeURIComponent(new Date(start + 3 * 60_000).toISOString())
  t.equal((await api.call('GET', `/v1/complaints?createdFrom=${from}`)).json.items.length, 3)

  t.equal((await api.call('GET', '/v1/complaints?overdue=true')).json.items.length, 0)
  api.clock.advanceMinutes(60 * 24 * 7)
  t.equal((await api.call('GET', '/v1/complaints?overdue=true')).json.items.length, 6, 'a week later every clock has run out')
  t.equal((await api.call('GET', '/v1/complaints?overdue=false')).json.items.length, 0)

  const badCursor = await api.call('GET', '/v1/complaints?cursor=garbage')
  t.equal(badCursor.status, 400)
  t.equal(badCursor.json.errors[0].field, '/querystring/cursor')
  const badLimit = await api.call('GET', '/v1/complaints?limit=1000')
  t.equal(badLimit.status, 400)
  const unknownFilter = await api.call('GET', '/v1/complaints?colour=red')
  t.equal(unknownFilter.status, 400)
  t.equal(unknownFilter.json.errors[0].field, '/querystring/colour')
})

t.test('public tracking shows status and dates only, and needs the token', async (t) => {
  const api = await testApp(t)
  const c = await create(api)
  await api.call('POST', `/v1/complaints/${c.id}/acknowledge`, { via: 'sms' })
  await api.call('POST', `/v1/complaints/${c.id}/notes`, { kind: 'internal', body: 'customer is a journalist' })
  const res = await api.call('GET', `/v1/track/${c.reference}?token=${c.trackingToken}`)
  t.equal(res.status, 200)
  t.equal(res.json.status, 'acknowledged')
  t.ok(res.json.acknowledgedAt)
  t.ok(res.json.expectedClosureBy)
  t.same(Object.keys(res.json).sort(), ['acknowledgedAt', 'closedAt', 'closureRequestedAt', 'expectedClosureBy', 'firstRepliedAt', 'handedOverAt', 'receivedAt', 'reference', 'status', 'withdrawnAt'])
  t.notMatch(JSON.stringify(res.json), /journalist|张伟|13800138000/)

  const wrong = await api.call('GET', `/v1/track/${c.reference}?token=not-the-token`)
  t.equal(wrong.status, 404)
  const unknown = await api.call('GET', `/v1/track/CP-2026-999999?token=${c.trackingToken}`)
  t.equal(unknown.status, 404)
  t.equal(wrong.json.title, unknown.json.title, 'a wrong token looks like an unknown reference')
  const missing = await api.call('GET', `/v1/track/${c.reference}`)
  t.equal(missing.status, 400)
})

t.test('notes are kept in order and appear on the timeline', async (t) => {
  const api = await testApp(t)
  const c = await create(api)
  await api.call('POST', `/v1/complaints/${c.id}/notes`, { kind: 'emotion', body: 'angry, third visit' })
  await api.call('POST', `/v1/complaints/${c.id}/notes`, { kind: 'rework_callback', body: 'called after rework, ok' })
  const notes = await api.call('GET', `/v1/complaints/${c.id}/notes`)
  t.same(notes.json.items.map((n: { kind: string }) => n.kind), ['emotion', 'rework_callback'])
  const timeline = await api.call('GET', `/v1/complaints/${c.id}/timeline`)
  t.same(timeline.json.items.map((e: { action: string }) => e.action), ['receive', 'add_note', 'add_note'])
})
