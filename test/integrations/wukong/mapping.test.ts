import fc from 'fast-check'
import t from 'tap'
import { ConfigError, loadConfig } from '../../../src/config.js'
import {
  complainantToCustomer, customerToComplainant, FOLLOW_UP_MAX, followUpContent, followUpMarker, fromCrmTime, linkedCustomerId, mappingFrom, toCrmTime, visitNumber,
} from '../../../src/integrations/wukong/mapping.js'
import { shanghaiInstant } from '../../arbitraries.js'

/** The mapping table between the complaint service and 悟空CRM: pure rules, no CRM needed. */

t.test('CRM times are GMT+8 to the second, at any instant', async (t) => {
  t.equal(fromCrmTime('2026-11-26 10:05:00')?.toISOString(), '2026-11-26T02:05:00.000Z')
  t.equal(fromCrmTime('2026-01-01 00:00:00')?.toISOString(), '2025-12-31T16:00:00.000Z', 'the day before in UTC')
  for (const bad of ['2026-02-30 10:00:00', '2026-13-01 00:00:00', '2026-11-26 24:00:00', '2026-11-26 10:60:00', '2026-11-26T10:00:00', '']) t.equal(fromCrmTime(bad), null, `${bad || '(empty)'} is no CRM time`)
  fc.assert(fc.property(shanghaiInstant, (at) => {
    const text = toCrmTime(at)
    const back = fromCrmTime(text)!
    // the CRM keeps whole seconds: the fraction goes, the second stays
    return back.getTime() === Math.floor(at.getTime() / 1000) * 1000 && toCrmTime(back) === text && at.getTime() - back.getTime() < 1000
  }), { numRuns: 500 })
  // the GMT+8 text is the wall-clock time in Shanghai (no daylight saving there)
  fc.assert(fc.property(shanghaiInstant, (at) => {
    const wall = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', dateStyle: 'short', timeStyle: 'medium' }).format(at)
    return toCrmTime(at) === wall
  }), { numRuns: 300 })
})

t.test('a customer as a complainant: only what the CRM said, made valid', async (t) => {
  t.same(customerToComplainant({ customerId: 7, customerName: ' 张伟 ', mobile: '13800138000', telephone: '021-1234567', email: 'zw@example.com', address: '北京市,北京城区,东城区', detailAddress: '东直门内大街 1 号', status: 2 }),
    { name: '张伟', phone: '13800138000', email: 'zw@example.com', address: '北京市北京城区东城区 东直门内大街 1 号', status: 2 })
  t.same(customerToComplainant({ customerId: 7, customerName: '', mobile: '暂无', telephone: '021-1234567', email: 'none', address: '', detailAddress: '' }),
    { name: '悟空客户 7', phone: '021-1234567', email: null, address: null }, 'empty name, a mobile that is no number, an email that is no address')
  t.same(customerToComplainant({ customerId: 7 }), {}, 'fields the CRM left out (hidden columns) stay as stored')
  t.same(customerToComplainant({ customerId: 7, status: '3' }), { status: 3 }, 'the status as the list gives it')
  t.same(customerToComplainant({ customerId: 7, status: 9, mobile: null, telephone: null }), { phone: null }, 'an unknown status is not taken')
  const long = customerToComplainant({ customerId: 7, customerName: '名'.repeat(300), detailAddress: '路'.repeat(600) })
  t.same([[...long.name!].length, [...long.address!].length], [200, 500], 'cut to what a complainant holds')
  t.equal(customerToComplainant({ customerId: 7, customerName: 'a\u0000b\ud800c' }).name, 'abc', 'no NUL, no lone surrogate')

  t.same(complainantToCustomer({ name: '郑新', phone: '13987654321', email: null, address: '杭州市西湖区' }), { entity: { customerName: '郑新', mobile: '13987654321', detailAddress: '杭州市西湖区' }, field: [] })
  t.equal(linkedCustomerId([{ system: 'erp', customerId: '9' }, { system: 'wukong', customerId: '1024' }]), 1024)
  t.equal(linkedCustomerId([{ system: 'wukong', customerId: 'C-1024' }]), null, 'a wukong id that is no CRM id')
  t.equal(linkedCustomerId([]), null)
})

t.test('follow-ups fit the CRM’s 1024 characters and always end with the event’s marker', async (t) => {
  const facts = { eventId: 'msg_0195f7a4-5b1c-7c3e-9a10-2f4d6e8b1a09', reference: 'CP-2026-000123', channel: 'wechat' as const, closureType: null, resultSummary: null }
  const short = followUpContent({ ...facts, kind: 'received', description: '刹车异响。' })
  t.equal(short, `【客户抱怨受理】CP-2026-000123（微信）\n刹车异响。\n${followUpMarker(facts.eventId)}`)
  fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 3000 }), fc.constantFrom('received' as const, 'closed' as const), (text, kind) => {
    const content = followUpContent({ ...facts, kind, description: text, resultSummary: text, closureType: 'second_time' })
    return [...content].length <= FOLLOW_UP_MAX && content.endsWith(followUpMarker(facts.eventId))
  }), { numRuns: 200 })
  const closed = followUpContent({ ...facts, kind: 'closed', description: 'x', closureType: 'second_time', resultSummary: '已退款。' })
  t.match(closed, /^【客户抱怨关闭】CP-2026-000123（二次关闭）\n处理结果：已退款。\n/)
  t.match(followUpContent({ ...facts, kind: 'received', description: '长'.repeat(2000) }), /长…\n〔/, 'a cut text says so')
})

t.test('each callback is its own return visit number; a retried one is the same number', async (t) => {
  const c = { reference: 'CP-2026-000123', closureRejectedCount: 0, reopenCount: 0 }
  t.equal(visitNumber(c, false), 'CP-2026-000123', 'the first callback: the reference')
  t.equal(visitNumber({ ...c, closureRejectedCount: 1 }, true), 'CP-2026-000123', 'the first callback, rejected')
  t.equal(visitNumber({ ...c, closureRejectedCount: 1 }, false), 'CP-2026-000123-2', 'the callback after a rejection')
  t.equal(visitNumber({ ...c, closureRejectedCount: 1, reopenCount: 1 }, false), 'CP-2026-000123-3', 'after a reopening')
})

t.test('the mapping of an install: defaults, overrides by setting, satisfaction 1–5', async (t) => {
  const base = loadConfig({})
  const m = mappingFrom(base)
  t.same([m.category('hotline_400'), m.category('email'), m.category('walk_in'), m.returnVisitType('wechat'), m.returnVisitType('walk_in')], ['打电话', '发邮件', '见面拜访', '微信', '见面拜访'])
  t.same([1, 2, 3, 4, 5].map((n) => m.satisficing(n)), ['很不满意', '不满意', '一般', '满意', '很满意'])
  t.throws(() => m.satisficing(6), RangeError)
  t.same(m.fieldIds, { returnVisitType: 1101898, satisficing: 1101902 })
  const custom = mappingFrom(loadConfig({ WUKONG_FOLLOWUP_CATEGORIES: 'email=邮件跟进, *=电话跟进', WUKONG_RETURN_VISIT_TYPES: 'walk_in=上门', WUKONG_SATISFICING_OPTIONS: '1分,2分,3分,4分,5分', WUKONG_SATISFICING_FIELD_ID: '42' }))
  t.same([custom.category('email'), custom.category('web'), custom.returnVisitType('walk_in'), custom.returnVisitType('web'), custom.satisficing(4), custom.fieldIds.satisficing], ['邮件跟进', '电话跟进', '上门', '电话', '4分', 42])
})

t.test('settings that do not fit stop the start, naming the variable (secrets not shown)', async (t) => {
  const error = (env: Record<string, string>) => {
    try {
      loadConfig(env)
    } catch (err) {
      return err instanceof ConfigError ? err.message : String(err)
    }
    return ''
  }
  t.match(error({ WUKONG_BASE_URL: 'https://crm.example.com' }), /WUKONG_USERNAME: required with WUKONG_BASE_URL[\s\S]*WUKONG_PASSWORD: required/)
  t.match(error({ WUKONG_FOLLOWUP_CATEGORIES: 'fax=传真' }), /WUKONG_FOLLOWUP_CATEGORIES: unknown channel fax/)
  t.match(error({ WUKONG_RETURN_VISIT_TYPES: 'no pairs' }), /WUKONG_RETURN_VISIT_TYPES/)
  t.match(error({ WUKONG_PULL_SCHEDULE: '61 * * * *' }), /WUKONG_PULL_SCHEDULE: is not a cron expression/)
  t.match(error({ WUKONG_SATISFICING_OPTIONS: '好,坏' }), /WUKONG_SATISFICING_OPTIONS/)
  const secret = error({ WUKONG_INBOUND_SECRET: 'not-a-whsec-secret' })
  t.match(secret, /WUKONG_INBOUND_SECRET: .*\(got \[secret\]\)/)
  t.notMatch(secret, /not-a-whsec/)
  t.equal(error({ WUKONG_BASE_URL: 'https://crm.example.com', WUKONG_USERNAME: 'u', WUKONG_PASSWORD: 'p', WUKONG_ALLOW_CREATE_CUSTOMER: 'true' }), '')
})
