import escapeHtml from 'escape-html'
import { toLocal } from '../domain/calendar.js'
import { NOTICE_KINDS, type NoticeKind } from '../domain/penalties.js'
import type { BulletinDto } from './schemas.js'

/**
 * The weekly bulletin as the documents people use: a CSV for the spreadsheet (UTF-8 with a BOM, so
 * Excel reads the Chinese; amounts in fen like everywhere else) and a printable HTML page in the
 * seed's form, which the general manager signs. Both hold exactly the figures of the JSON form.
 */
export const KIND_ZH: Record<NoticeKind, string> = {
  handover_late: '移交超时',
  first_reply_late: '首次回复超时',
  closure_limit: '一次关闭考核',
  monthly: '超月未关闭',
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. Text that a
 * spreadsheet would run as a formula (= + - @, tab, CR at the start) is prefixed with an apostrophe.
 */
export function csvField(value: string | number): string {
  if (typeof value === 'number') return String(value)
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

export const csvRow = (fields: Array<string | number>) => `${fields.map(csvField).join(',')}\r\n`

export const CSV_HEADER = ['部门编号 department', '执行部门', ...NOTICE_KINDS.flatMap((k) => [`${KIND_ZH[k]} 件数`, `${KIND_ZH[k]} 金额(分)`]), '合计 件数', '合计 金额(分)']

export function bulletinCsv(b: BulletinDto): string {
  const figures = (kinds: BulletinDto['totals']['kinds'], notices: number, totalFen: number) => [
    ...NOTICE_KINDS.flatMap((k) => [kinds[k].notices, kinds[k].amountFen]), notices, totalFen,
  ]
  return '\uFEFF' + csvRow(CSV_HEADER)
    + b.lines.map((l) => csvRow([l.departmentId, l.departmentNameZh ?? l.departmentName, ...figures(l.kinds, l.notices, l.totalFen)])).join('')
    + csvRow(['', '合计', ...figures(b.totals.kinds, b.totals.notices, b.totals.totalFen)])
}

/** fen as CNY for people: 123456 → 1,234.56 */
export function cny(fen: number): string {
  const yuan = Math.floor(fen / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${yuan}.${String(fen % 100).padStart(2, '0')}`
}

const chineseDate = (date: string) => {
  const [y, m, d] = date.split('-').map(Number)
  return `${y}年${m}月${d}日`
}

function localTime(iso: string, timeZone: string): string {
  const { date, minute } = toLocal(new Date(iso), timeZone)
  const m = Math.floor(minute + 1e-9)
  return `${date} ${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
}

/** the printable bulletin: every value escaped; amounts in CNY with their fen in `data-fen` */
export function bulletinHtml(b: BulletinDto, timeZone: string): string {
  const h = (v: string | number | null) => escapeHtml(String(v ?? ''))
  const cells = (kinds: BulletinDto['totals']['kinds'], notices: number, totalFen: number, tag: 'td' | 'th') => [
    ...NOTICE_KINDS.flatMap((k) => [
      `<${tag} class="count">${h(kinds[k].notices)}</${tag}>`,
      `<${tag} class="amount" data-fen="${h(kinds[k].amountFen)}">${h(cny(kinds[k].amountFen))}</${tag}>`,
    ]),
    `<${tag} class="count">${h(notices)}</${tag}>`,
    `<${tag} class="amount" data-fen="${h(totalFen)}">${h(cny(totalFen))}</${tag}>`,
  ].join('')
  const rows = b.lines.map((l) => `<tr data-department="${h(l.departmentId)}"><td class="department">${h(l.departmentNameZh ?? l.departmentName)}</td>${cells(l.kinds, l.notices, l.totalFen, 'td')}</tr>`)
  const unassigned = b.unassigned.length === 0 ? '' : `
<section class="unassigned"><h2>未指定执行部门的超时（不计入考核） Findings with no department</h2><ul>
${b.unassigned.map((u) => `<li>${h(u.complaintReference)} · ${h(KIND_ZH[u.kind])} · 第${h(u.period)}${u.kind === 'monthly' ? '个月' : '轮'}</li>`).join('\n')}
</ul></section>`
  const signed = b.signedAt
    ? `<span class="signer">${h(b.signedBy)}</span>　日期：<span class="date">${h(localTime(b.signedAt, timeZone))}</span>`
    : '<span class="blank"></span>　日期：<span class="blank short"></span>'
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>${h(b.title)} ${h(b.weekStart)} – ${h(b.weekEnd)}</title>
<style>
body { font-family: "Songti SC", "SimSun", serif; margin: 2cm; color: #000; }
h1 { text-align: center; font-size: 20pt; margin-bottom: 0.2em; }
.meta { text-align: center; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 1.5em 0; }
th, td { border: 1px solid #000; padding: 4px 6px; }
td.count, td.amount, th.count, th.amount { text-align: right; }
.draft { color: #a00; font-weight: bold; }
.signature { margin-top: 3em; text-align: right; }
.blank { display: inline-block; min-width: 10em; border-bottom: 1px solid #000; }
.blank.short { min-width: 6em; }
@media print { body { margin: 1cm; } .draft { color: #000; } }
</style>
</head>
<body>
<h1>《${h(b.title)}》</h1>
<p class="meta">通报周期：${h(chineseDate(b.weekStart))}（星期一）至 ${h(chineseDate(b.weekEnd))}（星期日）${b.status === 'draft' ? '　<span class="draft">草稿 DRAFT</span>' : ''}</p>
<p>根据《客户抱怨处理办法》第7.6条，客户服务中心对上周所有确定执行的考核汇总如下（金额单位：元）：</p>
<table>
<thead>
<tr><th rowspan="2">执行部门</th>${NOTICE_KINDS.map((k) => `<th colspan="2">${h(KIND_ZH[k])}</th>`).join('')}<th colspan="2">合计</th></tr>
<tr>${[...NOTICE_KINDS, 'total'].map(() => '<th>件数</th><th>金额（元）</th>').join('')}</tr>
</thead>
<tbody>
${rows.join('\n') || `<tr><td colspan="${2 * NOTICE_KINDS.length + 3}">本周无考核。</td></tr>`}
</tbody>
<tfoot>
<tr class="total"><th>合计</th>${cells(b.totals.kinds, b.totals.notices, b.totals.totalFen, 'th')}</tr>
</tfoot>
</table>
<p>编制：客户服务中心（${h(b.drawnUpBy)}，${h(localTime(b.drawnUpAt, timeZone))}）。考核由财务部、综合管理部按第7.9条兑现。</p>${unassigned}
<p class="signature">总经理签发：${signed}</p>
</body>
</html>
`
}
