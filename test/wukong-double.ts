import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A contract test double of the 悟空CRM 11 HTTP API (gateway on loopback), behaving as its source does
 * (/work/notes/wukong-api.md), and recording what it received:
 * - every answer is an envelope `{code, msg, data}`, mostly HTTP 200; `POST /login` gives a 32-hex
 *   `adminToken`; every other call needs the `Admin-Token` header, else code 302 — also for a token
 *   replaced by a later login of the same user and type (then with `data.extra = 1`);
 * - `queryPageList`: Elasticsearch-like — deleted customers are gone, public-pool customers (no owner)
 *   only with `poolId`, `searchList` EGT on updateTime, sort by updateTime as asked (desc otherwise)
 *   then `_id` desc, `limit` capped at 100, `totalRow`, missing fields as `""`;
 * - `queryById`: code 2064 for a deleted or unknown customer; `dataCheck {name, phone}`: exact phone
 *   match on mobile or telephone, leads (type 1), owned (2) and pool (9) customers, at most 10;
 * - `addCrmActivityRecord`: @NotNull fields → 400 with the field's message, an unknown customer → 401,
 *   content over 1024 characters → 500; it bumps the customer's updateTime, lastContent, lastTime;
 * - `crmReturnVisit/add`: `field` or `entity` null → 500 (nothing stored), a taken visitNumber → 2030;
 * - `crmCustomer/add`: `field` null → 500; returns `{customerId, customerName}`.
 * Tests steer it: expire tokens, answer the next call to a path with anything, drop a connection,
 * refuse a menu (HTTP 401), or run something before answering.
 */
export interface DoubleCustomer {
  customerId: number
  customerName: string
  mobile: string
  telephone: string
  email: string
  address: string
  detailAddress: string
  /** 1 normal, 2 locked, 3 deleted */
  status: number
  ownerUserId: number | null
  createTime: string
  updateTime: string
  lastContent: string
  lastTime: string
}
export interface DoubleActivity { activityId: number; activityType: number; activityTypeId: number; category: string; content: string; createTime: string }
export interface DoubleVisit { visitId: number; entity: Record<string, unknown>; field: Array<Record<string, unknown>> }
export interface DoubleRequest { path: string; body: any; token: string | null; code: number; httpStatus: number }
interface Answer { httpStatus?: number; code: number; msg: string; data?: unknown }

const GMT8_MS = 8 * 3_600_000
/** the CRM's time format, GMT+8 (written here independently of the code under test) */
export const crmTime = (at: Date) => new Date(Math.floor(at.getTime() / 1000) * 1000 + GMT8_MS).toISOString().slice(0, 19).replace('T', ' ')

const DEFAULT_COLUMNS = ['customerName', 'source', 'mobile', 'telephone', 'website', 'industry', 'level', 'nextTime', 'remark', 'email', 'status', 'dealStatus',
  'lastTime', 'lastContent', 'detailAddress', 'address', 'poolDay', 'ownerUserName', 'ownerUserId', 'teamMemberIds', 'ownerDeptName', 'ownerDeptId', 'updateTime',
  'createTime', 'createUserName', 'createUserId', 'receiveTime', 'preOwnerUserName', 'poolTime', 'contactsId']

export const RETURN_VISIT_FIELD_LIST = [
  { fieldId: 1101898, fieldName: 'returnVisitType', name: '回访形式', type: 3, fieldType: 2, options: '见面拜访,电话,短信,邮件,微信', isNull: 0, isUnique: 0 },
  { fieldId: 1101902, fieldName: 'satisficing', name: '客户满意度', type: 3, fieldType: 2, options: '很满意,满意,一般,不满意,很不满意', isNull: 0, isUnique: 0 },
  { fieldId: 1101903, fieldName: 'flied_itvzix', name: '客户反馈', type: 2, fieldType: 0, options: null, isNull: 0, isUnique: 0 },
]

export async function startWukongDouble(t: { teardown(fn: () => unknown): void }, opts: { now: () => Date; username?: string; password?: string }) {
  const username = opts.username ?? '18688888888'
  let password = opts.password ?? '123456a'
  const customers = new Map<number, DoubleCustomer>()
  const leads: Array<{ leadsId: number; name: string; mobile: string }> = []
  const activities: DoubleActivity[] = []
  const visits: DoubleVisit[] = []
  const received: DoubleRequest[] = []
  /** token → whom, and whether a later login replaced it */
  const tokens = new Map<string, { user: string; type: number; replacedAt: string | null }>()
  const current = new Map<string, string>()
  const next = new Map<string, Array<Answer | 'drop' | 'real'>>()
  const denied = new Set<string>()
  const ids = { customer: 1000, activity: 0, visit: 0, lead: 5000 }
  let logins = 0
  let loginFailures = 0
  const state = {
    recordOptions: ['打电话', '发邮件', '发短信', '见面拜访', '活动'],
    /** the account's visible list columns (an admin may hide some) */
    columns: [...DEFAULT_COLUMNS],
    /** runs before a path is answered (e.g. to make the service fail at that moment) */
    beforeAnswer: undefined as undefined | ((path: string, body: any) => Promise<void> | void),
  }
  const now = () => crmTime(opts.now())

  const ok = (data: unknown = null): Answer => ({ code: 0, msg: 'success', data })
  const fail = (code: number, msg: string, httpStatus = 200): Answer => ({ httpStatus, code, msg })

  function listItem(c: DoubleCustomer) {
    const item: Record<string, unknown> = { customerId: c.customerId, star: 0, businessCount: 0 }
    for (const column of state.columns) item[column] = (c as unknown as Record<string, unknown>)[column] ?? ''
    return item
  }

  function queryPageList(body: any): Answer {
    const page = Math.max(1, Number(body.page ?? 1))
    const limit = Math.min(100, Math.max(1, Number(body.limit ?? 15)))
    let rows = [...customers.values()].filter((c) => c.status !== 3 && (body.poolId != null ? c.ownerUserId === null : c.ownerUserId !== null))
    for (const s of body.searchList ?? []) {
      if (s.name === 'updateTime' && Number(s.type) === 8) rows = rows.filter((c) => c.updateTime >= s.values[0])
    }
    const asc = body.sortField === 'updateTime' && state.columns.includes('updateTime') && Number(body.order) === 2
    rows.sort((a, b) => (a.updateTime === b.updateTime ? b.customerId - a.customerId : (a.updateTime < b.updateTime) === asc ? -1 : 1))
    const list = rows.slice((page - 1) * limit, page * limit).map(listItem)
    const totalPage = Math.ceil(rows.length / limit)
    return ok({ list, totalRow: rows.length, totalPage, pageSize: limit, pageNumber: page, firstPage: page === 1, lastPage: page >= totalPage, extraData: {} })
  }

  function addActivity(body: any): Answer {
    for (const [field, message] of [['category', '跟进类型不能为空'], ['activityType', '类型不能为空'], ['activityTypeId', '类型id不能为空'], ['content', '内容不能为空']] as const) {
      if (body[field] === null || body[field] === undefined) return fail(400, message)
    }
    const customer = customers.get(Number(body.activityTypeId))
    if (Number(body.activityType) !== 2 || !customer || customer.status === 3) return fail(401, '无权操作')
    if ([...String(body.content)].length > 1024) return fail(500, '网络错误，请稍候再试')
    const at = now()
    activities.push({ activityId: ++ids.activity, activityType: 2, activityTypeId: customer.customerId, category: String(body.category), content: String(body.content), createTime: at })
    Object.assign(customer, { updateTime: at, lastTime: at, lastContent: String(body.content) })
    return ok()
  }

  function addVisit(body: any): Answer {
    if (body.entity == null || body.field == null) return fail(500, '网络错误，请稍候再试')
    const number = body.entity.visitNumber
    if (visits.some((v) => v.entity.visitNumber === number)) return fail(2030, '回访编号已存在，请校对后再添加！')
    visits.push({ visitId: ++ids.visit, entity: body.entity, field: body.field })
    return ok()
  }

  function createCustomer(body: any): Answer {
    if (body.entity == null || body.field == null) return fail(500, '网络错误，请稍候再试')
    const e = body.entity
    const c = addCustomer({ customerName: e.customerName, mobile: e.mobile ?? '', email: e.email ?? '', detailAddress: e.detailAddress ?? '', ownerUserId: 1 })
    return ok({ customerId: c.customerId, customerName: c.customerName })
  }

  function route(path: string, body: any): Answer {
    if (path === '/crmCustomer/queryPageList') return queryPageList(body)
    const byId = /^\/crmCustomer\/queryById\/(\d+)$/.exec(path)
    if (byId) {
      const c = customers.get(Number(byId[1]))
      return !c || c.status === 3 ? fail(2064, '客户已删除') : ok({ ...c, isPool: c.ownerUserId === null ? 1 : 0, star: 0 })
    }
    if (path === '/crmCustomer/dataCheck') {
      const phone = body.phone ?? ''
      const matches = [
        ...[...customers.values()].filter((c) => c.status !== 3 && (c.telephone === phone || c.mobile === phone))
          .map((c) => ({ id: c.customerId, name: c.customerName, type: c.ownerUserId === null ? 9 : 2, ownerUserId: c.ownerUserId })),
        ...leads.filter((l) => l.mobile === phone).map((l) => ({ id: l.leadsId, name: l.name, type: 1, ownerUserId: 1 })),
      ]
      return ok(matches.slice(0, 10))
    }
    if (path === '/crmCustomer/add') return createCustomer(body)
    if (path === '/crmActivity/addCrmActivityRecord') return addActivity(body)
    if (path === '/crmActivity/getCrmActivityPageList') {
      const list = activities.filter((a) => a.activityTypeId === Number(body.activityTypeId) && (!body.search || a.content.includes(body.search)))
      return ok({ time: list.length ? list[list.length - 1]!.createTime.slice(0, 10) : null, list, lastPage: true })
    }
    if (path === '/crmReturnVisit/add') return addVisit(body)
    if (path === '/crmActionRecord/queryRecordOptions') return ok(state.recordOptions)
    if (path === '/crmReturnVisit/field') return ok(RETURN_VISIT_FIELD_LIST)
    return fail(404, '资源未找到', 404)
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    let raw = ''
    for await (const chunk of req) raw += chunk
    const path = (req.url ?? '/').split('?')[0]!
    const token = (req.headers['admin-token'] as string | undefined) ?? null
    let body: any = {}
    let answer: Answer
    try {
      body = raw ? JSON.parse(raw) : {}
    } catch {
      body = undefined
    }
    const queue = next.get(path)
    if (queue?.[0] === 'drop') {
      queue.shift()
      received.push({ path, body, token, code: -1, httpStatus: 0 })
      req.socket.destroy()
      return
    }
    await state.beforeAnswer?.(path, body)
    if (req.method !== 'POST') answer = fail(401, '请求方式错误')
    else if (body === undefined) answer = fail(500, '网络错误，请稍候再试')
    else if (path === '/login') {
      if (body.username !== username || body.password !== password) {
        loginFailures++
        answer = fail(1004, '账号或密码错误')
      } else {
        logins++
        const type = Number(body.type ?? 1)
        const previous = current.get(`${username}:${type}`)
        if (previous) tokens.get(previous)!.replacedAt = now()
        const fresh = randomBytes(16).toString('hex')
        tokens.set(fresh, { user: username, type, replacedAt: null })
        current.set(`${username}:${type}`, fresh)
        answer = ok({ adminToken: fresh })
      }
    } else {
      const session = token ? tokens.get(token) : undefined
      if (!session) answer = fail(302, '请先登录！')
      else if (session.replacedAt) answer = { code: 302, msg: '请先登录！', data: { extra: 1, extraTime: session.replacedAt } }
      else if (denied.has(path)) answer = fail(401, '无权操作', 401)
      else {
        const queued = queue?.shift()
        answer = queued === undefined || queued === 'real' ? route(path, body) : (queued as Answer)
      }
    }
    received.push({ path, body, token, code: answer.code, httpStatus: answer.httpStatus ?? 200 })
    res.writeHead(answer.httpStatus ?? 200, { 'content-type': 'application/json;charset=UTF-8' })
    res.end(JSON.stringify({ code: answer.code, msg: answer.msg, ...(answer.data !== undefined ? { data: answer.data } : { data: null }) }))
  }

  const server = createServer((req, res) => void handle(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))

  function addCustomer(c: Partial<DoubleCustomer> & { customerName: string }): DoubleCustomer {
    const at = now()
    const customer: DoubleCustomer = {
      customerId: ++ids.customer, mobile: '', telephone: '', email: '', address: '', detailAddress: '', status: 1, ownerUserId: 1,
      createTime: at, updateTime: at, lastContent: '', lastTime: at, ...c,
    }
    customers.set(customer.customerId, customer)
    return customer
  }

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    username, get password() { return password }, state, customers, activities, visits, received,
    get logins() { return logins },
    get loginFailures() { return loginFailures },
    addCustomer,
    /** `n` customers with updateTime one second apart from `from` (or all at `from` with step 0) */
    seedCustomers(n: number, from: Date, stepSeconds = 1) {
      return Array.from({ length: n }, (_, i) => addCustomer({
        customerName: `客户${String(i + 1).padStart(3, '0')}`, mobile: `139${String(10_000_000 + i).padStart(8, '0')}`,
        updateTime: crmTime(new Date(from.getTime() + i * stepSeconds * 1000)),
      }))
    },
    /** a changed customer: its fields and a new updateTime (now) */
    change(customerId: number, fields: Partial<DoubleCustomer>) {
      Object.assign(customers.get(customerId)!, { updateTime: now(), ...fields })
    },
    addLead(name: string, mobile: string) {
      leads.push({ leadsId: ++ids.lead, name, mobile })
    },
    /** the account's password is changed in the CRM: its tokens are deleted (a plain 302) */
    changePassword(to: string) {
      password = to
      tokens.clear()
      current.clear()
    },
    /** every token stops working, as after 7 days unused (a plain 302) */
    expireTokens() {
      tokens.clear()
      current.clear()
    },
    /** the next call to `path` gets this answer, a dropped connection, or (`real`) its real answer */
    answerNext(path: string, answer: Answer | 'drop' | 'real') {
      next.set(path, [...(next.get(path) ?? []), answer])
    },
    /** the account's role lacks the menu of `path`: the gateway answers HTTP 401 */
    deny(path: string) {
      denied.add(path)
    },
    allow(path: string) {
      denied.delete(path)
    },
    /** what the CRM holds for one customer */
    followUps: (customerId: number) => activities.filter((a) => a.activityTypeId === customerId),
    calls: (path: string) => received.filter((r) => r.path === path),
  }
}

export type WukongDouble = Awaited<ReturnType<typeof startWukongDouble>>
