import { sql, type RawBuilder } from 'kysely'
import { badRequest } from '../errors.js'
import { parseInstant } from './instants.js'

/**
 * Keyset pagination over (created_at desc, id desc): the cursor is the position of the last row a
 * page showed, opaque to callers. One implementation for every list that pages this way.
 */
export interface KeysetPosition {
  at: Date
  id: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const encodeCursor = (at: Date, id: string) => Buffer.from(JSON.stringify({ c: at.toISOString(), i: id })).toString('base64url')

/** the position a cursor stands for; 400 naming the parameter when it is not one this service issued */
export function decodeCursor(cursor: string): KeysetPosition {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { c?: unknown; i?: unknown }
    const at = typeof parsed.c === 'string' ? parseInstant(parsed.c) : null
    if (at && typeof parsed.i === 'string' && UUID.test(parsed.i)) return { at, id: parsed.i }
  } catch {
    // fall through
  }
  throw badRequest('/querystring/cursor', 'is not a cursor this service issued')
}

/** the page of `rows` (fetched with limit + 1) and the cursor of the next one */
export function page<T extends { created_at: Date; id: string }>(rows: T[], limit: number): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null }
}

/** the tables listed newest first by (instant, id) */
export type KeysetTable = 'complaints' | 'webhook_deliveries' | 'reports' | 'penalty_notices'

/**
 * Rows after a position in (instant desc, id desc) order, as a row comparison: Postgres uses it as an
 * index condition on (instant, id), so a deep page costs what the first one does (written as
 * `created_at < $1 or (created_at = $1 and id < $2)` it was a filter over every earlier row).
 *
 * A cursor holds its instant to the millisecond (a Date's precision) and Postgres to the microsecond:
 * rows written by SQL (an import, a column's `now()` default) can share a millisecond, or one instant
 * for a whole statement, and comparing with the truncated instant skipped every row of that millisecond
 * after the page's last one. The instant is taken from the position's own row instead — found by id,
 * only within a millisecond of the cursor's instant (a crafted cursor learns nothing about another row), and the
 * cursor's instant when that row is gone. An InitPlan: still one index condition.
 */
export function afterPosition(table: KeysetTable, position: KeysetPosition, column: 'created_at' | 'issued_at' = 'created_at'): RawBuilder<boolean> {
  const own = sql.ref(`k.${column}`)
  const exact = sql`(select ${own} from ${sql.table(table)} as k where k.id = ${position.id}::uuid
    and ${own} > ${position.at}::timestamptz - interval '1 millisecond' and ${own} < ${position.at}::timestamptz + interval '1 millisecond')`
  return sql<boolean>`(${sql.ref(column)}, id) < (coalesce(${exact}, ${position.at}::timestamptz), ${position.id}::uuid)`
}

/** rows after a cursor of this service (400 naming `cursor` when it is not one) */
export const afterCursor = (table: KeysetTable, cursor: string): RawBuilder<boolean> => afterPosition(table, decodeCursor(cursor))
