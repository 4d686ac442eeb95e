import { Readable } from 'node:stream'
import { sql } from 'kysely'
import { Type } from 'typebox'
import { Webhook } from 'standardwebhooks'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { CHANNELS } from '../../domain/vocabulary.js'
import { badRequest, ProblemError } from '../../errors.js'
import { json, problems } from '../../http/common-schemas.js'
import { logComplaint } from '../../http/respond.js'
import { scheduleOf, JOBS } from '../../jobs/index.js'
import { auditContext } from '../../plugins/auth.js'
import { clientFor, clientSettings, WukongError, type FieldMeta } from './client.js'
import { importComplaint, receiveCustomers } from './inbound.js'
import { mappedChannels, mappingFrom, RETURN_VISIT_FIELDS, toCrmTime } from './mapping.js'
import { pullState } from './repository.js'
import * as S from './schemas.js'

const tags = ['integrations']

/** Standard Webhooks headers: required on the inbound endpoints when WUKONG_INBOUND_SECRET is set */
const SignatureHeaders = Type.Object({
  'webhook-id': Type.Optional(Type.String({ maxLength: 255, description: 'with WUKONG_INBOUND_SECRET: the message id (Standard Webhooks)' })),
  'webhook-timestamp': Type.Optional(Type.String({ maxLength: 20, description: 'with WUKONG_INBOUND_SECRET: Unix seconds of signing; more than 5 minutes off is refused' })),
  'webhook-signature': Type.Optional(Type.String({ maxLength: 2000, description: 'with WUKONG_INBOUND_SECRET: `v1,<base64 HMAC-SHA256>` of `id.timestamp.body`' })),
})

/** `a,b，c` (the CRM's options, ASCII or full-width commas) */
const optionsOf = (f: FieldMeta | undefined) => (f?.options ?? '').split(/[,，]/).map((o) => o.trim()).filter(Boolean)
/** the CRM stores `return_visit_type` camel-cased (`returnVisitType`) */
const sameFieldName = (a: string, b: string) => a.replace(/_/g, '').toLowerCase() === b.replace(/_/g, '').toLowerCase()

/** inbound customers and complaints in 悟空CRM's field names, and the connector's status */
export default async function wukongRoutes(app: FastifyInstance) {
  const { services } = app
  const { config } = services
  const secret = config.WUKONG_INBOUND_SECRET
  const rawBodies = new WeakMap<FastifyRequest, string>()

  /** the body's exact bytes, which the signature covers (only when signatures are required) */
  async function keepRawBody(req: FastifyRequest, _reply: unknown, payload: AsyncIterable<Buffer> & NodeJS.ReadableStream) {
    if (!secret) return payload
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of payload) {
      size += chunk.length
      if (size > config.BODY_LIMIT_BYTES) throw new ProblemError({ status: 413, code: 'payload-too-large', title: 'Payload Too Large', detail: `the body exceeds ${config.BODY_LIMIT_BYTES} bytes` })
      chunks.push(chunk)
    }
    const raw = Buffer.concat(chunks)
    rawBodies.set(req, raw.toString('utf8'))
    return Readable.from([raw])
  }

  /** with WUKONG_INBOUND_SECRET, a body without a valid Standard Webhooks signature is refused */
  async function verifySignature(req: FastifyRequest) {
    if (!secret) return
    const h = req.headers
    try {
      new Webhook(secret).verify(rawBodies.get(req) ?? '', {
        'webhook-id': String(h['webhook-id'] ?? ''), 'webhook-timestamp': String(h['webhook-timestamp'] ?? ''), 'webhook-signature': String(h['webhook-signature'] ?? ''),
      })
    } catch (err) {
      throw badRequest('/headers/webhook-signature', `no valid Standard Webhooks signature (WUKONG_INBOUND_SECRET): ${(err as Error).message}`)
    }
  }

  const signed = secret ? 'A Standard Webhooks signature made with WUKONG_INBOUND_SECRET is required (`webhook-id`, `webhook-timestamp`, `webhook-signature`); without one, 400.' : 'When WUKONG_INBOUND_SECRET is set, a Standard Webhooks signature is required as well.'

  app.post('/v1/integrations/wukong/customers', {
    preParsing: keepRawBody,
    preValidation: verifySignature,
    schema: {
      operationId: 'receiveWukongCustomers', tags, summary: 'Receive 悟空CRM customers (one or a batch)',
      description: `Customers in 悟空CRM’s field names, into the customer mirror complaints take their complainant from. Idempotent: the same customer again changes nothing; one with an \`updateTime\` older than the stored one is ignored and reported \`stale\`; locked and deleted customers (status 2, 3) are recorded so; an \`updateTime\` more than 5 minutes ahead of the service’s clock is 422. ${signed}`,
      headers: SignatureHeaders,
      body: S.WukongCustomersRequest,
      response: { 200: json('What became of each customer, in the order sent.', S.WukongCustomersResult), ...problems(422) },
    },
  }, async (req) => {
    const body = req.body as S.WukongCustomerBody | S.WukongCustomerBody[]
    return receiveCustomers(services, Array.isArray(body) ? body : [body], Array.isArray(body), auditContext(req))
  })

  app.post('/v1/integrations/wukong/complaints', {
    preParsing: keepRawBody,
    preValidation: verifySignature,
    schema: {
      operationId: 'receiveWukongComplaint', tags, summary: 'Receive a complaint recorded in 悟空CRM',
      description: `Received like any complaint (\`POST /v1/complaints\`), with channel \`crm_sync\`, \`receivedAt\` from \`createTime\` (GMT+8) and the complainant from the customer (the mirror; one it lacks is fetched from the CRM when the connector is configured). One complaint per CRM record (\`activityId\`, or else customer, time and content): sent again, it answers 200 with the complaint it became; the same record with other content is 409. ${signed}`,
      headers: SignatureHeaders,
      body: S.WukongComplaintRequest,
      response: {
        201: json('The complaint the CRM record became, with the tracking token.', S.WukongComplaintImport, ['location']),
        200: json('This CRM record was imported before: the complaint it became, unchanged.', S.WukongComplaintImport, ['location']),
        ...problems(409, 422, 503),
      },
    },
  }, async (req, reply) => {
    const result = await importComplaint(services, req.body as S.WukongComplaintBody, auditContext(req))
    logComplaint(req, result.complaintId)
    if (result.outcome === 'created') reply.code(201)
    return reply.header('location', `/v1/complaints/${result.complaintId}`).send(result)
  })

  app.get('/v1/integrations/wukong', {
    schema: {
      operationId: 'getWukongStatus', tags, summary: 'The 悟空CRM connector: settings checked against the CRM, pull and push',
      description: 'Logs in (if this process holds no token) and asks the CRM for its follow-up categories and its return visit fields, to show what the mapping sends that this install lacks; shows the pull’s cursor and last run and the wukong subscription.',
      response: { 200: json('The connector’s state.', S.WukongStatus) },
    },
  }, async () => {
    const settings = clientSettings(config)
    const mapping = mappingFrom(config)
    const satisficing = [1, 2, 3, 4, 5].map((n) => mapping.satisficing(n))
    let crm = null
    if (settings) {
      try {
        const client = clientFor(settings, () => services.clock.now())
        const [categories, fields] = await Promise.all([client.followUpCategories(), client.returnVisitFields()])
        const checkField = (setting: string, fieldId: number, fieldName: string, values: string[]) => {
          const field = fields.find((f) => f.fieldId === fieldId && sameFieldName(f.fieldName, fieldName))
          return { setting, fieldId, found: field !== undefined, missingOptions: [...new Set(values)].filter((v) => !optionsOf(field).includes(v)) }
        }
        crm = {
          reachable: true, error: null, followUpCategories: categories,
          missingCategories: [...new Set(CHANNELS.map((c) => mapping.category(c)))].filter((c) => !categories.includes(c)),
          returnVisitFields: [
            checkField('WUKONG_RETURN_VISIT_TYPE_FIELD_ID', mapping.fieldIds.returnVisitType, RETURN_VISIT_FIELDS.returnVisitType.fieldName, CHANNELS.map((c) => mapping.returnVisitType(c))),
            checkField('WUKONG_SATISFICING_FIELD_ID', mapping.fieldIds.satisficing, RETURN_VISIT_FIELDS.satisficing.fieldName, satisficing),
          ],
        }
      } catch (err) {
        if (!(err instanceof WukongError)) throw err
        crm = { reachable: false, error: err.message, followUpCategories: [], missingCategories: [], returnVisitFields: [] }
      }
    }
    const state = await pullState(services.db)
    const sub = await services.db.selectFrom('webhook_subscriptions').select(['id', 'status', 'event_types']).where('target', '=', 'wukong').executeTakeFirst()
    const { n } = await services.db.selectFrom('wukong_customers').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()
    return {
      configured: settings !== null, baseUrl: settings?.baseUrl ?? null, account: settings?.username ?? null, crm,
      mapping: mappedChannels(mapping), satisficing,
      pull: {
        scheduled: scheduleOf(JOBS['wukong-pull'], config),
        cursor: state?.cursor_time ? toCrmTime(state.cursor_time) : null, cursorPage: state?.cursor_page ?? 1,
        lastRunAt: state?.last_run_at?.toISOString() ?? null, lastResult: state?.last_result ?? null,
      },
      customers: n,
      subscription: sub ? { id: sub.id, status: sub.status as 'active', eventTypes: sub.event_types } : null,
    }
  })
}
