import { Migrator, sql, type Kysely, type MigrationResultSet } from 'kysely'
import { migrationProvider } from './migration-provider.js'
import type { Database } from './types.js'

function migrator(db: Kysely<Database>, schema: string): Migrator {
  return new Migrator({
    db,
    provider: migrationProvider(),
    // Keeps Kysely's own bookkeeping tables beside ours, so parallel test schemas don't collide.
    migrationTableSchema: schema,
  })
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>, schema = 'public'): Promise<string[]> {
  if (schema !== 'public') await sql`create schema if not exists ${sql.id(schema)}`.execute(db)
  const { error, results }: MigrationResultSet = await migrator(db, schema).migrateToLatest()
  const failed = results?.find((r) => r.status === 'Error')
  if (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${reason}`, { cause: error })
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

/** For /readyz: true when no migration is pending. */
export async function migrationsPending(db: Kysely<Database>, schema = 'public'): Promise<string[]> {
  const all = await migrator(db, schema).getMigrations()
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name)
}

/** the migrations the database has applied, by name in order */
export async function migrationNames(db: Kysely<Database>, schema = 'public'): Promise<string[]> {
  return (await migrator(db, schema).getMigrations()).filter((m) => m.executedAt !== undefined).map((m) => m.name)
}
