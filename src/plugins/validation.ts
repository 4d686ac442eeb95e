import Ajv from 'ajv'
import addFormats from 'ajv-formats'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'
import { ProblemError, type ProblemFieldError } from '../errors.js'
import { isValidDate, parseInstant } from '../http/instants.js'

type Validator = ReturnType<FastifySchemaCompiler<unknown>>

/**
 * Request validation. Bodies are strict: a wrong type or an unknown property is a 400 naming the
 * field, never coerced or silently dropped (Fastify's default Ajv does both). Query strings, path
 * parameters and headers arrive as text, so those are coerced to the schema's types — integers and
 * numbers from decimal text only (see decimalOnly).
 */
function makeAjv(coerce: boolean) {
  const ajv = new Ajv.default({
    coerceTypes: coerce ? 'array' : false,
    removeAdditional: false,
    useDefaults: true,
    allErrors: true,
    strict: false,
  })
  addFormats.default(ajv)
  // one range for every date the API accepts (src/http/instants.ts), wherever it appears
  ajv.addFormat('date-time', { type: 'string', validate: (v: string) => parseInstant(v) !== null })
  ajv.addFormat('date', { type: 'string', validate: isValidDate })
  return ajv
}

interface PropertySchema { type?: unknown; items?: { type?: unknown } }

const DECIMAL = {
  integer: { pattern: /^-?\d+$/, message: 'must be a decimal integer: digits with an optional leading minus' },
  number: { pattern: /^-?\d+(\.\d+)?$/, message: 'must be a decimal number: digits, an optional fraction and leading minus' },
}

/**
 * Ajv coerces text with Number(), which reads `0x10` as 16, `1e1` as 10 and ` 5` as 5. Every integer
 * and number property of a query string, path or header schema (or array of them) must be written in
 * decimal digits instead: an optional leading minus, leading zeros allowed (`05` is 5), nothing else;
 * integers beyond 2^53 are refused rather than rounded. Checked on the raw text, before Ajv coerces.
 */
function decimalOnly(schema: { properties?: Record<string, PropertySchema> }, validate: Validator): Validator {
  const fields = Object.entries(schema.properties ?? {}).flatMap(([name, s]) => {
    const type = s.type === 'array' ? s.items?.type : s.type
    return type === 'integer' || type === 'number' ? [{ name, type, ...DECIMAL[type] }] : []
  })
  if (fields.length === 0) return validate
  return (data: Record<string, unknown> | null) => {
    const errors: FastifySchemaValidationError[] = []
    for (const f of fields) {
      const value = data?.[f.name]
      for (const text of Array.isArray(value) ? value : [value]) {
        if (typeof text !== 'string') continue
        const ok = f.pattern.test(text) && (f.type === 'number' || Number.isSafeInteger(Number(text)))
        if (!ok) {
          const message = f.pattern.test(text) ? 'is out of range' : f.message
          errors.push({ instancePath: `/${f.name}`, schemaPath: `#/properties/${f.name}`, keyword: 'decimal', params: {}, message })
        }
      }
    }
    if (errors.length > 0) return { error: errors }
    return validate(data) ? { value: data } : { error: validate.errors ?? [] }
  }
}

/** the first lone UTF-16 surrogate of a string: JSON's `\ud800` escape decodes to one */
const LONE_SURROGATE = /\p{Cs}/u

/**
 * Every string (and property name) of a parsed JSON body that is not valid Unicode text, as JSON
 * pointers: lone surrogates, and — when the raw bytes were not valid UTF-8 — the strings that got
 * U+FFFD in their place. Iterative, so deep nesting cannot overflow the stack.
 */
export function illFormedText(body: unknown, invalidUtf8: boolean): ProblemFieldError[] {
  const found: ProblemFieldError[] = []
  const check = (text: string, pointer: string) => {
    if (LONE_SURROGATE.test(text)) found.push({ field: pointer, message: 'contains a lone UTF-16 surrogate (e.g. \\ud800): text must be valid Unicode' })
    else if (invalidUtf8 && text.includes('\ufffd')) found.push({ field: pointer, message: 'is not valid UTF-8' })
  }
  const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1').replace(/\p{Cs}/gu, (c) => `\\u${c.charCodeAt(0).toString(16)}`)
  const stack: Array<[unknown, string]> = [[body, '/body']]
  while (stack.length > 0) {
    const [value, pointer] = stack.pop()!
    if (typeof value === 'string') check(value, pointer)
    else if (Array.isArray(value)) value.forEach((v, i) => stack.push([v, `${pointer}/${i}`]))
    else if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        check(key, `${pointer}/${escape(key)}`)
        stack.push([v, `${pointer}/${escape(key)}`])
      }
    }
  }
  if (invalidUtf8 && found.length === 0) found.push({ field: '/body', message: 'is not valid UTF-8' })
  return found.sort((a, b) => (a.field < b.field ? -1 : 1))
}

/**
 * A validator compiled on its route's first request instead of at start: compiling every route's
 * schemas took most of the start-up time (npm run bench). Ajv reports a failed check on the function
 * (`validate.errors`), which Fastify reads after the call, so the wrapper carries it over.
 */
export function onFirstUse(compile: () => Validator): Validator {
  type WithErrors = Validator & { errors?: FastifySchemaValidationError[] | null }
  let validate: WithErrors | undefined
  const lazy: WithErrors = (data: unknown) => {
    validate ??= compile() as WithErrors
    const result = validate(data)
    lazy.errors = validate.errors
    return result
  }
  return lazy
}

/**
 * The two Ajv instances, one each a process: Ajv keeps what it compiled by schema object, so apps built
 * in one process from the same route schemas (the test suite builds 140) compile each schema once
 */
let ajvs: { strictAjv: Ajv.default; coercingAjv: Ajv.default } | undefined

export default fp(async function validation(app: FastifyInstance) {
  const { strictAjv, coercingAjv } = (ajvs ??= { strictAjv: makeAjv(false), coercingAjv: makeAjv(true) })
  app.setValidatorCompiler(({ schema, httpPart }) =>
    onFirstUse(() => (httpPart === 'body' ? strictAjv.compile(schema) : decimalOnly(schema as never, coercingAjv.compile(schema)))))

  // Bodies are JSON (RFC 8259: UTF-8) and nothing else: no text/plain parser, so every other media
  // type is a 415. Fastify's JSON parsing is kept (prototype-poisoning checks, 400 on bad or empty
  // JSON); text that is not valid Unicode is refused here, once, instead of becoming U+FFFD in storage.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  const utf8 = new TextDecoder('utf-8', { fatal: true })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, raw: Buffer, done) => {
    let text: string
    let invalidUtf8 = false
    try {
      text = utf8.decode(raw)
    } catch {
      text = raw.toString('utf8')
      invalidUtf8 = true
    }
    parseJson(request, text, (err, body) => {
      if (err) return done(err, undefined)
      const errors = illFormedText(body, invalidUtf8)
      if (errors.length === 0) return done(null, body)
      done(new ProblemError({
        status: 400, code: 'invalid-text', title: 'Bad Request',
        detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors,
      }), undefined)
    })
  })
}, { name: 'validation' })
