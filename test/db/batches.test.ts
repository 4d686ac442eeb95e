import t from 'tap'
import { sql } from 'kysely'
import { appendAll, appendMaking, placeholder, ROWS_PER_STATEMENT } from '../../src/db/batches.js'
import { countingStatements, testDatabase } from '../helper.js'

const audit = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({
  at: '2026-11-29T06:00:00.123Z', actor_key_id: null, actor_role: 'admin', actor_name: 'batches test', operation: tag,
  entity_type: 'test', entity_id: `${tag}-${i}`, before: null, after: { i }, request_id: null,
}))
const events = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({
  event_id: `msg_${tag}_${i}`, type: 'test.appended', complaint_id: null, occurred_at: '2026-11-29T06:00:00.123Z',
  payload: { id: `msg_${tag}_${i}`, text: '刹车 "异响"\n', i },
}))

t.test('appendAll: several tables in one statement, every row in order; a batch too large goes table by table', async (t) => {
  const handle = await testDatabase()
  const { db, statements } = countingStatements(handle.db)
  const read = async (tag: string) => ({
    audit: (await handle.db.selectFrom('audit_log').select(['entity_id', 'after']).where('operation', '=', tag).orderBy('id').execute()),
    events: (await handle.db.selectFrom('outbox_events').select(['event_id', 'payload']).where('event_id', 'like', `msg_${tag}_%`).orderBy('id').execute()),
  })

  await db.transaction().execute((trx) => appendAll(trx, [{ table: 'audit_log', rows: audit(3, 'one') }, { table: 'outbox_events', rows: events(2, 'one') }, { table: 'complaint_timeline', rows: [] }]))
  t.same(statements.filter((s) => s === 'RawNode').length, 1, 'one statement for two tables (an empty one is left out)')
  const one = await read('one')
  t.same(one.audit.map((a) => [a.entity_id, a.after]), [['one-0', { i: 0 }], ['one-1', { i: 1 }], ['one-2', { i: 2 }]], 'the audit entries, in order')
  t.same(one.events.map((e) => e.event_id), ['msg_one_0', 'msg_one_1'], 'the events, in order')
  t.same(one.events[1]!.payload, events(2, 'one')[1]!.payload, 'a payload as sent')

  statements.length = 0
  await db.transaction().execute((trx) => appendAll(trx, [{ table: 'outbox_events', rows: events(2, 'twice') }, { table: 'audit_log', rows: audit(1, 'twice') }, { table: 'outbox_events', rows: events(3, 'twice').slice(2) }]))
  t.equal(statements.filter((s) => s === 'RawNode').length, 1, 'a table named twice: still one statement')
  t.same((await read('twice')).events.map((e) => e.event_id), ['msg_twice_0', 'msg_twice_1', 'msg_twice_2'], 'its rows in the order given')

  statements.length = 0
  await db.transaction().execute((trx) => appendAll(trx, [{ table: 'audit_log', rows: audit(ROWS_PER_STATEMENT + 1, 'big') }, { table: 'outbox_events', rows: events(1, 'big') }]))
  t.equal(statements.filter((s) => s === 'RawNode').length, 3, 'over a batch: table by table, a batch a statement')
  const big = await read('big')
  t.same([big.audit.length, big.events.length], [ROWS_PER_STATEMENT + 1, 1])
  t.equal(big.audit.at(-1)!.entity_id, `big-${ROWS_PER_STATEMENT}`)

  statements.length = 0
  await appendAll(db, [{ table: 'audit_log', rows: [] }])
  t.same(statements, [], 'nothing to append: no statement')

  // one statement: a failure in any table writes none of them
  await t.rejects(db.transaction().execute((trx) => appendAll(trx, [{ table: 'audit_log', rows: audit(1, 'fail') }, { table: 'outbox_events', rows: events(1, 'one') }])), 'a duplicate event id fails the statement')
  t.same((await read('fail')).audit, [], 'and the audit entry of the same statement is not there')
})

t.test('appendMaking: the value the statement makes replaces its placeholder in every row, nested JSON included; a failure writes nothing', async (t) => {
  const handle = await testDatabase()
  const { db, statements } = countingStatements(handle.db)
  const ph = placeholder('made')
  t.match(ph, /^made-[0-9a-f]{24}$/)
  t.not(placeholder('made'), ph, 'fresh for each statement')
  const made = { placeholder: ph, statement: sql<{ value: string }>`select 'V-' || count(*) as value from audit_log where operation = 'made'` }
  const rows = [
    { ...audit(1, 'made')[0]!, entity_id: `made-of-${ph}`, after: { ref: ph, deep: [{ ref: ph }], other: 'made-0123456789abcdef01234567' } },
  ]
  const value = await appendMaking(db, made, [{ table: 'audit_log', rows }, { table: 'outbox_events', rows: [{ ...events(1, 'made')[0]!, payload: { id: 'msg_made_0', ref: ph, text: `"${ph}"` } }] }])
  t.equal(value, 'V-0', 'the value the statement made (before its own rows)')
  t.equal(statements.filter((s) => s === 'RawNode').length, 1, 'one statement')
  const stored = await handle.db.selectFrom('audit_log').select(['entity_id', 'after']).where('operation', '=', 'made').execute()
  t.same(stored, [{ entity_id: 'made-of-V-0', after: { ref: 'V-0', deep: [{ ref: 'V-0' }], other: 'made-0123456789abcdef01234567' } }], 'in a column, in nested JSON; other text as sent')
  const event = await handle.db.selectFrom('outbox_events').select('payload').where('event_id', '=', 'msg_made_0').executeTakeFirstOrThrow()
  t.same(event.payload, { id: 'msg_made_0', ref: 'V-0', text: '"V-0"' }, 'in a json column too')

  // a counter taken by the statement: its failure takes nothing, outside a transaction too
  await sql`create table made_counter (n int not null)`.execute(handle.db)
  t.teardown(() => sql`drop table made_counter`.execute(handle.db))
  await sql`insert into made_counter values (0)`.execute(handle.db)
  const counted = { placeholder: placeholder('n'), statement: sql<{ value: string }>`update made_counter set n = n + 1 returning n::text as value` }
  await t.rejects(appendMaking(handle.db, counted, [{ table: 'audit_log', rows: audit(1, 'counted') }, { table: 'outbox_events', rows: events(1, 'made') }]), 'a duplicate event id fails the statement')
  t.same((await sql<{ n: number }>`select n from made_counter`.execute(handle.db)).rows, [{ n: 0 }], 'the counter is as it was')
  t.same(await handle.db.selectFrom('audit_log').select('id').where('operation', '=', 'counted').execute(), [], 'and no row was written')
  await t.rejects(appendMaking(handle.db, { placeholder: 'x', statement: sql<{ value: string }>`select 'a' as value where false` }, [{ table: 'audit_log', rows: audit(1, 'none') }]), /made 0 values/, 'a statement that makes no value is an error')
  await t.rejects(appendMaking(handle.db, made, [{ table: 'audit_log', rows: audit(ROWS_PER_STATEMENT + 1, 'big') }]), /do not fit one statement/)
})
