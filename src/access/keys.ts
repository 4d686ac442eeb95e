import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { ApiKey, Database } from '../db/types.js'
import { notFound, unprocessable } from '../errors.js'
import type { Role } from './policy.js'

type Db = Kysely<Database> | Transaction<Database>

/**
 * API keys: `cpk_` + 32 random bytes. Only the SHA-256 of the key is stored: a key has 256 bits of
 * entropy, so a fast hash cannot be brute-forced and lookups stay one indexed equality.
 */
export const KEY_PREFIX = 'cpk_'
export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex')
export const newSecret = () => `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`

export interface Principal {
  keyId: string
  name: string
  role: Role
  departmentId: string | null
}

export interface NewKey {
  name: string
  role: Role
  departmentId?: string | null
}

export async function insertKey(db: Db, v: NewKey, now: Date, createdBy: string | null, secret = newSecret()) {
  if ((v.role === 'department') !== Boolean(v.departmentId)) {
    throw unprocessable('/body/departmentId', v.role === 'department' ? 'a department key needs its department' : 'only department keys belong to a department')
  }
  if (v.departmentId) {
    const dept = await db.selectFrom('departments').select('id').where('id', '=', v.departmentId).executeTakeFirst()
    if (!dept) throw unprocessable('/body/departmentId', `no department ${v.departmentId}`)
  }
  const row = await db
    .insertInto('api_keys')
    .values({
      id: randomUUID(), name: v.name, role: v.role, department_id: v.departmentId ?? null, prefix: secret.slice(0, 12),
      secret_hash: hashKey(secret), created_at: now, created_by: createdBy,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return { row, secret }
}

/** `last_used_at` is kept to the minute: a read per request, a write at most once a minute per key */
const LAST_USED_RESOLUTION_MS = 60_000

/** the key behind a bearer token, if it exists and is not revoked */
export async function authenticate(db: Db, token: string, now: Date): Promise<Principal | null> {
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'name', 'role', 'department_id', 'last_used_at'])
    .where('secret_hash', '=', hashKey(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  if (!row) return null
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() >= LAST_USED_RESOLUTION_MS) {
    await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.id).execute()
  }
  return { keyId: row.id, name: row.name, role: row.role as Role, departmentId: row.department_id }
}

export async function listKeys(db: Db, includeRevoked: boolean) {
  let q = db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id')
  if (!includeRevoked) q = q.where('revoked_at', 'is', null)
  return q.execute()
}

export async function lockKey(trx: Transaction<Database>, id: string): Promise<ApiKey> {
  const row = await trx.selectFrom('api_keys').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
  if (!row) throw notFound('API key', id)
  return row
}

export async function revokeKey(trx: Transaction<Database>, id: string, now: Date, rotatedTo: string | null = null) {
  return trx.updateTable('api_keys').set({ revoked_at: now, rotated_to: rotatedTo }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
}

/**
 * The first admin key. On an empty key table (a new installation) one admin key is created; the
 * table lock makes concurrent replicas agree on a single first key. Returns the secret only when this
 * call created it.
 */
export async function ensureFirstAdminKey(db: Kysely<Database>, now: Date, fixedSecret?: string): Promise<string | null> {
  return db.transaction().execute(async (trx) => {
    await sql`lock table api_keys in share row exclusive mode`.execute(trx)
    if (fixedSecret) {
      const exists = await trx.selectFrom('api_keys').select('id').where('secret_hash', '=', hashKey(fixedSecret)).executeTakeFirst()
      if (exists) return null
      await insertKey(trx, { name: 'first admin (ADMIN_API_KEY)', role: 'admin' }, now, null, fixedSecret)
      return fixedSecret
    }
    const any = await trx.selectFrom('api_keys').select('id').limit(1).executeTakeFirst()
    if (any) return null
    return (await insertKey(trx, { name: 'first admin', role: 'admin' }, now, null)).secret
  })
}
