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

/**
 * Rows after a cursor in (created_at desc, id desc) order, as a row comparison: Postgres uses it as an
 * index condition on (created_at, id), so a deep page costs what the first one does (written as
 * `created_at < $1 or (created_at = $1 and id < $2)` it was a filter over every earlier row).
 */
export function afterCursor(cursor: string): RawBuilder<boolean> {
  const position = decodeCursor(cursor)
  return sql<boolean>`(created_at, id) < (${position.at}, ${position.id})`
}
