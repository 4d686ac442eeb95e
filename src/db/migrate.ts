import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE, Migrator, sql, type DatabaseIntrospector, type Kysely, type MigrationResultSet } from 'kysely'
import { migrationProvider } from './migration-provider.js'
import type { Database } from './types.js'

/**
 * Kysely's Migrator asks its introspector whether the migration tables exist, and the introspector lists
 * every table of every schema with its columns: slow on a database with many schemas, and failing
 * ("relation … does not exist") whenever another session drops a table meanwhile — another application's
 * migrations, other test schemas going away; /readyz answered 503 then. The Migrator gets the same database
 * with an introspector that answers from pg_class for the migration schema's two tables alone.
 */
function narrowIntrospection(db: Kysely<Database>, schema: string): Kysely<Database> {
  const introspection: DatabaseIntrospector = {
    getSchemas: () => db.introspection.getSchemas(),
    async getTables() {
      const { rows } = await sql<{ name: string }>`
        select c.relname as name from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ${schema} and c.relname in (${DEFAULT_MIGRATION_TABLE}, ${DEFAULT_MIGRATION_LOCK_TABLE}) and c.relkind in ('r', 'p')`.execute(db)
      return rows.map((r) => ({ name: r.name, schema, isView: false, columns: [] }))
    },
    async getMetadata() {
      return { tables: await this.getTables() }
    },
  }
  // Kysely keeps its state in private fields: its methods run on the instance itself
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'introspection') return introspection
      const value: unknown = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

function migrator(db: Kysely<Database>, schema: string): Migrator {
  return new Migrator({
    db: narrowIntrospection(db, schema),
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

/**
 * For /readyz: the migrations this build carries that the database has not applied. From the migration
 * table alone (see narrowIntrospection): a load balancer polls this while other work runs on the database.
 */
export async function migrationsPending(db: Kysely<Database>, schema = 'public'): Promise<string[]> {
  const all = await migrator(db, schema).getMigrations()
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name)
}

/** the migrations the database has applied, by name in order */
export async function migrationNames(db: Kysely<Database>, schema = 'public'): Promise<string[]> {
  return (await migrator(db, schema).getMigrations()).filter((m) => m.executedAt !== undefined).map((m) => m.name)
}
