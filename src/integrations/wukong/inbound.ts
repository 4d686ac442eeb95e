import { createHash } from 'node:crypto'
import type { AuditContext } from '../../audit/audit.js'
import { receiveComplaint } from '../../complaints/commands.js'
import type { ReceiveBody } from '../../complaints/schemas.js'
import type { Services } from '../../context.js'
import type { WukongCustomer } from '../../db/types.js'
import { badRequest, conflict, ProblemError, unprocessable } from '../../errors.js'
import { canonical } from '../../http/idempotency.js'
import { clientFor, clientSettings, WukongError } from './client.js'
import { CRM_STATUS_NAMES, customerToComplainant, externalIdOf, fromCrmTime, toCrmTime } from './mapping.js'
import { claimImport, completeImport, findCustomer, upsertCustomers } from './repository.js'
import type { WukongComplaintBody, WukongCustomerBody } from './schemas.js'

/**
 * What a CRM-side sender sends: customers into the mirror, and complaints recorded in the CRM through
 * the one receive path (channel `crm_sync`). Both are idempotent on the CRM's ids: the same payload
 * again changes nothing — no write, no new version, no event.
 */

/** the CRM's clock may run a little ahead of ours: a time "from the future" by less than this is taken as now */
export const CLOCK_SKEW_MS = 5 * 60_000

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** a CRM time as an instant, or a 400 naming the field */
function crmTime(text: string, field: string): Date {
  const at = fromCrmTime(text)
  if (!at) throw badRequest(field, `${text} is not a date and time (yyyy-MM-dd HH:mm:ss, GMT+8)`)
  return at
}

/** customers into the mirror, in the order sent; `batch` says whether errors name `/body/<index>/…` */
export async function receiveCustomers(s: Services, customers: WukongCustomerBody[], batch: boolean, audit: AuditContext) {
  const now = s.clock.now()
  const updates = customers.map((c, i) => {
    const field = batch ? `/body/${i}/updateTime` : '/body/updateTime'
    const updateTime = crmTime(c.updateTime, field)
    // a time from the future would make every real update after it look stale
    if (updateTime.getTime() - now.getTime() > CLOCK_SKEW_MS) throw unprocessable(field, `${c.updateTime} is in the future`)
    return { customerId: c.customerId, fields: customerToComplainant(c), updateTime }
  })
  const results = await s.db.transaction().execute((trx) => upsertCustomers(trx, updates, audit, now))
  return { items: results.map((r) => ({ customerId: r.customerId, outcome: r.outcome, status: CRM_STATUS_NAMES[r.status], updateTime: toCrmTime(r.updateTime) })) }
}

/** the mirrored customer; one the mirror lacks is asked of the CRM when the connector is configured */
async function complainantCustomer(s: Services, customerId: number, audit: AuditContext): Promise<WukongCustomer> {
  const known = await findCustomer(s.db, customerId)
  if (known) return known
  const settings = clientSettings(s.config)
  if (!settings) throw unprocessable('/body/customerId', `customer ${customerId} is unknown here: send it to POST /v1/integrations/wukong/customers first`, 'unknown-customer')
  let customer
  try {
    customer = await clientFor(settings, () => s.clock.now()).customer(customerId)
  } catch (err) {
    if (!(err instanceof WukongError)) throw err
    if (err.retryable) {
      throw new ProblemError({ status: 503, code: 'crm-unavailable', title: 'Service Unavailable', detail: `customer ${customerId} is not mirrored yet and 悟空CRM could not be asked: ${err.message}` })
    }
    throw unprocessable('/body/customerId', `customer ${customerId} is unknown here and 悟空CRM refused to show it: ${err.message}`, 'unknown-customer')
  }
  const updateTime = customer?.updateTime ? fromCrmTime(customer.updateTime) : null
  if (!customer || !updateTime) throw unprocessable('/body/customerId', `悟空CRM has no customer ${customerId} (deleted, or it never existed)`, 'unknown-customer')
  const now = s.clock.now()
  await s.db.transaction().execute((trx) => upsertCustomers(trx, [{ customerId, fields: customerToComplainant(customer), updateTime }], audit, now))
  return (await findCustomer(s.db, customerId))!
}

/**
 * A complaint recorded in the CRM, received once per CRM record: the import key (the follow-up's
 * `activityId`, or else customer, time and content) is claimed in the transaction that creates the
 * complaint. The same record again answers the complaint it became; the same key with other content
 * is a 409 (the CRM record was edited after it was imported).
 */
export async function importComplaint(s: Services, body: WukongComplaintBody, audit: AuditContext) {
  const now = s.clock.now()
  let receivedAt = crmTime(body.createTime, '/body/createTime')
  if (receivedAt > now && receivedAt.getTime() - now.getTime() <= CLOCK_SKEW_MS) receivedAt = now
  const customer = await complainantCustomer(s, body.customerId, audit)
  const importKey = body.activityId !== undefined ? `activity:${body.activityId}` : `content:${sha256(canonical([body.customerId, body.createTime, body.content]))}`
  const requestHash = sha256(canonical(body))
  return s.db.transaction().execute(async (trx) => {
    const earlier = await claimImport(trx, { importKey, requestHash, customerId: body.customerId, category: body.category ?? null }, now)
    if (earlier) {
      if (earlier.request_hash !== requestHash) throw conflict(`CRM record ${importKey} was imported as complaint ${earlier.reference} with other content; it is not imported again`)
      return { outcome: 'unchanged' as const, complaintId: earlier.complaint_id!, reference: earlier.reference, customerId: body.customerId, trackingToken: null }
    }
    const receive: ReceiveBody = {
      channel: 'crm_sync',
      complainant: {
        name: customer.name,
        ...(customer.phone ? { phone: customer.phone } : {}),
        ...(customer.email ? { email: customer.email } : {}),
        ...(customer.address ? { address: customer.address } : {}),
        externalIds: [externalIdOf(customer.customer_id)],
      },
      description: body.content,
      receivedAt: receivedAt.toISOString(),
    }
    try {
      const { complaint, trackingToken } = await receiveComplaint(s, trx, receive, audit)
      await completeImport(trx, importKey, complaint.id)
      return { outcome: 'created' as const, complaintId: complaint.id, reference: complaint.reference, customerId: body.customerId, trackingToken }
    } catch (err) {
      // the receive path names its own fields: the sender knows them by the CRM's names
      if (err instanceof ProblemError && err.errors?.[0]?.field === '/body/receivedAt') throw unprocessable('/body/createTime', err.errors[0].message)
      throw err
    }
  })
}
