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
