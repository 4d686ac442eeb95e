import { recordBreaches } from '../src/jobs/sla-sweep.js'
import { webComplaint, type TestApp } from './helper.js'

/**
 * A known week, built through the API with the injected clock: the week of Monday 16 November 2026
 * (Shanghai), with complaints just outside it. What each complaint is and does is written beside it;
 * the weekly report's expected figures follow from that (test/http/reports-weekly.test.ts).
 */
export const local = (s: string) => new Date(`${s}+08:00`).toISOString()

export async function at(api: TestApp, when: string) {
  api.clock.set(local(when))
}

export async function receive(api: TestApp, when: string, body: Record<string, unknown>, receivedAt?: string) {
  await at(api, when)
  const res = await api.call('POST', '/v1/complaints', webComplaint({ ...body, ...(receivedAt ? { receivedAt: local(receivedAt) } : {}) }))
  if (res.status !== 201) throw new Error(`receive: ${res.status} ${JSON.stringify(res.json)}`)
  return res.json.id as string
}

export async function step(api: TestApp, id: string, when: string, path: string, body: unknown = {}) {
  await at(api, when)
  const res = await api.call('POST', `/v1/complaints/${id}/${path}`, body)
  if (res.status !== 200) throw new Error(`${path} at ${when}: ${res.status} ${JSON.stringify(res.json)}`)
  return res.json
}

const investigation = { rootCause: '配件系统允许订购已替代的刹车片料号', capa: { measures: [{ type: 'corrective', action: '为该车更换原厂刹车片 5N0-698-451', dueDate: '2026-11-20' }] } }

/** assess, hand over, sign and reply: the usual way to a first reply */
async function handled(api: TestApp, id: string, day: string, times: { assess: string; sign: string; reply: string }, assess: Record<string, unknown>) {
  await step(api, id, `${day}T${times.assess}`, 'assess', assess)
  await step(api, id, `${day}T${times.assess}`, 'handover')
  await step(api, id, `${day}T${times.sign}`, 'sign', { signedBy: '李娜' })
  await step(api, id, `${day}T${times.reply}`, 'replies', { body: '已安排免费更换刹车片。' })
}

async function closed(api: TestApp, id: string, day: string, times: { request: string; callback: string; close: string }, score?: number) {
  await step(api, id, `${day}T${times.request}`, 'investigation', investigation)
  await step(api, id, `${day}T${times.request}`, 'closure-request', { resultSummary: '已更换刹车片，试车无异响。' })
  await step(api, id, `${day}T${times.callback}`, 'closure-callback', { satisfied: true, ...(score ? { satisfaction: score } : {}) })
  await step(api, id, `${day}T${times.close}`, 'close')
}

export async function buildKnownWeek(api: TestApp) {
  // outside the week: Sunday before it, the first instant after it, and a backdated entry of the week before
  await receive(api, '2026-11-15T23:59:59.999', { channel: 'phone' })
  // A: Monday 09:00, web, general → first reply 90 business minutes, closed 11:05 first-time (125), score 5
  const a = await receive(api, '2026-11-16T09:00:00', { channel: 'web' })
  await handled(api, a, '2026-11-16', { assess: '09:10:00', sign: '09:30:00', reply: '10:30:00' }, { categoryId: 'product_quality', level: 'general', departmentId: 'service-station' })
  await closed(api, a, '2026-11-16', { request: '10:45:00', callback: '11:00:00', close: '11:05:00' }, 5)
  // B: Monday 00:00 exactly, phone, moderate → reply Tuesday 09:30 (480), closed Tuesday 14:00 first-time (660), score 3
  const b = await receive(api, '2026-11-16T00:00:00', { channel: 'phone' })
  await step(api, b, '2026-11-16T09:05:00', 'assess', { categoryId: 'service_quality', level: 'moderate', departmentId: 'sales' })
  await step(api, b, '2026-11-16T09:05:00', 'handover')
  await step(api, b, '2026-11-16T09:15:00', 'sign', { signedBy: '王芳' })
  await step(api, b, '2026-11-17T09:30:00', 'replies', { body: '已核实，周二上门处理。' })
  await closed(api, b, '2026-11-17', { request: '13:45:00', callback: '13:50:00', close: '14:00:00' }, 3)
  // C: Tuesday 10:00, 400 hotline, irrational first stage, watch; never handed over: handover breached Wednesday,
  // and the hotline's closure limit (3 business days, stricter than irrational's 5) by Saturday
  const c = await receive(api, '2026-11-17T10:00:00', { channel: 'hotline_400' })
  await step(api, c, '2026-11-17T10:05:00', 'assess', { categoryId: 'service_quality', level: 'irrational', departmentId: 'service-station', followUpMode: 'watch' })
  // Q: entered Wednesday, received the Friday before: not in the week
  await receive(api, '2026-11-18T09:00:00', { channel: 'letter' }, '2026-11-13T10:00:00')
  // D: Wednesday 11:00, WeChat, irrational second stage, monitor, sales; never handed over (breached by Saturday)
  const d = await receive(api, '2026-11-18T11:00:00', { channel: 'wechat' })
  await step(api, d, '2026-11-18T11:05:00', 'assess', { categoryId: 'sales', level: 'irrational', irrationalStage: 'second', departmentId: 'sales', followUpMode: 'monitor' })
  await at(api, '2026-11-18T12:00:00')
  await recordBreaches(api.app.services, api.clock.now())
  // E: Thursday 15:00, email, never assessed, withdrawn 15:30
  const e = await receive(api, '2026-11-19T15:00:00', { channel: 'email' })
  await step(api, e, '2026-11-19T15:30:00', 'withdraw', { reason: '客户已自行解决' })
  // F: Friday 16:00, media (external, major), strong, marketing: reply 17:00 (60); callback rejected with score 2,
  // closed second-time at 17:50 (110) after a callback without a score
  const f = await receive(api, '2026-11-20T16:00:00', { channel: 'media' })
  await handled(api, f, '2026-11-20', { assess: '16:05:00', sign: '16:10:00', reply: '17:00:00' }, { categoryId: 'product_quality', level: 'strong', departmentId: 'marketing' })
  await step(api, f, '2026-11-20T17:10:00', 'investigation', investigation)
  await step(api, f, '2026-11-20T17:10:00', 'closure-request', { resultSummary: '已说明处理经过。' })
  await step(api, f, '2026-11-20T17:20:00', 'closure-callback', { satisfied: false, satisfaction: 2 })
  await step(api, f, '2026-11-20T17:30:00', 'closure-request', { resultSummary: '已补充赔偿方案。' })
  await step(api, f, '2026-11-20T17:40:00', 'closure-callback', { satisfied: true })
  await step(api, f, '2026-11-20T17:50:00', 'close')
  await at(api, '2026-11-21T10:00:00')
  await recordBreaches(api.app.services, api.clock.now())
  // G: Sunday 23:59:59.999, letter: the last instant of the week
  await receive(api, '2026-11-22T23:59:59.999', { channel: 'letter' })
  // N: the first instant of the next week
  await receive(api, '2026-11-23T00:00:00', { channel: 'web' })
  // H: entered Monday 23 November 08:00, received Sunday 22 November 10:00 (phone): handled before opening
  // (0 business minutes), closed first-time with score 4, then reopened at 09:00
  const h = await receive(api, '2026-11-23T08:00:00', { channel: 'phone' }, '2026-11-22T10:00:00')
  await handled(api, h, '2026-11-23', { assess: '08:05:00', sign: '08:10:00', reply: '08:20:00' }, { categoryId: 'delivery', level: 'general', departmentId: 'finance' })
  await closed(api, h, '2026-11-23', { request: '08:30:00', callback: '08:40:00', close: '08:45:00' }, 4)
  await step(api, h, '2026-11-23T09:00:00', 'reopen', { reason: '客户反映问题复现' })
  return { a, b, c, d, e, f, g: null, h }
}

