import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Config } from '../config.js'
import { createDb, type DbHandle } from './create-db.js'
import { migrateToLatest } from './migrate.js'

/**
 * Opens the configured database (Postgres or embedded PGlite) and applies pending migrations;
 * `applied` names the migrations this call applied (none when the database was up to date).
 */
export async function openDatabase(config: Config, log: (msg: string) => void = () => {}): Promise<DbHandle & { applied: string[] }> {
  let dataDir: string | undefined
  if (!config.DATABASE_URL) {
    dataDir = path.resolve(config.DATA_DIR)
    mkdirSync(dataDir, { recursive: true })
  }
  const handle = await createDb({
    databaseUrl: config.DATABASE_URL,
    dataDir,
    slowQueryMs: config.SLOW_QUERY_MS,
    onSlowQuery: ({ sql, ms }) => log(`slow query (${ms} ms): ${sql}`),
    poolSize: config.DB_POOL_SIZE,
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS || undefined,
    preparedStatements: config.DB_PREPARED_STATEMENTS,
    onPoolError: (err) => log(`a database connection broke and is replaced: ${err.message}`),
  })
  let applied: string[]
  try {
    applied = await migrateToLatest(handle.db, handle.schema)
  } catch (err) {
    await handle.close()
    throw err
  }
  if (!config.DATABASE_REPLICA_URL) return { ...handle, applied }
  // reports read from the replica: a streaming replica of the primary is migrated with it, never by us
  const replica = await openReplica(config.DATABASE_REPLICA_URL, handle.schema, config.SLOW_QUERY_MS, log)
  return {
    ...handle,
    applied,
    reportsDb: replica.db,
    close: async () => {
      await replica.close()
      await handle.close()
    },
  }
}

/** the read replica the report queries go to: a small pool, the same schema as the primary */
export function openReplica(url: string, schema: string, slowQueryMs: number, log: (msg: string) => void = () => {}): Promise<DbHandle> {
  return createDb({ databaseUrl: url, schema, poolSize: 4, slowQueryMs, onSlowQuery: ({ sql, ms }) => log(`slow report query (${ms} ms): ${sql}`) })
}
