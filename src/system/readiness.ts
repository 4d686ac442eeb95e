import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/types.js'
import { migrationsPending } from '../db/migrate.js'

export interface Readiness {
  status: 'ready' | 'not_ready'
  database: 'ok' | 'unreachable'
  pendingMigrations: string[]
}

/** ready = the database answers and no migration is pending: what /readyz answers and complaint_ready reports */
export async function checkReadiness(db: Kysely<Database>, schema: string, onUnreachable: (err: unknown) => void): Promise<Readiness> {
  try {
    await sql`select 1`.execute(db)
    const pending = await migrationsPending(db, schema)
    return { status: pending.length === 0 ? 'ready' : 'not_ready', database: 'ok', pendingMigrations: pending }
  } catch (err) {
    onUnreachable(err)
    return { status: 'not_ready', database: 'unreachable', pendingMigrations: [] }
  }
}
