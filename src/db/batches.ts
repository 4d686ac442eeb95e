import { randomBytes } from 'node:crypto'
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely'
import type { Database } from './types.js'
import { executePrepared } from './prepared.js'
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
export async function insertRows(db: Kysely<Database> | Transaction<Database>, append: Append): Promise<void> {
  for (const batch of inBatches(append.rows)) await executePrepared(insertFromJson({ ...append, rows: batch }), db)
}

/** one table's rows to append, as `insertRows` takes them */
export interface Append {
  table: keyof Database & string
  rows: ReadonlyArray<Record<string, unknown>>
  /**
   * columns that hold documents (an event's payload: kilobytes of nested JSON a row), by their type:
   * their values travel beside the rows, each as its own JSON text, and are cast to the column's type.
   * Read out of the rows' JSON instead, by `json_populate_recordset`, they cost Postgres several times
   * what parsing the same text does (a sweep batch of 250 events, 660 KB: 15–29 ms against 3–4 ms).
   */
  documents?: Readonly<Record<string, 'json' | 'jsonb'>>
}

/**
 * Several tables' appends in one statement, each a data-modifying WITH query (Postgres runs every one of
 * them to completion): a lifecycle step's timeline entry, audit entry and events are one round trip, not
 * three (the intake's, with the complaint itself, are one statement with its number: `appendMaking`). Appends larger than one batch go
 * table by table, as `insertRows`. Every append of a table names the same columns (its builder's).
 */
export async function appendAll(db: Kysely<Database> | Transaction<Database>, appends: readonly Append[]): Promise<void> {
  const present = byTable(appends)
  if (present.length <= 1 || present.some((a) => a.rows.length > ROWS_PER_STATEMENT)) {
    for (const a of present) await insertRows(db, a)
    return
  }
  const parts = present.map((a, i) => sql`${sql.id(`append_${i}`)} as (${insertFromJson(a)})`)
  await executePrepared(sql`with ${sql.join(parts)} select 1`, db)
}

/**
 * A value that the statement appending the rows makes itself, and that the rows carry: the intake's
 * reference number, taken from the year's counter row by the very statement that writes the complaint.
 * Node writes the rows with `placeholder` wherever the value belongs (inside any string of any column,
 * nested JSON included); Postgres replaces it in the rows' JSON text with what `statement` returned.
 */
export interface Made {
  /**
   * stands for the value in the rows' JSON text: fresh and random for each statement (`placeholder()`),
   * so nothing a caller sent can contain it; no character of it, nor of the value, is escaped in JSON
   */
  placeholder: string
  /** a statement, data-modifying or not, whose one row has the value as a text column `value` */
  statement: RawBuilder<{ value: string }>
}

/** a `Made.placeholder`: 24 random hex digits after the name */
export const placeholder = (name: string) => `${name}-${randomBytes(12).toString('hex')}`

/**
 * `appendAll` with a made value: the statement that makes it and every append in one statement, which
 * returns the value. A statement outside a transaction is one of its own, so this is a whole write in
 * one round trip — for the intake, whose counter row stays locked from its number to its commit, the
 * lock is then held only while Postgres executes and commits, never while a reply crosses to Node and
 * Node's event loop gets to it (README: Performance). For a handful of rows: every table's rows must
 * fit in one statement.
 */
export async function appendMaking(db: Kysely<Database> | Transaction<Database>, made: Made, appends: readonly Append[]): Promise<string> {
  const present = byTable(appends)
  const large = present.find((a) => a.rows.length > ROWS_PER_STATEMENT)
  if (large) throw new Error(`appendMaking: ${large.rows.length} rows of ${large.table} do not fit one statement`)
  const value = sql`(select value from made)`
  const parts = present.map((a, i) => sql`${sql.id(`append_${i}`)} as (${insertFromJson(a, (json) => sql`replace(${json}, ${made.placeholder}, ${value})`)})`)
  const { rows } = await executePrepared(sql<{ value: string }>`with made as (${made.statement}), ${sql.join(parts)} select value from made`, db)
  if (rows.length !== 1) throw new Error(`appendMaking: the statement made ${rows.length} values, not one`)
  return rows[0]!.value
}

/** appends by table, in the order given: a table named twice gets one insert (two inserts into one table in one statement would run in no set order) */
function byTable(appends: readonly Append[]): Append[] {
  const grouped = new Map<Append['table'], Append & { rows: Array<Record<string, unknown>> }>()
  for (const a of appends) {
    if (a.rows.length === 0) continue
    const seen = grouped.get(a.table)
    if (seen) seen.rows.push(...a.rows)
    else grouped.set(a.table, { ...a, rows: [...a.rows] })
  }
  return [...grouped.values()]
}

/** what separates the documents of one column in their parameter: JSON text never holds it unescaped */
const DOCUMENT_SEPARATOR = 30 // U+001E, record separator

/**
 * The INSERT of an append: its rows from one JSON parameter, each column `documents` names from a
 * parameter of its own, the rows' documents in order, joined to their rows by position (and inserted in
 * the rows' order, which is the order of the ids they are given). A document that is NULL (or a value
 * JSON cannot hold) is the empty string between separators; a left join, because a parameter of one
 * empty document is an empty string, which `string_to_table` splits into no text at all. `text` is
 * applied to every parameter (`appendMaking`).
 */
function insertFromJson({ table, rows, documents = {} }: Append, text = (json: RawBuilder<unknown>) => json): RawBuilder<unknown> {
  const names = Object.keys(rows[0]!)
  const docs = names.filter((c) => Object.hasOwn(documents, c))
  const into = quoted(table)
  if (docs.length === 0) {
    const columns = names.map(quoted).join(', ')
    return statementOf([
      `insert into ${into} (${columns})\n      select ${columns} from json_populate_recordset(null::${into}, `,
      text(sql`${JSON.stringify(rows)}`),
      '::json)',
    ])
  }
  const fields = names.filter((c) => !docs.includes(c))
  const recordset = JSON.stringify(rows.map((r) => Object.fromEntries(fields.map((c) => [c, r[c]]))))
  const separator = String.fromCharCode(DOCUMENT_SEPARATOR)
  const texts = docs.map((c) => rows.map((r) => (r[c] === null ? '' : JSON.stringify(r[c]) ?? '')).join(separator))
  const alias = (i: number) => quoted(`document_${i}`)
  const values = [
    ...fields.map((c) => `r.${quoted(c)}`),
    ...docs.map((c, i) => `nullif(${alias(i)}.text, '')::${documents[c]!}`),
  ]
  return statementOf([
    `insert into ${into} (${[...fields, ...docs].map(quoted).join(', ')})\n    select ${values.join(', ')}\n    from json_populate_recordset(null::${into}, `,
    text(sql`${recordset}`),
    '::json) with ordinality as r',
    ...docs.flatMap((_, i) => [
      '\n    left join string_to_table(',
      text(sql`${texts[i]}`),
      `, chr(${DOCUMENT_SEPARATOR})) with ordinality as ${alias(i)}(text, position) on ${alias(i)}.position = r.ordinality`,
    ]),
    '\n    order by r.ordinality',
  ])
}

/**
 * An identifier as Postgres reads it, written as Kysely's Postgres compiler writes one (in double quotes,
 * a double quote doubled). The INSERTs above are written as text around their parameters rather than
 * from `sql.ref` and `sql.table` nodes: the intake's statement names some hundred columns, and Kysely
 * building and compiling a node for each took about 250 µs of the 1.6 ms of Node CPU an intake cost
 * (`--cpu-prof` under the bench's intakes; README: Performance). The names are the tables' own columns,
 * from the code, never from a request.
 */
export const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`

/** SQL text and parameters (each a RawBuilder, as `text` wraps it) in order, as one statement */
const statementOf = (pieces: ReadonlyArray<string | RawBuilder<unknown>>): RawBuilder<unknown> =>
  sql.join(pieces.map((p) => (typeof p === 'string' ? sql.raw(p) : p)), sql.raw(''))
