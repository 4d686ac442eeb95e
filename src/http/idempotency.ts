import { createHash } from 'node:crypto'
import type { Transaction } from 'kysely'
import type { Database } from '../db/types.js'
import { conflict, unprocessable } from '../errors.js'

/** stable JSON: object keys sorted, so {a,b} and {b,a} are the same request */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}

export interface StoredResponse { status: number; body: unknown; replayed: boolean }

/**
 * `Idempotency-Key` for creates: the key row is inserted in the same transaction as the resource, so
 * a concurrent retry waits on the unique key and then replays the committed response; a failed first
 * attempt rolls its key back with everything else. Same key, different body: 422. Keys are kept for
 * IDEMPOTENCY_KEY_HOURS (default 24), then the housekeeping job prunes them.
 */
export async function idempotent(
  trx: Transaction<Database>,
  scope: string,
  key: string | undefined,
  body: unknown,
  now: Date,
  run: () => Promise<{ status: number; body: unknown }>,
): Promise<StoredResponse> {
  if (key === undefined) return { ...(await run()), replayed: false }
  const requestHash = createHash('sha256').update(canonical(body)).digest('hex')
  const claimed = await trx
    .insertInto('idempotency_keys')
    .values({ scope, key, request_hash: requestHash, created_at: now })
    .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst()
  if (!claimed) {
    const existing = await trx.selectFrom('idempotency_keys').selectAll().where('scope', '=', scope).where('key', '=', key).executeTakeFirstOrThrow()
    if (existing.request_hash !== requestHash) {
      throw unprocessable('/headers/idempotency-key', 'this key was already used with a different request body', 'idempotency-key-reused')
    }
    if (existing.status_code === null) throw conflict('a request with this Idempotency-Key is still in progress')
    return { status: existing.status_code, body: existing.response, replayed: true }
  }
  const result = await run()
  await trx
    .updateTable('idempotency_keys')
    .set({ status_code: result.status, response: JSON.stringify(result.body) })
    .where('scope', '=', scope)
    .where('key', '=', key)
    .execute()
  return { ...result, replayed: false }
}
