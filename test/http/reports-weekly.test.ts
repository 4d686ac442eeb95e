import { parse as parseCsv } from 'csv-parse/sync'
import { parse as parseHtml } from 'node-html-parser'
import { sql } from 'kysely'
import t from 'tap'
import { createEventChecker } from '../contract.js'
import { testApp, type TestApp } from '../helper.js'

import { at, buildKnownWeek, local, step } from '../reports-fixture.js'

/**
 * The weekly report of the known week (test/reports-fixture.ts): every figure asserted as
 * docs/reports.md defines it, then the same figures read back from the CSV and the HTML forms.
 */
/** what the API should show for the known week, figure by figure, from docs/reports.md */
const EXPECTED = {
  received: 8,
  byCategory: { product_quality: 2, service_quality: 2, sales: 1, delivery: 1, billing: 0, none: 2 },
  byLevel: { general: 2, moderate: 1, strong: 1, irrational: 2, none: 2 },
  byChannel: { phone: 2, hotline_400: 1, email: 1, web: 1, wechat: 1, letter: 1, walk_in: 0, callback_survey: 0, media: 1, consumer_association: 0, government: 0, crm_sync: 0 },
  byDepartment: { 'general-affairs': 0, sales: 2, marketing: 1, finance: 1, 'service-station': 2, none: 2 },
  byExternalBody: { media: 1, consumer_association: 0, government: 0 },
  irrational: { firstStage: { numerator: 1, denominator: 8, ratio: 1 / 8 }, secondStage: { numerator: 1, denominator: 8, ratio: 1 / 8 }, watch: 1, monitor: 1 },
  firstTimeClosure: { numerator: 2, denominator: 4, ratio: 0.5 },
  // first reply: A 90, B 480, F 60, H 0 business minutes; closure: A 125, B 660, F 110
  timeToFirstReply: { complaints: 4, meanBusinessMinutes: 157.5, p90BusinessMinutes: 363 },
  timeToClosure: { complaints: 3, meanBusinessMinutes: 298.3, p90BusinessMinutes: 553 },
  satisfaction: { mean: 4, distribution: [{ score: 1, count: 0 }, { score: 2, count: 0 }, { score: 3, count: 1 }, { score: 4, count: 1 }, { score: 5, count: 1 }], responseRate: { numerator: 3, denominator: 4, ratio: 0.75 } },
  closeTimeDistribution: { le1: 2, '1to3': 1, '3to5': 0, '5to10': 0, gt10: 0 },
}

async function postDenominators(api: TestApp) {
  const put = (path: string, body: unknown) => api.call('PUT', `/v1/admin/denominators/${path}`, body, {}, 'admin')
  t.equal((await put('week/2026-11-16/product_quality', { kind: 'orders', value: 400 })).status, 200)
  t.equal((await put('week/2026-11-16/service_quality', { kind: 'customers', value: 1000 })).status, 200)
  t.equal((await put('week/2026-11-16/delivery', { kind: 'vehicles', value: 250 })).status, 200)
  // neither the month's nor another week's denominator counts for the week
  t.equal((await put('month/2026-11-01/sales', { kind: 'orders', value: 99_999 })).status, 200)
  t.equal((await put('week/2026-11-09/sales', { kind: 'orders', value: 10 })).status, 200)
}

const byKey = (rows: Array<{ key: string; count: number }>) => Object.fromEntries(rows.map((r) => [r.key, r.count]))

t.test('the weekly report of a known week: every figure as defined, in JSON, CSV and HTML', async (t) => {
  const api = await testApp(t, { now: local('2026-11-16T09:00:00') })
  await buildKnownWeek(api)
  await postDenominators(api)
  await at(api, '2026-11-27T10:00:00')

  const res = await api.call('GET', '/v1/reports/weekly?week=2026-11-16', undefined, {}, 'management')
  t.equal(res.status, 200)
  const r = res.json
  t.same(r.period, { kind: 'week', start: '2026-11-16', end: '2026-11-22', from: '2026-11-15T16:00:00.000Z', to: '2026-11-22T16:00:00.000Z', timeZone: 'Asia/Shanghai' })
  t.equal(r.stored, false)
  t.equal(r.id, null)
  const f = r.figures
  t.equal(f.received, EXPECTED.received, 'the cohort: 8 received Monday 00:00 to Sunday 23:59:59.999, by receivedAt')
  t.same(byKey(f.byCategory), EXPECTED.byCategory)
  t.same(byKey(f.byLevel), EXPECTED.byLevel)
  t.same(byKey(f.byChannel), EXPECTED.byChannel)
  t.same(byKey(f.byDepartment), EXPECTED.byDepartment)
  t.same(byKey(f.byExternalBody), EXPECTED.byExternalBody)
  t.same(f.byLevel.map((l: { label: string }) => l.label), ['一般', '中级', '强烈', '非理性', '未评估'], 'Chinese labels')
  t.same(f.irrational, EXPECTED.irrational)
  t.same(f.complaintRates, [
    { categoryId: 'billing', label: '费用结算', complaints: 0, denominator: null, perThousand: null, missing: '费用结算: no denominator posted for the week of 2026-11-16' },
    { categoryId: 'delivery', label: '交付', complaints: 1, denominator: { kind: 'vehicles', value: 250 }, perThousand: 4, missing: null },
    { categoryId: 'product_quality', label: '产品质量', complaints: 2, denominator: { kind: 'orders', value: 400 }, perThousand: 5, missing: null },
    { categoryId: 'sales', label: '销售', complaints: 1, denominator: null, perThousand: null, missing: '销售: no denominator posted for the week of 2026-11-16' },
    { categoryId: 'service_quality', label: '服务质量', complaints: 2, denominator: { kind: 'customers', value: 1000 }, perThousand: 2, missing: null },
  ], 'a category without a denominator has a missing rate, never 0')
  t.same(f.firstTimeClosure, EXPECTED.firstTimeClosure, 'A and B first-time; F second-time; H reopened counts against; E withdrawn is left out')
  const breaches = f.breaches.filter((b: { count: number }) => b.count > 0)
  t.same(breaches, [
    { departmentId: 'sales', departmentLabel: '销售部', clock: 'handover', clockLabel: '移交', count: 1 },
    { departmentId: 'service-station', departmentLabel: '服务站', clock: 'handover', clockLabel: '移交', count: 1 },
    { departmentId: 'service-station', departmentLabel: '服务站', clock: 'closure', clockLabel: '关闭', count: 1 },
  ], 'C and D breached their handover clock, C its 400-hotline closure limit (3 business days); the breaches of the week before are not counted')
  t.equal(f.breaches.length, 6 * 4, 'every department (and none) × every clock')
  t.same(f.timeToFirstReply, EXPECTED.timeToFirstReply)
  t.same(f.timeToClosure, EXPECTED.timeToClosure)
  t.same(f.satisfaction, EXPECTED.satisfaction, "the latest callback of each complaint: F's last callback has no score")
  t.same(byKey(f.closeTimeDistribution.map((b: { bucket: string; count: number }) => ({ key: b.bucket, count: b.count }))), EXPECTED.closeTimeDistribution)
  const perDay = f.perDay.filter((d: { count: number }) => d.count > 0).map((d: { date: string; level: string; count: number }) => `${d.date} ${d.level} ${d.count}`)
  t.same(perDay, [
    '2026-11-16 general 1', '2026-11-16 moderate 1', '2026-11-17 irrational 1', '2026-11-18 irrational 1',
    '2026-11-19 none 1', '2026-11-20 strong 1', '2026-11-22 general 1', '2026-11-22 none 1',
  ])

  // the CSV: UTF-8 with a BOM for Excel, one row per figure, the same values
  const csv = await api.app.inject({ method: 'GET', url: '/v1/reports/weekly?week=2026-11-16', headers: { accept: 'text/csv', authorization: `Bearer ${await api.keyFor('management')}` } })
  t.equal(csv.statusCode, 200)
  t.match(csv.headers['content-type'], /^text\/csv; charset=utf-8/)
  t.equal(csv.rawPayload.subarray(0, 3).toString('hex'), 'efbbbf', 'starts with the UTF-8 byte-order mark')
  const rows = parseCsv(csv.body, { columns: true, bom: true }) as Array<Record<string, string>>
  const cell = (key: string) => rows.find((row) => row.key === key)?.value
  const CHECKS: Record<string, string> = {
    received: '8', 'category.none': '2', 'level.irrational': '2', 'channel.phone': '2', 'department.service-station': '2', 'externalBody.media': '1',
    'irrational.first.count': '1', 'irrational.first.ratio': '0.125', 'irrational.second.ratio': '0.125', 'irrational.watch': '1', 'irrational.monitor': '1',
    'rate.product_quality': '5', 'rate.service_quality': '2', 'rate.delivery': '4', 'rate.sales': '', 'rate.billing': '',
    'firstTimeClosure.ratio': '0.5', 'breaches.service-station.handover': '1', 'breaches.sales.handover': '1', 'breaches.service-station.closure': '1', 'breaches.none.closure': '0',
    'timeToFirstReply.mean': '157.5', 'timeToFirstReply.p90': '363', 'timeToClosure.mean': '298.3', 'timeToClosure.p90': '553',
    'satisfaction.mean': '4', 'satisfaction.5': '1', 'callbacks.ratio': '0.75', 'closeTime.le1': '2', 'closeTime.1to3': '1',
    'perDay.2026-11-22.none': '1',
  }
  for (const [key, value] of Object.entries(CHECKS)) t.equal(cell(key), value, `CSV ${key}`)
  t.match(rows.find((row) => row.key === 'rate.sales')?.note, /missing: 销售: no denominator posted/, 'the CSV says why a rate is missing')
  t.equal(rows.find((row) => row.key === 'level.general')?.label, '一般')

  // the HTML page: the same figures in its tables (data-value holds the exact value)
  const html = await api.app.inject({ method: 'GET', url: '/v1/reports/weekly?week=2026-11-16', headers: { accept: 'text/html', authorization: `Bearer ${await api.keyFor('management')}` } })
  t.equal(html.statusCode, 200)
  t.match(html.headers['content-type'], /^text\/html; charset=utf-8/)
  const page = parseHtml(html.body)
  for (const [key, value] of Object.entries(CHECKS)) {
    t.equal(page.querySelector(`tr[data-key="${key}"] td.num`)?.getAttribute('data-value'), value, `HTML ${key}`)
  }
  t.equal(page.querySelector('tr[data-key="irrational.first.ratio"] td.num')?.text, '12.5%', 'shown as a percentage')
  t.equal(page.querySelector('tr[data-key="rate.sales"] td.num')?.text, '—', 'a missing rate is shown as missing')
  t.equal(api.violations.length, 0)
})

/** a bar's data, from the aria-label Vega writes on each mark, by axis and legend titles ("日期: 2026-11-16; 抱怨数: 1; 级别: 一般") */
const barData = (label: string) => Object.fromEntries(label.split('; ').map((part) => part.split(': ') as [string, string]))

t.test('the HTML report carries its four charts as inline SVG, with the Chinese labels and every data point', async (t) => {
  const api = await testApp(t, { now: local('2026-11-16T09:00:00') })
  await buildKnownWeek(api)
  await at(api, '2026-11-27T10:00:00')
  const html = await api.app.inject({ method: 'GET', url: '/v1/reports/weekly?week=2026-11-16', headers: { accept: 'text/html', authorization: `Bearer ${await api.keyFor('cs_manager')}` } })
  const page = parseHtml(html.body)
  const chart = (id: string) => page.querySelector(`figure#chart-${id} svg`)
  const bars = (id: string) => chart(id)!.querySelectorAll('path[aria-roledescription="bar"]').map((p) => barData(p.getAttribute('aria-label')!))
  for (const id of ['perDay', 'breaches', 'closeTime', 'satisfaction']) t.ok(chart(id), `chart ${id} is an inline <svg>`)

  t.same(bars('perDay').map((b) => `${b['日期']} ${b['级别']} ${b['抱怨数']}`).sort(), [
    '2026-11-16 一般 1', '2026-11-16 中级 1', '2026-11-17 非理性 1', '2026-11-18 非理性 1',
    '2026-11-19 未评估 1', '2026-11-20 强烈 1', '2026-11-22 一般 1', '2026-11-22 未评估 1',
  ].sort(), 'complaints per day by level: one bar per day and level, labelled in Chinese')
  const perDaySvg = chart('perDay')!.toString()
  for (const label of ['一般', '中级', '强烈', '非理性', '日期', '抱怨数']) t.ok(perDaySvg.includes(`>${label}<`), `the chart shows ${label}`)

  t.same(bars('breaches').map((b) => `${b['执行部门']} ${b['时限']} ${b['超时次数']}`).sort(), ['服务站 关闭 1', '服务站 移交 1', '销售部 移交 1'], 'breaches per department (Chinese department names) and clock')
  t.same(bars('closeTime').map((b) => `${b['关闭用时']} ${b['已关闭抱怨数']}`), ['≤1个工作日 2', '1–3个工作日 1', '3–5个工作日 0', '5–10个工作日 0', '>10个工作日 0'], 'time-to-close distribution')
  t.same(bars('satisfaction').map((b) => `${b['满意度评分']} ${b['抱怨数']}`), ['1分 0', '2分 0', '3分 1', '4分 1', '5分 1'], 'satisfaction distribution')
  // bar heights follow the counts: the 3-bar of the satisfaction chart is as tall as the 5-bar, the 1-bar flat
  const heights = chart('satisfaction')!.querySelectorAll('path[aria-roledescription="bar"]').map((p) => {
    const d = p.getAttribute('d')!
    return Number(/v(-?[\d.]+)/.exec(d)?.[1] ?? 0)
  })
  t.equal(heights[0], 0, 'a score nobody gave has a bar of no height')
  t.ok(heights[2]! > 0 && heights[2] === heights[4], 'equal counts, equal bars')
})

t.test('a published weekly report stays as published; a report computed now shows a later edit', async (t) => {
  const api = await testApp(t, { now: local('2026-11-16T09:00:00') })
  const week = await buildKnownWeek(api)
  await postDenominators(api)
  // Friday 27 November 08:00: the weekly job publishes the week of 16 November
  await at(api, '2026-11-27T08:00:00')
  const run = await api.call('POST', '/v1/admin/jobs/weekly-report/run', undefined, {}, 'admin')
  t.equal(run.status, 200)
  t.match(run.json.result, { published: true, period: { start: '2026-11-16', end: '2026-11-22' } })
  const again = await api.call('POST', '/v1/admin/jobs/weekly-report/run', undefined, {}, 'admin')
  t.match(again.json.result, { published: false, id: run.json.result.id }, 'a second run finds it published and changes nothing')
  const events = await api.db.selectFrom('outbox_events').select(['type', 'payload']).where('type', '=', 'report.weekly_ready').execute()
  t.equal(events.length, 1, 'report.weekly_ready once')
  t.same(createEventChecker()(events[0]!.payload as { type: string }), [], 'its payload is what the document promises')
  t.match(events[0]!.payload, { data: { report: { id: run.json.result.id, kind: 'weekly', periodStart: '2026-11-16', href: `/v1/reports/${run.json.result.id}` } } })

  const list = await api.call('GET', '/v1/reports?kind=weekly')
  t.same(list.json.items.map((i: { id: string }) => i.id), [run.json.result.id])
  const published = await api.call('GET', `/v1/reports/${run.json.result.id}`)
  t.equal(published.json.stored, true)
  t.equal(published.json.figures.byLevel.find((l: { key: string }) => l.key === 'irrational').count, 2)

  // Monday: C, irrational in the published week, is re-assessed as general
  await step(api, week.c, '2026-11-30T09:00:00', 'assess', { categoryId: 'service_quality', level: 'general', departmentId: 'service-station' })
  const after = await api.call('GET', `/v1/reports/${run.json.result.id}`)
  t.same(after.json, published.json, 'the published report is unchanged, to the byte')
  const live = await api.call('GET', '/v1/reports/weekly?week=2026-11-16')
  t.equal(live.json.figures.byLevel.find((l: { key: string }) => l.key === 'irrational').count, 1, 'a report computed now shows the edit')
  t.equal(live.json.figures.irrational.firstStage.numerator, 0)
  const csv = await api.app.inject({ method: 'GET', url: `/v1/reports/${run.json.result.id}`, headers: { accept: 'text/csv', authorization: `Bearer ${await api.keyFor('cs_agent')}` } })
  t.match(csv.body, /level\.irrational,非理性,count,2,/, 'the CSV of the published report is rendered from its stored figures')
  await t.rejects(sql`update reports set figures = '{}'`.execute(api.db), /immutable/, 'the database refuses to change a stored report')
})

t.test('periods: a week starts on Monday, a report covers a period that has ended, no denominator is 0', async (t) => {
  const api = await testApp(t, { now: local('2026-11-26T10:00:00') })
  const tuesday = await api.call('GET', '/v1/reports/weekly?week=2026-11-17')
  t.equal(tuesday.status, 422)
  t.equal(tuesday.json.errors[0].field, '/querystring/week')
  const current = await api.call('GET', '/v1/reports/weekly?week=2026-11-23')
  t.equal(current.status, 422, 'the current week has not ended')
  t.equal((await api.call('GET', '/v1/reports/weekly?week=2027-01-04')).status, 422, 'a future week is refused')
  t.equal((await api.call('GET', '/v1/reports/monthly?month=2026-11')).status, 422, 'the current month has not ended')
  const last = await api.call('GET', '/v1/reports/weekly')
  t.equal(last.json.period.start, '2026-11-16', 'by default, the last complete week')
  t.equal((await api.call('GET', '/v1/reports/monthly')).json.period.start, '2026-10-01', 'by default, the last complete month')
  t.equal((await api.call('PUT', '/v1/admin/denominators/week/2026-11-17/sales', { kind: 'orders', value: 5 })).status, 422, 'a week denominator starts on a Monday')
  t.equal((await api.call('PUT', '/v1/admin/denominators/month/2026-11-01/nope', { kind: 'orders', value: 5 })).status, 422, 'of a known category')
  t.equal((await api.call('PUT', '/v1/admin/denominators/month/2026-11-01/sales', { kind: 'orders', value: 0 })).status, 400, 'and never 0')
  t.equal((await api.call('PUT', '/v1/admin/denominators/month/2026-11-01/sales', { kind: 'orders', value: 120 })).status, 200)
  t.equal((await api.call('GET', '/v1/admin/denominators?period=month')).json.items.length, 1)
  t.equal((await api.call('DELETE', '/v1/admin/denominators/month/2026-11-01/sales')).status, 204)
  t.equal((await api.call('DELETE', '/v1/admin/denominators/month/2026-11-01/sales')).status, 404)
  t.equal((await api.call('GET', '/v1/reports/weekly', undefined, {}, 'department:sales')).status, 403, 'departments do not read the cross-department reports')
  const audit = await api.db.selectFrom('audit_log').select(['operation', 'entity_id']).where('entity_type', '=', 'denominator').execute()
  t.same(audit.map((a) => a.operation), ['setDenominator', 'deleteDenominator'], 'posting and withdrawing a denominator are audited')
})
