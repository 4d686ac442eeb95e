import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createLogger } from '../../src/app.js'
import { createDb } from '../../src/db/create-db.js'
import { createRunCoordinator } from '../../src/jobs/coordinator.js'
import { dispatchOnce } from '../../src/webhooks/dispatcher.js'
import { metricsHeaders, testApp, webComplaint, type TestApp } from '../helper.js'

/** the scrape, as Prometheus reads it: `name{labels}` → value */
async function scrape(api: Pick<TestApp, 'app'>) {
  const res = await api.app.inject({ method: 'GET', url: '/metrics', headers: metricsHeaders })
  if (res.statusCode !== 200) throw new Error(`GET /metrics → ${res.statusCode}`)
  const values = new Map<string, number>()
  for (const line of res.body.split('\n')) {
    const m = /^([^#\s][^ ]*) (\S+)$/.exec(line)
    if (m) values.set(m[1]!, Number(m[2]))
  }
  return { text: res.body, value: (series: string) => values.get(series) }
}

const THU_10 = '2026-11-26T02:00:00Z' // Thursday 10:00 in Shanghai

t.test('clocks of a complaint show as due soon, then overdue, then as a breach of the last hour, by department and clock', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  // external complaints must be handed over within 30 calendar minutes; due soon at 80% (24 minutes)
  const c = (await api.call('POST', '/v1/complaints', webComplaint({ channel: 'consumer_association' }))).json
  const handover = (metric: string) => `${metric}{department="unassigned",clock="handover"}`
  let m = await scrape(api)
  t.equal(m.value(handover('complaint_clocks_due_soon')), 0)
  t.equal(m.value('complaint_lifecycle_steps_last_hour{action="receive"}'), 1, 'intake: one complaint received in the last hour')

  api.clock.advanceMinutes(25)
  m = await scrape(api)
  t.equal(m.value(handover('complaint_clocks_due_soon')), 1, 'past 80% of the limit: due soon')
  t.equal(m.value(handover('complaint_clocks_overdue')), 0)

  api.clock.advanceMinutes(10)
  m = await scrape(api)
  t.equal(m.value(handover('complaint_clocks_due_soon')), 0, 'an overdue clock is no longer "due soon"')
  t.equal(m.value(handover('complaint_clocks_overdue')), 1)
  t.equal(m.value(handover('complaint_sla_breaches_last_hour')), 0, 'not recorded until the sweep runs')

  t.equal((await api.call('POST', '/v1/admin/jobs/sla-sweep/run', {})).status, 200)
  m = await scrape(api)
  t.equal(m.value(handover('complaint_sla_breaches_last_hour')), 1, 'the sweep recorded the breach')
  t.equal(m.value('complaint_sla_breaches_last_hour{department="service-station",clock="handover"}'), 0, 'other departments show 0, not nothing')

  // once assessed, the open clocks count for the department
  const assessed = await api.call('POST', `/v1/complaints/${c.id}/assess`, { categoryId: 'service_quality', level: 'strong', departmentId: 'sales' })
  t.equal(assessed.status, 200)
  m = await scrape(api)
  t.equal(m.value('complaint_clocks_overdue{department="sales",clock="handover"}'), 1)
  t.equal(m.value(`complaint_open{status="assessed",level="strong"}`), 1)

  api.clock.advanceMinutes(61)
  m = await scrape(api)
  t.equal(m.value(handover('complaint_sla_breaches_last_hour')), 0, 'an hour later the breach has left the window')
  await api.call('POST', `/v1/complaints/${c.id}/withdraw`, { reason: '客户已与服务站直接和解。' })
  m = await scrape(api)
  t.equal(m.value(`complaint_open{status="assessed",level="strong"}`), 0, 'a withdrawn complaint is not open')
  t.equal(m.value('complaint_clocks_overdue{department="sales",clock="handover"}'), 0, 'nor are its clocks running')
})

t.test('a receiver answering 410 Gone shows as a dead-lettered delivery and a disabled subscription', async (t) => {
  const api = await testApp(t)
  const server = createServer((_req, res) => res.writeHead(410).end())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const sub = await api.call('POST', '/v1/webhooks', { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, eventTypes: ['complaint.*'] })
  t.equal(sub.status, 201)
  await api.call('POST', '/v1/complaints', webComplaint())
  let m = await scrape(api)
  t.equal(m.value('complaint_webhook_subscriptions{status="active"}'), 1)
  for (let i = 0; i < 5; i++) await dispatchOnce(api.app.services, { random: () => 0.5 })
  m = await scrape(api)
  t.equal(m.value('complaint_webhook_deliveries{status="dead"}'), 1)
  t.equal(m.value('complaint_webhook_subscriptions{status="disabled"}'), 1)
  t.equal(m.value('complaint_webhook_subscriptions{status="active"}'), 0)
})

t.test('a scheduled run records its outcome: the last success per job, runs of the last hour by outcome', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  const coordinator = createRunCoordinator(api.db, () => api.clock.now())
  const run = async (job: string, succeeded: boolean) => {
    const key = `${job}:${api.clock.now().toISOString()}`
    t.equal(await coordinator.shouldRun(key, 60_000), true)
    api.clock.advanceMinutes(1)
    if (succeeded) coordinator.succeeded(job)
    await coordinator.onComplete!(key)
  }
  let m = await scrape(api)
  t.equal(m.value('complaint_job_last_success_timestamp_seconds{scheduled_job="sla-sweep"}'), undefined, 'a job that never ran has no series')
  await run('sla-sweep', true)
  const success = api.clock.now().getTime() / 1000
  await run('sla-sweep', false)
  await run('due-soon', false)
  m = await scrape(api)
  t.equal(m.value('complaint_job_last_success_timestamp_seconds{scheduled_job="sla-sweep"}'), success, 'a failed run does not move the last success')
  t.equal(m.value('complaint_job_last_success_timestamp_seconds{scheduled_job="due-soon"}'), 0, 'a job whose runs all failed reports 0')
  t.equal(m.value('complaint_job_runs_last_hour{scheduled_job="sla-sweep",outcome="succeeded"}'), 1)
  t.equal(m.value('complaint_job_runs_last_hour{scheduled_job="sla-sweep",outcome="failed"}'), 1)

  // housekeeping drops week-old ticks, but keeps each job's last success: the series never vanishes
  api.clock.advanceMinutes(8 * 24 * 60)
  const swept = await api.call('POST', '/v1/admin/jobs/housekeeping/run', {})
  t.equal(swept.json.result.prunedTicks, 2, 'the failed ticks go')
  m = await scrape(api)
  t.equal(m.value('complaint_job_last_success_timestamp_seconds{scheduled_job="sla-sweep"}'), success, 'the last success stays')
})

t.test('readiness and the holiday data: complaint_ready is 1, the coverage end is the first uncovered day in the business time zone', async (t) => {
  const api = await testApp(t, { now: THU_10 })
  let m = await scrape(api)
  t.equal(m.value('complaint_ready'), 1)
  t.equal(m.value('complaint_calendar_coverage_end_timestamp_seconds'), Date.parse('2027-01-01T00:00:00+08:00') / 1000, 'the data ends with 2026')
  t.equal((await api.call('PUT', '/v1/admin/calendar/overrides/2027-02-11', { working: false, note: '春节' })).status, 200)
  m = await scrape(api)
  t.equal(m.value('complaint_calendar_coverage_end_timestamp_seconds'), Date.parse('2028-01-01T00:00:00+08:00') / 1000, 'a posted 2027 covers that year')
})

t.test('a database that does not answer: the scrape still succeeds, with complaint_ready 0 and the request metrics', async (t) => {
  const api = await testApp(t)
  // the same app on a database nobody listens for (port 1): every query fails
  const lines: string[] = []
  const down = await createDb({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none' })
  const { buildApp } = await import('../../src/app.js')
  const app = await buildApp({ config: api.config, database: down, logger: createLogger({ LOG_LEVEL: 'warn' }, { write: (l: string) => void lines.push(l) }) })
  await app.ready()
  t.teardown(() => app.close())
  await app.inject({ method: 'GET', url: '/healthz' })
  const m = await scrape({ app })
  t.equal(m.value('complaint_ready'), 0)
  t.ok(m.text.includes('http_request_duration_seconds_count{method="GET",route="/healthz",status_code="200"} 1'), 'the request metrics still arrive')
  t.notOk(m.text.includes('complaint_open{'), 'no stale or made-up business figures')
  t.ok(lines.some((l) => l.includes('"metric":"complaint_open"') && l.includes('metric not collected')), 'the failure is logged with the metric')
})

t.test('promtool check metrics finds nothing to lint in a scrape with every series present', { skip: !process.env.PROMTOOL && 'set PROMTOOL=promtool (.ci/run does) to lint the scrape' }, async (t) => {
  const api = await testApp(t)
  await api.call('POST', '/v1/complaints', webComplaint())
  const coordinator = createRunCoordinator(api.db, () => api.clock.now())
  const key = `sla-sweep:${api.clock.now().toISOString()}`
  await coordinator.shouldRun(key, 60_000)
  coordinator.succeeded('sla-sweep')
  await coordinator.onComplete!(key)
  const { text } = await scrape(api)
  const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = execFile(process.env.PROMTOOL!, ['check', 'metrics'], (err, stdout, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, output: stdout + stderr }))
    child.stdin!.end(text)
  })
  t.equal(result.output, '', 'no lint findings')
  t.equal(result.code, 0)
})
