import { Value } from 'typebox/value'
import type { Config } from '../../config.js'
import { ReceiveBody } from '../../complaints/schemas.js'
import { CHANNELS, type Channel } from '../../domain/vocabulary.js'

/**
 * The one mapping between the complaint service and 悟空CRM 11 (README: "悟空CRM connector"), in both
 * directions: a CRM customer ↔ the complainant it stands for, our channel → the follow-up category
 * (跟进类型) and the return visit type (回访形式), satisfaction 1–5 → `satisficing` (客户满意度), and the
 * CRM's `yyyy-MM-dd HH:mm:ss` GMT+8 times ↔ instants. Pure: no I/O. Where CRM installs differ (their
 * follow-up categories, field options and ids) the defaults below are overridden by settings.
 */

// ---- time: the CRM writes and reads local times of GMT+8 (Jackson `time-zone: GMT+8`), to the second ----

const CRM_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/
const GMT8_MS = 8 * 3_600_000

/** `2026-11-26 10:05:00` (GMT+8) → the instant; null when it is not such a time or not a real date */
export function fromCrmTime(text: string): Date | null {
  const m = CRM_TIME.exec(text)
  if (!m) return null
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) - GMT8_MS
  const back = new Date(ms + GMT8_MS)
  // Date.UTC rolls 02-30 over into March: such a date is not one the CRM wrote
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null
  return new Date(ms)
}

/** the instant as the CRM writes it: GMT+8, whole seconds (the fraction is dropped, as the CRM stores none) */
export function toCrmTime(at: Date): string {
  return new Date(Math.floor(at.getTime() / 1000) * 1000 + GMT8_MS).toISOString().slice(0, 19).replace('T', ' ')
}

// ---- customers ↔ complainants ----

/** a customer as the CRM shows it (list, queryById, or a CRM-side sender); absent = the CRM did not say */
export interface CrmCustomer {
  customerId: number
  customerName?: string | null
  mobile?: string | null
  telephone?: string | null
  email?: string | null
  address?: string | null
  detailAddress?: string | null
  status?: number | string | null
  updateTime?: string | null
}

/** the customer in the complainant's terms: what the mirror keeps */
export interface CustomerFields {
  name: string
  phone: string | null
  email: string | null
  address: string | null
  /** 1 normal, 2 locked, 3 deleted */
  status: CrmStatus
}
export type CrmStatus = 1 | 2 | 3
export const CRM_STATUS_NAMES = { 1: 'normal', 2: 'locked', 3: 'deleted' } as const

/** the complainant's constraints of POST /v1/complaints, so that a mapped customer is a valid complainant */
const complainant = ReceiveBody.properties.complainant.properties as unknown as Record<'name' | 'phone' | 'email' | 'address', { pattern?: string; maxLength?: number }>
const PHONE = new RegExp(complainant.phone.pattern!)
/** Postgres text holds no NUL, and JSON text no lone surrogate */
const clean = (v: string) => v.replace(/\u0000|\p{Cs}/gu, '').trim()
const text = (v: string | null | undefined) => (typeof v === 'string' && clean(v) !== '' ? clean(v) : null)
const cut = (v: string, max: number) => [...v].slice(0, max).join('')

/** the first of the CRM's numbers that is a phone number to us (the list gives `""` for none) */
const phoneOf = (...numbers: Array<string | null | undefined>) => numbers.map(text).find((n) => n !== null && PHONE.test(n)) ?? null

/**
 * What a CRM customer says about the complainant it stands for. Only what the CRM sent: a field it
 * left out (a column hidden from the integration user) is absent here, so the mirror keeps its value.
 * - name ← customerName (empty: `悟空客户 <id>`), at most 200 characters
 * - phone ← mobile, or telephone when mobile is not a phone number
 * - email ← email, when it is an address
 * - address ← address (省,市,区 without the commas) and detailAddress, at most 500 characters
 * - status ← status (1 normal, 2 locked, 3 deleted)
 */
export function customerToComplainant(c: CrmCustomer): Partial<CustomerFields> {
  const out: Partial<CustomerFields> = {}
  if (c.customerName !== undefined) out.name = cut(text(c.customerName) ?? `悟空客户 ${c.customerId}`, complainant.name.maxLength!)
  if (c.mobile !== undefined || c.telephone !== undefined) out.phone = phoneOf(c.mobile, c.telephone)
  if (c.email !== undefined) {
    const email = text(c.email)
    out.email = email !== null && Value.Check(ReceiveBody.properties.complainant.properties.email, email) ? email : null
  }
  if (c.address !== undefined || c.detailAddress !== undefined) {
    const parts = [text(c.address)?.replace(/,/g, ''), text(c.detailAddress)].filter((p): p is string => !!p)
    out.address = parts.length > 0 ? cut(parts.join(' '), complainant.address.maxLength!) : null
  }
  const status = Number(c.status)
  if (status === 1 || status === 2 || status === 3) out.status = status
  return out
}

/** a new CRM customer for a complainant (POST /crmCustomer/add): `field` is an array, never null */
export function complainantToCustomer(p: { name: string; phone: string | null; email: string | null; address: string | null }) {
  return {
    entity: {
      customerName: p.name,
      ...(p.phone ? { mobile: p.phone } : {}),
      ...(p.email ? { email: p.email } : {}),
      ...(p.address ? { detailAddress: p.address } : {}),
    },
    field: [] as unknown[],
  }
}

/** our external id of a CRM customer, as complaints carry it */
export const externalIdOf = (customerId: number) => ({ system: 'wukong', customerId: String(customerId) })
/** the CRM customer id a complaint's complainant is linked to, if any */
export function linkedCustomerId(externalIds: ReadonlyArray<{ system: string; customerId: string }>): number | null {
  const id = externalIds.find((e) => e.system === 'wukong')?.customerId
  return id !== undefined && /^[1-9]\d{0,9}$/.test(id) ? Number(id) : null
}

// ---- channels, follow-ups, return visits ----

/** per channel: how a CRM user reads it, the follow-up category (跟进类型) and the return visit type (回访形式) */
export const CHANNEL_TABLE: Record<Channel, { label: string; category: string; returnVisitType: string }> = {
  phone: { label: '电话', category: '打电话', returnVisitType: '电话' },
  hotline_400: { label: '400热线', category: '打电话', returnVisitType: '电话' },
  email: { label: '电子邮件', category: '发邮件', returnVisitType: '邮件' },
  web: { label: '网站', category: '打电话', returnVisitType: '电话' },
  wechat: { label: '微信', category: '打电话', returnVisitType: '微信' },
  letter: { label: '信函', category: '打电话', returnVisitType: '电话' },
  walk_in: { label: '来访', category: '见面拜访', returnVisitType: '见面拜访' },
  callback_survey: { label: '回访中发现', category: '打电话', returnVisitType: '电话' },
  media: { label: '新闻媒体', category: '打电话', returnVisitType: '电话' },
  consumer_association: { label: '消费者协会', category: '打电话', returnVisitType: '电话' },
  government: { label: '政府机关', category: '打电话', returnVisitType: '电话' },
  crm_sync: { label: '悟空CRM', category: '打电话', returnVisitType: '电话' },
}

/** satisfaction 1–5 → the shipped `satisficing` options */
export const DEFAULT_SATISFICING = ['很不满意', '不满意', '一般', '满意', '很满意'] as const

/** the return visit extension fields as the CRM's web UI sends them (select fields: type 3, field_type 2) */
export const RETURN_VISIT_FIELDS = {
  returnVisitType: { fieldName: 'return_visit_type', name: '回访形式', type: 3, fieldType: 2 },
  satisficing: { fieldName: 'satisficing', name: '客户满意度', type: 3, fieldType: 2 },
} as const

/** the mapping of one install: the table above with the install's settings applied */
export interface Mapping {
  category(channel: Channel): string
  returnVisitType(channel: Channel): string
  satisficing(score: number): string
  fieldIds: { returnVisitType: number; satisficing: number }
}

/** `hotline_400=打电话, *=发邮件` → overrides by channel (`*`: every channel not named) */
function overrides(setting: string | undefined): (channel: Channel, fallback: string) => string {
  const pairs = new Map((setting ?? '').split(',').filter((p) => p.includes('=')).map((p) => {
    const [channel, value] = p.split('=') as [string, string]
    return [channel.trim(), value.trim()] as const
  }))
  return (channel, fallback) => pairs.get(channel) ?? pairs.get('*') ?? fallback
}

export function mappingFrom(config: Config): Mapping {
  const category = overrides(config.WUKONG_FOLLOWUP_CATEGORIES)
  const visitType = overrides(config.WUKONG_RETURN_VISIT_TYPES)
  const satisficing = config.WUKONG_SATISFICING_OPTIONS.split(',').map((o) => o.trim())
  return {
    category: (channel) => category(channel, CHANNEL_TABLE[channel].category),
    returnVisitType: (channel) => visitType(channel, CHANNEL_TABLE[channel].returnVisitType),
    satisficing: (score) => {
      const option = satisficing[score - 1]
      if (!Number.isInteger(score) || option === undefined) throw new RangeError(`satisfaction ${score} is not 1 to 5`)
      return option
    },
    fieldIds: { returnVisitType: config.WUKONG_RETURN_VISIT_TYPE_FIELD_ID, satisficing: config.WUKONG_SATISFICING_FIELD_ID },
  }
}

/** every channel with its mapped values, for the status endpoint and the README table */
export const mappedChannels = (m: Mapping) => CHANNELS.map((channel) => ({ channel, category: m.category(channel), returnVisitType: m.returnVisitType(channel) }))

// ---- what the complaint service writes into the CRM ----

/** a follow-up's content is varchar(1024) in the CRM: the text is cut so the marker always fits */
export const FOLLOW_UP_MAX = 1024

/**
 * The marker that ends every follow-up the service writes: the event id, unique per event. A retried
 * delivery looks for it (follow-ups get no id back) so that it never writes the same follow-up twice.
 */
export const followUpMarker = (eventId: string) => `〔投诉系统 ${eventId}〕`

export interface FollowUpFacts {
  eventId: string
  kind: 'received' | 'closed'
  reference: string
  channel: Channel
  description: string
  closureType: 'first_time' | 'second_time' | null
  resultSummary: string | null
}

/** the follow-up record (跟进记录) for a complaint received or closed, at most FOLLOW_UP_MAX characters */
export function followUpContent(f: FollowUpFacts): string {
  const head = f.kind === 'received'
    ? `【客户抱怨受理】${f.reference}（${CHANNEL_TABLE[f.channel].label}）`
    : `【客户抱怨关闭】${f.reference}（${f.closureType === 'second_time' ? '二次关闭' : '一次关闭'}）`
  const body = f.kind === 'received' ? f.description : `处理结果：${f.resultSummary ?? '—'}`
  const marker = `\n${followUpMarker(f.eventId)}`
  const room = FOLLOW_UP_MAX - [...head].length - 1 - [...marker].length
  const chars = [...body]
  const shown = chars.length <= room ? body : `${chars.slice(0, room - 1).join('')}…`
  return `${head}\n${shown}${marker}`
}

/**
 * The return visit's number: the complaint's reference for its first callback; a complaint called
 * back again (a closure rejected at the callback, or a reopened one) gets `-2`, `-3`… so that each
 * callback is its own return visit, while a retried one is answered "already exists" (2030).
 */
export function visitNumber(c: { reference: string; closureRejectedCount: number; reopenCount: number }, rejectedNow: boolean): string {
  const n = c.closureRejectedCount - (rejectedNow ? 1 : 0) + c.reopenCount + 1
  return n === 1 ? c.reference : `${c.reference}-${n}`
}
