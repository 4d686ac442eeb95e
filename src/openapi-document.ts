import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { buildApp, createLogger } from './app.js'
import { loadConfig } from './config.js'
import type { Database } from './db/types.js'

/**
 * The OpenAPI document exactly as the running service serves it, built without a database:
 * the pool below never connects because nothing queries it.
 */
export async function generateOpenApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({ LOG_LEVEL: 'silent', SCHEDULER_ENABLED: 'false', WEBHOOK_DISPATCHER_ENABLED: 'false' })
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ max: 1 }) }) })
  const app = await buildApp({ config, database: { db, backend: 'postgres', schema: 'public', close: () => db.destroy() }, logger: createLogger(config) })
  await app.ready()
  const doc = app.swagger() as unknown as Record<string, unknown>
  await app.close()
  return doc
}

export const serialiseOpenApi = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`
