import fc from 'fast-check'
import t from 'tap'
import { appendEvents } from '../../src/outbox/outbox.js'
import { runSlaSweep } from '../../src/jobs/sla-sweep.js'
import { gap, shanghaiInstant } from '../arbitraries.js'
import { checkInvariants } from '../invariants.js'
import { testApp, webComplaint, type TestApp } from '../helper.js'
import { report } from './support.js'

report(t, {
  name: 'invariants', fault: 'The invariant checker itself',
  tried: 'complaints walked through random steps at arbitrary instants with the sweep in between, then a deliberate defect: an event written outside its step’s transaction',
  cases: () => `${RUNS * 2} histories; the defect is reported by 2 invariants`,
})

const RUNS = 30
const STEPS: Array<[string, unknown]> = [
  ['acknowledge', { via: 'sms' }], ['assess', { categoryId: 'service_quality', level: 'general', departmentId: 'service-station' }], ['handover', {}],
  ['sign', { signedBy: '李娜' }], ['notes', { kind: 'fact', body: '补充事实' }], ['replies', { body: '已处理' }],
  ['closure-request', { resultSummary: '已解决', rootCause: '批次错误' }], ['closure-callback', { satisfied: true, satisfaction: 4 }], ['close', {}],
]

async function someHistory(api: TestApp) {
  await fc.assert(fc.asyncProperty(shanghaiInstant, fc.nat(STEPS.length), gap, async (at, steps, later) => {
    api.clock.set(at.toISOString())
    const c = (await api.call('POST', '/v1/complaints', webComplaint())).json
    for (const [path, body] of STEPS.slice(0, steps)) await api.call('POST', `/v1/complaints/${c.id}/${path}`, body)
    api.clock.set(new Date(at.getTime() + later).toISOString())
    await runSlaSweep(api.app.services, api.clock.now())
  }), { numRuns: RUNS })
}

t.test('the invariants hold after complaints walked at arbitrary instants with the sweep in between', async (t) => {
  const api = await testApp(t, { env: { RATE_LIMIT_PER_MINUTE: '100000' } })
  await someHistory(api)
  t.same(await checkInvariants(api.db), [])
})

t.test('a deliberate defect — an event written outside the transaction of a change that then fails — is caught', async (t) => {
  const api = await testApp(t, { env: { RATE_LIMIT_PER_MINUTE: '100000' } })
  await someHistory(api)
  t.same(await checkInvariants(api.db), [], 'clean before the defect')
  const c = (await api.call('POST', '/v1/complaints', webComplaint())).json
  api.clock.advanceMinutes(3)
  // the defect: the step's event goes through the pool, not the step's transaction, and the step fails after it
  await api.db.transaction().execute(async (trx) => {
    await trx.updateTable('complaints').set({ version: c.version + 1, status: 'acknowledged' }).where('id', '=', c.id).execute()
    const updated = { ...c, version: c.version + 1, status: 'acknowledged' }
    await appendEvents(api.db, [{ type: 'complaint.acknowledged', complaintId: c.id, occurredAt: api.clock.now(), data: { complaint: updated, facts: {} } }])
    throw new Error('the step fails after its event went out')
  }).catch(() => undefined)
  const violations = await checkInvariants(api.db)
  t.same(violations.map((v) => v.invariant), ['no event describes a version the complaint never committed', 'every event of a step matches a timeline entry of that version'])
})
