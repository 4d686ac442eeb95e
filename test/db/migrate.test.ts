import pg from 'pg'
import t from 'tap'
import { createDb } from '../../src/db/create-db.js'
import { migrateToLatest, migrationNames, migrationsPending } from '../../src/db/migrate.js'
import { tableChurn } from '../helper.js'

/**
 * Migrating needs to know whether the migration tables exist. On a database shared with other work (other
 * applications, other replicas' test schemas), tables come and go meanwhile: that must not fail a start.
 */
t.test('migrations apply while another session creates and drops tables', { skip: process.env.DATABASE_URL ? false : 'the embedded database has one connection' }, async (t) => {
  const url = process.env.DATABASE_URL!
  const tag = `mig_${process.pid}`
  const stop = await tableChurn(t, `${tag}_churn`)
  try {
    for (let i = 0; i < 4; i++) {
      const schema = `${tag}_${i}`
      const handle = await createDb({ databaseUrl: url, schema, poolSize: 2 })
      t.teardown(async () => {
        const c = new pg.Client({ connectionString: url })
        await c.connect()
        await c.query(`drop schema if exists ${schema} cascade`)
        await c.end()
      })
      try {
        const applied = await migrateToLatest(handle.db, schema)
        t.ok(applied.length > 0, `schema ${i + 1}: ${applied.length} migrations applied`)
        t.same(await migrationsPending(handle.db, schema), [], 'none pending')
        t.same(await migrationNames(handle.db, schema), applied, 'and recorded in order')
        t.same(await migrateToLatest(handle.db, schema), [], 'a second run applies nothing')
      } finally {
        await handle.close()
      }
    }
  } finally {
    await stop()
  }
})
