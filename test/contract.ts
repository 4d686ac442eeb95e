import { readFileSync } from 'node:fs'
import Ajv2020 from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'

/**
 * Checks an HTTP response against the committed OpenAPI document: the operation exists, the status
 * is one it documents, the media type is the documented one, and the body matches the schema. One
 * helper for every response the HTTP tests produce.
 */
export interface ObservedResponse {
  method: string
  url: string
  status: number
  headers: Record<string, string | string[] | number | undefined>
  body: string
}

type Operation = { operationId: string; responses: Record<string, unknown> }
type Doc = { paths: Record<string, Record<string, Operation>>; components?: Record<string, unknown> }

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')

export function createContractChecker(doc: Doc = JSON.parse(readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8')) as Doc) {
  const ajv = new Ajv2020.default({ strict: false, allErrors: true })
  addFormats.default(ajv)
  ajv.addSchema(doc, 'openapi.json')
  const routes = Object.entries(doc.paths).map(([template, item]) => {
    const segments = template.split('/')
    return { template, item, segments, literals: segments.filter((s) => !s.startsWith('{')).length }
  })
  const validators = new Map<string, ReturnType<typeof ajv.compile>>()
  /** follows a local `$ref` (`#/components/responses/NotFound`) to what it names */
  const resolve = (node: unknown): unknown => {
    const ref = (node as { $ref?: string } | null)?.$ref
    if (!ref?.startsWith('#/')) return node
    return ref.slice(2).split('/').reduce<any>((at, part) => at?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc)
  }

  function find(method: string, path: string) {
    const parts = path.split('/')
    const matches = routes.filter((r) => r.segments.length === parts.length && r.segments.every((s, i) => s.startsWith('{') || s === parts[i]) && r.item[method.toLowerCase()])
    // the most specific template wins: /v1/complaints/{id}/deferral/review over a parameter in its place
    const best = matches.sort((a, b) => b.literals - a.literals)[0]
    return best ? { template: best.template, op: best.item[method.toLowerCase()]! } : undefined
  }

  /** what is wrong with the response, in words; empty when it keeps the contract */
  return function violations(res: ObservedResponse): string[] {
    const path = res.url.split('?')[0]!
    if (path === '/openapi.json' || path.startsWith('/docs')) return [] // the document and its UI describe themselves
    const found = find(res.method, path)
    if (!found) return res.status === 404 || res.status === 405 ? [] : [`${res.method} ${path}: no such operation in the document`]
    const { template, op } = found
    const name = `${op.operationId} ${res.status}`
    const code = String(res.status)
    const key = op.responses[code] ? code : op.responses[`${code[0]}XX`] ? `${code[0]}XX` : op.responses.default ? 'default' : undefined
    if (!key) return [`${name}: status ${res.status} is not documented for ${res.method} ${template} (documented: ${Object.keys(op.responses).join(', ')})`]
    // shared responses and headers are references into components
    const documented = resolve(op.responses[key]!) as { content?: Record<string, { schema: unknown }>; headers?: Record<string, { required?: boolean; $ref?: string }> }
    const pointerKey = documented === op.responses[key] ? key : undefined
    const problems: string[] = []
    for (const [header, spec] of Object.entries(documented.headers ?? {})) {
      if ((resolve(spec) as { required?: boolean }).required && res.headers[header.toLowerCase()] === undefined) problems.push(`${name}: required header ${header} missing`)
    }
    if (!documented.content) {
      if (res.body.length > 0) problems.push(`${name}: a body was sent where none is documented`)
      return problems
    }
    const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim()
    const media = documented.content[mediaType]
    if (!media) return [...problems, `${name}: media type ${mediaType || '(none)'} is not documented (documented: ${Object.keys(documented.content).join(', ')})`]
    if (!mediaType.endsWith('json')) return problems
    const sharedName = (op.responses[key] as { $ref?: string }).$ref?.split('/').pop()
    const ref = pointerKey
      ? `openapi.json#/${pointer('paths', template, res.method.toLowerCase(), 'responses', key, 'content', mediaType, 'schema')}`
      : `openapi.json#/${pointer('components', 'responses', sharedName!, 'content', mediaType, 'schema')}`
    let validate = validators.get(ref)
    if (!validate) validators.set(ref, (validate = ajv.compile({ $ref: ref })))
    let body: unknown
    try {
      body = JSON.parse(res.body)
    } catch {
      return [...problems, `${name}: the body is not JSON`]
    }
    if (!validate(body)) problems.push(...(validate.errors ?? []).map((e) => `${name}: body${e.instancePath} ${e.message} (${JSON.stringify(e.params)})`))
    return problems
  }
}

/** Checks an event payload against its entry under `webhooks` in the committed document. */
export function createEventChecker(doc: Doc & { webhooks?: Record<string, unknown> } = JSON.parse(readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8'))) {
  const ajv = new Ajv2020.default({ strict: false, allErrors: true })
  addFormats.default(ajv)
  ajv.addSchema(doc, 'openapi.json')
  const validators = new Map<string, ReturnType<typeof ajv.compile>>()
  return function violations(payload: { type: string }): string[] {
    if (!doc.webhooks?.[payload.type]) return [`event ${payload.type}: not in the document's webhooks`]
    let validate = validators.get(payload.type)
    if (!validate) {
      validate = ajv.compile({ $ref: `openapi.json#/${pointer('webhooks', payload.type, 'post', 'requestBody', 'content', 'application/json', 'schema')}` })
      validators.set(payload.type, validate)
    }
    return validate(payload) ? [] : (validate.errors ?? []).map((e) => `event ${payload.type}: ${e.instancePath} ${e.message} (${JSON.stringify(e.params)})`)
  }
}
