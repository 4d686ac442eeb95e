import type { Kysely } from 'kysely'
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from './config.js'
import type { Database } from './db/types.js'
import type { SlaStore } from './sla/store.js'
import type { SecretBox } from './webhooks/secrets.js'

/** the one injectable clock: jobs and rules take `now` from here, so tests never sleep */
export interface Clock {
  now(): Date
}
export const systemClock: Clock = { now: () => new Date() }

/** what use cases need, built once by app.ts */
export interface Services {
  db: Kysely<Database>
  /** where report queries go: the read replica (DATABASE_REPLICA_URL), else the primary */
  reportsDb: Kysely<Database>
  config: Config
  clock: Clock
  /** SLA policy versions and the business calendar */
  sla: SlaStore
  log: FastifyBaseLogger
  /** seals and opens the webhook signing secrets stored in the database (SECRETS_KEY) */
  secrets: SecretBox
}
