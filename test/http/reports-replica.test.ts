import type { KyselyPlugin, RootOperationNode } from 'kysely'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { openReplica } from '../../src/db/open.js'
import { testApp, testDatabase } from '../helper.js'

/** DATABASE_REPLICA_URL: report queries go to the read replica, everything else to the primary */

/** records the SQL text of the raw queries a Kysely instance runs */
function spy(seen: string[]): KyselyPlugin {
  return {
    transformQuery({ node }) {
      const raw = node as RootOperationNode & { kind: string; sqlFragments?: readonly string[] }
      seen.push(raw.kind === 'RawNode' ? (raw.sqlFragments ?? []).join('?') : raw.kind)
      return node
    },
    async transformResult({ result }) {
      return result
    },
  }
}

t.test('report queries run on the reports database, the rest on the primary', async (t) => {
  const primary: string[] = []
  const replica: string[] = []
  const api = await testApp(t, {
    now: '2026-11-27T02:00:00Z',
    databases: (db) => ({ db: db.withPlugin(spy(primary)), reportsDb: db.withPlugin(spy(replica)) }),
  })
  const res = await api.call('GET', '/v1/reports/monthly?month=2026-10', undefined, {}, 'management')
  t.equal(res.status, 200)
  const cohort = (q: string) => q.includes('from complaints c')
  t.ok(replica.filter(cohort).length >= 10, `the cohort queries went to the replica (${replica.filter(cohort).length})`)
  t.same(primary.filter(cohort), [], 'none of them to the primary')
  t.ok(primary.length > 0, 'authentication still reads the primary')
})

t.test('DATABASE_REPLICA_URL needs DATABASE_URL, and opens a pool on the replica in the primary’s schema', async (t) => {
  t.throws(() => loadConfig({ DATABASE_REPLICA_URL: 'postgres://replica:5432/complaints' }), /DATABASE_REPLICA_URL: a read replica needs DATABASE_URL/)
  t.equal(loadConfig({ DATABASE_URL: 'postgres://primary/c', DATABASE_REPLICA_URL: 'postgres://replica/c' }).DATABASE_REPLICA_URL, 'postgres://replica/c')
  const url = process.env.DATABASE_URL
  if (!url) return t.comment('opening a replica pool needs a Postgres server (DATABASE_URL); on PGlite the configuration check above is what applies')
  const { schema } = await testDatabase()
  const replica = await openReplica(url, schema, 200)
  t.teardown(() => replica.close())
  const row = await replica.db.selectFrom('categories').select('id').where('id', '=', 'sales').executeTakeFirst()
  t.same(row, { id: 'sales' }, 'it reads the tables of the primary’s schema')
})
