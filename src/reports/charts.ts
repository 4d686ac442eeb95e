import type { TopLevelSpec } from 'vega-lite'
import { LEVEL_LABELS, LEVELS, NONE_LABEL } from '../domain/vocabulary.js'
import type { PeriodFigures } from './schemas.js'

/**
 * The report's charts as Vega-Lite specifications, rendered on the server to inline SVG by Vega's
 * headless view (renderer 'none': no browser, no canvas). Axis and legend texts are the Chinese
 * labels of the vocabulary; each bar carries its data in an `aria-label` (Vega writes one per mark).
 */
export interface Chart {
  id: string
  title: string
  spec: TopLevelSpec
}

const FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
// Vega measures text without a canvas by estimate, which undercounts Chinese characters: the charts
// with a legend keep room on the right for its labels
const LEGEND_ROOM = { left: 5, top: 5, bottom: 5, right: 70 }
const config = { font: FONT, view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12 } }
const LEVEL_ORDER = [...LEVELS.map((l) => LEVEL_LABELS[l]), NONE_LABEL]
const LEVEL_COLOURS = ['#4c78a8', '#f58518', '#e45756', '#b279a2', '#9d9d9d']

export function chartsOf(f: PeriodFigures): Chart[] {
  return [
    {
      id: 'perDay',
      title: '每日抱怨数（按级别）',
      spec: {
        config, width: 480, height: 220, padding: LEGEND_ROOM, description: '每日抱怨数（按级别）',
        data: { values: f.perDay.filter((d) => d.count > 0).map((d) => ({ 日期: d.date, 级别: d.label, 数量: d.count })) },
        mark: 'bar',
        encoding: {
          x: { field: '日期', type: 'ordinal', title: '日期', scale: { domain: [...new Set(f.perDay.map((d) => d.date))] }, axis: { labelAngle: -45 } },
          y: { field: '数量', type: 'quantitative', title: '抱怨数', axis: { tickMinStep: 1 } },
          color: { field: '级别', type: 'nominal', title: '级别', scale: { domain: LEVEL_ORDER, range: LEVEL_COLOURS } },
          order: { field: '级别', sort: 'ascending' },
        },
      },
    },
    {
      id: 'breaches',
      title: '超时次数（按执行部门和时限）',
      spec: {
        config, width: 480, height: 220, padding: LEGEND_ROOM, description: '超时次数（按执行部门和时限）',
        data: { values: f.breaches.filter((b) => b.count > 0).map((b) => ({ 部门: b.departmentLabel, 时限: b.clockLabel, 次数: b.count })) },
        mark: 'bar',
        encoding: {
          x: { field: '部门', type: 'nominal', title: '执行部门', scale: { domain: [...new Set(f.breaches.map((b) => b.departmentLabel))] }, axis: { labelAngle: 0 } },
          y: { field: '次数', type: 'quantitative', title: '超时次数', axis: { tickMinStep: 1 } },
          color: { field: '时限', type: 'nominal', title: '时限', scale: { domain: ['移交', '首次回复', '关闭', '回访'] } },
        },
      },
    },
    {
      id: 'closeTime',
      title: '关闭用时分布（工作日）',
      spec: {
        config, width: 520, height: 200, description: '关闭用时分布（工作日）',
        data: { values: f.closeTimeDistribution.map((b) => ({ 用时: b.label, 数量: b.count })) },
        mark: 'bar',
        encoding: {
          x: { field: '用时', type: 'ordinal', title: '关闭用时', sort: f.closeTimeDistribution.map((b) => b.label), axis: { labelAngle: 0 } },
          y: { field: '数量', type: 'quantitative', title: '已关闭抱怨数', axis: { tickMinStep: 1 } },
        },
      },
    },
    {
      id: 'satisfaction',
      title: '满意度分布（最近一次回访）',
      spec: {
        config, width: 520, height: 200, description: '满意度分布（最近一次回访）',
        data: { values: f.satisfaction.distribution.map((d) => ({ 评分: `${d.score}分`, 数量: d.count })) },
        mark: 'bar',
        encoding: {
          x: { field: '评分', type: 'ordinal', title: '满意度评分', sort: ['1分', '2分', '3分', '4分', '5分'], axis: { labelAngle: 0 } },
          y: { field: '数量', type: 'quantitative', title: '抱怨数', axis: { tickMinStep: 1 } },
          color: { value: '#54a24b' },
        },
      },
    },
  ]
}

/**
 * Vega and Vega-Lite, loaded on the first chart: hundreds of modules that only the HTML form of a report
 * needs, so the process does not load them at start (npm run bench: start-up time and idle RSS).
 */
let engines: Promise<[typeof import('vega'), typeof import('vega-lite')]> | undefined
const loadEngines = () => (engines ??= Promise.all([import('vega'), import('vega-lite')]))

/** one chart as an SVG element (no XML declaration: it goes inline into the HTML page) */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await loadEngines()
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
