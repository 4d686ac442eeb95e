import t from 'tap'
import type { Complaint } from '../../src/db/types.js'
import { isVagueMeasure, vagueMeasures } from '../../src/domain/capa.js'
import { upgradeLevel } from '../../src/domain/escalation.js'
import { allowedActions, decide } from '../../src/domain/lifecycle.js'
import { ProblemError } from '../../src/errors.js'
import { ConfigError, loadConfig } from '../../src/config.js'

t.test('vague-only CAPA measures (seed 002: 严禁用加强检查、加强培训等空洞的词语)', async (t) => {
  for (const vague of ['加强培训', '加强检查', '加强员工培训', '进一步加强服务质量管理', 'strengthen training', 'Pay more attention', 'Strengthen staff training and inspections']) {
    t.ok(isVagueMeasure(vague), `vague: ${vague}`)
  }
  for (const concrete of ['12月1日前对服务站全员进行刹车检修流程培训并考核', '更换供应商A的刹车片批次并召回VIN段', 'Add a torque check to the PDI checklist', 'Block superseded part numbers in the parts system']) {
    t.notOk(isVagueMeasure(concrete), `concrete: ${concrete}`)
  }
  t.same(vagueMeasures(['加强培训', '修改交车检查表']), [0])
})

t.test('upgrade map: general → moderate → strong → strong (flagged); irrational first → second', async (t) => {
  t.same(upgradeLevel({ level: 'general', irrationalStage: null }), { level: 'moderate', irrationalStage: null, flagManagement: false, followUpRequired: false })
  t.same(upgradeLevel({ level: 'moderate', irrationalStage: null }).level, 'strong')
  t.same(upgradeLevel({ level: 'strong', irrationalStage: null }), { level: 'strong', irrationalStage: null, flagManagement: true, followUpRequired: false })
  t.same(upgradeLevel({ level: 'irrational', irrationalStage: 'first' }), { level: 'irrational', irrationalStage: 'second', flagManagement: false, followUpRequired: true })
  t.same(upgradeLevel({ level: 'general', irrationalStage: null }, { general: 'strong', moderate: 'strong', strong: 'strong' }).level, 'strong', 'the map is configurable')
})

const complaint = (over: Partial<Complaint>): Complaint => ({
  id: '00000000-0000-4000-8000-000000000001', reference: 'CP-2026-000001', status: 'received', version: 1, level: null, irrational_stage: null,
  follow_up_mode: null, department_id: null, external_body: null, major: false, nature: null, assessed_at: null, received_at: new Date('2026-11-26T02:00:00Z'),
  acknowledged_at: null, first_replied_at: null, root_cause: null, closure_requested_at: null, closure_due_at: null, closure_rejected_count: 0,
  reopen_count: 0, deferred_at: null, deferral_requested_at: null, closed_at: null, closure_type: null, closure_limit_missed: false,
  paused_at: null, pauses: [], clock_cycle: 1,
  ...over,
}) as Complaint

const ctx = { now: new Date('2026-11-26T03:00:00Z'), reopenWindowDays: 30 }

t.test('the state machine names the allowed actions of each status', async (t) => {
  const at = (status: Complaint['status'], over: Partial<Complaint> = {}) => allowedActions(complaint({ status, ...over }), ctx)
  t.same(at('handed_over'), ['acknowledge', 'assess', 'sign', 'add_note', 'withdraw', 'pause', 'link_external_ids'])
  t.same(at('handed_over', { acknowledged_at: ctx.now, paused_at: ctx.now }), ['assess', 'sign', 'add_note', 'withdraw', 'resume', 'link_external_ids'],
    'acknowledged: no second acknowledgement; paused: resume, not pause')
  t.same(at('closure_confirmed', { acknowledged_at: ctx.now }), ['add_note', 'close', 'withdraw', 'link_external_ids'])
  t.notOk(at('in_progress').includes('escalate'), 'escalation is the scheduler’s, not a caller’s')
  t.notOk(at('in_progress').includes('request_closure'), 'no closure request before the first reply')
  t.notOk(at('in_progress').includes('review_deferral'), 'no review without a pending deferral request')
  t.ok(at('responded', { first_replied_at: ctx.now, deferral_requested_at: ctx.now }).includes('review_deferral'))
  t.notOk(at('responded', { first_replied_at: ctx.now, deferral_requested_at: ctx.now }).includes('request_deferral'), 'one deferral request at a time')
  t.notOk(at('deferred').includes('assess'), 'a deferred complaint is not re-assessed')
  t.same(at('withdrawn'), ['link_external_ids'])
  t.ok(at('closed', { closed_at: new Date(ctx.now.getTime() - 29 * 86_400_000) }).includes('reopen'), 'inside the reopen window')
  t.notOk(at('closed', { closed_at: new Date(ctx.now.getTime() - 31 * 86_400_000) }).includes('reopen'), 'after the reopen window')
  const err = t.throws(() => decide('close', complaint({ status: 'in_progress' }), {}, ctx)) as ProblemError
  t.equal(err.status, 409)
  t.same(err.extensions?.allowedActions, at('in_progress'))
})

t.test('a closure request before any reply is 422 naming what is missing, not a 409 that lists it', async (t) => {
  const c = complaint({ status: 'in_progress', root_cause: 'x' })
  const err = t.throws(() => decide('request_closure', c, { resultSummary: 'done' }, ctx)) as ProblemError
  t.equal(err.status, 422)
  t.equal(err.errors?.[0]?.field, '/complaint/firstRepliedAt')
  t.match(err.detail, /not replied yet/)
  t.notOk((err.extensions?.allowedActions as string[]).includes('request_closure'))
})

t.test('an irrational assessment needs a follow-up mode; other levels must not have one', async (t) => {
  const input = { categoryId: 'sales', departmentId: 'sales', resolvedReceiverId: null }
  const err = t.throws(() => decide('assess', complaint({}), { ...input, level: 'irrational' }, ctx)) as ProblemError
  t.equal(err.status, 422)
  t.equal(err.errors?.[0]?.field, '/body/followUpMode')
  const d = decide('assess', complaint({}), { ...input, level: 'irrational', followUpMode: 'watch' }, ctx)
  t.equal(d.changes.irrational_stage, 'first', 'judged irrational at assessment: first stage')
  const wrong = t.throws(() => decide('assess', complaint({}), { ...input, level: 'general', followUpMode: 'watch' }, ctx)) as ProblemError
  t.equal(wrong.errors?.[0]?.field, '/body/followUpMode')
})

t.test('a department cannot be changed after it signed; before signing the handover is redone', async (t) => {
  const input = { categoryId: 'sales', level: 'general' as const, departmentId: 'finance', resolvedReceiverId: null }
  const err = t.throws(() => decide('assess', complaint({ status: 'in_progress', department_id: 'sales', assessed_at: ctx.now }), input, ctx)) as ProblemError
  t.equal(err.errors?.[0]?.field, '/body/departmentId')
  const d = decide('assess', complaint({ status: 'handed_over', department_id: 'sales', assessed_at: ctx.now }), input, ctx)
  t.equal(d.status, 'assessed')
  t.equal(d.changes.handed_over_at, null)
  t.equal(d.facts.reassessment, true)
})

t.test('closure classification: first-time only inside the limit, with no rejection, reopening or deferral', async (t) => {
  const due = new Date('2026-11-30T10:00:00Z')
  const inside = complaint({ status: 'closure_confirmed', closure_due_at: due, closure_requested_at: new Date('2026-11-29T10:00:00Z') })
  t.equal(decide('close', inside, {}, ctx).changes.closure_type, 'first_time')
  t.equal(decide('close', { ...inside, closure_requested_at: new Date('2026-11-30T10:00:01Z') }, {}, ctx).changes.closure_type, 'second_time')
  t.equal(decide('close', { ...inside, closure_rejected_count: 1 }, {}, ctx).changes.closure_type, 'second_time')
  t.equal(decide('close', { ...inside, reopen_count: 1 }, {}, ctx).changes.closure_type, 'second_time')
  t.equal(decide('close', { ...inside, deferred_at: due }, {}, ctx).changes.closure_type, 'second_time')
  const expired = decide('close', { ...inside, closure_limit_missed: true }, {}, ctx)
  t.equal(expired.changes.closure_type, 'second_time', 'the closure limit expired in an earlier cycle: second-time, even inside the new cycle')
  t.same(expired.facts.secondTimeBecause, ['closure_limit_expired'])
  t.same(decide('close', inside, {}, ctx).facts.secondTimeBecause, [])
})

t.test('escalation marks the closure limit as missed', async (t) => {
  const c = complaint({ status: 'in_progress', level: 'general', clock_cycle: 1, closure_due_at: new Date(ctx.now.getTime() - 1) })
  const d = decide('escalate', c, { reason: 'closure limit passed' }, ctx)
  t.equal(d.changes.closure_limit_missed, true)
  t.equal(d.changes.level, 'moderate')
  t.equal((t.throws(() => decide('escalate', { ...c, closure_due_at: new Date(ctx.now.getTime() + 1) }, { reason: 'x' }, ctx)) as ProblemError).status, 409, 'not before the deadline')
})

t.test('a deferral needs a pending request and a follow-up mode', async (t) => {
  const c = complaint({ status: 'responded', level: 'moderate' })
  t.equal((t.throws(() => decide('review_deferral', c, { approved: true, followUpMode: 'watch' }, ctx)) as ProblemError).status, 409)
  const pending = { ...c, deferral_requested_at: ctx.now }
  t.equal((t.throws(() => decide('request_deferral', pending, { reason: 'again' }, ctx)) as ProblemError).status, 409)
  t.equal((t.throws(() => decide('review_deferral', pending, { approved: true }, ctx)) as ProblemError).errors?.[0]?.field, '/body/followUpMode')
  const rejected = decide('review_deferral', pending, { approved: false }, ctx)
  t.equal(rejected.status, 'responded')
  t.equal(rejected.changes.deferral_requested_at, null)
})

t.test('an acknowledgement recorded after assessment keeps the status; a second one changes nothing', async (t) => {
  const late = decide('acknowledge', complaint({ status: 'assessed' }), { via: 'phone' }, ctx)
  t.equal(late.status, 'assessed')
  t.same(late.changes.acknowledged_at, ctx.now)
  t.equal(decide('acknowledge', complaint({ status: 'assessed', acknowledged_at: ctx.now }), { via: 'sms' }, ctx).noop, true)
})

t.test('a new closure request starts a fresh callback clock', async (t) => {
  const c = complaint({ status: 'in_progress', first_replied_at: ctx.now, root_cause: 'x', callback_at: ctx.now, satisfied: false, satisfaction: 1 })
  const d = decide('request_closure', c, { resultSummary: 'again' }, ctx)
  t.same([d.changes.callback_at, d.changes.satisfied, d.changes.satisfaction], [null, null, null])
})

t.test('acknowledgement time must lie between receipt and now', async (t) => {
  t.equal((t.throws(() => decide('acknowledge', complaint({}), { via: 'sms', acknowledgedAt: '2026-11-26T04:00:00Z' }, ctx)) as ProblemError).status, 422)
  t.equal((t.throws(() => decide('acknowledge', complaint({}), { via: 'sms', acknowledgedAt: '2026-11-26T01:00:00Z' }, ctx)) as ProblemError).status, 422)
  t.same(decide('acknowledge', complaint({}), { via: 'sms', acknowledgedAt: '2026-11-26T02:30:00Z' }, ctx).changes.acknowledged_at, new Date('2026-11-26T02:30:00Z'))
})

t.test('configuration is validated at start and a bad variable is named', async (t) => {
  t.equal(loadConfig({}).PORT, 3000)
  t.equal(loadConfig({ PORT: '8080', DATABASE_URL: 'postgres://u@h/db' }).PORT, 8080)
  const err = t.throws(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' })) as ConfigError
  t.match(err.message, /PORT: must be integer/)
  t.match(err.message, /LOG_LEVEL: must be equal to one of the allowed values/)
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL/)
})
