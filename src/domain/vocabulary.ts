/** The vocabulary (docs/vocabulary.md): the English names used in code and API (Chinese in comments and docs). */

export const CHANNELS = [
  'phone', 'hotline_400', 'email', 'web', 'wechat', 'letter', 'walk_in', 'callback_survey',
  'media', 'consumer_association', 'government', 'crm_sync',
] as const
export type Channel = (typeof CHANNELS)[number]

/** 投诉: the customer went to one of these bodies; such complaints are major and notify PR */
export const EXTERNAL_CHANNELS = ['media', 'consumer_association', 'government'] as const
export type ExternalBody = (typeof EXTERNAL_CHANNELS)[number]
export const isExternalChannel = (c: string): c is ExternalBody => (EXTERNAL_CHANNELS as readonly string[]).includes(c)

/** 级别: 一般, 中级, 强烈, 非理性 */
export const LEVELS = ['general', 'moderate', 'strong', 'irrational'] as const
export type Level = (typeof LEVELS)[number]

/** 一次/二次非理性 */
export const IRRATIONAL_STAGES = ['first', 'second'] as const
export type IrrationalStage = (typeof IRRATIONAL_STAGES)[number]

/** 关注 / 监控 */
export const FOLLOW_UP_MODES = ['watch', 'monitor'] as const
export type FollowUpMode = (typeof FOLLOW_UP_MODES)[number]

/** 善意 / 恶意 (seed 003) */
export const NATURES = ['good_faith', 'malicious'] as const
export type Nature = (typeof NATURES)[number]

export const DESIRED_OUTCOMES = ['resolution', 'compensation', 'explanation', 'apology', 'improvement'] as const
export type DesiredOutcome = (typeof DESIRED_OUTCOMES)[number]

/** kinds of investigation notes: structured listening (seed 004) plus rework callbacks and internal notes */
export const NOTE_KINDS = ['fact', 'emotion', 'expectation', 'rework_callback', 'internal'] as const
export type NoteKind = (typeof NOTE_KINDS)[number]

export const STATUSES = [
  'received', 'acknowledged', 'assessed', 'handed_over', 'in_progress', 'responded',
  'closure_requested', 'closure_confirmed', 'closed', 'deferred', 'withdrawn',
] as const
export type Status = (typeof STATUSES)[number]

export const CLOSURE_TYPES = ['first_time', 'second_time'] as const
export type ClosureType = (typeof CLOSURE_TYPES)[number]

export const COMPLAINANT_KINDS = ['person', 'company'] as const
export type ComplainantKind = (typeof COMPLAINANT_KINDS)[number]

/** how the complainant was told the complaint was received (7.4) */
export const ACKNOWLEDGEMENT_CHANNELS = ['phone', 'sms', 'email', 'wechat', 'letter', 'in_person', 'web'] as const
export type AcknowledgementChannel = (typeof ACKNOWLEDGEMENT_CHANNELS)[number]

/** Chinese labels of the vocabulary, as reports and their charts show them */
export const LEVEL_LABELS: Record<Level, string> = { general: '一般', moderate: '中级', strong: '强烈', irrational: '非理性' }
export const CHANNEL_LABELS: Record<Channel, string> = {
  phone: '电话', hotline_400: '400热线', email: '电子邮件', web: '网站', wechat: '微信', letter: '信函', walk_in: '到店',
  callback_survey: '回访调查', media: '新闻媒体', consumer_association: '消费者协会', government: '政府机关', crm_sync: 'CRM同步',
}
export const EXTERNAL_BODY_LABELS: Record<ExternalBody, string> = { media: '新闻媒体', consumer_association: '消费者协会', government: '政府机关' }
export const CLOCK_LABELS = { handover: '移交', first_reply: '首次回复', closure: '关闭', callback: '回访' } as const
export type ClockName = keyof typeof CLOCK_LABELS
export const CLOCK_NAMES = Object.keys(CLOCK_LABELS) as ClockName[]
/** not yet assessed: no category, level or department */
export const NONE = 'none'
export const NONE_LABEL = '未评估'
