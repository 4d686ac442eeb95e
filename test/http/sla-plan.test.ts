import { sql, type Kysely } from 'kysely'
import t from 'tap'
import { CLOCK_KEYS, CLOCK_SQL } from '../../src/sla/clock-sql.js'
import { batchStatement, ORDERED_WALK, type Cursor, type Kind } from '../../src/jobs/sla-sweep.js'
import type { Database } from '../../src/db/types.js'
import { testApp } from '../helper.js'
import { inline, planNodes } from '../explain.js'

/**
 * A sweep batch walks its clock's running index from the cursor and stops at its last row: it reads its
 * own rows (and the already-recorded ones among them), never the rest of the backlog. Checked on the
 * plan Postgres makes over a seeded backlog, and on what that plan read when run.
 */
const NOW = new Date('2026-11-27T02:00:00Z')

/** the plan of one batch statement, in a transaction set up as the sweep sets it, rolled back */
async function planOf(db: Kysely<Database>, kind: Kind, clock: (typeof CLOCK_KEYS)[number], cursor: Cursor | null, analyze: boolean) {
  const rollback = new Error('rollback')
  let plan: unknown
  await db.transaction().execute(async (trx) => {
    await ORDERED_WALK.execute(trx)
    const compiled = batchStatement(kind, clock, NOW, 250, cursor).compile(trx)
    const { rows } = await sql<{ 'QUERY PLAN': unknown }>`explain (${sql.raw(analyze ? 'analyze, ' : '')}format json) ${sql.raw(inline(compiled.sql, compiled.parameters))}`.execute(trx)
    plan = rows[0]!['QUERY PLAN']
    throw rollback
  }).catch((err: unknown) => { if (err !== rollback) throw err })
  return planNodes(plan)
}

t.test('a sweep batch reads its own rows of the backlog, not the rest (EXPLAIN ANALYZE over a seeded backlog)', async (t) => {
  const api = await testApp(t, { now: NOW.toISOString() })
  const db = api.db
  // 30,000 complaints: 6,000 awaiting handover past their deadline, ten to each instant (a weekend's
  // complaints share their 18:00 deadline), every tenth of them already recorded; the rest closed
  await sql`insert into complaints (id, reference, tracking_token_hash, status, channel, complainant_name, complainant_phone, description, received_at,
      clock_started_at, created_at, updated_at, level, department_id, handover_due_at, handover_warn_at, closed_at, closure_type)
    select gen_random_uuid(), 'CP-SEED-' || i, 'x', case when i <= 6000 then 'acknowledged' else 'closed' end, 'web', '客户' || i, '13800000000', 'seeded',
      r, r, r, r, 'general', 'service-station', ${NOW}::timestamptz - interval '2 days' + (i / 10) * interval '1 minute', r,
      case when i > 6000 then r + interval '1 day' end, case when i > 6000 then 'first_time' end
    from (select i, timestamptz '2026-11-01 00:00+08' + i * interval '1 minute' as r from generate_series(1, 30000) i) s`.execute(db)
  await sql`insert into breaches (complaint_id, clock, cycle, due_at, detected_at, department_id, level)
    select id, 'handover', clock_cycle, handover_due_at, ${NOW}, department_id, level from complaints
    where status = 'acknowledged' and substr(reference, 9)::int % 10 = 0`.execute(db)
  await sql`analyze`.execute(db)

  const { rows: [position] } = await sql<{ key: string; id: string }>`select to_char(handover_due_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as key, id
    from complaints where status = 'acknowledged' order by handover_due_at, id offset 2004 limit 1`.execute(db)
  for (const cursor of [null, position!]) {
    const nodes = await planOf(db, 'breach', 'handover', cursor, true)
    const scan = nodes.find((n) => n['Index Name'] === 'complaints_handover_due_running')
    const where = cursor ? 'from the middle of the backlog' : 'from its start'
    t.ok(scan, `${where}: the batch walks complaints_handover_due_running (plan: ${nodes.map((n) => n['Node Type']).join(' > ')})`)
    t.notOk(nodes.some((n) => n['Node Type'] === 'Sort'), `${where}: no sort`)
    // 250 to record, and the recorded ones among them (every tenth) passed over: about 278 rows, not 6,000
    const read = Number(scan?.['Actual Rows']) + Number(scan?.['Rows Removed by Filter'] ?? 0)
    t.ok(read >= 250 && read <= 290, `${where}: it read ${read} rows of the index for a batch of 250`)
    if (cursor) t.match(String(scan?.['Index Cond']), /ROW\(handover_due_at, id\) > ROW\(/, 'the position is an index condition')
  }
})

t.test('every clock and kind plans its batch as an ordered walk of its running index', async (t) => {
  const api = await testApp(t, { now: NOW.toISOString() })
  const cursor = { key: '2026-11-26T10:00:00.000000', id: '00000000-0000-4000-8000-000000000000' }
  for (const kind of ['breach', 'due_soon'] as const) {
    for (const clock of CLOCK_KEYS) {
      const column = kind === 'breach' ? CLOCK_SQL[clock].due : CLOCK_SQL[clock].warn
      const nodes = await planOf(api.db, kind, clock, cursor, false)
      const scan = nodes.find((n) => n['Index Name'] === `complaints_${column.replace(/_at$/, '')}_running`)
      t.ok(scan, `${kind} ${clock}: ${column}'s running index (plan: ${nodes.map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}`).join(' > ')})`)
      t.notOk(nodes.some((n) => n['Node Type'] === 'Sort'), `${kind} ${clock}: no sort`)
      t.match(String(scan?.['Index Cond']), new RegExp(`ROW\\(${column}, id\\) > ROW\\(`), `${kind} ${clock}: the position is an index condition`)
    }
  }
})
