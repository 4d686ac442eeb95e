/**
 * Retention (docs/reports.md): complaint files are kept two years after closure (dealer policy
 * 档案保存期限为二年), then the complainant's personal data is removed while every figure the reports
 * use stays. This module says what is personal data in the JSON documents that carry a complaint — the
 * timeline's before/after/data, the audit log's before/after, event payloads — and what replaces it.
 * Pure: no SQL.
 */

/** what anonymised free text reads */
export const ANONYMISED = '[已匿名]'

/** the instant `years` calendar years before `now`: complaints that ended before it are due */
export function retentionCutoff(now: Date, years: number): Date {
  const cutoff = new Date(now.getTime())
  cutoff.setUTCFullYear(cutoff.getUTCFullYear() - years)
  return cutoff
}

/**
 * Free text that can quote the complainant or name them: replaced by the marker wherever a string of
 * that name appears (the complaint's fields in API names, step facts, a review's evidence). Root
 * causes and CAPA actions are kept: they describe the organisation's failure, and the monthly report
 * counts them.
 */
export const FREE_TEXT_KEYS = new Set([
  'description', 'desiredOutcomeNote', 'callbackComment', 'withdrawalReason', 'resultSummary', 'deferralReason',
  'message', 'comment', 'facts', 'emotions', 'expectations', 'reason', 'evidence', 'body', 'complainantName',
])
/** personal data in a field of its own: removed (null) */
export const PERSONAL_KEYS = new Set(['complainantPhone', 'complainantEmail', 'complainantIdNumber', 'complainantAddress'])
/** subject identifiers that lead to a person (a plate, a VIN, an order): removed; product and model stay */
export const SUBJECT_IDENTIFIERS = ['vin', 'plate', 'orderNo', 'invoiceNo', 'serialNo'] as const

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

function complainant(value: Json): Json {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value
  return { ...value, name: ANONYMISED, phone: null, email: null, idNumber: null, address: null, externalIds: [] }
}

function subject(value: Json): Json {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value
  return Object.fromEntries(Object.entries(value).filter(([k]) => !(SUBJECT_IDENTIFIERS as readonly string[]).includes(k)))
}

/**
 * The same JSON without the complainant's personal data, at any depth: the complainant (name →
 * marker; phone, email, ID number, address → null; outside-system ids → none), subject identifiers,
 * attachments (references to files that are the complainant's), and free text. Everything else — ids,
 * dates, statuses, levels, categories, departments, scores, closure types, CAPA — is left as it is.
 */
export function anonymiseJson<T>(value: T): T {
  return walk(value as Json) as T
}

function walk(value: Json): Json {
  if (Array.isArray(value)) return value.map(walk)
  if (!value || typeof value !== 'object') return value
  const out: Record<string, Json> = {}
  for (const [key, v] of Object.entries(value)) {
    if (key === 'complainant') out[key] = complainant(v)
    else if (key === 'subject') out[key] = subject(v)
    else if ((key === 'complainantExternalIds' || key === 'externalIds' || key === 'attachments') && Array.isArray(v)) out[key] = []
    else if (PERSONAL_KEYS.has(key)) out[key] = null
    else if (FREE_TEXT_KEYS.has(key) && typeof v === 'string') out[key] = ANONYMISED
    else out[key] = walk(v)
  }
  return out
}
