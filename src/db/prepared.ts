import { createHash } from 'node:crypto'
import pg from 'pg'
import type { Kysely, QueryResult, RawBuilder, Transaction } from 'kysely'
import type { Database } from './types.js'

/**
 * Named prepared statements for the few large statements the service sends over and over: the intake's
 * one statement (`appendMaking`) and the appends of timeline entries, audit entries and events
 * (`appendAll`, `insertRows`). Sent unnamed, Postgres parses, analyses and plans such a statement — five
 * data-modifying WITH queries over a hundred columns — every time: under the bench's intakes that was
 * over a third of Postgres's CPU, and `pgbench` running the intake's statement (scripts/bench/
 * intake-ceiling.sql) used 3.3–4.6 ms of Postgres CPU a statement unnamed against 1.8–2.0 prepared
 * (README: Performance). A connection parses a named statement once; Postgres keeps its plan and
 * re-plans it by itself when a migration changes a table it touches.
 *
 * Only statements whose result cannot change shape are prepared: these return nothing, `select 1`, or
 * the made value — never `*` — so a migration that adds a column while the service runs (a rolling
 * deploy) cannot make them fail with "cached plan must not change result type". Texts are registered by
 * `executePrepared`, at most `MAX_PREPARED` of them per process (the statements' texts are fixed by their
 * tables' columns, so a handful); past that, a statement goes unnamed, as every other statement does.
 *
 * Named statements need a session of their own on the server: behind PgBouncer in transaction mode
 * (before 1.21's max_prepared_statements) set DB_PREPARED_STATEMENTS=false.
 */
export const MAX_PREPARED = 64

const names = new Map<string, string>()

/** the statement name of a registered text (the same on every connection and replica), or undefined */
export const preparedName = (text: string): string | undefined => names.get(text)

function register(text: string): void {
  if (names.has(text) || names.size >= MAX_PREPARED) return
  names.set(text, `cs_${createHash('sha256').update(text).digest('base64url').slice(0, 32)}`)
}

/**
 * Runs a statement through Kysely as every statement runs (its logging, its connection or transaction),
 * registered as one to prepare: on Postgres with DB_PREPARED_STATEMENTS on, the pool's clients
 * (`PreparingClient`) send it named; elsewhere (PGlite, the setting off) it goes as it always has.
 */
export async function executePrepared<R>(statement: RawBuilder<R>, db: Kysely<Database> | Transaction<Database>): Promise<QueryResult<R>> {
  const compiled = statement.compile(db)
  register(compiled.sql)
  return db.executeQuery(compiled)
}

type QueryArgs = Parameters<pg.Client['query']>

/**
 * The pool's client (pg.Pool's `Client` option) when DB_PREPARED_STATEMENTS is on: a query whose text is
 * registered goes as a named statement (pg sends Parse the first time on each connection, then only
 * Bind and Execute); any other query is untouched.
 */
export class PreparingClient extends pg.Client {
  override query(...args: unknown[]): never {
    const [text, values] = args
    if (typeof text === 'string' && (args.length === 1 || (args.length === 2 && Array.isArray(values)))) {
      const name = preparedName(text)
      if (name) return super.query({ name, text, values: values as unknown[] | undefined }) as never
    }
    return (super.query as (...a: QueryArgs) => unknown)(...(args as QueryArgs)) as never
  }
}
