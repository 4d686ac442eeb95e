import t from 'tap'
import fc from 'fast-check'
import { sql } from 'kysely'
import { appendAll, appendMaking, insertRows, placeholder, quoted, ROWS_PER_STATEMENT } from '../../src/db/batches.js'
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

t.test('documents: columns sent beside the rows, as JSON text each, arrive as sent and in the rows\' order; NULL stays NULL', async (t) => {
  const handle = await testDatabase()
  const { db, statements } = countingStatements(handle.db)
  // what JSON.stringify escapes and Postgres must read back: quotes, backslashes, a newline, the separator
  // character itself, CJK, an emoji, and a string shaped like JSON
  const tricky = 'he said "刹车\\异响"\n\u001e{"not":"json"} 😀'
  const eventRows = (n: number, tag: string) => events(n, tag).map((e, i) => ({ ...e, payload: { ...e.payload, tricky, nested: { list: [i, null, { deep: tricky }] } } }))
  const auditRows = (n: number, tag: string) => audit(n, tag).map((a, i) => ({ ...a, before: i % 2 === 0 ? null : { i, tricky }, after: { i, tricky } }))
  const eventsOf = (tag: string) => handle.db.selectFrom('outbox_events').select(['event_id', sql<string>`payload::text`.as('text')]).where('event_id', 'like', `msg_${tag}_%`).orderBy('id').execute()
  const auditOf = (tag: string) => handle.db.selectFrom('audit_log').select(['entity_id', 'before', 'after']).where('operation', '=', tag).orderBy('id').execute()

  // more rows than one statement takes: batches, each joined to its documents by position
  const many = eventRows(2 * ROWS_PER_STATEMENT + 3, 'many')
  await insertRows(db, { table: 'outbox_events', rows: many, documents: { payload: 'json' } })
  t.equal(statements.filter((s) => s === 'RawNode').length, 3, 'a batch a statement')
  const stored = await eventsOf('many')
  t.same(stored.map((e) => e.event_id), many.map((e) => e.event_id), 'every row, in the order given (ids follow it)')
  t.ok(stored.every((e, i) => e.text === JSON.stringify(many[i]!.payload)), 'a json document is stored as the text of its row, byte for byte')

  statements.length = 0
  const audits = auditRows(4, 'docs')
  await db.transaction().execute((trx) => appendAll(trx, [
    { table: 'audit_log', rows: audits, documents: { before: 'jsonb', after: 'jsonb' } },
    { table: 'outbox_events', rows: eventRows(2, 'docs'), documents: { payload: 'json' } },
  ]))
  t.equal(statements.filter((s) => s === 'RawNode').length, 1, 'with appendAll: one statement still')
  t.same((await auditOf('docs')).map((a) => [a.entity_id, a.before, a.after]), audits.map((a) => [a.entity_id, a.before, a.after]), 'jsonb documents, two columns, a NULL among them')
  t.same((await eventsOf('docs')).map((e) => JSON.parse(e.text)), eventRows(2, 'docs').map((e) => e.payload))

  // appendMaking replaces the placeholder inside documents too
  const ph = placeholder('ref')
  const made = { placeholder: ph, statement: sql<{ value: string }>`select 'CP-1' as value` }
  await appendMaking(db, made, [{ table: 'outbox_events', rows: [{ ...eventRows(1, 'madedoc')[0]!, payload: { ref: ph, deep: [`"${ph}"`], tricky } }], documents: { payload: 'json' } }])
  t.same((await eventsOf('madedoc')).map((e) => JSON.parse(e.text)), [{ ref: 'CP-1', deep: ['"CP-1"'], tricky }], 'the made value in place of its placeholder')

  // one row whose document is NULL: its parameter is the empty string
  await insertRows(db, { table: 'audit_log', rows: auditRows(1, 'onenull'), documents: { before: 'jsonb', after: 'jsonb' } })
  t.same((await auditOf('onenull')).map((a) => a.before), [null], 'a lone NULL document is NULL, and its row is there')

  // one statement: a document its column refuses (NULL where the outbox needs a payload) writes no row of the statement
  await t.rejects(db.transaction().execute((trx) => appendAll(trx, [
    { table: 'audit_log', rows: auditRows(1, 'faildoc') },
    { table: 'outbox_events', rows: [{ ...eventRows(1, 'faildoc')[0]!, payload: null }], documents: { payload: 'json' } },
  ])), /null value in column "payload"/, 'a NULL document where the column needs one: refused, not dropped')
  t.same(await auditOf('faildoc'), [], 'and nothing of the statement is written')
})

t.test('the appends\' identifiers are quoted as Kysely quotes them for Postgres, whatever the name', async (t) => {
  const handle = await testDatabase()
  // any text Postgres allows in an identifier (no NUL), quotes and Chinese included
  const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\u0000'))
  fc.assert(fc.property(fc.oneof(name, fc.constantFrom('"', 'a"b', '""', 'complaint_timeline')), (n) => quoted(n) === sql.id(n).compile(handle.db).sql))
  t.equal(quoted('a"b'), '"a""b"', 'a double quote is doubled inside the quotes')
})
