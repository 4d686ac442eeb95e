// The data generator of `npm run bench`: N complaints in one SQL statement per chunk (INSERT … SELECT
// over generate_series, on two connections), with their timelines and the breaches of late closures,
// consistent with the invariants of test/invariants.ts that concern them: a complaint's version is the
// number of its steps on the timeline, references are unique and gap-free per year, the year's
// reference counter holds the last number. (Audit entries and dispatched outbox events of the generated
// history are not written: housekeeping prunes dispatched events, and no measured path reads the audit log.)
//
// Shape (T0 = the moment of generation):
// - 95% history over the two years before T0 − 3 days: 93% closed (10% of them late, second-time, with
//   their closure breach), 5% withdrawn, 2% deferred — no running clock;
// - 5% over the last 3 days, open in every status; of N: 1% with a handover, first-reply or callback
//   deadline already passed and not yet recorded (the breach sweep's work), 1% with the closure deadline
//   passed and no closure request (escalations); the rest due later, 2.5% of them within the minute after
//   T0 (sub-minute deadlines), every deadline to the millisecond.
import pg from 'pg'

export interface GenerateResult {
  n: number
  ms: number
  t0: string
  overdue: number
  escalations: number
  timelineRows: number
}

const CHUNK = 25_000
const HOUR = 3_600_000
const DAY = 24 * HOUR

/** the steps (timeline actions) of a complaint in each status, with the status after each step */
const PATHS: Record<string, Array<[action: string, to: string, column: string]>> = {}
{
  const main: Array<[string, string, string]> = [
    ['receive', 'received', 'received_at'],
    ['acknowledge', 'acknowledged', 'acknowledged_at'],
    ['assess', 'assessed', 'assessed_at'],
    ['handover', 'handed_over', 'handed_over_at'],
    ['sign', 'in_progress', 'signed_at'],
    ['reply', 'responded', 'first_replied_at'],
    ['record_investigation', 'responded', 'investigated_at'],
    ['request_closure', 'closure_requested', 'closure_requested_at'],
    ['record_callback', 'closure_confirmed', 'callback_at'],
    ['close', 'closed', 'closed_at'],
  ]
  const upTo = (action: string) => main.slice(0, main.findIndex(([a]) => a === action) + 1)
  PATHS.received = upTo('receive')
  PATHS.acknowledged = upTo('acknowledge')
  PATHS.assessed = upTo('assess')
  PATHS.handed_over = upTo('handover')
  PATHS.in_progress = upTo('sign')
  PATHS.responded = upTo('reply')
  PATHS.closure_requested = upTo('request_closure')
  PATHS.closure_confirmed = upTo('record_callback')
  PATHS.closed = upTo('close')
  PATHS.withdrawn = [...upTo('acknowledge'), ['withdraw', 'withdrawn', 'withdrawn_at']]
  PATHS.deferred = [...upTo('reply'), ['request_deferral', 'responded', 'deferral_requested_at'], ['review_deferral', 'deferred', 'deferred_at']]
}

/** weighted choice in SQL: `pick(r, [['a', 0.6], ['b', 0.4]])` */
function pick(r: string, options: Array<[string, number]>): string {
  let acc = 0
  const total = options.reduce((s, [, w]) => s + w, 0)
  const arms = options.map(([value, w], i) => {
    acc += w / total
    return i === options.length - 1 ? `else '${value}'` : `when ${r} < ${acc.toFixed(6)} then '${value}'`
  })
  return `(case ${arms.join(' ')} end)`
}

/** the complaint columns the generator fills, in order */
const COLUMNS = [
  'id', 'reference', 'tracking_token_hash', 'version', 'status', 'channel', 'external_body', 'complainant_name', 'complainant_kind', 'complainant_phone',
  'complainant_email', 'subject', 'description', 'desired_outcomes', 'received_at', 'acknowledged_at', 'acknowledged_via', 'category_id', 'level', 'nature', 'major',
  'irrational_stage', 'follow_up_mode', 'department_id', 'assessed_at', 'handed_over_at', 'signed_at', 'signed_by', 'first_replied_at', 'last_replied_at',
  'root_cause', 'investigated_at', 'closure_requested_at', 'result_summary', 'deferral_requested_at', 'deferral_reason', 'deferred_at', 'callback_at', 'satisfied',
  'satisfaction', 'callback_comment', 'closed_at', 'closure_type', 'withdrawn_at', 'withdrawal_reason', 'clock_started_at',
  'handover_due_at', 'handover_warn_at', 'first_reply_due_at', 'first_reply_warn_at', 'closure_due_at', 'closure_warn_at', 'callback_due_at', 'callback_warn_at',
  'closure_limit_missed', 'created_at', 'updated_at',
]

export async function generate(url: string, n: number, log: (line: string) => void = () => {}): Promise<GenerateResult> {
  const started = performance.now()
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  const q = (text: string, values?: unknown[]) => pool.query(text, values)
  const t0 = Date.now()
  const nh = Math.max(1, Math.floor(n * 0.95)) // history
  const nr = n - nh // the last three days
  const stepH = Math.floor((727 * DAY) / nh)
  const stepR = Math.floor((3 * DAY) / (nr + 1))
  const start = t0 - 3 * DAY - nh * stepH

  // helpers, dropped at the end: a deterministic uniform [0,1) per (row, key), the row's instant
  await q(`create function bench_r(i bigint, k int) returns float8 language sql immutable as
    $$ select (hashint8(i * 64 + k)::float8 + 2147483648) / 4294967296 $$`)
  await q(`create function bench_ts(i bigint) returns timestamptz language sql immutable as $$
    select to_timestamp((case when i <= ${nh} then ${start} + i * ${stepH}::float8 + floor(bench_r(i, 0) * ${stepH} * 0.9)
      else ${t0 - 3 * DAY} + (i - ${nh}) * ${stepR}::float8 + floor(bench_r(i, 0) * ${stepR} * 0.9) end) / 1000) $$`)
  // per year of receipt (business time zone): the first row, for gap-free reference numbers
  const years = (await q(`select y::int as year, min(i)::int as first, count(*)::int as count
    from (select i, extract(year from bench_ts(i) at time zone 'Asia/Shanghai') as y from generate_series(1, ${n}) i) x group by y order by y`)).rows as Array<{ year: number; first: number; count: number }>
  const numberCase = (i: string) => `(case ${years.map((y) => `when ${i} >= ${y.first} then ${i} - ${y.first - 1}`).reverse().join(' ')} end)`

  await q(`create table bench_paths (status text, n int, action text, from_status text, to_status text, at_column text)`)
  const pathRows = Object.entries(PATHS).flatMap(([status, steps]) => steps.map(([action, to, column], k) =>
    `('${status}', ${k + 1}, '${action}', ${k === 0 ? 'null' : `'${steps[k - 1]![1]}'`}, '${to}', '${column}')`))
  await q(`insert into bench_paths values ${pathRows.join(', ')}`)

  // the indexes that are no constraint are built once after the load (a sorted build beats 1M inserts)
  const indexes = (await q(`select indexname, indexdef from pg_indexes i where schemaname = current_schema()
      and tablename in ('complaints', 'complaint_timeline', 'breaches')
      and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`)).rows as Array<{ indexname: string; indexdef: string }>
  for (const { indexname } of indexes) await q(`drop index ${indexname}`)

  const r = (k: number) => `bench_r(i, ${k})`
  const historic = `i <= ${nh}`
  const j = `(i - ${nh})`
  // role of a recent row: 1 = overdue (sweep), 2 = escalation, else ordinary
  const role = `(case when ${historic} then 0 when ${j} % 5 = 1 then 1 when ${j} % 5 = 2 then 2 else 3 end)`
  const status = `(case ${role}
      when 0 then ${pick(r(1), [['closed', 93], ['withdrawn', 5], ['deferred', 2]])}
      when 1 then ${pick(r(1), [['received', 1], ['acknowledged', 1], ['assessed', 1], ['handed_over', 1], ['in_progress', 1.5], ['closure_requested', 1.5]])}
      when 2 then 'responded'
      else ${pick(r(1), [['received', 10], ['acknowledged', 10], ['assessed', 10], ['handed_over', 10], ['in_progress', 15], ['responded', 15], ['closure_requested', 10], ['closure_confirmed', 5], ['closed', 10], ['withdrawn', 5]])} end)`
  const channel = pick(r(2), [['phone', 25], ['hotline_400', 25], ['web', 12], ['wechat', 15], ['email', 8], ['walk_in', 5], ['letter', 2], ['callback_survey', 3], ['crm_sync', 2], ['media', 1], ['consumer_association', 1], ['government', 1]])
  const level = pick(r(3), [['general', 55], ['moderate', 25], ['strong', 12], ['irrational', 8]])
  const department = pick(r(4), [['service-station', 40], ['sales', 25], ['general-affairs', 15], ['marketing', 10], ['finance', 10]])
  const category = pick(r(5), [['product_quality', 35], ['service_quality', 30], ['sales', 15], ['delivery', 12], ['billing', 8]])
  // the instant of step k of the row's path: history at fixed offsets (hours after receipt), recent rows spread up to T0
  const stepAt = (k: number, hours: string) => `(case when ${historic} then b.t + (${hours}) * interval '1 hour' + b.r6 * interval '20 minutes'
      else b.t + (${t0}::float8 / 1000 - extract(epoch from b.t)) * (${k} / (b.v + 1.0)) * interval '1 second' end)`
  const at = (k: number, hours: string) => `case when b.stage >= ${k} then ${stepAt(k, hours)} end`
  const future = `(to_timestamp(${t0}::float8 / 1000) + case when c.r7 < 0.025 then c.r8 * interval '60 seconds' else interval '60 seconds' + c.r8 * interval '3 days' end)`
  const halfway = (from: string) => `(${from} + (to_timestamp(${t0}::float8 / 1000) - ${from}) * 0.5)`

  // b: the row's drawn facts; s: its step instants; the select below: the columns
  const select = `
    with b0 as materialized (
      select i, bench_ts(i) as t, ${role} as role, ${status} as status, ${r(6)} as r6, ${r(7)} as r7, ${r(8)} as r8, ${r(9)} as r9,
        md5(i::text || '${t0}') as h
      from generate_series($1::bigint, $2::bigint) i),
    b as materialized (select b0.*, (case b0.status ${Object.entries(PATHS).map(([status, steps]) => `when '${status}' then ${steps.length}`).join(' ')} end) as v,
      -- how far along the main path the row got (withdrawn: acknowledged; deferred: replied)
      (case b0.status when 'received' then 1 when 'acknowledged' then 2 when 'withdrawn' then 2 when 'assessed' then 3 when 'handed_over' then 4
        when 'in_progress' then 5 when 'responded' then 6 when 'deferred' then 6 when 'closure_requested' then 8 when 'closure_confirmed' then 9 else 10 end) as stage,
      b0.role = 0 and b0.status = 'closed' and b0.r9 < 0.1 as late from b0),
    s as materialized (select b.*,
      ${at(2, '0.2')} as acknowledged_at, ${at(3, '1')} as assessed_at, ${at(4, '2')} as handed_over_at, ${at(5, '3')} as signed_at,
      ${at(6, '20')} as first_replied_at, ${at(7, '36')} as investigated_at,
      ${at(8, "case when b.late then 60 else 48 end")} as closure_requested_at,
      ${at(9, "case when b.late then 64 else 50 end")} as callback_at,
      ${at(10, "case when b.late then 68 else 52 end")} as closed_at,
      case when b.status = 'withdrawn' then ${stepAt(3, '5')} end as withdrawn_at,
      case when b.status = 'deferred' then ${stepAt(7, '30')} end as deferral_requested_at,
      case when b.status = 'deferred' then ${stepAt(8, '40')} end as deferred_at
      from b),
    c as materialized (select s.*, ${level} as lvl, ${channel} as ch from s)
    select
      -- the id as the service makes it (src/db/uuidv7.ts): UUIDv7 of the instant the complaint was made, random bits from a hash
      (lpad(to_hex(floor(extract(epoch from c.t) * 1000)::bigint), 12, '0') || '7' || substr(c.h, 14, 3)
        || substr('89ab', 1 + ('x' || substr(c.h, 17, 1))::bit(4)::int % 4, 1) || substr(c.h, 18, 15))::uuid,
      'CP-' || to_char(c.t at time zone 'Asia/Shanghai', 'YYYY') || '-' || lpad(${numberCase('c.i')}::text, 6, '0'),
      md5('token' || c.i), c.v, c.status, c.ch,
      case when c.ch in ('media', 'consumer_association', 'government') then c.ch end,
      '客户' || (c.i % 9973), case when ${r(10)} < 0.1 then 'company' else 'person' end,
      '138' || lpad(((c.i * 7919) % ${Math.max(1, Math.floor(n * 0.8))})::text, 8, '0'),
      case when ${r(11)} < 0.3 then 'user' || (c.i % 50000) || '@example.com' end,
      case when ${r(12)} < 0.5 then jsonb_build_object('product', '轿车', 'vin', 'LSV' || lpad((c.i % ${Math.max(1, Math.floor(n * 0.9))})::text, 14, '0'))
        else jsonb_build_object('product', '保养服务', 'orderNo', 'SO' || c.i) end,
      (array['刹车异响，多次维修未解决', '发票金额与合同不符', '交车延期两周，无人通知', '服务站接待态度差', '配件到货慢，车辆停驶'])[1 + (c.i % 5)] || '（第' || c.i || '号）',
      '["resolution"]'::jsonb,
      c.t, c.acknowledged_at, case when c.acknowledged_at is not null then 'phone' end,
      case when c.stage >= 3 then ${category} end, case when c.status = 'deferred' then 'irrational' when c.stage >= 3 then c.lvl end,
      case when c.stage >= 3 then case when ${r(13)} < 0.97 then 'good_faith' else 'malicious' end end,
      c.ch in ('media', 'consumer_association', 'government') or ${r(14)} < 0.05,
      case when c.status = 'deferred' then 'second' when c.stage >= 3 and c.lvl = 'irrational' then 'first' end,
      case when c.status = 'deferred' or (c.stage >= 3 and c.lvl = 'irrational') then case when ${r(15)} < 0.5 then 'watch' else 'monitor' end end,
      case when c.stage >= 3 then ${department} end,
      c.assessed_at, c.handed_over_at, c.signed_at, case when c.signed_at is not null then '接收人' end, c.first_replied_at, c.first_replied_at,
      case when c.investigated_at is not null then (array['配件批次质量问题', '服务流程缺失', '沟通不及时', '系统开票错误'])[1 + (c.i % 4)] end, c.investigated_at,
      c.closure_requested_at, case when c.closure_requested_at is not null then '已更换配件并回访' end,
      c.deferral_requested_at, case when c.deferral_requested_at is not null then '客户诉求超出政策，持续关注' end, c.deferred_at,
      c.callback_at, case when c.callback_at is not null then true end, case when c.callback_at is not null then 3 + (c.i % 3) end,
      case when c.callback_at is not null then '满意' end,
      c.closed_at, case when c.closed_at is not null then case when c.late then 'second_time' else 'first_time' end end,
      c.withdrawn_at, case when c.withdrawn_at is not null then '客户撤回' end,
      c.t,
      -- deadlines: running clocks due later (or, for the sweep's rows, passed); stopped clocks met, late closures missed
      case when c.role = 1 and c.signed_at is null then ${halfway('c.t')} when c.signed_at is null and c.role > 0 then ${future} else c.t + interval '4 hours' + c.r8 * interval '4 hours' end,
      null::timestamptz,
      case when c.signed_at is null then null
        when c.role = 1 and c.status = 'in_progress' then ${halfway('c.signed_at')}
        when c.first_replied_at is null and c.role > 0 then ${future} else c.signed_at + interval '1 day' + c.r8 * interval '2 hours' end,
      null::timestamptz,
      case when c.role = 2 then c.t + (to_timestamp(${t0}::float8 / 1000) - c.t) * 0.9
        when c.role > 0 and c.closure_requested_at is null and c.status not in ('closed', 'withdrawn') then ${future}
        when c.late then c.t + interval '50 hours' else c.t + interval '3 days' + c.r8 * interval '2 days' end,
      null::timestamptz,
      case when c.closure_requested_at is null then null
        when c.role = 1 and c.status = 'closure_requested' then ${halfway('c.closure_requested_at')}
        when c.callback_at is null and c.role > 0 then ${future} else c.closure_requested_at + interval '12 hours' end,
      null::timestamptz,
      c.late,
      c.t, greatest(c.t, c.acknowledged_at, c.assessed_at, c.handed_over_at, c.signed_at, c.first_replied_at, c.investigated_at, c.closure_requested_at, c.callback_at, c.closed_at, c.withdrawn_at, c.deferred_at)
    from c`

  const actor = `'{"type":"api_key","id":null,"role":"cs_agent","name":"bench"}'::jsonb`
  const chunk = `
    with ins as (insert into complaints (${COLUMNS.join(', ')}) ${select}
      returning id, status, version, channel, external_body, received_at, acknowledged_at, assessed_at, handed_over_at, signed_at, first_replied_at, investigated_at,
        closure_requested_at, callback_at, closed_at, withdrawn_at, deferral_requested_at, deferred_at, satisfaction, closure_limit_missed, closure_due_at, department_id, level, reference),
    tl as (insert into complaint_timeline (complaint_id, at, actor, action, from_status, to_status, before, after, data)
      select ins.id,
        case p.at_column when 'received_at' then ins.received_at when 'acknowledged_at' then ins.acknowledged_at when 'assessed_at' then ins.assessed_at
          when 'handed_over_at' then ins.handed_over_at when 'signed_at' then ins.signed_at when 'first_replied_at' then ins.first_replied_at
          when 'investigated_at' then ins.investigated_at when 'closure_requested_at' then ins.closure_requested_at when 'callback_at' then ins.callback_at
          when 'closed_at' then ins.closed_at when 'withdrawn_at' then ins.withdrawn_at when 'deferral_requested_at' then ins.deferral_requested_at
          else ins.deferred_at end,
        ${actor}, p.action, p.from_status, p.to_status, '{}'::jsonb,
        case p.action when 'receive' then jsonb_build_object('status', 'received', 'reference', ins.reference, 'channel', ins.channel)
          when 'record_callback' then jsonb_build_object('satisfied', true, 'satisfaction', ins.satisfaction) else jsonb_build_object('status', p.to_status) end,
        case p.action when 'receive' then jsonb_build_object('channel', ins.channel, 'externalBody', ins.external_body, 'receivedAt', ins.received_at, 'enteredAt', ins.received_at) else '{}'::jsonb end
      from ins join bench_paths p on p.status = ins.status
      union all
      select ins.id, ins.closure_due_at + interval '30 seconds', '{"type":"system","id":null,"role":null,"name":"scheduler"}'::jsonb, 'sla_breached', 'responded', 'responded', '{}'::jsonb, '{}'::jsonb,
        jsonb_build_object('clock', 'closure', 'cycle', 1, 'dueAt', ins.closure_due_at)
      from ins where ins.closure_limit_missed
      order by 1, 2
      returning 1),
    br as (insert into breaches (complaint_id, clock, cycle, due_at, detected_at, department_id, level)
      select id, 'closure', 1, closure_due_at, closure_due_at + interval '30 seconds', department_id, level from ins where closure_limit_missed
      returning 1)
    select (select count(*) from ins)::int as complaints, (select count(*) from tl)::int as timeline`

  log(`  prepared (${((performance.now() - started) / 1000).toFixed(1)} s)`)
  const chunks: Array<[number, number]> = []
  for (let lo = 1; lo <= n; lo += CHUNK) chunks.push([lo, Math.min(n, lo + CHUNK - 1)])
  let done = 0
  let timelineRows = 0
  const worker = async () => {
    const client = await pool.connect()
    try {
      // the rows are consistent by construction: skip the per-row foreign-key checks of the load
      await client.query(`set session_replication_role = replica`)
      await client.query(`set synchronous_commit = off`)
      for (;;) {
        const next = chunks.shift()
        if (!next) break
        const res = await client.query(chunk, next)
        timelineRows += res.rows[0].timeline as number
        done += next[1] - next[0] + 1
        if (chunks.length % 8 === 0) log(`  generated ${done.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} (${((performance.now() - started) / 1000).toFixed(0)} s)`)
      }
    } finally {
      client.release()
    }
  }
  await Promise.all([worker(), worker()])

  for (const y of years) {
    await q(`insert into reference_counters (year, last_value) values ($1, $2) on conflict (year) do update set last_value = excluded.last_value`, [y.year, y.count])
  }
  log(`  loaded in ${((performance.now() - started) / 1000).toFixed(0)} s; building ${indexes.length} indexes`)
  // two at a time, the largest first
  const pending = [...indexes].sort((a, b) => Number(b.indexdef.includes('complaint_timeline')) - Number(a.indexdef.includes('complaint_timeline')))
  await Promise.all([0, 1].map(async () => {
    for (;;) {
      const next = pending.shift()
      if (!next) break
      await q(next.indexdef)
    }
  }))
  await q(`drop table bench_paths`)
  await q(`drop function bench_ts(bigint)`)
  await q(`drop function bench_r(bigint, int)`)
  log(`  indexed in ${((performance.now() - started) / 1000).toFixed(0)} s; analyze`)
  await Promise.all(['complaints', 'complaint_timeline', 'breaches, reference_counters'].map((t) => q(`analyze ${t}`)))
  // ids as the service makes them: UUIDv7 whose time is the complaint's creation (the index locality the sweep sees depends on it)
  const notV7 = (await q(`select count(*)::int as n from complaints where id::text !~ '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]'
    or ('x' || lpad(replace(left(id::text, 13), '-', ''), 16, '0'))::bit(64)::bigint <> floor(extract(epoch from created_at) * 1000)::bigint`)).rows[0].n as number
  if (notV7 > 0) throw new Error(`${notV7} generated complaint ids are not the UUIDv7 of their creation`)
  await pool.end()
  return {
    n, ms: performance.now() - started, t0: new Date(t0).toISOString(), timelineRows,
    overdue: Math.max(0, Math.floor((nr + 3) / 5)), escalations: Math.max(0, Math.floor((nr + 2) / 5)),
  }
}
