import { sql } from 'kysely'
import t from 'tap'
import { pullCustomers } from '../../../src/integrations/wukong/pull.js'
import { crmTime } from '../../wukong-double.js'
import { testApp } from '../../helper.js'
import { wukongApp } from './fixture.js'

/** The scheduled pull of changed customers into the mirror, against the CRM double. */

const count = async (api: { db: any }, table: string, where = sql`true`) =>
  (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where ${where}`.execute(api.db)).rows[0]!.n

t.test('250 customers over several pages; stopped after the first page, the next run resumes without duplicates', async (t) => {
  const { api, crm } = await wukongApp(t)
  crm.seedCustomers(250, new Date(api.clock.now().getTime() - 3 * 86_400_000))
  // the first page is answered, then the connection drops: the run stops there, as if killed
  crm.answerNext('/crmCustomer/queryPageList', 'real')
  crm.answerNext('/crmCustomer/queryPageList', 'drop')
  const first = await api.app.jobs.runNow('wukong-pull') as Record<string, unknown>
  t.equal(first.pages, 1, 'one page committed before the connection dropped')
  t.equal(first.created, 100)
  t.match(first.error, /no answer/, 'the run says why it stopped')
  t.equal(await count(api, 'wukong_customers'), 100)
  const cursor = first.cursor as string
  t.equal(cursor, crm.customers.get(1100)!.updateTime, 'the cursor: the newest updateTime of the committed page')

  const second = await api.app.jobs.runNow('wukong-pull') as Record<string, unknown>
  t.equal(second.error, null)
  t.equal(await count(api, 'wukong_customers'), 250, 'every customer, once')
  t.equal(second.created, 150)
  const queries = crm.calls('/crmCustomer/queryPageList').filter((r) => r.code === 0)
  t.same(queries[1]!.body.searchList, [{ name: 'updateTime', formType: 'datetime', type: 8, values: [cursor] }], 'the second run resumed from the stored cursor')
  t.ok(queries.every((q) => q.body.limit === 100 && q.body.sortField === 'updateTime' && q.body.order === 2), '100 a page, oldest first')
  t.ok(queries.length >= 3, `over several pages (${queries.length} queries)`)
  t.equal(await count(api, 'audit_log', sql`entity_type = 'wukong_customer'`), 250, 'one audit entry per customer created')

  const third = await api.app.jobs.runNow('wukong-pull') as Record<string, unknown>
  t.same([third.created, third.updated], [0, 0], 'nothing new: nothing changes')
  t.equal(await count(api, 'audit_log', sql`entity_type = 'wukong_customer'`), 250)
})

t.test('a run that fails while committing a page keeps the cursor of the page before; the next run imports the rest once', async (t) => {
  const { api, crm } = await wukongApp(t)
  crm.seedCustomers(150, new Date(api.clock.now().getTime() - 86_400_000))
  // the second page's transaction fails after its customers were written: the process "dies" mid-commit
  await sql`create function fail_cursor() returns trigger language plpgsql as $$ begin if new.cursor_time > old.cursor_time then raise exception 'killed'; end if; return new; end $$`.execute(api.db)
  await sql`create trigger fail_cursor before update on wukong_pull_state for each row execute function fail_cursor()`.execute(api.db)
  t.teardown(async () => {
    await sql`drop trigger if exists fail_cursor on wukong_pull_state`.execute(api.db)
    await sql`drop function if exists fail_cursor()`.execute(api.db)
  })
  await t.rejects(pullCustomers(api.app.services, api.clock.now()), /killed/)
  t.equal(await count(api, 'wukong_customers'), 100, 'the first page stayed, the second rolled back with its cursor')
  t.equal((await api.db.selectFrom('wukong_pull_state').select('cursor_time').executeTakeFirstOrThrow()).cursor_time!.getTime(), Date.parse(`${crm.customers.get(1100)!.updateTime.replace(' ', 'T')}+08:00`))
  await sql`drop trigger fail_cursor on wukong_pull_state`.execute(api.db)
  const run = await pullCustomers(api.app.services, api.clock.now())
  t.same([run.configured && run.created, await count(api, 'wukong_customers')], [50, 150])
})

t.test('an older updateTime does not overwrite a newer one; a change the CRM makes is pulled; our own follow-up echo changes nothing', async (t) => {
  const { api, crm } = await wukongApp(t)
  const [c] = crm.seedCustomers(1, new Date(api.clock.now().getTime() - 3_600_000))
  const id = c!.customerId
  await pullCustomers(api.app.services, api.clock.now())
  // a CRM-side sender already delivered a newer version than the CRM's list shows
  const newer = crmTime(new Date(api.clock.now().getTime() - 60_000))
  const sent = await api.call('POST', '/v1/integrations/wukong/customers', { customerId: id, customerName: '钱多多', mobile: '13711112222', updateTime: newer })
  t.equal(sent.json.items[0].outcome, 'updated')
  crm.answerNext('/crmCustomer/queryPageList', { code: 0, msg: 'success', data: { list: [{ ...c, customerName: '旧名字', updateTime: crmTime(new Date(api.clock.now().getTime() - 120_000)) }], totalRow: 1 } })
  const run = await pullCustomers(api.app.services, api.clock.now())
  t.same([run.configured && run.stale, run.configured && run.updated], [1, 0], 'reported as stale, not applied')
  const row = await api.db.selectFrom('wukong_customers').selectAll().where('customer_id', '=', id).executeTakeFirstOrThrow()
  t.same([row.name, crmTime(row.crm_update_time)], ['钱多多', newer], 'the newer one stays')

  api.clock.advanceMinutes(5)
  crm.change(id, { customerName: '钱多多（已更名）', status: 2, email: 'not an address' })
  const changed = await pullCustomers(api.app.services, api.clock.now())
  t.equal(changed.configured && changed.updated, 1)
  const after = await api.db.selectFrom('wukong_customers').selectAll().where('customer_id', '=', id).executeTakeFirstOrThrow()
  t.same([after.name, after.crm_status, after.email], ['钱多多（已更名）', 2, null], 'locked; an email that is no address is none')
  const stamp = after.updated_at

  // a follow-up written by the connector bumps the CRM's updateTime only
  api.clock.advanceMinutes(5)
  crm.change(id, { lastContent: '【客户抱怨受理】…' })
  const echo = await pullCustomers(api.app.services, api.clock.now())
  t.same([echo.configured && echo.unchanged, echo.configured && echo.updated], [1, 0])
  const last = await api.db.selectFrom('wukong_customers').selectAll().where('customer_id', '=', id).executeTakeFirstOrThrow()
  t.equal(last.updated_at.getTime(), stamp.getTime(), 'our updated_at did not move')
  t.equal(crmTime(last.crm_update_time), crm.customers.get(id)!.updateTime, 'the CRM’s newer updateTime is kept, for the next comparison')
})

t.test('runs with nothing new keep the cursor; a customer changed later is still found', async (t) => {
  const { api, crm } = await wukongApp(t)
  const [c] = crm.seedCustomers(1, new Date(api.clock.now().getTime() - 600_000))
  for (let run = 0; run < 3; run++) await pullCustomers(api.app.services, api.clock.now())
  const state = (await api.call('GET', '/v1/integrations/wukong')).json.pull
  t.same([state.cursor, state.cursorPage], [c!.updateTime, 1], 'the only customer of the cursor’s second, read again, moves nothing')
  api.clock.advanceMinutes(1)
  const later = crm.addCustomer({ customerName: '后来的客户', mobile: '13722223333' })
  const run = await pullCustomers(api.app.services, api.clock.now())
  t.same([run.configured && run.created, run.configured && run.cursor], [1, later.updateTime])

  // a page of the cursor's second that is empty now (its customers changed since): read the second from its start
  await api.db.updateTable('wukong_pull_state').set({ cursor_page: 3 }).execute()
  api.clock.advanceMinutes(1)
  const third = crm.addCustomer({ customerName: '第三位客户', mobile: '13733334444' })
  const healed = await pullCustomers(api.app.services, api.clock.now())
  t.same([healed.configured && healed.created, healed.configured && healed.cursor, healed.configured && healed.cursorPage], [1, third.updateTime, 1])
})

t.test('more customers in one second than fit a page (a bulk import): paged within that second', async (t) => {
  const { api, crm } = await wukongApp(t)
  const second = new Date(api.clock.now().getTime() - 600_000)
  crm.seedCustomers(230, second, 0)
  crm.seedCustomers(5, new Date(second.getTime() + 1000))
  const run = await pullCustomers(api.app.services, api.clock.now())
  t.same([run.configured && run.created, await count(api, 'wukong_customers')], [235, 235])
  const pages = crm.calls('/crmCustomer/queryPageList').map((r) => r.body.page)
  t.same(pages.slice(0, 4), [1, 1, 2, 3], 'the cursor stays on the bulk second and moves a page at a time')
})

t.test('what the pull refuses to guess: no updateTime column, an order it did not ask for', async (t) => {
  const { api, crm } = await wukongApp(t)
  crm.seedCustomers(3, new Date(api.clock.now().getTime() - 600_000))
  crm.state.columns = crm.state.columns.filter((c) => c !== 'updateTime')
  const hidden = await pullCustomers(api.app.services, api.clock.now())
  t.match(hidden.configured && hidden.error, /no updateTime: make 更新时间 a visible list column/)
  crm.answerNext('/crmCustomer/queryPageList', { code: 0, msg: 'success', data: { list: [{ customerId: 1, updateTime: '2026-11-26 10:00:00' }, { customerId: 2, updateTime: '2026-11-25 10:00:00' }], totalRow: 2 } })
  const unsorted = await pullCustomers(api.app.services, api.clock.now())
  t.match(unsorted.configured && unsorted.error, /did not sort by updateTime ascending/)
  t.equal(await count(api, 'wukong_customers'), 0, 'nothing imported from either')
  crm.answerNext('/crmCustomer/queryPageList', { code: 0, msg: 'success', data: { list: [{ customerId: 'x', updateTime: '2026-11-26 10:00:00' }, { customerId: 8, updateTime: '2026-11-26 10:00:01' }, { customerId: 7, updateTime: '2026-13-01 00:00:00' }], totalRow: 3 } })
  const invalid = await pullCustomers(api.app.services, api.clock.now())
  t.same([invalid.configured && invalid.invalid, invalid.configured && invalid.created], [2, 1], 'rows without an id or a readable time are counted, not imported')
})

t.test('the job: scheduled only when configured; run by hand without configuration it says so', async (t) => {
  const { api, crm } = await wukongApp(t, { env: { WUKONG_PULL_SCHEDULE: '*/10 * * * *' } })
  crm.seedCustomers(2, new Date(api.clock.now().getTime() - 600_000))
  const jobs = (await api.call('GET', '/v1/admin/jobs')).json.items
  t.equal(jobs.find((j: { name: string }) => j.name === 'wukong-pull').schedule, '*/10 * * * *')
  const run = await api.call('POST', '/v1/admin/jobs/wukong-pull/run')
  t.same([run.status, run.json.result.created], [200, 2])
  const status = (await api.call('GET', '/v1/integrations/wukong')).json
  t.same([status.pull.cursor, status.pull.lastResult.created, status.customers], [crm.customers.get(1002)!.updateTime, 2, 2])

  const plain = await testApp(t)
  t.equal((await plain.call('GET', '/v1/admin/jobs')).json.items.find((j: { name: string }) => j.name === 'wukong-pull').schedule, null, 'not scheduled')
  t.same((await plain.call('POST', '/v1/admin/jobs/wukong-pull/run')).json.result, { configured: false })
})
