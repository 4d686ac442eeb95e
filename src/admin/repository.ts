import { randomUUID } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import type { Database } from '../db/types.js'
import type { AssessInput } from '../domain/lifecycle.js'
import { conflict, notFound, unprocessable } from '../errors.js'

type Db = Kysely<Database> | Transaction<Database>

/**
 * The organisation's reference data (docs/vocabulary.md): departments (执行部门), their receivers (指定接收人)
 * and the complaint taxonomy (抱怨类别).
 */
export type Taxonomy = 'departments' | 'categories'

export async function listTaxonomy(db: Db, table: Taxonomy, includeInactive: boolean) {
  let q = db.selectFrom(table).selectAll().orderBy('id')
  if (!includeInactive) q = q.where('active', '=', true)
  return q.execute()
}

export async function createTaxonomy(db: Db, table: Taxonomy, v: { id: string; name: string; nameZh?: string }, now: Date) {
  const row = await db
    .insertInto(table)
    .values({ id: v.id, name: v.name, name_zh: v.nameZh ?? null, active: true, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst()
  if (!row) throw conflict(`${table === 'departments' ? 'department' : 'category'} ${v.id} already exists`)
  return row
}

export async function updateTaxonomy(db: Db, table: Taxonomy, id: string, v: { name?: string; nameZh?: string | null; active?: boolean }, now: Date) {
  const row = await db
    .updateTable(table)
    .set({
      ...(v.name !== undefined ? { name: v.name } : {}),
      ...(v.nameZh !== undefined ? { name_zh: v.nameZh } : {}),
      ...(v.active !== undefined ? { active: v.active } : {}),
      updated_at: now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
  if (!row) throw notFound(table === 'departments' ? 'department' : 'category', id)
  return row
}

export async function listReceivers(db: Db, departmentId: string) {
  return db.selectFrom('receivers').selectAll().where('department_id', '=', departmentId).orderBy('created_at').execute()
}

export interface ReceiverInput { name: string; phone?: string; email?: string; isDefault?: boolean }

/** a department has at most one default receiver: making one default demotes the previous one */
export async function createReceiver(trx: Transaction<Database>, departmentId: string, v: ReceiverInput, now: Date) {
  const dept = await trx.selectFrom('departments').select('id').where('id', '=', departmentId).executeTakeFirst()
  if (!dept) throw notFound('department', departmentId)
  if (v.isDefault) await trx.updateTable('receivers').set({ is_default: false, updated_at: now }).where('department_id', '=', departmentId).execute()
  return trx
    .insertInto('receivers')
    .values({
      id: randomUUID(), department_id: departmentId, name: v.name, phone: v.phone ?? null, email: v.email ?? null,
      is_default: v.isDefault ?? false, active: true, created_at: now, updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function updateReceiver(trx: Transaction<Database>, id: string, v: Partial<ReceiverInput> & { active?: boolean }, now: Date) {
  const existing = await trx.selectFrom('receivers').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
  if (!existing) throw notFound('receiver', id)
  if (v.isDefault && !(v.active ?? existing.active)) throw unprocessable('/body/isDefault', 'an inactive receiver cannot be the default')
  if (v.isDefault) {
    await trx.updateTable('receivers').set({ is_default: false, updated_at: now }).where('department_id', '=', existing.department_id).where('id', '!=', id).execute()
  }
  const after = await trx
    .updateTable('receivers')
    .set({
      ...(v.name !== undefined ? { name: v.name } : {}),
      ...(v.phone !== undefined ? { phone: v.phone } : {}),
      ...(v.email !== undefined ? { email: v.email } : {}),
      ...(v.isDefault !== undefined ? { is_default: v.isDefault } : {}),
      ...(v.active !== undefined ? { active: v.active, ...(v.active ? {} : { is_default: false }) } : {}),
      updated_at: now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()
  return { before: existing, after }
}

/**
 * Assessment references must exist and be active; the receiver defaults to the department's
 * default receiver (docs/lifecycle.md, assess: "receiver from the department's receiver table").
 */
export async function resolveAssessment(trx: Transaction<Database>, input: AssessInput): Promise<AssessInput & { resolvedReceiverId: string | null }> {
  const category = await trx.selectFrom('categories').select(['id', 'active']).where('id', '=', input.categoryId).executeTakeFirst()
  if (!category?.active) throw unprocessable('/body/categoryId', `no active category ${input.categoryId}`)
  const department = await trx.selectFrom('departments').select(['id', 'active']).where('id', '=', input.departmentId).executeTakeFirst()
  if (!department?.active) throw unprocessable('/body/departmentId', `no active department ${input.departmentId}`)
  if (input.receiverId) {
    const receiver = await trx.selectFrom('receivers').select(['department_id', 'active']).where('id', '=', input.receiverId).executeTakeFirst()
    if (!receiver?.active || receiver.department_id !== input.departmentId) {
      throw unprocessable('/body/receiverId', `no active receiver ${input.receiverId} in department ${input.departmentId}`)
    }
    return { ...input, resolvedReceiverId: input.receiverId }
  }
  const fallback = await trx
    .selectFrom('receivers').select('id')
    .where('department_id', '=', input.departmentId).where('is_default', '=', true).where('active', '=', true)
    .executeTakeFirst()
  return { ...input, resolvedReceiverId: fallback?.id ?? null }
}
