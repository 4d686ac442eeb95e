import type { Services } from '../../context.js'
import type { WebhookDelivery } from '../../db/types.js'
import { maskPhone } from '../../access/pii.js'
import { runAction } from '../../complaints/commands.js'
import type { ComplaintDto } from '../../complaints/schemas.js'
import type { Channel } from '../../domain/vocabulary.js'
import { unprocessable } from '../../errors.js'
import { EVENT_TYPE_NAMES } from '../../outbox/catalogue.js'
import { matchesEventType } from '../../webhooks/policy.js'
import type { DeliveryOutcome, DeliveryTarget } from '../../webhooks/targets.js'
import { clientFor, clientSettings, WukongError, type WukongClient } from './client.js'
import {
  complainantToCustomer, customerToComplainant, externalIdOf, followUpContent, followUpMarker, fromCrmTime, linkedCustomerId, mappingFrom,
  RETURN_VISIT_FIELDS, toCrmTime, visitNumber, type Mapping,
} from './mapping.js'
import { connectorAudit, upsertCustomers } from './repository.js'

/**
 * The `wukong` delivery target: complaint events written into 悟空CRM through its API, by the one
 * webhook dispatcher (same claims, retries, dead letters, delivery log and replay as any target):
 * - `complaint.received`, `complaint.closed` → a follow-up record (跟进记录) on the customer;
 * - `complaint.callback_recorded` → a return visit (回访) numbered by the complaint's reference.
 * The customer is the complainant's `wukong` external id; without one it is found by phone
 * (`dataCheck`), or created when WUKONG_ALLOW_CREATE_CUSTOMER allows, and linked to the complaint
 * through the lifecycle's `link_external_ids` step, so the timeline shows it.
 */
export const WUKONG_EVENT_TYPES = ['complaint.received', 'complaint.closed', 'complaint.callback_recorded'] as const
type WukongEventType = (typeof WUKONG_EVENT_TYPES)[number]

interface ComplaintEvent {
  id: string
  type: WukongEventType
  occurredAt: string
  data: { complaint: ComplaintDto; facts: { outcome?: string } }
}

/** a delivery the CRM cannot take until someone acts (e.g. two customers share the phone): dead-lettered */
class Refused extends Error {}

/** delivered without writing anything, and why (the delivery log shows it) */
interface Skipped { skipped: string }

const NOT_CONFIGURED = 'the 悟空CRM connector is not configured: set WUKONG_BASE_URL, WUKONG_USERNAME and WUKONG_PASSWORD'

/** the phone as stored, and its digits alone (the CRM matches exactly, without normalising) */
function phoneCandidates(phone: string): string[] {
  const digits = phone.replace(/\D/g, '')
  return [...new Set([phone, digits, digits.length === 13 && digits.startsWith('86') ? digits.slice(2) : digits])]
}

/** the CRM customer of the complaint's complainant: linked, matched by phone, or created; or why none */
async function customerOf(s: Services, client: WukongClient, c: ComplaintDto, signal: AbortSignal): Promise<number | Skipped> {
  // the complaint as it is now: an earlier delivery (or a person) may have linked it since this event
  const row = await s.db.selectFrom('complaints').select(['complainant_external_ids', 'complainant_phone']).where('id', '=', c.id).executeTakeFirst()
  const externalIds = row?.complainant_external_ids ?? c.complainant.externalIds
  const linked = linkedCustomerId(externalIds)
  if (linked !== null) return linked
  const other = externalIds.find((e) => e.system === 'wukong')
  if (other) throw new Refused(`the complainant's wukong id ${JSON.stringify(other.customerId)} is not a 悟空CRM customer id: correct it with POST /v1/complaints/${c.id}/external-ids, then replay`)

  const phone = row?.complainant_phone ?? c.complainant.phone
  if (!phone) return { skipped: 'the complainant has no 悟空CRM id and no phone to find one by' }
  let ids: number[] = []
  for (const candidate of phoneCandidates(phone)) {
    // leads (type 1) are not customers; 2 is an owned customer, 9 one in the public pool
    ids = [...new Set((await client.dataCheck(candidate, signal)).filter((m) => m.type === 2 || m.type === 9).map((m) => m.id))]
    if (ids.length > 0) break
  }
  if (ids.length > 1) {
    throw new Refused(`phone ${maskPhone(phone)} belongs to several 悟空CRM customers (${ids.join(', ')}): link the right one with POST /v1/complaints/${c.id}/external-ids, then replay`)
  }
  let customerId = ids[0]
  if (customerId === undefined) {
    if (!s.config.WUKONG_ALLOW_CREATE_CUSTOMER) return { skipped: `no 悟空CRM customer has phone ${maskPhone(phone)}, and WUKONG_ALLOW_CREATE_CUSTOMER is off` }
    const { name, email, address } = c.complainant
    customerId = await client.addCustomer(complainantToCustomer({ name, phone, email, address }), signal)
  }
  await mirror(s, client, customerId, signal)
  await runAction(s, 'link_external_ids', c.id, { externalIds: [externalIdOf(customerId)] }, { audit: connectorAudit('linkExternalIds') })
  return customerId
}

/** mirrors a customer the push found or created; a CRM that will not show it does not stop the delivery */
async function mirror(s: Services, client: WukongClient, customerId: number, signal: AbortSignal): Promise<void> {
  let customer
  try {
    customer = await client.customer(customerId, signal)
  } catch (err) {
    if (!(err instanceof WukongError)) throw err
    s.log.warn({ customerId, err: err.message }, '悟空CRM customer not mirrored; the pull will bring it')
    return
  }
  const updateTime = customer?.updateTime ? fromCrmTime(customer.updateTime) : null
  if (!customer || !updateTime) return
  const now = s.clock.now()
  await s.db.transaction().execute((trx) => upsertCustomers(trx, [{ customerId, fields: customerToComplainant(customer), updateTime }], connectorAudit('wukongMatchCustomer'), now))
}

/** whether an earlier attempt of this delivery (before a retry or a replay) may have reached the CRM */
async function triedBefore(s: Services, d: WebhookDelivery): Promise<boolean> {
  if (d.attempts > 0) return true
  return (await s.db.selectFrom('webhook_attempts').select('id').where('delivery_id', '=', d.id).limit(1).executeTakeFirst()) !== undefined
}

type Handler = (s: Services, client: WukongClient, m: Mapping, e: ComplaintEvent, customerId: number, d: WebhookDelivery, signal: AbortSignal) => Promise<string | null>

async function followUp(s: Services, client: WukongClient, m: Mapping, e: ComplaintEvent, customerId: number, d: WebhookDelivery, signal: AbortSignal) {
  const c = e.data.complaint
  // the CRM gives a follow-up no id back: a retry looks for the event's marker before writing again
  if (await triedBefore(s, d) && await client.hasFollowUp(customerId, followUpMarker(e.id), signal)) return 'the follow-up was already in 悟空CRM (written by an earlier attempt)'
  const content = followUpContent({
    eventId: e.id, kind: e.type === 'complaint.received' ? 'received' : 'closed', reference: c.reference, channel: c.channel as Channel,
    description: c.description, closureType: c.closureType, resultSummary: c.resultSummary,
  })
  await client.addFollowUp(customerId, m.category(c.channel as Channel), content, signal)
  return null
}

async function returnVisit(_s: Services, client: WukongClient, m: Mapping, e: ComplaintEvent, customerId: number, _d: WebhookDelivery, signal: AbortSignal) {
  const c = e.data.complaint
  const number = visitNumber(c, e.data.facts.outcome === 'rejected_closure')
  const field = [
    { fieldId: m.fieldIds.returnVisitType, ...RETURN_VISIT_FIELDS.returnVisitType, value: m.returnVisitType(c.channel as Channel) },
    ...(c.satisfaction !== null ? [{ fieldId: m.fieldIds.satisficing, ...RETURN_VISIT_FIELDS.satisficing, value: m.satisficing(c.satisfaction) }] : []),
  ]
  const entity = { visitNumber: number, visitTime: toCrmTime(new Date(c.callbackAt ?? e.occurredAt)), customerId }
  // `field` is never null: the CRM answers a null one with code 500 after rolling back
  const outcome = await client.addReturnVisit({ entity, field }, signal)
  return outcome === 'exists' ? `return visit ${number} was already in 悟空CRM (2030)` : null
}

const HANDLERS: Record<WukongEventType, Handler> = {
  'complaint.received': followUp,
  'complaint.closed': followUp,
  'complaint.callback_recorded': returnVisit,
}

export const wukongTarget: DeliveryTarget = {
  validate(s, sub, existing) {
    if (sub.url !== undefined) throw unprocessable('/body/url', 'a wukong target has no URL: it writes to WUKONG_BASE_URL')
    // an existing subscription can still be paused or changed while the connector is being reconfigured
    if (!existing && !clientSettings(s.config)) throw unprocessable('/body/target', NOT_CONFIGURED)
    sub.eventTypes.forEach((pattern, i) => {
      const other = EVENT_TYPE_NAMES.filter((type) => matchesEventType([pattern], type) && !(WUKONG_EVENT_TYPES as readonly string[]).includes(type))
      if (other.length > 0) throw unprocessable(`/body/eventTypes/${i}`, `the wukong target writes ${WUKONG_EVENT_TYPES.join(', ')} only; ${pattern} also matches ${other.join(', ')}`)
    })
    return null
  },

  host(s) {
    const settings = clientSettings(s.config)
    return settings ? new URL(settings.baseUrl).host : 'wukong (not configured)'
  },

  async deliver(s, _sub, d, body): Promise<DeliveryOutcome> {
    const started = performance.now()
    const outcome = (o: Pick<DeliveryOutcome, 'ok' | 'retryable' | 'statusCode' | 'error'>): DeliveryOutcome => ({ ...o, latencyMs: Math.round(performance.now() - started), retryAfter: null })
    const settings = clientSettings(s.config)
    if (!settings) return outcome({ ok: false, retryable: true, statusCode: null, error: NOT_CONFIGURED })
    const client = clientFor(settings, () => s.clock.now())
    // every call of the delivery together stays inside the dispatcher's claim (2 × WEBHOOK_TIMEOUT_MS + 5 s)
    const signal = AbortSignal.timeout(s.config.WEBHOOK_TIMEOUT_MS * 2)
    const event = JSON.parse(body) as ComplaintEvent
    const handler = HANDLERS[event.type]
    if (!handler) return outcome({ ok: true, retryable: false, statusCode: null, error: `${event.type} writes nothing into 悟空CRM` })
    try {
      const customer = await customerOf(s, client, event.data.complaint, signal)
      if (typeof customer !== 'number') return outcome({ ok: true, retryable: false, statusCode: null, error: `nothing written: ${customer.skipped}` })
      const note = await handler(s, client, mappingFrom(s.config), event, customer, d, signal)
      return outcome({ ok: true, retryable: false, statusCode: 200, error: note })
    } catch (err) {
      if (err instanceof WukongError) return outcome({ ok: false, retryable: err.retryable, statusCode: err.httpStatus, error: err.message })
      if (err instanceof Refused) return outcome({ ok: false, retryable: false, statusCode: null, error: err.message })
      throw err
    }
  },
}
