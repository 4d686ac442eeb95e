import fc from 'fast-check'
import t from 'tap'
import Type from 'typebox'
import fastJsonStringify from 'fast-json-stringify'
import { listItemSchema, listSerializer, nullableAsTypeList } from '../../src/app.js'
import { ComplaintPage } from '../../src/complaints/schemas.js'
import { Nullable } from '../../src/http/common-schemas.js'
import { testApp, webComplaint } from '../helper.js'

t.test('nullable primitives serialise from a list of types; everything else is left as it is', async (t) => {
  const schema = Type.Object({
    at: Nullable(Type.String({ format: 'date-time' })),
    n: Nullable(Type.Integer({ description: 'minutes' })),
    level: Nullable(Type.Enum(['general', 'moderate'])),
    ref: Nullable(Type.Ref('Complaint')),
    either: Type.Union([Type.String(), Type.Integer()]),
    list: Type.Array(Nullable(Type.Boolean())),
  })
  const original = JSON.stringify(schema)
  const out = nullableAsTypeList(schema) as { properties: Record<string, Record<string, unknown>> }
  t.equal(JSON.stringify(schema), original, 'the route schema itself is not changed (validation and the document keep the anyOf)')
  t.same(out.properties.at, { type: ['string', 'null'], format: 'date-time' })
  t.same(out.properties.n, { type: ['integer', 'null'], description: 'minutes' })
  t.same(out.properties.level, { type: ['string', 'null'], enum: ['general', 'moderate', null] })
  t.ok(Array.isArray(out.properties.ref!.anyOf), 'a nullable reference keeps its anyOf')
  t.ok(Array.isArray(out.properties.either!.anyOf), 'a union of two types keeps its anyOf')
  t.same((out.properties.list!.items as Record<string, unknown>).type, ['boolean', 'null'])

  const plain = { ...schema, properties: { ...schema.properties, ref: Type.Null() } }
  const before = fastJsonStringify(plain as never)
  const after = fastJsonStringify(nullableAsTypeList(plain) as never)
  for (const value of [
    { at: null, n: null, level: null, ref: null, either: 'x', list: [null, true] },
    { at: '2026-11-28T12:00:00.123Z', n: -30, level: 'moderate', ref: null, either: 7, list: [false] },
  ]) t.equal(after(value), before(value), `the same JSON: ${before(value)}`)
})

/** a list envelope as the routes declare them: `items` first, then whatever else the page says */
const Row = Type.Object({
  id: Type.String(),
  text: Type.String(),
  at: Nullable(Type.String({ format: 'date-time' })),
  n: Nullable(Type.Integer()),
  tags: Type.Array(Type.String()),
  nested: Type.Object({ name: Nullable(Type.String()), ok: Type.Boolean() }),
})
const Page = Type.Object({ items: Type.Array(Row), nextCursor: Nullable(Type.String()) })
const compiled = (schema: unknown) => fastJsonStringify(nullableAsTypeList(schema) as never) as (doc: unknown) => string
// any text: Chinese, quotes and backslashes, control characters, astral characters and lone surrogates
const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: fc.constantFrom('刹', '车', '"', '\\', '\n', '\u001e', '😀', 'a'), maxLength: 40 }))
const row = fc.record({
  id: fc.uuid(), text, at: fc.option(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), { nil: null }), n: fc.option(fc.integer(), { nil: null }),
  tags: fc.array(text, { maxLength: 3 }), nested: fc.record({ name: fc.option(text, { nil: null }), ok: fc.boolean() }),
  extra: text, // not in the schema: the serialisers leave it out
})
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300)

t.test('a list page is written from its items one by one, to the byte what the whole serialiser writes', async (t) => {
  t.same(listItemSchema(nullableAsTypeList(Page)), nullableAsTypeList(Row), 'an envelope whose first property is items: its items’ schema')
  t.equal(listItemSchema(nullableAsTypeList(Type.Object({ complaintId: Type.String(), items: Type.Array(Row) }))), undefined, 'items not first: the whole serialiser')
  t.equal(listItemSchema(nullableAsTypeList(Type.Object({ items: Type.Array(Type.String()) }))), undefined, 'items that are not objects: the whole serialiser')
  t.equal(listItemSchema(nullableAsTypeList(Row)), undefined, 'not a list')

  const whole = compiled(Page)
  const split = listSerializer(whole, compiled(Row))
  fc.assert(fc.property(fc.array(row, { maxLength: 60 }), fc.option(text, { nil: null }), (items, nextCursor) => {
    const doc = { items, nextCursor, extra: 'dropped' }
    const out = split(doc) as unknown
    const expected = Buffer.from(whole(doc), 'utf8')
    if (items.length < 2) return typeof out === 'string' && out === whole(doc)
    return Buffer.isBuffer(out) && out.equals(expected)
  }), { numRuns: RUNS })
})

t.test('GET /v1/complaints: the page as the complaint schema’s serialisers write it, item by item', async (t) => {
  const api = await testApp(t)
  for (const description of ['刹车异响，多次维修未解决', 'quotes " and \\ backslashes', 'emoji 😀 and a line\nbreak']) {
    t.equal((await api.call('POST', '/v1/complaints', webComplaint({ description }))).status, 201)
  }
  const res = await api.call('GET', '/v1/complaints?limit=50')
  t.equal(res.status, 200)
  t.equal(res.json.items.length, 3)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  const whole = compiled(ComplaintPage)
  const split = listSerializer(whole, compiled(ComplaintPage.properties.items.items))
  const out = split(res.json) as unknown as Buffer
  t.ok(Buffer.isBuffer(out), 'a Buffer')
  t.ok(out.equals(Buffer.from(whole(res.json), 'utf8')), 'the same bytes as the whole page’s serialiser')
  t.equal(Number(res.headers['content-length']), out.length, 'Content-Length counts the bytes sent')
  t.same(api.violations, [], 'the responses match the committed OpenAPI document')
})
