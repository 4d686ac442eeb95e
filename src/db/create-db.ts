import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { Kysely, PostgresDialect, type LogEvent } from 'kysely'
import type { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { BUILD_DIR } from '../layout.js'
import { parseTimestamptz } from './timestamps.js'
import { PreparingClient } from './prepared.js'
import type { Database } from './types.js'

export interface DbHandle {
  db: Kysely<Database>
  backend: 'postgres' | 'pglite'
  /** the Postgres schema holding the tables (tests isolate each file in its own) */
  schema: string
  /** a read replica for report queries (DATABASE_REPLICA_URL); absent = the primary serves them */
  reportsDb?: Kysely<Database>
  close(): Promise<void>
  /** a new embedded database made from the install-time seed (PGLITE_SEED), already migrated as far as it goes */
  seeded?: boolean
  /** queries waiting for a connection of the pool (real Postgres; the embedded database has none) */
  waitingQueries?(): number
}

export interface DbOptions {
  /** Postgres connection string; when absent the embedded PGlite is used */
  databaseUrl?: string
  /** PGlite data directory; absent = in memory */
  dataDir?: string
  /** an already opened PGlite instance (tests clone a migrated one) */
  pglite?: PGlite
  /** Postgres schema to use via search_path (real Postgres only) */
  schema?: string
  slowQueryMs?: number
  onSlowQuery?: (info: { sql: string; ms: number }) => void
  onQueryError?: (info: { sql: string; error: unknown }) => void
  poolSize?: number
  /** how long a query waits for a free connection or a new one before failing (no unbounded waits) */
  connectTimeoutMs?: number
  /** the server cancels a statement running longer than this */
  statementTimeoutMs?: number
  /** an idle connection broke (its backend was terminated, the server restarted): the pool replaces it */
  onPoolError?: (error: Error) => void
  /** send the statements `executePrepared` registers as named prepared statements (real Postgres only; db/prepared.ts) */
  preparedStatements?: boolean
}

// int8 comes back as a string from pg and as a number from PGlite: make both numbers.
// Our int8 columns are identity keys far below 2^53. timestamptz: the same Date as pg's parser, sooner.
const int8 = (value: string) => Number(value)
const pgTypes = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    format === 'binary' ? pg.types.getTypeParser(oid, 'binary')
    : oid === pg.types.builtins.INT8 ? int8
    : oid === pg.types.builtins.TIMESTAMPTZ ? parseTimestamptz
    : pg.types.getTypeParser(oid, 'text'),
}

export async function createDb(options: DbOptions): Promise<DbHandle> {
  const log = (event: LogEvent) => {
    if (event.level === 'error') options.onQueryError?.({ sql: event.query.sql, error: event.error })
    else if (options.slowQueryMs !== undefined && event.queryDurationMillis >= options.slowQueryMs) {
      options.onSlowQuery?.({ sql: event.query.sql, ms: Math.round(event.queryDurationMillis) })
    }
  }

  if (options.databaseUrl) {
    const schema = options.schema ?? 'public'
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`)
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      types: pgTypes,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      // how an operator finds the service's sessions in pg_stat_activity (and terminates them)
      application_name: 'complaint-service',
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      ...(schema !== 'public' ? { options: `-c search_path=${schema}` } : {}),
      ...(options.preparedStatements ? { Client: PreparingClient } : {}),
    })
    // without a listener, a connection's error (pg_terminate_backend, a server restart) ends the process:
    // the pool listens to its idle clients, and this to each client while a query or transaction holds it
    pool.on('error', (err) => options.onPoolError?.(err))
    pool.on('connect', (client) => client.on('error', (err) => options.onPoolError?.(err)))
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log })
    return { db, backend: 'postgres', schema, close: () => db.destroy(), waitingQueries: () => pool.waitingCount }
  }

  // loaded only here: a Postgres deployment never loads the embedded database (its WebAssembly is large)
  const [{ PGlite: Embedded }, { PGliteDialect }] = await Promise.all([import('@electric-sql/pglite'), import('kysely-pglite-dialect')])
  let seeded = false
  let pglite = options.pglite
  if (!pglite && options.dataDir) {
    seeded = await seedDataDir(options.dataDir)
    pglite = await Embedded.create(options.dataDir)
  } else if (!pglite) {
    const seed = seedBlob()
    seeded = seed !== undefined
    pglite = await Embedded.create(seed && { loadDataDir: seed })
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite), log })
  // Kysely's destroy() closes the PGlite instance through the dialect.
  return { db, backend: 'pglite', schema: 'public', seeded, close: () => db.destroy() }
}

/**
 * The embedded database made at install time (`npm run build` runs scripts/pglite-seed.ts): an
 * initialised, migrated PGlite cluster, dumped. A new data directory (or an in-memory database: the
 * tests on PGlite) starts from it instead of running initdb in WebAssembly, the longest part of a
 * first `npm start` (3.4 s of 4.7 s in npm run bench);
 * migrations then apply whatever the seed lacks. Absent (running from the TypeScript sources, or a
 * build without it), a new directory is initialised as before.
 */
export const PGLITE_SEED = path.join(BUILD_DIR, 'pglite-seed.tar.gz')

/** the seed, for an in-memory database */
function seedBlob(): Blob | undefined {
  return existsSync(PGLITE_SEED) ? new Blob([readFileSync(PGLITE_SEED)], { type: 'application/x-gzip' }) : undefined
}

/** PG_VERSION marks a data directory that holds a cluster */
const CLUSTER_MARK = 'PG_VERSION'

/**
 * A data directory that holds no cluster yet gets the seed's files, written by Node (tar) rather than by
 * PGlite's `loadDataDir`, whose file system opened each of the seed's ~1,200 files slowly (0.85 s of a
 * 4.5 s first start in a CPU profile; seeding and opening took 1.9–2.2 s that way, 1.0–1.3 s this way).
 * PG_VERSION is written last, so a start interrupted while seeding seeds again. False when there is a
 * cluster already or no seed (a new cluster is then initialised).
 */
async function seedDataDir(dataDir: string): Promise<boolean> {
  if (existsSync(path.join(dataDir, CLUSTER_MARK)) || !existsSync(PGLITE_SEED)) return false
  // the seed's entries are absolute (/base/…): tar strips the leading slash before writing
  const isMark = (entry: string) => entry.replace(/^\/+/, '') === CLUSTER_MARK
  const { extract: extractTar } = await import('tar')
  // synchronous: 0.4 s here, where tar's streaming extraction took 1.7 s (nothing else runs yet at start-up)
  extractTar({ file: PGLITE_SEED, cwd: dataDir, sync: true, filter: (entry) => !isMark(entry) })
  extractTar({ file: PGLITE_SEED, cwd: dataDir, sync: true, filter: isMark })
  if (!existsSync(path.join(dataDir, CLUSTER_MARK))) throw new Error(`the embedded database seed ${PGLITE_SEED} holds no ${CLUSTER_MARK}`)
  return true
}
