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
    const success = [op.responses['200'], op.responses['201']].map((r) => (r?.$ref ? doc.components.responses[r.$ref.split('/').pop()] : r))
    t.ok(success.some((r) => r?.content?.['application/json']?.schema), `${id} has a success schema`)
  }
  const named = (schema: { $ref?: string }) => doc.components.schemas[schema.$ref!.split('/').pop()!]
  for (const r of LIFECYCLE_ROUTES) {
    const op = operations.get(r.operationId)
    t.ok(named(op.requestBody.content['application/json'].schema)?.properties, `${r.operationId} has a named request body schema`)
    for (const code of ['404', '409', '412', '422']) t.ok(op.responses[code], `${r.operationId} documents ${code}`)
    t.ok(op.parameters.map((p: any) => (p.$ref ? doc.components.parameters[p.$ref.split('/').pop()] : p)).some((p: any) => p.in === 'header' && p.name === 'if-match'), `${r.operationId} documents If-Match`)
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
  t.comment(`the whole document: ${committed.length} bytes pretty-printed`)
  const docs = await api.app.inject({ method: 'GET', url: '/docs/' })
  t.equal(docs.statusCode, 200)
  t.match(docs.headers['content-type'], /text\/html/)
})

/**
 * The document as it was when the contract was reworked (commit b3afa8f): 1,487,399 bytes pretty-printed,
 * every schema inlined at each use. The same operations and events, with what they refer to, must now
 * take at most a third of that — measured on the same surface, since the API has grown since.
 */
const FORMER_BYTES = 1_487_399
const FORMER_OPERATIONS: string[] = ["GET /metrics","GET /healthz","GET /readyz","POST /v1/complaints","GET /v1/complaints","GET /v1/complaints/{id}","GET /v1/complaints/{id}/timeline","GET /v1/complaints/{id}/notes","POST /v1/complaints/{id}/notes","GET /v1/complaints/{id}/replies","POST /v1/complaints/{id}/replies","POST /v1/complaints/{id}/acknowledge","POST /v1/complaints/{id}/assess","POST /v1/complaints/{id}/handover","POST /v1/complaints/{id}/sign","POST /v1/complaints/{id}/investigation","POST /v1/complaints/{id}/closure-request","POST /v1/complaints/{id}/closure-callback","POST /v1/complaints/{id}/close","POST /v1/complaints/{id}/deferral","POST /v1/complaints/{id}/deferral/review","POST /v1/complaints/{id}/withdraw","POST /v1/complaints/{id}/pause","POST /v1/complaints/{id}/resume","POST /v1/complaints/{id}/external-ids","POST /v1/complaints/{id}/reopen","GET /v1/track/{reference}","GET /v1/admin/departments","POST /v1/admin/departments","PATCH /v1/admin/departments/{id}","GET /v1/admin/categories","POST /v1/admin/categories","PATCH /v1/admin/categories/{id}","GET /v1/admin/departments/{id}/receivers","POST /v1/admin/departments/{id}/receivers","PATCH /v1/admin/receivers/{id}","GET /v1/admin/api-keys","POST /v1/admin/api-keys","POST /v1/admin/api-keys/{id}/rotate","POST /v1/admin/api-keys/{id}/revoke","GET /v1/audit","GET /v1/admin/sla-policies","POST /v1/admin/sla-policies","GET /v1/admin/calendar","PUT /v1/admin/calendar/overrides/{date}","DELETE /v1/admin/calendar/overrides/{date}","GET /v1/admin/jobs","POST /v1/admin/jobs/{name}/run","POST /v1/webhooks","GET /v1/webhooks","GET /v1/webhooks/{id}","PATCH /v1/webhooks/{id}","DELETE /v1/webhooks/{id}","POST /v1/webhooks/{id}/rotate-secret","GET /v1/webhooks/{id}/deliveries","GET /v1/deliveries/{id}","POST /v1/deliveries/{id}/replay","POST /v1/webhooks/{id}/replay"]
const FORMER_EVENTS: string[] = ["complaint.received","complaint.acknowledged","complaint.assessed","complaint.external_reported","complaint.handed_over","complaint.signed","complaint.replied","complaint.closure_requested","complaint.callback_recorded","complaint.closed","complaint.deferral_requested","complaint.deferred","complaint.withdrawn","complaint.reopened","complaint.external_ids_linked","complaint.paused","complaint.resumed","complaint.level_upgraded","complaint.management_flagged","sla.due_soon","sla.breached","webhook.subscription_disabled"]

t.test('the operations and events of the former document take at most a third of its size now', async (t) => {
  const doc = JSON.parse(await readFile(committedPath, 'utf8'))
  const paths: Record<string, Record<string, unknown>> = {}
  for (const operation of FORMER_OPERATIONS) {
    const [method, path] = operation.split(' ') as [string, string]
    const op = doc.paths[path]?.[method.toLowerCase()]
    t.ok(op, `${operation} is still there`)
    if (op) (paths[path] ??= {})[method.toLowerCase()] = op
  }
  const webhooks = Object.fromEntries(FORMER_EVENTS.map((type) => [type, doc.webhooks[type]]))
  // the components those reach, following every $ref
  const components: Record<string, Record<string, unknown>> = {}
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit)
    if (!node || typeof node !== 'object') return
    const ref = (node as { $ref?: string }).$ref
    if (ref?.startsWith('#/components/')) {
      const [, , kind, name] = ref.split('/') as [string, string, string, string]
      if (!components[kind]?.[name]) {
        ;(components[kind] ??= {})[name] = doc.components[kind][name]
        visit(doc.components[kind][name])
      }
    }
    Object.values(node).forEach(visit)
  }
  visit(paths)
  visit(webhooks)
  const same = { ...doc, paths, webhooks, components: { ...components, securitySchemes: doc.components.securitySchemes } }
  const bytes = JSON.stringify(same, null, 2).length
  t.ok(bytes <= FORMER_BYTES / 3, `${bytes} bytes for what took ${FORMER_BYTES}: ${(bytes / FORMER_BYTES).toFixed(3)} of it`)
})
