import { readFileSync } from 'node:fs'
import t from 'tap'
import { createContractChecker } from '../contract.js'
import { testApp } from '../helper.js'

const doc = () => JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8'))
const id = '0195f7a4-5b1c-7c3e-9a10-2f4d6e8b1a01'
const problem = JSON.stringify({ type: 'https://complaints.example/problems/not-found', title: 'Not Found', status: 404, detail: 'complaint does not exist' })
const headers = { 'content-type': 'application/problem+json; charset=utf-8', 'x-request-id': 'r1' }

t.test('the contract checker names what a response does against the document', async (t) => {
  const check = createContractChecker()
  t.same(check({ method: 'GET', url: `/v1/complaints/${id}`, status: 404, headers, body: problem }), [], 'a documented 404 keeps the contract')
  t.match(check({ method: 'GET', url: `/v1/complaints/${id}`, status: 418, headers, body: problem })[0], /status 418 is not documented for GET \/v1\/complaints\/\{id\}/)
  t.match(check({ method: 'GET', url: `/v1/complaints/${id}`, status: 404, headers: { ...headers, 'content-type': 'application/json' }, body: problem })[0], /media type application\/json is not documented/)
  t.match(check({ method: 'GET', url: `/v1/complaints/${id}`, status: 404, headers: { 'content-type': 'application/problem+json' }, body: problem })[0], /required header x-request-id missing/)
  t.match(check({ method: 'GET', url: `/v1/complaints/${id}`, status: 404, headers, body: JSON.stringify({ title: 'x' }) }).join('\n'), /must have required property 'type'/)
  t.match(check({ method: 'POST', url: '/v1/nowhere', status: 200, headers, body: '{}' })[0], /no such operation/)
})

t.test('an undocumented status fails the test that produced it', async (t) => {
  // the committed document without getComplaint's 404: a GET of an unknown complaint must then fail
  const trimmed = doc()
  delete trimmed.paths['/v1/complaints/{id}'].get.responses['404']
  const failures: string[] = []
  const fake = Object.assign(Object.create(t), { fail: (message: string) => void failures.push(message) }) as typeof t
  const api = await testApp(fake, { contract: createContractChecker(trimmed) })
  const res = await api.call('GET', `/v1/complaints/${id}`)
  t.equal(res.status, 404)
  t.equal(failures.length, 1)
  t.match(failures[0], /getComplaint 404: status 404 is not documented/)
  t.same(api.violations, [failures[0]!.replace('response breaks the OpenAPI document: ', '')])
})
