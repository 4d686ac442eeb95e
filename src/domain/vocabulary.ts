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
