import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from './types.js'
/**
 * Rows of a multi-row INSERT in batches: Postgres takes at most 65,535 parameters per statement, so a
 * batch of a scheduled job (thousands of timeline entries, say) is written in a few statements, never one
 * per row and never one too large.
 */
export const ROWS_PER_STATEMENT = 1000

export function inBatches<T>(rows: readonly T[], size = ROWS_PER_STATEMENT): T[][] {
  const batches: T[][] = []
  for (let i = 0; i < rows.length; i += size) batches.push(rows.slice(i, i + size))
  return batches
}

/**
 * Appends rows to a table, `ROWS_PER_STATEMENT` a statement, each batch sent as one JSON parameter that
 * Postgres reads back as rows of the table (`json_populate_recordset`: every value takes its column's
 * type — an ISO string a timestamptz, an object a jsonb value; a `json` column keeps the text as sent).
 * Rows are objects keyed by column name with JSON-ready values (objects for jsonb/json columns, not their
 * text); every row names the same columns, and columns named by none get their defaults (a value left
 * `undefined` is absent from the JSON, so NULL: pass null or leave the key out of every row).
 *
 * Why not a multi-row VALUES list: a scheduled job's batch of a thousand events is a few megabytes of
 * JSON. As thousands of bind parameters each value was stringified on its own, held as its own string
 * until sent, and copied again by the driver; the garbage collector and the query builder took more of
 * the breach sweep than building the events did (README: Performance). One `JSON.stringify` per batch
 * makes one string, which the driver sends as it is.
 */
export async function insertRows(db: Kysely<Database> | Transaction<Database>, table: keyof Database & string, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  for (const batch of inBatches(rows)) await insertFromJson({ table, rows: batch }).execute(db)
}

/** one table's rows to append, as `insertRows` takes them */
export interface Append {
  table: keyof Database & string
  rows: ReadonlyArray<Record<string, unknown>>
}

/**
 * Several tables' appends in one statement, each a data-modifying WITH query (Postgres runs every one of
 * them to completion): a lifecycle step's timeline entry, audit entry and events are one round trip, not
 * three. Intakes hold the year's reference counter from their number to their commit, so every round trip
 * inside the transaction lengthens the queue on it (README: Performance). Appends larger than one batch go
 * table by table, as `insertRows`. Every append of a table names the same columns (its builder's).
 */
export async function appendAll(db: Kysely<Database> | Transaction<Database>, appends: readonly Append[]): Promise<void> {
  // a table named twice gets one insert, its rows in the order given (two inserts into one table in one
  // statement would run in no set order)
  const byTable = new Map<Append['table'], Array<Record<string, unknown>>>()
  for (const a of appends) if (a.rows.length > 0) byTable.set(a.table, [...(byTable.get(a.table) ?? []), ...a.rows])
  const present = [...byTable].map(([table, rows]) => ({ table, rows }))
  if (present.length <= 1 || present.some((a) => a.rows.length > ROWS_PER_STATEMENT)) {
    for (const a of present) await insertRows(db, a.table, a.rows)
    return
  }
  const parts = present.map((a, i) => sql`${sql.id(`append_${i}`)} as (${insertFromJson(a)})`)
  await sql`with ${sql.join(parts)} select 1`.execute(db)
}

function insertFromJson({ table, rows }: Append) {
  const columns = sql.join(Object.keys(rows[0]!).map((c) => sql.ref(c)))
  return sql`insert into ${sql.table(table)} (${columns})
    select ${columns} from json_populate_recordset(null::${sql.table(table)}, ${JSON.stringify(rows)}::json)`
}
