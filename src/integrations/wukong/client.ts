import { loadUndici } from '../../webhooks/http-target.js'
import type { Config } from '../../config.js'
import type { CrmCustomer } from './mapping.js'

/**
 * The 悟空CRM 11 HTTP API as its source answers (/work/notes/wukong-api.md): everything through the
 * gateway, `POST`, JSON, the `Admin-Token` header, and an envelope `{code, msg, data}` — mostly with
 * HTTP 200 whatever happened, so the `code` decides:
 * - 0 success; 302 not logged in (token expired, or replaced by another login of the same user):
 *   log in again once and retry the call once;
 * - 403 (rate limited, HTTP 400), 404, 408, 500, a non-JSON answer, a network error or a timeout:
 *   worth retrying later;
 * - everything else — 400 validation, 401 no permission (HTTP 401 from the gateway, or an unknown
 *   customer), 1xxx, 2xxx business errors — the same call would fail again: permanent.
 * One client (and one token) per process and account; concurrent calls that meet a stale token share
 * one login, since every login replaces the account's previous token.
 */
export class WukongError extends Error {
  override readonly name = 'WukongError'
  constructor(
    readonly path: string,
    /** the envelope's code; null when there was no envelope (network error, timeout, not JSON) */
    readonly code: number | null,
    /** the CRM's own message (or what went wrong on the way) */
    readonly msg: string,
    readonly httpStatus: number | null,
    readonly retryable: boolean,
  ) {
    super(`${msg} (悟空CRM ${code === null ? (httpStatus === null ? 'no answer' : `HTTP ${httpStatus}`) : `code ${code}`}, ${path})`)
  }
}

const RETRYABLE_CODES = new Set([302, 403, 404, 408, 500])

export interface Envelope<T> { code: number; msg: string; data: T; httpStatus: number }

/** one page of `queryPageList` (BasePage) */
export interface CustomerPage { list: Array<CrmCustomer & Record<string, unknown>>; totalRow: number; totalPage?: number; lastPage?: boolean }
/** one match of `dataCheck`: 1 lead, 2 customer, 9 customer in the public pool */
export interface DataCheckMatch { id: number; name: string; type: number }
/** an extension field of the return visit form (`/crmReturnVisit/field`) */
export interface FieldMeta { fieldId: number; fieldName: string; name?: string; options?: string; setting?: unknown }

export interface ClientSettings {
  baseUrl: string
  username: string
  password: string
  /** per request */
  timeoutMs: number
}

/** after a refused login, no new attempt for this long: the CRM locks the account after 3 wrong passwords */
export const LOGIN_COOLDOWN_MS = 5 * 60_000

export class WukongClient {
  private token: string | null = null
  private login: Promise<string> | null = null
  private refused: { error: WukongError; until: number } | null = null

  constructor(private readonly settings: ClientSettings, private readonly now: () => Date) {}

  /** the envelope of one call; `accept` lists codes besides 0 that the caller handles itself (e.g. 2030) */
  async call<T>(path: string, body: unknown, opts: { signal?: AbortSignal; accept?: number[] } = {}): Promise<Envelope<T>> {
    let token = await this.tokenOtherThan(null)
    let res = await this.post<T>(path, body, token, opts.signal)
    if (res.code === 302) {
      token = await this.tokenOtherThan(token)
      res = await this.post<T>(path, body, token, opts.signal)
    }
    if (res.code === 0 || opts.accept?.includes(res.code)) return res
    throw new WukongError(path, res.code, res.msg, res.httpStatus, res.httpStatus !== 401 && RETRYABLE_CODES.has(res.code))
  }

  /** a token that is not `stale`: the current one if another call already replaced it, else a new login */
  private async tokenOtherThan(stale: string | null): Promise<string> {
    if (this.token !== null && this.token !== stale) return this.token
    this.login ??= this.logIn().finally(() => (this.login = null))
    return this.login
  }

  private async logIn(): Promise<string> {
    const now = this.now().getTime()
    if (this.refused && this.refused.until > now) throw this.refused.error
    // `type` 1 (PC) is the default: a second login of the same user and type replaces the first
    const res = await this.post<{ adminToken?: string }>('/login', { username: this.settings.username, password: this.settings.password }, null)
    const token = res.code === 0 ? res.data?.adminToken : undefined
    if (typeof token === 'string' && token !== '') {
      this.token = token
      this.refused = null
      return token
    }
    this.token = null
    // not retried at once: 1004 (wrong password) three times locks the account (1010)
    const error = new WukongError('/login', res.code, `login as ${this.settings.username} refused: ${res.msg}`, res.httpStatus, true)
    if (res.code !== 500 && res.code !== 403) this.refused = { error, until: now + LOGIN_COOLDOWN_MS }
    throw error
  }

  private async post<T>(path: string, body: unknown, token: string | null, signal?: AbortSignal): Promise<Envelope<T>> {
    const timeout = AbortSignal.timeout(this.settings.timeoutMs)
    let httpStatus: number | null = null
    try {
      // the base URL may carry a path (a proxy in front of the gateway): the CRM's paths go after it
      const { fetch } = await loadUndici()
      const res = await fetch(`${this.settings.baseUrl.replace(/\/+$/, '')}${path}`, {
        method: 'POST',
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { 'admin-token': token } : {}) },
        body: JSON.stringify(body ?? {}),
      })
      httpStatus = res.status
      const text = await res.text()
      let envelope: { code?: unknown; msg?: unknown; data?: unknown }
      try {
        envelope = JSON.parse(text) as typeof envelope
      } catch {
        throw new WukongError(path, null, `not a 悟空CRM answer: ${text.slice(0, 80) || '(empty)'}`, httpStatus, true)
      }
      const code = typeof envelope?.code === 'number' ? envelope.code : null
      if (code === null) throw new WukongError(path, null, `an answer without a code: ${text.slice(0, 80)}`, httpStatus, true)
      return { code, msg: typeof envelope.msg === 'string' ? envelope.msg : '', data: envelope.data as T, httpStatus }
    } catch (err) {
      if (err instanceof WukongError) throw err
      const e = err as Error & { cause?: { code?: string; message?: string } }
      const why = e.name === 'TimeoutError' ? `no answer within ${this.settings.timeoutMs} ms` : `${e.cause?.code ?? e.name}: ${e.cause?.message ?? e.message}`
      throw new WukongError(path, null, why, httpStatus, true)
    }
  }

  // ---- the endpoints the connector uses ----

  /** customers changed at or after `since` (GMT+8 text), oldest first; `limit` is capped at 100 by the CRM */
  async customersChangedSince(since: string | null, page: number, limit: number, signal?: AbortSignal): Promise<CustomerPage> {
    const searchList = since === null ? [] : [{ name: 'updateTime', formType: 'datetime', type: 8 /* EGT */, values: [since] }]
    const res = await this.call<CustomerPage>('/crmCustomer/queryPageList', { page, limit, sortField: 'updateTime', order: 2 /* ascending */, searchList }, { signal })
    return { ...res.data, list: res.data?.list ?? [], totalRow: Number(res.data?.totalRow ?? 0) }
  }

  /** one customer; null when the CRM says it is deleted or does not exist (2064) */
  async customer(customerId: number, signal?: AbortSignal): Promise<(CrmCustomer & Record<string, unknown>) | null> {
    const res = await this.call<CrmCustomer & Record<string, unknown>>(`/crmCustomer/queryById/${customerId}`, {}, { signal, accept: [2064] })
    return res.code === 2064 ? null : { ...res.data, customerId }
  }

  /** customers (and leads, type 1) whose mobile or telephone is exactly `phone` */
  async dataCheck(phone: string, signal?: AbortSignal): Promise<DataCheckMatch[]> {
    return (await this.call<DataCheckMatch[]>('/crmCustomer/dataCheck', { phone }, { signal })).data ?? []
  }

  async addCustomer(body: { entity: Record<string, unknown>; field: unknown[] }, signal?: AbortSignal): Promise<number> {
    const res = await this.call<{ customerId?: number }>('/crmCustomer/add', body, { signal })
    if (typeof res.data?.customerId !== 'number') throw new WukongError('/crmCustomer/add', 0, 'the CRM created a customer but returned no customerId', res.httpStatus, false)
    return res.data.customerId
  }

  /** adds a follow-up record (跟进记录) to a customer; the CRM returns no id */
  async addFollowUp(customerId: number, category: string, content: string, signal?: AbortSignal): Promise<void> {
    await this.call('/crmActivity/addCrmActivityRecord', { activityType: 2, activityTypeId: customerId, category, content }, { signal })
  }

  /** whether the customer has a follow-up whose content contains `text` */
  async hasFollowUp(customerId: number, text: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.call<{ list?: unknown[] }>('/crmActivity/getCrmActivityPageList', { page: 1, crmType: 2, activityType: 2, activityTypeId: customerId, search: text }, { signal })
    return (res.data?.list ?? []).length > 0
  }

  /** adds a return visit (回访); `exists` when its visitNumber is already taken (2030) */
  async addReturnVisit(body: { entity: Record<string, unknown>; field: unknown[] }, signal?: AbortSignal): Promise<'added' | 'exists'> {
    const res = await this.call('/crmReturnVisit/add', body, { signal, accept: [2030] })
    return res.code === 2030 ? 'exists' : 'added'
  }

  /** the follow-up categories configured on the CRM */
  async followUpCategories(signal?: AbortSignal): Promise<string[]> {
    return (await this.call<string[]>('/crmActionRecord/queryRecordOptions', {}, { signal })).data ?? []
  }

  /** the return visit form's fields, with their install-specific ids */
  async returnVisitFields(signal?: AbortSignal): Promise<FieldMeta[]> {
    return (await this.call<FieldMeta[]>('/crmReturnVisit/field?type=1', {}, { signal })).data ?? []
  }
}

/** the connection settings, or null when the connector is not configured */
export function clientSettings(config: Config): ClientSettings | null {
  const { WUKONG_BASE_URL: baseUrl, WUKONG_USERNAME: username, WUKONG_PASSWORD: password } = config
  if (!baseUrl || !username || !password) return null
  return { baseUrl, username, password, timeoutMs: config.WEBHOOK_TIMEOUT_MS }
}

const clients = new Map<string, WukongClient>()

/** the process's client for these settings: its token lives in memory, shared by the pull and the pushes */
export function clientFor(settings: ClientSettings, now: () => Date): WukongClient {
  const key = JSON.stringify([settings.baseUrl, settings.username, settings.password])
  let client = clients.get(key)
  if (!client) clients.set(key, (client = new WukongClient(settings, now)))
  return client
}
