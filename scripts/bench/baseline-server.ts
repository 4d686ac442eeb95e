// The same-SQL baseline of `npm run bench`: a bare Fastify (no schemas, no plugins) over a bare `pg`
// pool of the service's size, running the statements the service runs for each measured request — the
// key lookup, then the intake transaction (counter upsert, complaint, then its timeline entry, audit
// entry and event in one statement) or the same SELECT — and answering the rows as JSON. The service's
// figure over this one is its own overhead: validation, authorisation, clocks, representation,
// serialisation, logging.
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

const COLUMNS = ['id', 'tracking_token_hash', 'version', 'status', 'channel', 'external_body', 'complainant_name', 'complainant_kind', 'complainant_phone', 'complainant_email',
  'complainant_id_number', 'complainant_address', 'complainant_external_ids', 'subject', 'description', 'desired_outcomes', 'desired_outcome_note', 'attachments', 'occurred_at',
  'received_at', 'major', 'clock_started_at', 'created_at', 'updated_at', 'reference', 'sla_policy_version', 'handover_due_at', 'handover_warn_at', 'first_reply_due_at',
  'first_reply_warn_at', 'closure_due_at', 'closure_warn_at', 'callback_due_at', 'callback_warn_at']
const INSERT_COMPLAINT = `insert into "complaints" (${COLUMNS.map((c) => `"${c}"`).join(', ')}) values (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) returning *`
const UPSERT_COUNTER = 'insert into "reference_counters" ("year", "last_value") values ($1, $2) on conflict ("year") do update set "last_value" = reference_counters.last_value + 1 returning "last_value"'
// the step's timeline entry, audit entry and event in one statement, as the service appends them (appendAll)
const INSERT_APPENDS = `with "t" as (insert into "complaint_timeline" ("complaint_id", "at", "actor", "action", "from_status", "to_status", "before", "after", "data") values ($1, $2, $3, $4, $5, $6, $7, $8, $9)),
  "a" as (insert into "audit_log" ("at", "actor_key_id", "actor_role", "actor_name", "operation", "entity_type", "entity_id", "before", "after", "request_id") values ($10, $11, $12, $13, $14, $15, $16, $17, $18, $19)),
  "o" as (insert into "outbox_events" ("event_id", "type", "complaint_id", "occurred_at", "payload") values ($20, $21, $22, $23, $24))
  select 1`

/** the year of an instant in the business time zone (the reference number's), one formatter for the process as in the service */
const YEAR = new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' })

interface Body { channel: string; complainant: { name: string; phone?: string; email?: string }; description: string }

app.post('/v1/complaints', async (req, reply) => {
  const who = await principal(req.headers.authorization)
  if (!who) return reply.code(401).send({ title: 'unauthorised' })
  const body = req.body as Body
  const now = new Date()
  const year = Number(YEAR.format(now))
  const client = await pool.connect()
  try {
    await client.query('begin')
    // ids as the service makes them (time-ordered): their place in the indexes is part of what the statements cost
    const id = uuidv7(now.getTime())
    const counter = await client.query(UPSERT_COUNTER, [year, 1])
    const reference = `CP-${year}-${String(counter.rows[0].last_value).padStart(6, '0')}`
    const at = (ms: number) => new Date(now.getTime() + ms)
    const values = [id, createHash('sha256').update(randomBytes(18)).digest('hex'), 1, 'received', body.channel, null, body.complainant.name, 'person',
      body.complainant.phone ?? null, body.complainant.email ?? null, null, null, '[]', '{}', body.description, '[]', null, '[]', null,
      now, false, now, now, now, reference, 1, at(4 * 3_600_000), at(3 * 3_600_000), null, null, at(3 * 86_400_000), at(2.4 * 86_400_000), null, null]
    const complaint = (await client.query(INSERT_COMPLAINT, values)).rows[0]
    const actor = { type: 'api_key', id: who.id, role: who.role, name: who.name }
    const eventId = `msg_${uuidv7(now.getTime())}`
    await client.query(INSERT_APPENDS, [
      id, now, JSON.stringify(actor), 'receive', null, 'received', '{}', JSON.stringify({ status: 'received', reference, channel: body.channel }),
      JSON.stringify({ channel: body.channel, externalBody: null, receivedAt: now.toISOString(), enteredAt: now.toISOString() }),
      now, who.id, who.role, who.name, 'receiveComplaint', 'complaint', id, null, JSON.stringify(complaint), req.id,
      eventId, 'complaint.received', id, now, JSON.stringify({ id: eventId, type: 'complaint.received', occurredAt: now.toISOString(), data: { complaint } }),
    ])
    await client.query('commit')
    return reply.code(201).header('location', `/v1/complaints/${id}`).send(complaint)
  } catch (err) {
    await client.query('rollback')
    throw err
  } finally {
    client.release()
  }
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
