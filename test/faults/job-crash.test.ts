import { spawn } from 'node:child_process'
import { sql } from 'kysely'
import t from 'tap'
import { checkInvariants } from '../invariants.js'
import { call, complaintBody, freshDatabase, report, roleKeys, root, sleep, startServer } from './support.js'

const outcomes: string[] = []
report(t, {
  name: 'job-crash', fault: 'A job killed mid-run',
  tried: '300 overdue complaints; the breach sweep (with its escalations) and the penalty issuance SIGKILLed at a random moment, then run again',
  cases: () => `2 jobs killed (${outcomes.join(', ')}); 300 complaints: each breach, escalation and notice once`,
})

/**
 * A job killed in the middle: the breach sweep (with the escalations it causes) and the penalty issuance
 * run as `npm run job` does, are SIGKILLed at an arbitrary moment, then run again to the end. The next
 * run must leave no duplicate and no gap: every overdue clock breached once, every complaint escalated
 * once, every breach fined once.
 */
function runJob(databaseUrl: string, job: string) {
  const child = spawn(process.execPath, ['dist/scripts/job.js', job], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
  })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  return { child, exited, output: () => out }
}

t.test('a breach sweep and a penalty run killed mid-way: the next run leaves no duplicate and no gap', async (t) => {
  const { url, db } = await freshDatabase(t)
  const server = await startServer(t, url)
  const keys = await roleKeys(server.base)
  // 300 complaints received 10 days ago (letters entered late): every clock ran out, every closure limit passed
  const receivedAt = new Date(Date.now() - 10 * 86_400_000).toISOString()
  const ids: string[] = []
  for (let i = 0; i < 300; i++) {
    const c = await call(server.base, keys.cs, 'POST', '/v1/complaints', { ...complaintBody(i), channel: 'letter', receivedAt })
    ids.push(c.json.id)
    if (i % 3 === 0) await call(server.base, keys.cs, 'POST', `/v1/complaints/${c.json.id}/assess`, { categoryId: 'sales', level: 'general', departmentId: 'service-station' })
  }
  server.signal('SIGTERM')
  await server.exited

  for (const job of ['sla-sweep', 'penalties']) {
    const first = runJob(url, job)
    await sleep(300 + Math.random() * 1200)
    first.child.kill('SIGKILL')
    const killed = await first.exited
    t.comment(`${job}: first run ${killed.signal ? 'killed' : `finished (${killed.code})`} before the kill landed`)
    outcomes.push(`${job} ${killed.signal ? 'killed mid-run' : 'finished before the kill'}`)
    const second = runJob(url, job)
    t.equal((await second.exited).code, 0, `${job}: the next run completes: ${second.output().slice(-300)}`)
  }

  const missing = await sql<{ id: string }>`
    select c.id from complaints c
    where not exists (select 1 from breaches b where b.complaint_id = c.id and b.clock = 'closure' and b.cycle = 1)`.execute(db)
  t.same(missing.rows, [], 'every complaint’s missed closure limit is recorded')
  const cycles = await db.selectFrom('complaints').select(['clock_cycle', sql<number>`count(*)::int`.as('n')]).groupBy('clock_cycle').execute()
  t.same(cycles, [{ clock_cycle: 2, n: 300 }], 'every complaint escalated exactly once')
  const unfined = await sql<{ id: number }>`
    select b.id from breaches b
    where b.clock in ('handover', 'first_reply', 'closure') and b.cycle = 1
      and not exists (select 1 from penalty_notices n where n.complaint_id = b.complaint_id and (n.breach_id = b.id or (b.clock = 'closure' and n.kind = 'closure_limit' and n.period = b.cycle)))`.execute(db)
  t.same(unfined.rows, [], 'every breach of the first cycle has its notice (or unassigned finding)')
  t.same(await checkInvariants(db), [], 'the invariants hold: nothing twice, nothing half written')
})
