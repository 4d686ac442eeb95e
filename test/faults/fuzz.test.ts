import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import t from 'tap'
import { OWN_CREDENTIAL, PERMISSIONS, PUBLIC, ROLES } from '../../src/access/policy.js'
import { checkInvariants } from '../invariants.js'
import { METRICS_TOKEN, testApp, webComplaint, type As } from '../helper.js'
import { n, report } from './support.js'

/**
 * Fuzz from the OpenAPI document: for every operation, generated requests — the documented example
 * body and mutations of it, valid and hostile path ids, query values and headers, each role's key, a
 * wrong key or none. Never a 5xx; every 4xx is problem+json; every answer is one the document lists for
 * the operation (the helper checks each response against it); afterwards the database invariants hold.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 200)
type Json = Record<string, any>
const doc = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')) as Json
const resolve = (node: Json): Json => (node?.$ref ? node.$ref.slice(2).split('/').reduce((at: Json, k: string) => at[k], doc) : node)

const operations = Object.entries(doc.paths as Json).flatMap(([path, item]) => Object.entries(item as Json).map(([method, op]) => ({ path, method: method.toUpperCase(), op: op as Json })))

const hostileText = fc.constantFrom('', ' ', 'x'.repeat(10_001), '\u0000', '\ud800', '‮RTL', '../../etc/passwd', '%00', '<script>alert(1)</script>', "'; drop table complaints; --", '😀'.repeat(300), '0x10', '1e309', '-1', '9'.repeat(30))
/** percent-encodes anything, a lone surrogate as the bytes an attacker would send for it (invalid UTF-8) */
const encode = (s: string) => { try { return encodeURIComponent(s) } catch { return '%ED%A0%80' } }
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(hostileText, fc.constantFrom(null, true, 0, -1, 1.5, 2 ** 53, [], {}, [1, 2], { nested: { deeper: [null] } }), fc.string(), fc.integer())

/** mutations of a valid body: a field dropped, a field of the wrong type, an unknown field, deep nesting */
function mutate(body: unknown): fc.Arbitrary<unknown> {
  const base = body && typeof body === 'object' && !Array.isArray(body) ? (body as Json) : {}
  const keys = Object.keys(base)
  return fc.oneof(
    fc.constant(body),
    fc.constant(body),
    keys.length ? fc.constantFrom(...keys).map((k) => { const { [k]: _dropped, ...rest } = base; return rest }) : fc.constant({}),
    keys.length ? fc.tuple(fc.constantFrom(...keys), hostileValue).map(([k, v]) => ({ ...base, [k]: v })) : fc.constant({}),
    fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), hostileValue).map(([k, v]) => ({ ...base, [k]: v })),
    hostileValue,
    fc.constant(JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`)),
  )
}

const tally = { requests: 0, fiveHundreds: 0 }
report(t, {
  name: 'fuzz', fault: 'Hostile and malformed requests',
  tried: `${RUNS} generated requests per operation of the OpenAPI document: valid and mutated bodies, hostile ids, query strings and headers, wrong content types, each role’s key, a wrong key or none`,
  cases: () => `${n(tally.requests)} requests over ${operations.length} operations; ${tally.fiveHundreds} answered 5xx`,
})

t.test(`fuzz: ${RUNS} generated requests per operation of the document, never a 5xx, always as documented`, async (t) => {
  const api = await testApp(t, { env: { RATE_LIMIT_PER_MINUTE: '10000000', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '10000000' } })
  // things to point path parameters at
  const complaints: string[] = []
  for (let i = 0; i < 5; i++) complaints.push((await api.call('POST', '/v1/complaints', webComplaint())).json.id)
  await api.call('POST', `/v1/complaints/${complaints[1]}/assess`, { categoryId: 'sales', level: 'general', departmentId: 'service-station' })
  await api.call('POST', `/v1/complaints/${complaints[1]}/handover`, {})
  const subscription = (await api.call('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/h', eventTypes: ['complaint.*'] }, {}, 'admin')).json.id
  const receiver = (await api.call('POST', '/v1/admin/departments/sales/receivers', { name: '赵敏' }, {}, 'admin')).json.id
  const spareKey = (await api.call('POST', '/v1/admin/api-keys', { name: 'fuzz target', role: 'auditor' }, {}, 'admin')).json.id
  await api.app.services.db.selectFrom('complaints').select('reference').execute()
  const reference = (await api.call('GET', `/v1/complaints/${complaints[0]}`)).json.reference

  const known: Record<string, string[]> = {
    '/v1/complaints/{id}': complaints, '/v1/webhooks/{id}': [subscription], '/v1/deliveries/{id}': [], '/v1/admin/receivers/{id}': [receiver],
    '/v1/admin/api-keys/{id}': [spareKey], '/v1/admin/departments/{id}': ['sales', 'service-station'], '/v1/admin/categories/{id}': ['sales', 'billing'],
    '/v1/track/{reference}': [reference], '/v1/admin/jobs/{name}': ['calendar-coverage', 'due-soon'], '/v1/admin/calendar/overrides/{date}': ['2027-01-01', '2026-10-10'],
  }
  const idFor = (path: string) => {
    const prefix = Object.keys(known).find((p) => path.startsWith(p.slice(0, p.lastIndexOf('{'))) && path.includes(p.slice(p.lastIndexOf('{'))))
    return fc.oneof(
      fc.constantFrom(...(prefix && known[prefix]!.length ? known[prefix]! : ['00000000-0000-4000-8000-000000000000'])),
      fc.uuid(),
      hostileText.filter((s) => s.length > 0 && s.length < 3000).map(encode),
    )
  }
  const roles: As[] = [...ROLES.filter((r) => r !== 'department'), 'department:service-station', 'department:sales']

  let requests = 0
  const statuses = new Map<number, number>()
  for (const { path, method, op } of operations) {
    const example = op.requestBody ? op.requestBody.content['application/json']?.example ?? {} : undefined
    const query = (op.parameters ?? []).filter((p: Json) => p.in === 'query') as Json[]
    const allowed = PERMISSIONS[op.operationId]
    const request = fc.record({
      ids: fc.array(idFor(path), { minLength: 2, maxLength: 2 }),
      body: example === undefined ? fc.constant(undefined) : mutate(example),
      query: fc.subarray(query).chain((ps) => fc.tuple(...ps.map((p) => fc.oneof(hostileText, fc.constantFrom('1', '50', 'true', 'received', '2026-11-26T10:00:00+08:00')).map((v) => [p.name as string, v] as const)))),
      who: fc.oneof(fc.constantFrom<As | 'anonymous' | 'garbage'>(...roles, 'anonymous', 'garbage'), fc.constantFrom(...(Array.isArray(allowed) ? allowed : ['anonymous' as const]))),
      ifMatch: fc.option(fc.oneof(fc.constant('"1"'), fc.constant('*'), hostileText.filter((s) => !/[\u0000-\u001f\u007f-\uffff]/.test(s))), { freq: 3 }),
      contentType: fc.option(fc.constantFrom('text/plain', 'application/xml', 'application/json; charset=latin1', 'multipart/form-data; boundary=x'), { freq: 8 }),
    })
    await fc.assert(fc.asyncProperty(request, async (r) => {
      let ids = 0
      const url = path.replace(/\{[^}]+\}/g, () => String(r.ids[ids++ % 2])) +
        (r.query.length ? `?${r.query.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')}` : '')
      const headers: Record<string, string> = {}
      if (r.ifMatch !== null) headers['if-match'] = r.ifMatch
      if (r.contentType !== null && r.body !== undefined) headers['content-type'] = r.contentType
      if (op.operationId === 'metrics') headers.authorization = r.who === 'garbage' ? 'Bearer nope' : `Bearer ${METRICS_TOKEN}`
      else if (r.who === 'garbage') headers.authorization = 'Bearer cpk_not-a-key'
      const as = op.operationId === 'metrics' || r.who === 'garbage' || allowed === PUBLIC || allowed === OWN_CREDENTIAL ? 'anonymous' : r.who
      const res = await api.call(method as 'GET', url, r.body, headers, as as As)
      requests++
      tally.requests++
      if (res.status >= 500) tally.fiveHundreds++
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      if (res.status >= 500) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`)
      if (res.status >= 400 && !String(res.headers['content-type']).startsWith('application/problem+json')) throw new Error(`${method} ${url} → ${res.status} is not problem+json`)
    }), { numRuns: RUNS })
  }
  t.equal(api.violations.length, 0, `${requests} requests over ${operations.length} operations, each answered as the document says`)
  t.comment(`statuses: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}`)
  t.same(await checkInvariants(api.db), [], 'and the database invariants hold')
})
