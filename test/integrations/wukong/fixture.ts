import type { Test } from 'tap'
import { dispatchOnce } from '../../../src/webhooks/dispatcher.js'
import { testApp, webComplaint, type TestApp } from '../../helper.js'
import { startWukongDouble, type WukongDouble } from '../../wukong-double.js'

/** a test app whose 悟空CRM connector talks to a fresh double of the CRM */
export async function wukongApp(t: Test, opts: { env?: Record<string, string>; now?: string } = {}): Promise<{ api: TestApp; crm: WukongDouble }> {
  let api: TestApp | undefined
  const crm = await startWukongDouble(t, { now: () => api!.clock.now() })
  api = await testApp(t, {
    ...(opts.now ? { now: opts.now } : {}),
    env: { WUKONG_BASE_URL: crm.url, WUKONG_USERNAME: crm.username, WUKONG_PASSWORD: crm.password, RATE_LIMIT_PER_MINUTE: '100000', ...opts.env },
  })
  return { api, crm }
}

/** subscribes the wukong delivery target to the three events it writes */
export async function subscribeWukong(api: TestApp) {
  const res = await api.call('POST', '/v1/webhooks', { target: 'wukong', eventTypes: ['complaint.received', 'complaint.closed', 'complaint.callback_recorded'] })
  if (res.status !== 201) throw new Error(JSON.stringify(res.json))
  return res.json as { id: string }
}

/** runs the dispatcher until nothing is left to do now */
export async function drain(api: TestApp, random = () => 0.5) {
  for (let i = 0; i < 200; i++) {
    const r = await dispatchOnce(api.app.services, { random })
    if (r.fannedOut === 0 && r.sent === 0) return
  }
  throw new Error('dispatcher did not settle')
}

/** the deliveries of a subscription, oldest first */
export async function deliveries(api: TestApp, subscriptionId: string) {
  return api.db.selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', subscriptionId).orderBy('created_at').orderBy('event_type').execute()
}

/** a complaint from a CRM customer, received through POST /v1/complaints */
export async function receive(api: TestApp, complainant: Record<string, unknown>) {
  const res = await api.call('POST', '/v1/complaints', webComplaint({ channel: 'hotline_400', complainant }))
  if (res.status !== 201) throw new Error(JSON.stringify(res.json))
  return res.json as { id: string; reference: string }
}

/** every step from receipt to the closure callback; `close` approves the closure too */
export async function handle(api: TestApp, id: string, callback: { satisfied: boolean; satisfaction?: number }, close = true) {
  const steps: Array<[string, unknown]> = [
    ['acknowledge', { via: 'sms' }],
    ['assess', { categoryId: 'service_quality', level: 'general', departmentId: 'service-station' }],
    ['handover', {}],
    ['sign', { signedBy: '李娜' }],
    ['replies', { body: '周五上午为您免费更换原厂刹车片。', via: 'phone' }],
    ['closure-request', { resultSummary: '已更换原厂刹车片，试车无异响。', rootCause: '刹车片批次错误' }],
    ['closure-callback', callback],
    ...(close && callback.satisfied ? [['close', {}] as [string, unknown]] : []),
  ]
  for (const [step, body] of steps) {
    const res = await api.call('POST', `/v1/complaints/${id}/${step}`, body)
    if (res.status !== 200) throw new Error(`${step}: ${JSON.stringify(res.json)}`)
  }
}
