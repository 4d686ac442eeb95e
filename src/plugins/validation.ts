import Ajv from 'ajv'
import addFormats from 'ajv-formats'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { isValidDate, parseInstant } from '../http/instants.js'

/**
 * Request validation. Bodies are strict: a wrong type or an unknown property is a 400 naming the
 * field, never coerced or silently dropped (Fastify's default Ajv does both). Query strings, path
 * parameters and headers arrive as text, so those are coerced to the schema's types.
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

export default fp(async function validation(app: FastifyInstance) {
  const strictAjv = makeAjv(false)
  const coercingAjv = makeAjv(true)
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strictAjv : coercingAjv).compile(schema))
}, { name: 'validation' })
