import t from 'tap'
import Type from 'typebox'
import fastJsonStringify from 'fast-json-stringify'
import { nullableAsTypeList } from '../../src/app.js'
import { Nullable } from '../../src/http/common-schemas.js'

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
