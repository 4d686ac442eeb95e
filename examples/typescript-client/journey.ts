// A complaint walked through its whole lifecycle by a client generated from the OpenAPI document:
// types from openapi-typescript (schema.d.ts), calls through openapi-fetch. No casts: the document's
// types are the client's.
import createClient from 'openapi-fetch'
import type { components, paths } from './schema.js'

export type Complaint = components['schemas']['Complaint']
export type Problem = components['schemas']['Problem']

export interface Keys {
  /** a cs_agent key: receives, assesses, hands over, calls back */
  cs: string
  /** a department key of the service station (服务站): signs, replies, investigates, asks to close */
  department: string
  /** a management key: approves the closure */
  management: string
}

/** the problem of a failed call as one line */
const explain = (step: string, problem: Problem) => new Error(`${step}: ${problem.status} ${problem.title}: ${problem.detail}`)

export async function walkLifecycle(baseUrl: string, keys: Keys): Promise<Complaint> {
  const as = (key: string) => createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${key}` } })
  const cs = as(keys.cs)
  const department = as(keys.department)
  const management = as(keys.management)

  const received = await cs.POST('/v1/complaints', {
    params: { header: { 'idempotency-key': `web-form-${Date.now()}` } },
    body: {
      channel: 'hotline_400',
      complainant: { name: '张伟', phone: '13800138000', externalIds: [{ system: 'wukong', customerId: '1024' }] },
      subject: { product: '帕萨特 2024款 330TSI', plate: '沪A12345' },
      description: '更换刹车片后两天，刹车异响再次出现。',
      desiredOutcomes: ['resolution', 'explanation'],
    },
  })
  if (received.error) throw explain('receive', received.error)
  let c: Complaint = received.data
  const id = c.id
  // every step sends back the version it read: a stale one is a 412, not a lost update
  const ifMatch = () => ({ 'if-match': `"${c.version}"` })

  const acknowledged = await cs.POST('/v1/complaints/{id}/acknowledge', { params: { path: { id }, header: ifMatch() }, body: { via: 'sms' } })
  if (acknowledged.error) throw explain('acknowledge', acknowledged.error)
  c = acknowledged.data

  const assessed = await cs.POST('/v1/complaints/{id}/assess', {
    params: { path: { id }, header: ifMatch() },
    body: { categoryId: 'product_quality', level: 'general', nature: 'good_faith', departmentId: 'service-station' },
  })
  if (assessed.error) throw explain('assess', assessed.error)
  c = assessed.data

  const handedOver = await cs.POST('/v1/complaints/{id}/handover', { params: { path: { id }, header: ifMatch() }, body: {} })
  if (handedOver.error) throw explain('handover', handedOver.error)
  c = handedOver.data

  const signed = await department.POST('/v1/complaints/{id}/sign', { params: { path: { id }, header: ifMatch() }, body: { signedBy: '李娜' } })
  if (signed.error) throw explain('sign', signed.error)
  c = signed.data

  const replied = await department.POST('/v1/complaints/{id}/replies', {
    params: { path: { id }, header: ifMatch() },
    body: { body: '周五为您免费更换原厂刹车片。', via: 'phone', decision: { chosenOption: '免费更换刹车片', compensationFen: 0 } },
  })
  if (replied.error) throw explain('reply', replied.error)
  c = replied.data

  const investigated = await department.POST('/v1/complaints/{id}/investigation', {
    params: { path: { id }, header: ifMatch() },
    body: { rootCause: '配件系统允许订购已替代的刹车片料号。', capa: { measures: [{ type: 'preventive', action: '在配件系统中停用已替代料号', owner: '信息部' }] } },
  })
  if (investigated.error) throw explain('investigation', investigated.error)
  c = investigated.data

  const requested = await department.POST('/v1/complaints/{id}/closure-request', { params: { path: { id }, header: ifMatch() }, body: { resultSummary: '已更换刹车片，试车无异响。' } })
  if (requested.error) throw explain('closure request', requested.error)
  c = requested.data

  const calledBack = await cs.POST('/v1/complaints/{id}/closure-callback', { params: { path: { id }, header: ifMatch() }, body: { satisfied: true, satisfaction: 5 } })
  if (calledBack.error) throw explain('callback', calledBack.error)
  c = calledBack.data

  const closed = await management.POST('/v1/complaints/{id}/close', { params: { path: { id }, header: ifMatch() }, body: { comment: '同意关闭' } })
  if (closed.error) throw explain('close', closed.error)
  return closed.data
}
