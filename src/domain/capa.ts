/**
 * CAPA (纠正预防措施) vagueness rule, seed 002 §4: "严禁用一些形容词来替代具体的措施,如加强检查,
 * 加强培训等空洞的词语". A measure is vague when, once the empty words below are taken out, almost
 * nothing concrete is left (no object, no who, no what). A CAPA needs at least one concrete measure.
 */
export const VAGUE_PHRASES_ZH = [
  '进一步', '加强', '强化', '提高', '提升', '注意', '重视', '认真', '严格', '培训', '检查', '管理', '意识', '学习',
  '教育', '员工', '人员', '全体', '今后', '以后', '下次', '引以为戒', '杜绝', '避免', '类似', '问题', '再次', '发生',
  '工作', '服务', '质量', '落实', '责任心', '督促', '监督', '的', '和', '与', '及', '对', '要', '应', '将', '并',
]

export const VAGUE_WORDS_EN = [
  'strengthen', 'strengthening', 'enhance', 'improve', 'improved', 'increase', 'more', 'pay', 'attention', 'training',
  'train', 'retrain', 'check', 'checks', 'checking', 'inspection', 'inspections', 'awareness', 'careful', 'carefully',
  'staff', 'employees', 'employee', 'team', 'future', 'further', 'strictly', 'strict', 'management', 'learning',
  'education', 'quality', 'service', 'better', 'again', 'avoid', 'similar', 'problems', 'problem', 'issues', 'be', 'to',
  'the', 'of', 'and', 'in', 'on', 'a', 'an', 'all', 'our', 'we', 'will', 'should', 'must', 'make', 'sure',
]

const vagueEn = new Set(VAGUE_WORDS_EN)
const cjk = /[\u3400-\u9fff]/g

export function isVagueMeasure(text: string): boolean {
  let rest = text.toLowerCase()
  for (const phrase of VAGUE_PHRASES_ZH) rest = rest.split(phrase).join(' ')
  const cjkLeft = (rest.match(cjk) ?? []).length
  const wordsLeft = rest
    .replace(cjk, ' ')
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0 && !vagueEn.has(w))
  // Concrete measures name something: at least 3 Chinese characters or 2 words beyond the empty ones.
  return cjkLeft + wordsLeft.length * 1.5 < 3
}

/** index of every vague measure; the CAPA is rejected when all of them are vague */
export const vagueMeasures = (measures: readonly string[]) =>
  measures.flatMap((m, i) => (isVagueMeasure(m) ? [i] : []))

// ---- effectiveness review (有效性评估, dealer policy: 纠正预防措施 and 有效性评估报告) ----

export const CAPA_REVIEW_OUTCOMES = ['effective', 'partially_effective', 'not_effective'] as const
export type CapaReviewOutcome = (typeof CAPA_REVIEW_OUTCOMES)[number]

export interface MeasureInput { type: 'corrective' | 'preventive'; action: string; owner?: string; dueDate?: string }
export interface ScheduledMeasure extends MeasureInput {
  id: string
  reviewDueDate: string
  review?: { outcome: CapaReviewOutcome; evidence: string; reviewedAt: string }
}

/** YYYY-MM-DD plus n calendar days */
export function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10)
}

/**
 * Gives each measure of a newly recorded CAPA its stable id and review due date: `reviewDays` after
 * the measure's own due date, or after the day of the investigation when it has none. A measure
 * recorded again unchanged (same type and action) keeps its id, due date and review, so a corrected
 * investigation does not lose reviews already made.
 */
export function scheduleMeasures(
  measures: readonly MeasureInput[],
  previous: readonly ScheduledMeasure[],
  investigatedOn: string,
  reviewDays: number,
  newId: () => string,
): ScheduledMeasure[] {
  const unmatched = [...previous]
  return measures.map((m) => {
    const i = unmatched.findIndex((p) => p.type === m.type && p.action === m.action)
    const kept = i >= 0 ? unmatched.splice(i, 1)[0]! : undefined
    const reviewDueDate = kept && kept.dueDate === m.dueDate ? kept.reviewDueDate : addDays(m.dueDate ?? investigatedOn, reviewDays)
    return { ...m, id: kept?.id ?? newId(), reviewDueDate, ...(kept?.review ? { review: kept.review } : {}) }
  })
}

/** the earliest review due date among measures not yet reviewed; null when none waits */
export function nextReviewDue(measures: readonly ScheduledMeasure[]): string | null {
  const due = measures.filter((m) => !m.review).map((m) => m.reviewDueDate).sort()
  return due[0] ?? null
}

/** `reviewed` once every measure has its review, `open` until then */
export const capaStatus = (measures: readonly ScheduledMeasure[]): 'open' | 'reviewed' =>
  measures.length > 0 && measures.every((m) => m.review) ? 'reviewed' : 'open'
