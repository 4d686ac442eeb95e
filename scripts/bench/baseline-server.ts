// The same-SQL baseline of `npm run bench`: a bare Fastify (no schemas, no plugins) over a bare `pg`
// pool of the service's size, running the statements the service runs for each measured request — the
// key lookup, then the intake statement (the year's number, the complaint, its timeline entry, audit
// entry and event in one statement, prepared as the service prepares it) or the same SELECT — and
// answering the rows as JSON. The service's figure over this one is its own overhead: validation,
// authorisation, clocks, representation, serialisation, logging.
// Env: DATABASE_URL, PORT (0), DB_POOL_SIZE (10). Prints `listening on http://…`.
import { createHash, randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import pg from 'pg'
import { uuidv7 } from '../../src/db/uuidv7.js'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_SIZE ?? 10) })
const app = Fastify({ logger: false })

const KEY_SQL = 'select "id", "name", "role", "department_id", "last_used_at" from "api_keys" where "secret_hash" = $1 and "revoked_at" is null'
async function principal(authorization: string | undefined, db: pg.Pool | pg.PoolClient = pool) {
  const token = authorization?.replace(/^Bearer /, '') ?? ''
  const { rows } = await db.query(KEY_SQL, [createHash('sha256').update(token).digest('hex')])
  return rows[0] as { id: string; name: string; role: string } | undefined
}

app.get('/hello', async () => ({ hello: 'world' }))

// the intake as the service writes it (receiveComplaint, appendMaking): one statement outside a transaction that
// takes the year's number and writes the complaint, its timeline entry, audit entry and event, each table's
// rows read from JSON (the event's payload as text beside its row) in which Postgres puts the number where
// the placeholder stands
const fromJson = (name: string, table: string, columns: string[], json: number) =>
  `"${name}" as (insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) select ${columns.map((c) => `"${c}"`).join(', ')} from json_populate_recordset(null::"${table}", replace($${json}, $2, (select value from made))::json))`
const COMPLAINT = ['id', 'reference', 'tracking_token_hash', 'version', 'status', 'channel', 'external_body', 'complainant_name', 'complainant_kind', 'complainant_phone', 'complainant_email',
  'complainant_id_number', 'complainant_address', 'complainant_external_ids', 'subject', 'description', 'desired_outcomes', 'desired_outcome_note', 'attachments', 'occurred_at',
  'received_at', 'acknowledged_at', 'acknowledged_via', 'category_id', 'level', 'nature', 'major', 'irrational_stage', 'follow_up_mode', 'department_id', 'receiver_id', 'assessed_at',
  'handed_over_at', 'signed_at', 'signed_by', 'first_replied_at', 'last_replied_at', 'root_cause', 'capa', 'investigated_at', 'closure_requested_at', 'result_summary',
  'deferral_requested_at', 'deferral_reason', 'deferred_at', 'callback_at', 'satisfied', 'satisfaction', 'callback_comment', 'closure_rejected_count', 'closed_at', 'closure_type',
  'withdrawn_at', 'withdrawal_reason', 'reopened_at', 'reopen_count', 'clock_started_at', 'handover_due_at', 'first_reply_due_at', 'closure_due_at', 'callback_due_at', 'created_at',
  'updated_at', 'sla_policy_version', 'clock_cycle', 'paused_at', 'pauses', 'handover_warn_at', 'first_reply_warn_at', 'closure_warn_at', 'callback_warn_at', 'closure_limit_missed',
  'anonymised_at', 'capa_review_due'] as const
const INTAKE = `with made as (insert into reference_counters (year, last_value) values ($1, 1)
  on conflict (year) do update set last_value = reference_counters.last_value + 1
  returning 'CP'::text || '-' || year || '-' || lpad(last_value::text, greatest(6, length(last_value::text)), '0') as value),
  ${fromJson('append_0', 'complaints', [...COMPLAINT], 3)},
  ${fromJson('append_1', 'complaint_timeline', ['complaint_id', 'at', 'actor', 'action', 'from_status', 'to_status', 'before', 'after', 'data'], 4)},
  ${fromJson('append_2', 'audit_log', ['at', 'actor_key_id', 'actor_role', 'actor_name', 'operation', 'entity_type', 'entity_id', 'before', 'after', 'request_id'], 5)},
  "append_3" as (insert into "outbox_events" ("event_id", "type", "complaint_id", "occurred_at", "payload")
    select r."event_id", r."type", r."complaint_id", r."occurred_at", nullif("document_0".text, '')::json
    from json_populate_recordset(null::"outbox_events", replace($6, $2, (select value from made))::json) with ordinality as r
    left join string_to_table(replace($7, $2, (select value from made)), chr(30)) with ordinality as "document_0"(text, position) on "document_0".position = r.ordinality
    order by r.ordinality)
  select value from made`

/** the year of an instant in the business time zone (the reference number's), one formatter for the process as in the service */
const YEAR = new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' })

interface Body { channel: string; complainant: { name: string; phone?: string; email?: string }; description: string }

app.post('/v1/complaints', async (req, reply) => {
  const who = await principal(req.headers.authorization)
  if (!who) return reply.code(401).send({ title: 'unauthorised' })
  const body = req.body as Body
  const now = new Date()
  const year = Number(YEAR.format(now))
  // ids as the service makes them (time-ordered): their place in the indexes is part of what the statements cost
  const id = uuidv7(now.getTime())
  const placeholder = `reference-${randomBytes(12).toString('hex')}`
  const at = (ms: number) => new Date(now.getTime() + ms)
  const complaint: Record<(typeof COMPLAINT)[number], unknown> = {
    id, reference: placeholder, tracking_token_hash: createHash('sha256').update(randomBytes(18)).digest('hex'), version: 1, status: 'received', channel: body.channel,
    external_body: null, complainant_name: body.complainant.name, complainant_kind: 'person', complainant_phone: body.complainant.phone ?? null,
    complainant_email: body.complainant.email ?? null, complainant_id_number: null, complainant_address: null, complainant_external_ids: [], subject: {},
    description: body.description, desired_outcomes: [], desired_outcome_note: null, attachments: [], occurred_at: null, received_at: now, acknowledged_at: null,
    acknowledged_via: null, category_id: null, level: null, nature: null, major: false, irrational_stage: null, follow_up_mode: null, department_id: null, receiver_id: null,
    assessed_at: null, handed_over_at: null, signed_at: null, signed_by: null, first_replied_at: null, last_replied_at: null, root_cause: null, capa: null, investigated_at: null,
    closure_requested_at: null, result_summary: null, deferral_requested_at: null, deferral_reason: null, deferred_at: null, callback_at: null, satisfied: null, satisfaction: null,
    callback_comment: null, closure_rejected_count: 0, closed_at: null, closure_type: null, withdrawn_at: null, withdrawal_reason: null, reopened_at: null, reopen_count: 0,
    clock_started_at: now, handover_due_at: at(4 * 3_600_000), first_reply_due_at: null, closure_due_at: at(3 * 86_400_000), callback_due_at: null, created_at: now, updated_at: now,
    sla_policy_version: 1, clock_cycle: 1, paused_at: null, pauses: [], handover_warn_at: at(3 * 3_600_000), first_reply_warn_at: null, closure_warn_at: at(2.4 * 86_400_000),
    callback_warn_at: null, closure_limit_missed: false, anonymised_at: null, capa_review_due: null,
  }
  const actor = { type: 'api_key', id: who.id, role: who.role, name: who.name }
  const eventId = `msg_${uuidv7(now.getTime())}`
  // named, as the service sends it (DB_PREPARED_STATEMENTS, src/db/prepared.ts): parsed once per connection
  const { rows } = await pool.query({ name: 'intake', text: INTAKE, values: [
    year, placeholder,
    JSON.stringify([complaint]),
    JSON.stringify([{
      complaint_id: id, at: now, actor, action: 'receive', from_status: null, to_status: 'received', before: {}, after: { status: 'received', reference: placeholder, channel: body.channel },
      data: { channel: body.channel, externalBody: null, receivedAt: now.toISOString(), enteredAt: now.toISOString() },
    }]),
    JSON.stringify([{ at: now, actor_key_id: who.id, actor_role: who.role, actor_name: who.name, operation: 'receiveComplaint', entity_type: 'complaint', entity_id: id, before: null, after: complaint, request_id: req.id }]),
    // the event's payload beside its row, as its JSON text (src/db/batches.ts, documents)
    JSON.stringify([{ event_id: eventId, type: 'complaint.received', complaint_id: id, occurred_at: now }]),
    JSON.stringify({ id: eventId, type: 'complaint.received', occurredAt: now.toISOString(), data: { complaint } }),
  ] })
  return reply.code(201).header('location', `/v1/complaints/${id}`).send({ ...complaint, reference: rows[0].value })
})

app.get('/v1/complaints/:id', async (req, reply) => {
  if (!await principal(req.headers.authorization)) return reply.code(401).send({ title: 'unauthorised' })
  const { rows } = await pool.query('select * from "complaints" where "id" = $1', [(req.params as { id: string }).id])
  return rows[0] ? reply.send(rows[0]) : reply.code(404).send({ title: 'not found' })
})

app.get('/v1/complaints', async (req, reply) => {
  if (!await principal(req.headers.authorization)) return reply.code(401).send({ title: 'unauthorised' })
  const q = req.query as { limit?: string; cursor?: string; departmentId?: string; level?: string }
  const limit = Number(q.limit ?? 50)
  const where: string[] = []
  const values: unknown[] = []
  if (q.level) where.push(`"level" = $${values.push(q.level)}`)
  if (q.departmentId) where.push(`"department_id" = $${values.push(q.departmentId)}`)
  if (q.cursor) {
    const { c, i } = JSON.parse(Buffer.from(q.cursor, 'base64url').toString('utf8')) as { c: string; i: string }
    // the service's condition (src/http/keyset.ts): the position's instant from its own row, within a millisecond of the cursor's instant
    const at = `$${values.push(new Date(c))}::timestamptz`
    const id = `$${values.push(i)}::uuid`
    where.push(`("created_at", "id") < (coalesce((select "k"."created_at" from "complaints" as "k" where "k"."id" = ${id}
      and "k"."created_at" > ${at} - interval '1 millisecond' and "k"."created_at" < ${at} + interval '1 millisecond'), ${at}), ${id})`)
  }
  const { rows } = await pool.query(`select * from "complaints"${where.length ? ` where ${where.join(' and ')}` : ''} order by "created_at" desc, "id" desc limit $${values.push(limit + 1)}`, values)
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  const nextCursor = rows.length > limit && last ? Buffer.from(JSON.stringify({ c: last.created_at.toISOString(), i: last.id })).toString('base64url') : null
  return reply.send({ items, nextCursor })
})

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
console.log(`listening on http://127.0.0.1:${(app.server.address() as { port: number }).port}`)
const stop = async () => {
  await app.close()
  await pool.end()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
