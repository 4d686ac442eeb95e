import { connect } from 'node:net'
import t from 'tap'
import { rowCounts, testApp, webComplaint, type TestApp } from '../helper.js'

/** a raw request body, sent as it is (inject() would re-encode a string) */
async function post(api: TestApp, url: string, body: string | Buffer, contentType?: string) {
  const res = await api.app.inject({
    method: 'POST', url, payload: body,
    headers: { authorization: `Bearer ${await api.keyFor('cs_agent')}`, ...(contentType ? { 'content-type': contentType } : {}) },
  })
  return { status: res.statusCode, headers: res.headers, json: res.body ? res.json() : null }
}

const complaintJson = (description: string) => `{"channel":"web","complainant":{"name":"张伟"},"description":"${description}"}`

t.test('text with a lone surrogate is a 400 naming the field, wherever it is in the body; nothing is stored', async (t) => {
  const api = await testApp(t)
  const lone = await post(api, '/v1/complaints', complaintJson('noise \\ud800 again'), 'application/json')
  t.equal(lone.status, 400)
  t.match(lone.headers['content-type'], /^application\/problem\+json/)
  t.same(lone.json.errors.map((e: { field: string }) => e.field), ['/body/description'])
  t.match(lone.json.errors[0].message, /lone UTF-16 surrogate/)

  const nested = await post(api, '/v1/complaints', '{"channel":"web","complainant":{"name":"\\udc00张"},"description":"x","desiredOutcomes":["resolution","\\ud83d"]}', 'application/json')
  t.same(nested.json.errors.map((e: { field: string }) => e.field), ['/body/complainant/name', '/body/desiredOutcomes/1'], 'every field, in nested objects and arrays')
  const key = await post(api, '/v1/complaints', '{"channel":"web","complainant":{"name":"a"},"description":"x","\\ud800":1}', 'application/json')
  t.same(key.json.errors.map((e: { field: string }) => e.field), ['/body/\\ud800'], 'a property name too')

  // raw bytes: ED A0 80 is a surrogate encoded as if it were a character — not UTF-8
  const raw = Buffer.concat([Buffer.from(complaintJson('noise ').slice(0, -2)), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])
  const bytes = await post(api, '/v1/complaints', raw, 'application/json')
  t.equal(bytes.status, 400)
  t.same(bytes.json.errors, [{ field: '/body/description', message: 'is not valid UTF-8' }])
  t.equal((await rowCounts(api.db)).complaints, 0, 'nothing was stored')

  const pair = await post(api, '/v1/complaints', complaintJson('noise \\ud83d\\ude20 and \ufffd as sent'), 'application/json')
  t.equal(pair.status, 201, 'a surrogate pair is a character (😠); U+FFFD sent as such is text')
  t.equal(pair.json.description, 'noise 😠 and \ufffd as sent')
})

t.test('bodies are JSON only: text/plain, other types and no type are 415; a charset parameter is fine', async (t) => {
  const api = await testApp(t)
  const body = JSON.stringify(webComplaint())
  for (const type of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'application/xml']) {
    const res = await post(api, '/v1/complaints', body, type)
    t.equal(res.status, 415, type)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.equal(res.json.title, 'Unsupported Media Type')
  }
  t.equal((await post(api, '/v1/complaints', body)).status, 415, 'no content type')
  t.equal((await rowCounts(api.db)).complaints, 0)
  t.equal((await post(api, '/v1/complaints', body, 'application/json; charset=utf-8')).status, 201)
})

t.test('every framework error is problem+json: 400, 404, 405, 413, 414', async (t) => {
  const api = await testApp(t, { env: { BODY_LIMIT_BYTES: '1024' } })
  const key = await api.keyFor('cs_agent')
  const cases: Array<[string, { method: 'GET' | 'POST' | 'DELETE'; url: string; payload?: string }, number]> = [
    ['a path parameter over maxParamLength', { method: 'GET', url: `/v1/complaints/${'a'.repeat(300)}` }, 414],
    ['a malformed percent-encoding', { method: 'GET', url: '/v1/complaints/%E0%A4%A' }, 400],
    ['an unknown route', { method: 'GET', url: '/v1/nothing-here' }, 404],
    ['a method the path does not have', { method: 'DELETE', url: '/v1/complaints' }, 405],
    ['invalid JSON', { method: 'POST', url: '/v1/complaints', payload: '{"channel":' }, 400],
    ['an empty JSON body', { method: 'POST', url: '/v1/complaints', payload: '' }, 400],
    ['prototype poisoning', { method: 'POST', url: '/v1/complaints', payload: '{"__proto__":{"admin":true}}' }, 400],
    ['a body over BODY_LIMIT_BYTES', { method: 'POST', url: '/v1/complaints', payload: JSON.stringify(webComplaint({ description: 'x'.repeat(2000) })) }, 413],
  ]
  for (const [what, req, status] of cases) {
    const res = await api.app.inject({ ...req, headers: { authorization: `Bearer ${key}`, ...(req.payload !== undefined ? { 'content-type': 'application/json' } : {}) } })
    t.equal(res.statusCode, status, what)
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${what}: problem+json`)
    const problem = res.json()
    t.equal(problem.status, status)
    t.match(problem, { type: /^https:\/\/complaints\.example\/problems\//, title: String, detail: String })
    t.notMatch(problem.title, /Error$/, `${what}: the title is the status phrase, not a class name`)
  }
  const wrongMethod = await api.app.inject({ method: 'PUT', url: '/v1/complaints/00000000-0000-4000-8000-000000000000/acknowledge', headers: { authorization: `Bearer ${key}` } })
  t.equal(wrongMethod.statusCode, 405)
  t.equal(wrongMethod.headers.allow, 'POST', 'Allow names the methods the path has')
})

t.test('errors of the HTTP parser, before there is a request, are problem+json too', async (t) => {
  const api = await testApp(t)
  await api.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = api.app.server.address() as { port: number }
  const raw = (request: string) => new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request))
    let data = ''
    socket.on('data', (d) => (data += d))
    socket.on('close', () => resolve(data))
    socket.on('error', reject)
  })
  const long = await raw(`GET /v1/complaints?q=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`)
  t.match(long, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/)
  t.match(long, /\r\nContent-Type: application\/problem\+json\r\n/)
  t.match(JSON.parse(long.split('\r\n\r\n')[1]!), { status: 431, title: 'Request Header Fields Too Large', type: /headers-too-large$/ })
  const garbage = await raw('NONSENSE\r\n\r\n')
  t.match(garbage, /^HTTP\/1\.1 400 Bad Request\r\n/)
  t.match(JSON.parse(garbage.split('\r\n\r\n')[1]!), { status: 400, type: /malformed-request$/ })
})

t.test('query integers are decimal digits only: no hex, exponent, sign, spaces or empty values', async (t) => {
  const api = await testApp(t)
  for (let i = 0; i < 6; i++) await api.call('POST', '/v1/complaints', webComplaint())
  for (const limit of ['0x10', '1e1', ' 5', '5 ', '+5', '', '1.5', '0b11', 'Infinity', '99999999999999999999']) {
    const res = await api.call('GET', `/v1/complaints?limit=${encodeURIComponent(limit)}`)
    t.equal(res.status, 400, `limit=${JSON.stringify(limit)}`)
    t.same(res.json.errors.map((e: { field: string }) => e.field), ['/querystring/limit'])
  }
  t.equal((await api.call('GET', '/v1/complaints?limit=-1')).status, 400, 'decimal, but below the minimum')
  const page = await api.call('GET', '/v1/complaints?limit=05')
  t.equal(page.status, 200, 'leading zeros are decimal: 05 is 5')
  t.equal(page.json.items.length, 5)
  t.equal((await api.call('GET', '/v1/audit?cursor=0x10')).status, 400, 'every integer of every query string')
  t.equal((await api.call('GET', '/v1/audit?cursor=16')).status, 200)
})
