import type { Kysely, Transaction } from 'kysely'
import { writeAudit, type AuditChange, type AuditContext } from '../../audit/audit.js'
import type { Actor, Database, WukongCustomer } from '../../db/types.js'
import { CRM_STATUS_NAMES, toCrmTime, type CrmStatus, type CustomerFields } from './mapping.js'

type Db = Kysely<Database> | Transaction<Database>

/** the connector as it appears on timelines and in the audit log when no API key acted */
export const CONNECTOR: Actor = { type: 'system', id: null, role: null, name: 'wukong-connector' }
export const connectorAudit = (operation: string): AuditContext => ({ actor: CONNECTOR, operation, requestId: null })

// ---- the customer mirror ----

/** what a CRM customer said about its complainant, as of its `updateTime` */
export interface CustomerUpdate {
  customerId: number
  fields: Partial<CustomerFields>
  updateTime: Date
}

/**
 * created / updated: the mirror took it; unchanged: it holds the same (a newer updateTime alone is
 * kept, without counting as a change); stale: it holds a newer updateTime, so this one was ignored
 */
export type UpsertOutcome = 'created' | 'updated' | 'unchanged' | 'stale'
export interface UpsertResult { customerId: number; outcome: UpsertOutcome; status: CrmStatus; updateTime: Date }

const SAME_FIELDS = ['name', 'phone', 'email', 'address', 'crm_status'] as const
const sameContent = (a: WukongCustomer, b: WukongCustomer) => SAME_FIELDS.every((k) => a[k] === b[k])

/** the audit log's view: complainant names, so phone, email and address are masked for auditors */
const auditView = (r: WukongCustomer) => ({
  customerId: r.customer_id, name: r.name, phone: r.phone, email: r.email, address: r.address,
  status: CRM_STATUS_NAMES[r.crm_status as CrmStatus], updateTime: toCrmTime(r.crm_update_time),
})

/**
 * Upserts CRM customers into the mirror, in order (a batch may carry one customer twice). Rows are
 * locked first, so concurrent imports of one customer queue up; an update older than the stored
 * `updateTime` is ignored and reported `stale`; the same customer again changes nothing (no write
 * of its fields, no audit entry). Three statements whatever the number of customers.
 */
export async function upsertCustomers(trx: Transaction<Database>, updates: CustomerUpdate[], audit: AuditContext, now: Date): Promise<UpsertResult[]> {
  if (updates.length === 0) return []
  const ids = [...new Set(updates.map((u) => u.customerId))]
  const stored = await trx.selectFrom('wukong_customers').selectAll().where('customer_id', 'in', ids).orderBy('customer_id').forUpdate().execute()
  const before = new Map(stored.map((r) => [r.customer_id, r]))
  const current = new Map(before)
  const results = updates.map(({ customerId, fields, updateTime }): UpsertResult => {
    const cur = current.get(customerId)
    if (cur && updateTime < cur.crm_update_time) return { customerId, outcome: 'stale', status: cur.crm_status as CrmStatus, updateTime: cur.crm_update_time }
    const next: WukongCustomer = {
      customer_id: customerId,
      name: fields.name ?? cur?.name ?? `悟空客户 ${customerId}`,
      phone: fields.phone !== undefined ? fields.phone : (cur?.phone ?? null),
      email: fields.email !== undefined ? fields.email : (cur?.email ?? null),
      address: fields.address !== undefined ? fields.address : (cur?.address ?? null),
      crm_status: fields.status ?? cur?.crm_status ?? 1,
      crm_update_time: updateTime,
      created_at: cur?.created_at ?? now,
      updated_at: now,
    }
    const outcome = !cur ? 'created' : sameContent(cur, next) ? 'unchanged' : 'updated'
    current.set(customerId, outcome === 'unchanged' ? { ...cur!, crm_update_time: updateTime } : next)
    return { customerId, outcome, status: next.crm_status as CrmStatus, updateTime }
  })
  const written = ids.map((id) => current.get(id)!).filter((r) => {
    const old = before.get(r.customer_id)
    return !old || old.crm_update_time.getTime() !== r.crm_update_time.getTime() || !sameContent(old, r)
  })
  if (written.length > 0) {
    await trx.insertInto('wukong_customers').values(written).onConflict((oc) => oc.column('customer_id').doUpdateSet((eb) => ({
      name: eb.ref('excluded.name'), phone: eb.ref('excluded.phone'), email: eb.ref('excluded.email'), address: eb.ref('excluded.address'),
      crm_status: eb.ref('excluded.crm_status'), crm_update_time: eb.ref('excluded.crm_update_time'), updated_at: eb.ref('excluded.updated_at'),
    // a brand-new customer imported twice at once has no row to lock: the older update still loses
    })).where('excluded.crm_update_time', '>=', (eb) => eb.ref('wukong_customers.crm_update_time'))).execute()
  }
  const changes: AuditChange[] = written.filter((r) => !before.has(r.customer_id) || !sameContent(before.get(r.customer_id)!, r)).map((r) => {
    const old = before.get(r.customer_id)
    return { entityType: 'wukong_customer', entityId: String(r.customer_id), before: old ? auditView(old) : null, after: auditView(r) }
  })
  await writeAudit(trx, audit, changes, now)
  return results
}

export async function findCustomer(db: Db, customerId: number): Promise<WukongCustomer | undefined> {
  return db.selectFrom('wukong_customers').selectAll().where('customer_id', '=', customerId).executeTakeFirst()
}

// ---- CRM records imported as complaints ----

/**
 * Claims an import key in the transaction that creates the complaint: a concurrent import of the same
 * CRM record waits on the key, then finds it taken; a failed import rolls its key back with the rest.
 */
export async function claimImport(trx: Transaction<Database>, row: { importKey: string; requestHash: string; customerId: number; category: string | null }, now: Date) {
  const claimed = await trx.insertInto('wukong_complaint_imports')
    .values({ import_key: row.importKey, request_hash: row.requestHash, customer_id: row.customerId, crm_category: row.category, created_at: now })
    .onConflict((oc) => oc.column('import_key').doNothing())
    .returning('import_key')
    .executeTakeFirst()
  if (claimed) return null
  return trx.selectFrom('wukong_complaint_imports as i').innerJoin('complaints as c', 'c.id', 'i.complaint_id')
    .select(['i.request_hash', 'i.complaint_id', 'c.reference']).where('i.import_key', '=', row.importKey).executeTakeFirstOrThrow()
}

export async function completeImport(trx: Transaction<Database>, importKey: string, complaintId: string): Promise<void> {
  await trx.updateTable('wukong_complaint_imports').set({ complaint_id: complaintId }).where('import_key', '=', importKey).execute()
}

// ---- the pull's cursor ----

export const CUSTOMER_STREAM = 'customers'

export interface PullCursor { time: Date | null; page: number }

export async function readCursor(db: Db): Promise<PullCursor> {
  const row = await db.selectFrom('wukong_pull_state').select(['cursor_time', 'cursor_page']).where('stream', '=', CUSTOMER_STREAM).executeTakeFirst()
  return { time: row?.cursor_time ?? null, page: row?.cursor_page ?? 1 }
}

/** locks the cursor row (creating it the first time) for the transaction that commits a page */
export async function lockCursor(trx: Transaction<Database>, now: Date): Promise<PullCursor> {
  await trx.insertInto('wukong_pull_state').values({ stream: CUSTOMER_STREAM, cursor_time: null, cursor_page: 1, updated_at: now })
    .onConflict((oc) => oc.column('stream').doNothing()).execute()
  const row = await trx.selectFrom('wukong_pull_state').select(['cursor_time', 'cursor_page']).where('stream', '=', CUSTOMER_STREAM).forUpdate().executeTakeFirstOrThrow()
  return { time: row.cursor_time, page: row.cursor_page }
}

export async function saveCursor(trx: Transaction<Database>, cursor: PullCursor, now: Date): Promise<void> {
  await trx.updateTable('wukong_pull_state').set({ cursor_time: cursor.time, cursor_page: cursor.page, updated_at: now }).where('stream', '=', CUSTOMER_STREAM).execute()
}

export async function recordRun(db: Db, result: Record<string, unknown>, now: Date): Promise<void> {
  await db.insertInto('wukong_pull_state').values({ stream: CUSTOMER_STREAM, last_run_at: now, last_result: JSON.stringify(result), updated_at: now })
    .onConflict((oc) => oc.column('stream').doUpdateSet({ last_run_at: now, last_result: JSON.stringify(result), updated_at: now })).execute()
}

export async function pullState(db: Db) {
  return db.selectFrom('wukong_pull_state').selectAll().where('stream', '=', CUSTOMER_STREAM).executeTakeFirst()
}
