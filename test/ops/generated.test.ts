import { readFile } from 'node:fs/promises'
import { parser } from '@prometheus-io/lezer-promql'
import t from 'tap'
import { parse } from 'yaml'
import { ALERTS, alertRules, anchorOf, serialiseAlertRules } from '../../ops/alerts.js'
import { buildDashboard, serialiseDashboard } from '../../ops/dashboard.js'
import { createRunCoordinator } from '../../src/jobs/coordinator.js'
import { metricsHeaders, testApp } from '../helper.js'

const file = (p: string) => readFile(new URL(`../../${p}`, import.meta.url), 'utf8')

/** the metric names a PromQL expression selects (Grafana's $__rate_interval read as a duration) */
export function metricsOf(expr: string): string[] {
  const text = expr.replaceAll('$__rate_interval', '5m')
  const names = new Set<string>()
  const tree = parser.parse(text)
  tree.iterate({
    enter(node) {
      if (node.type.isError) throw new Error(`not PromQL at ${node.from}: ${text}`)
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier')
        if (id) names.add(text.slice(id.from, id.to))
      }
    },
  })
  return [...names]
}

const dashboardExpressions = () => (buildDashboard().panels ?? []).flatMap((p) => ('targets' in p ? (p.targets ?? []) : []).map((q) => (q as unknown as { expr: string }).expr))

t.test('the committed ops/prometheus/alerts.yml is what ops/alerts.ts generates (run `npm run alerts` after changing an alert)', async (t) => {
  t.equal(await file('ops/prometheus/alerts.yml'), serialiseAlertRules(alertRules()))
})

t.test('the committed ops/grafana/complaints.json is what ops/dashboard.ts generates (run `npm run dashboard` after changing a panel)', async (t) => {
  t.equal(await file('ops/grafana/complaints.json'), serialiseDashboard(buildDashboard()))
})

t.test('every alert has a summary, a severity, a runbook section in docs/operations.md and a promtool test that makes it fire', async (t) => {
  const runbook = await file('docs/operations.md')
  const anchors = new Set([...runbook.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1]!)))
  const tests = parse(await file('ops/prometheus/alerts.test.yml')) as { rule_files: string[]; tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> }
  t.same(tests.rule_files, ['alerts.yml'])
  const firing = new Set(tests.tests.flatMap((x) => x.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname))
  for (const rule of alertRules('docs/operations.md').groups[0]!.rules) {
    t.ok(rule.annotations.summary, `${rule.alert}: summary`)
    t.match(rule.labels.severity, /^(critical|warning)$/, `${rule.alert}: severity`)
    const anchor = rule.annotations.runbook_url.split('#')[1]!
    t.ok(anchors.has(anchor), `${rule.alert}: docs/operations.md has the section its runbook link names (#${anchor})`)
    t.ok(firing.has(rule.alert), `${rule.alert}: alerts.test.yml has a test in which it fires`)
  }
  t.equal(new Set(ALERTS.map((a) => a.alert)).size, ALERTS.length, 'alert names are unique')
})

t.test('every metric the alerts and the dashboard name is one the service exports', async (t) => {
  const api = await testApp(t)
  // series that exist only once something happened: a request (the latency histogram), a scheduled run
  await api.call('GET', '/v1/complaints')
  const coordinator = createRunCoordinator(api.db, () => api.clock.now())
  const tick = `sla-sweep:${api.clock.now().toISOString()}`
  t.equal(await coordinator.shouldRun(tick, 60_000), true)
  coordinator.succeeded('sla-sweep')
  await coordinator.onComplete!(tick)

  const scrape = await api.app.inject({ method: 'GET', url: '/metrics', headers: metricsHeaders })
  t.equal(scrape.statusCode, 200)
  const types = new Map([...scrape.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]))
  const series = new Set([...scrape.body.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((m) => m[1]!))
  const used = new Map<string, string>()
  for (const a of ALERTS) for (const m of metricsOf(a.expr)) used.set(m, `alert ${a.alert}`)
  for (const expr of dashboardExpressions()) for (const m of metricsOf(expr)) used.set(m, 'the dashboard')
  t.ok(used.size >= 12, `the alerts and the dashboard name ${used.size} metrics`)
  for (const [metric, where] of used) {
    const family = metric.replace(/_(bucket|count|sum)$/, '')
    const exported = types.get(metric) !== undefined || types.get(family) === 'histogram'
    t.ok(exported, `${metric} (${where}) is exported`)
    t.ok(series.has(metric), `${metric} (${where}) has a series in the scrape`)
  }
})

t.test('metricsOf reads selectors, not functions, label names or strings', async (t) => {
  t.same(metricsOf('histogram_quantile(0.99, sum by (le, job) (rate(a_bucket{route!="/x"}[$__rate_interval]))) > on (job) b - time()').sort(), ['a_bucket', 'b'])
  t.throws(() => metricsOf('sum(('), /not PromQL/)
})
