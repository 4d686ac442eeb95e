import { stringify } from 'csv-stringify/sync'
import escapeHtml from 'escape-html'
import type { Change, Figure } from '../domain/reports.js'
import { chartsOf, renderSvg } from './charts.js'
import { flatten } from './figures.js'
import type { MonthlyReport, Report } from './schemas.js'

/**
 * The CSV and HTML forms of a report, both rendered from its JSON (a stored report's JSON as it was
 * published): one flat list of figures (figures.ts), so every form shows the same numbers.
 */

const changeOf = (report: Report) => new Map(report.kind === 'monthly' ? (report as MonthlyReport).changes.map((c) => [c.key, c]) : [])

/** UTF-8 with a byte-order mark, so Excel opens the Chinese labels correctly */
export function toCsv(report: Report): string {
  const figures = flatten(report.kind, report.figures)
  const monthly = report.kind === 'monthly'
  const changes = changeOf(report)
  const header = ['section', 'key', 'label', 'kind', 'value', 'note', ...(monthly ? ['previous', 'difference', 'relative_change'] : [])]
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v))
  const rows = figures.map((f) => {
    const c = changes.get(f.key)
    return [f.section, f.key, f.label, f.kind, cell(f.value), f.note ?? '', ...(monthly ? [cell(c?.previous), cell(c?.difference), cell(c?.relativeChange)] : [])]
  })
  return `\uFEFF${stringify([header, ...rows], { record_delimiter: '\r\n' })}`
}

const TITLE = { weekly: '客户抱怨周报', monthly: '月度抱怨/投诉分析报告' } as const

/** a figure as a person reads it; the exact value stays in `data-value` */
function display(f: Pick<Figure, 'kind' | 'value'>): string {
  if (f.value === null) return '—'
  switch (f.kind) {
    case 'ratio': return `${(f.value * 100).toFixed(1)}%`
    case 'rate': return `${f.value.toFixed(2)}‰`
    case 'minutes': return `${f.value.toFixed(1)} 分钟`
    case 'score': return f.value.toFixed(2)
    default: return String(f.value)
  }
}

function changeCells(c: Change | undefined): string {
  if (!c) return '<td></td><td></td>'
  const diff = c.difference === null ? '—' : c.kind === 'ratio' ? `${c.difference > 0 ? '+' : ''}${c.difference.toFixed(2)} 个百分点` : `${c.difference > 0 ? '+' : ''}${c.difference}`
  const rel = c.relativeChange === null ? '' : ` (${c.relativeChange > 0 ? '+' : ''}${(c.relativeChange * 100).toFixed(1)}%)`
  return `<td class="num" data-value="${c.previous ?? ''}">${escapeHtml(display({ kind: c.kind, value: c.previous }))}</td>`
    + `<td class="num" data-value="${c.difference ?? ''}" data-relative="${c.relativeChange ?? ''}">${escapeHtml(diff + rel)}</td>`
}

const STYLE = `
  body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 24px; color: #222; }
  h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 20px 0 6px; border-bottom: 1px solid #ccc; }
  .meta { color: #555; font-size: 13px; margin: 0 0 16px; }
  .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 12px; }
  figure { margin: 0; padding: 8px; border: 1px solid #e2e2e2; break-inside: avoid; }
  figcaption { font-weight: bold; font-size: 13px; margin-bottom: 4px; }
  table { border-collapse: collapse; font-size: 13px; min-width: 480px; break-inside: avoid; }
  td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; } .num { text-align: right; font-variant-numeric: tabular-nums; }
  .missing { color: #a33; }
  @media print { body { margin: 10mm; } .charts { grid-template-columns: 1fr 1fr; } }`

/** a printable page: the charts as inline SVG, then every figure in tables by section */
export async function toHtml(report: Report): Promise<string> {
  const figures = flatten(report.kind, report.figures)
  const changes = changeOf(report)
  const monthly = report.kind === 'monthly'
  const charts = await Promise.all(chartsOf(report.figures).map(async (c) => ({ ...c, svg: await renderSvg(c.spec) })))
  const sections = [...new Set(figures.map((f) => f.section))]
  const table = (section: string) => {
    const rows = figures.filter((f) => f.section === section).map((f) =>
      `<tr data-key="${escapeHtml(f.key)}"><td>${escapeHtml(f.label)}</td>`
      + `<td class="num${f.value === null ? ' missing' : ''}" data-value="${f.value ?? ''}" data-kind="${f.kind}">${escapeHtml(display(f))}</td>`
      + `<td>${escapeHtml(f.note ?? '')}</td>${monthly ? changeCells(changes.get(f.key)) : ''}</tr>`).join('\n')
    return `<section><h2>${escapeHtml(section)}</h2><table><thead><tr><th>指标</th><th>数值</th><th>说明</th>${monthly ? '<th>上月</th><th>变化</th>' : ''}</tr></thead><tbody>\n${rows}\n</tbody></table></section>`
  }
  const p = report.period
  const title = `${TITLE[report.kind]} ${p.start} – ${p.end}`
  return `<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<header><h1>${escapeHtml(title)}</h1>
<p class="meta" data-generated-at="${escapeHtml(report.generatedAt)}">期间 ${escapeHtml(p.start)} 至 ${escapeHtml(p.end)}（${escapeHtml(p.timeZone)}，按受理时间）· 生成于 ${escapeHtml(report.generatedAt)} · ${report.stored ? '已发布（不再变更）' : '即时计算'}${monthly ? ` · 对比上月 ${escapeHtml((report as MonthlyReport).previousPeriod.start)} 至 ${escapeHtml((report as MonthlyReport).previousPeriod.end)}` : ''}</p></header>
<section class="charts">
${charts.map((c) => `<figure id="chart-${c.id}"><figcaption>${escapeHtml(c.title)}</figcaption>${c.svg}</figure>`).join('\n')}
</section>
${sections.map(table).join('\n')}
</body>
</html>
`
}
