import { readFile } from 'node:fs/promises'
import t from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { LIFECYCLE_ROUTES } from '../../src/complaints/routes.js'
import { generateOpenApiDocument, serialiseOpenApi } from '../../src/openapi-document.js'
import { testApp } from '../helper.js'

const committedPath = new URL('../../openapi/openapi.json', import.meta.url)

t.test('the committed openapi/openapi.json is what the code generates (run `npm run openapi` after changing a route)', async (t) => {
  const committed = await readFile(committedPath, 'utf8')
  const generated = serialiseOpenApi(await generateOpenApiDocument())
  t.equal(committed, generated)
})

t.test('the document is valid OpenAPI 3.1', async (t) => {
  const doc = JSON.parse(await readFile(committedPath, 'utf8'))
  const validator = new Validator()
  const result = await validator.validate(doc)
  t.equal(validator.version, '3.1')
  t.same(result.errors ?? [], [], 'no validation errors')
  t.equal(result.valid, true)
})

t.test('every lifecycle operation is documented with a request and response schema', async (t) => {
  const doc = JSON.parse(await readFile(committedPath, 'utf8'))
  const operations = new Map<string, any>()
  for (const item of Object.values<any>(doc.paths)) for (const op of Object.values<any>(item)) operations.set(op.operationId, op)
  for (const id of ['receiveComplaint', 'listComplaints', 'getComplaint', 'getComplaintTimeline', 'trackComplaint', ...LIFECYCLE_ROUTES.map((r) => r.operationId)]) {
    const op = operations.get(id)
    t.ok(op, `${id} is in the document`)
    if (!op) continue
    t.ok(op.summary && op.tags?.length, `${id} has a summary and a tag`)
    t.ok(op.responses['200']?.content?.['application/json']?.schema ?? op.responses['201']?.content?.['application/json']?.schema, `${id} has a success schema`)
  }
  const named = (schema: { $ref?: string }) => doc.components.schemas[schema.$ref!.split('/').pop()!]
  for (const r of LIFECYCLE_ROUTES) {
    const op = operations.get(r.operationId)
    t.ok(named(op.requestBody.content['application/json'].schema)?.properties, `${r.operationId} has a named request body schema`)
    for (const code of ['404', '409', '412', '422']) t.ok(op.responses[code], `${r.operationId} documents ${code}`)
    t.ok(op.parameters.some((p: any) => p.in === 'header' && p.name === 'if-match'), `${r.operationId} documents If-Match`)
  }
  t.ok(operations.get('receiveComplaint').requestBody.content['application/json'].example?.complainant, 'the create body carries an example')
})

t.test('the service serves the document and the docs UI', async (t) => {
  const api = await testApp(t)
  const raw = await api.call('GET', '/openapi.json')
  t.equal(raw.status, 200)
  t.equal(raw.json.openapi, '3.1.0')
  const committed = await readFile(committedPath, 'utf8')
  t.same(raw.json, JSON.parse(committed), 'the served document is the committed one')
  // 1,514,488 bytes pretty-printed before the schemas were named and the responses shared
  t.ok(committed.length <= 1_514_488 / 3, `the document is at most a third of its former size (${committed.length} bytes)`)
  const docs = await api.app.inject({ method: 'GET', url: '/docs/' })
  t.equal(docs.statusCode, 200)
  t.match(docs.headers['content-type'], /text\/html/)
})
