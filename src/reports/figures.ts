import type { Figure, FigureKind, Ratio } from '../domain/reports.js'
import type { MonthlyFigures, PeriodFigures } from './schemas.js'

/**
 * A report's figures as one flat list of named values — the rows of the CSV, the tables of the HTML
 * page and what the monthly change is computed over — so the three forms cannot disagree.
 */
type Row = Omit<Figure, 'section' | 'comparable'> & { comparable?: boolean }

const section = (name: string, rows: Row[]): Figure[] => rows.map((r) => ({ comparable: true, ...r, section: name }))
const count = (key: string, label: string, value: number): Row => ({ key, label, kind: 'count', value, note: null })
const value = (key: string, label: string, kind: FigureKind, v: number | null, note: string | null = null): Row => ({ key, label, kind, value: v, note })
const fraction = (key: string, label: string, r: Ratio, note: string): Row[] => [
  value(`${key}.ratio`, label, 'ratio', r.ratio, r.ratio === null ? `missing: ${note} is 0` : `${r.numerator} / ${r.denominator}`),
]

export function flatten(kind: 'weekly' | 'monthly', f: PeriodFigures | MonthlyFigures): Figure[] {
  const figures: Figure[] = [
    ...section('受理', [count('received', '受理抱怨数', f.received)]),
    ...section('按类别', f.byCategory.map((c) => count(`category.${c.key}`, c.label, c.count))),
    ...section('按级别', f.byLevel.map((c) => count(`level.${c.key}`, c.label, c.count))),
    ...section('按渠道', f.byChannel.map((c) => count(`channel.${c.key}`, c.label, c.count))),
    ...section('按执行部门', f.byDepartment.map((c) => count(`department.${c.key}`, c.label, c.count))),
    ...section('投诉 (外部机构)', f.byExternalBody.map((c) => count(`externalBody.${c.key}`, c.label, c.count))),
    ...section('非理性抱怨', [
      count('irrational.first.count', '一次非理性抱怨数', f.irrational.firstStage.numerator),
      ...fraction('irrational.first', '一次非理性比例', f.irrational.firstStage, 'the number received'),
      count('irrational.second.count', '二次非理性抱怨数', f.irrational.secondStage.numerator),
      ...fraction('irrational.second', '二次非理性比例', f.irrational.secondStage, 'the number received'),
      count('irrational.watch', '关注', f.irrational.watch),
      count('irrational.monitor', '监控', f.irrational.monitor),
    ]),
    ...section('客户抱怨率 (每千)', f.complaintRates.map((r) =>
      value(`rate.${r.categoryId}`, r.label, 'rate', r.perThousand, r.denominator ? `${r.complaints} per ${r.denominator.value} ${r.denominator.kind}` : `missing: ${r.missing}`))),
    ...section('一次关闭率', [
      count('firstTimeClosure.firstTime', '一次关闭数', f.firstTimeClosure.numerator),
      count('firstTimeClosure.closedOnce', '至少关闭过一次', f.firstTimeClosure.denominator),
      ...fraction('firstTimeClosure', '一次关闭率', f.firstTimeClosure, 'the number closed at least once'),
    ]),
    ...section('超时 (按部门和时限)', f.breaches.map((b) => count(`breaches.${b.departmentId}.${b.clock}`, `${b.departmentLabel} · ${b.clockLabel}`, b.count))),
    ...section('处理时间 (工作分钟)', [
      count('timeToFirstReply.complaints', '已首次回复', f.timeToFirstReply.complaints),
      value('timeToFirstReply.mean', '首次回复 平均', 'minutes', f.timeToFirstReply.meanBusinessMinutes, f.timeToFirstReply.complaints === 0 ? 'missing: no first reply' : null),
      value('timeToFirstReply.p90', '首次回复 P90', 'minutes', f.timeToFirstReply.p90BusinessMinutes, f.timeToFirstReply.complaints === 0 ? 'missing: no first reply' : null),
      count('timeToClosure.complaints', '已关闭', f.timeToClosure.complaints),
      value('timeToClosure.mean', '关闭 平均', 'minutes', f.timeToClosure.meanBusinessMinutes, f.timeToClosure.complaints === 0 ? 'missing: none closed' : null),
      value('timeToClosure.p90', '关闭 P90', 'minutes', f.timeToClosure.p90BusinessMinutes, f.timeToClosure.complaints === 0 ? 'missing: none closed' : null),
    ]),
    ...section('关闭用时分布', f.closeTimeDistribution.map((b) => count(`closeTime.${b.bucket}`, b.label, b.count))),
    ...section('满意度', [
      value('satisfaction.mean', '满意度 平均分', 'score', f.satisfaction.mean, f.satisfaction.mean === null ? 'missing: no callback with a score' : null),
      ...f.satisfaction.distribution.map((d) => count(`satisfaction.${d.score}`, `${d.score}分`, d.count)),
      count('callbacks.withScore', '回访有评分', f.satisfaction.responseRate.numerator),
      count('callbacks.recorded', '已回访', f.satisfaction.responseRate.denominator),
      ...fraction('callbacks', '回访应答率', f.satisfaction.responseRate, 'the number called back'),
    ]),
    ...section('每日抱怨数 (按级别)', f.perDay.map((d) => ({ ...count(`perDay.${d.date}.${d.level}`, `${d.date} ${d.label}`, d.count), comparable: false }))),
  ]
  if (kind === 'weekly' || !('capa' in f)) return figures
  const m = f as MonthlyFigures
  return [
    ...figures,
    ...section('主要根本原因', m.topRootCauses.map((r, i) => ({ ...count(`rootCause.${i + 1}`, r.rootCause, r.count), comparable: false }))),
    ...section('纠正预防措施', [
      count('capa.complaints.open', '措施未评估完 (open)', m.capa.complaints.open),
      count('capa.complaints.reviewed', '措施已评估 (reviewed)', m.capa.complaints.reviewed),
      count('capa.measures.corrective', '纠正措施', m.capa.measures.corrective),
      count('capa.measures.preventive', '预防措施', m.capa.measures.preventive),
      count('capa.reviews.effective', '有效', m.capa.reviews.effective),
      count('capa.reviews.partially_effective', '部分有效', m.capa.reviews.partially_effective),
      count('capa.reviews.not_effective', '无效', m.capa.reviews.not_effective),
      count('capa.reviews.not_reviewed', '未评估', m.capa.reviews.not_reviewed),
      ...fraction('capa.shareEffective', '有效比例', m.capa.shareEffective, 'the number reviewed'),
      count('capa.overdueReviews', '逾期未评估措施', m.capa.overdueReviews.length),
    ]),
    ...section('逾期未评估措施', m.capa.overdueReviews.map((o) => ({
      ...value(`overdue.${o.measureId}`, `${o.reference} · ${o.type === 'corrective' ? '纠正' : '预防'} · ${o.action}`, 'count', 1, `review due ${o.reviewDueDate}${o.owner ? `; owner ${o.owner}` : ''}`),
      comparable: false,
    }))),
    ...section('重复抱怨', [
      count('repeats.count', '重复抱怨数', m.repeats.numerator),
      ...fraction('repeats', '重复抱怨比例', m.repeats, 'the number received'),
    ]),
    ...section('重新打开', [
      count('reopen.count', '重新打开数', m.reopenRate.numerator),
      ...fraction('reopen', '重新打开率', m.reopenRate, 'the number closed at least once'),
    ]),
  ]
}
