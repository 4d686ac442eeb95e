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
  if (rows.length === 0) return
  const columns = sql.join(Object.keys(rows[0]!).map((c) => sql.ref(c)))
  for (const batch of inBatches(rows)) {
    await sql`insert into ${sql.table(table)} (${columns})
      select ${columns} from json_populate_recordset(null::${sql.table(table)}, ${JSON.stringify(batch)}::json)`.execute(db)
  }
}
