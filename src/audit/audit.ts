import type { Kysely, Transaction } from 'kysely'
import type { Actor, Database } from '../db/types.js'
import { insertRows, type Append } from '../db/batches.js'

/**
 * The audit log (docs/roles.md): every mutation — who, what, before/after, when, request id — written in
 * the transaction of the change. The table refuses updates and deletes.
 */
export interface AuditContext {
  actor: Actor
  operation: string
  requestId: string | null
}

export interface AuditChange {
  entityType: string
  entityId: string
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
}

export async function writeAudit(trx: Transaction<Database>, ctx: AuditContext, change: AuditChange | AuditChange[], at: Date): Promise<void> {
  await writeAudits(trx, ctx, Array.isArray(change) ? change : [change], at)
}

/** several changes of one operation (a scheduled job's batch), in as few statements as the batch needs */
export async function writeAudits(trx: Transaction<Database>, ctx: AuditContext, changes: AuditChange[], at: Date): Promise<void> {
  await insertRows(trx, auditAppend(ctx, changes, at))
}

/** audit entries as rows to append (`appendAll`, with the step's timeline entries and events) */
export const auditAppend = (ctx: AuditContext, changes: readonly AuditChange[], at: Date): Append => ({
  table: 'audit_log',
  rows: changes.map((change) => ({
    at,
    actor_key_id: ctx.actor.id,
    actor_role: ctx.actor.role,
    actor_name: ctx.actor.name,
    operation: ctx.operation,
    entity_type: change.entityType,
    entity_id: change.entityId,
    before: change.before,
    after: change.after,
    request_id: ctx.requestId,
  })),
})

export interface AuditQuery {
  entityType?: string
  entityId?: string
  actorKeyId?: string
  operation?: string
  from?: string
  to?: string
  cursor?: number
  limit?: number
}

/** newest first; the cursor is the id of the last entry seen */
export async function listAudit(db: Kysely<Database>, q: AuditQuery) {
  const limit = q.limit ?? 50
  let query = db.selectFrom('audit_log').selectAll()
  if (q.entityType) query = query.where('entity_type', '=', q.entityType)
  if (q.entityId) query = query.where('entity_id', '=', q.entityId)
  if (q.actorKeyId) query = query.where('actor_key_id', '=', q.actorKeyId)
  if (q.operation) query = query.where('operation', '=', q.operation)
  if (q.from) query = query.where('at', '>=', new Date(q.from))
  if (q.to) query = query.where('at', '<', new Date(q.to))
  if (q.cursor !== undefined) query = query.where('id', '<', q.cursor)
  const rows = await query.orderBy('id', 'desc').limit(limit + 1).execute()
  const items = rows.slice(0, limit)
  return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null }
}

/** runs a mutation and writes its audit entry in the same transaction */
export async function audited<T>(
  db: Kysely<Database>,
  ctx: AuditContext,
  now: Date,
  work: (trx: Transaction<Database>) => Promise<{ result: T; change: AuditChange }>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const { result, change } = await work(trx)
    await writeAudit(trx, ctx, change, now)
    return result
  })
}
