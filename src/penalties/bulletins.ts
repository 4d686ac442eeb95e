import { randomUUID } from 'node:crypto'
import { sql, type Kysely, type Transaction } from 'kysely'
import type { Services } from '../context.js'
import type { Database, PenaltyBulletin } from '../db/types.js'
import { CONFIRMABLE, isMonday, NOTICE_KINDS, weekStarting, type NoticeKind } from '../domain/penalties.js'
import { conflict, notFound, unprocessable } from '../errors.js'
import { writeAudits, type AuditContext } from '../audit/audit.js'
import { appendEvents } from '../outbox/outbox.js'
import * as repo from './repository.js'
import { noticeDto, noticeEvents, type NoticeDto } from './penalties.js'
import type { BulletinDto } from './schemas.js'

type Db = Kysely<Database> | Transaction<Database>

export const BULLETIN_TITLE = '执行部门抱怨闭环处理处罚通报'

const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)

/** the bulletin as the API shows it: lines per department with counts and sums per kind, totals, unassigned findings */
export async function bulletinDto(db: Db, b: PenaltyBulletin, timeZone: string): Promise<BulletinDto> {
  const lines = await db.selectFrom('penalty_bulletin_lines as l').innerJoin('departments as d', 'd.id', 'l.department_id')
    .select(['l.department_id', 'l.kind', 'l.notices', 'l.amount_fen', 'd.name', 'd.name_zh'])
    .where('l.bulletin_id', '=', b.id).orderBy('l.department_id').execute()
  const unassigned = await db.selectFrom('penalty_notices').select(['complaint_id', 'complaint_reference', 'kind', 'period'])
    .where('bulletin_id', '=', b.id).where('status', '=', 'unassigned').orderBy('complaint_reference').orderBy('kind').orderBy('period').execute()
  const emptyKinds = () => Object.fromEntries(NOTICE_KINDS.map((k) => [k, { notices: 0, amountFen: 0 }])) as Record<NoticeKind, { notices: number; amountFen: number }>
  const byDepartment = new Map<string, BulletinDto['lines'][number]>()
  const totals = { kinds: emptyKinds(), notices: 0, totalFen: 0 }
  for (const l of lines) {
    let line = byDepartment.get(l.department_id)
    if (!line) byDepartment.set(l.department_id, (line = { departmentId: l.department_id, departmentName: l.name, departmentNameZh: l.name_zh, kinds: emptyKinds(), notices: 0, totalFen: 0 }))
    const kind = l.kind as NoticeKind
    line.kinds[kind] = { notices: l.notices, amountFen: l.amount_fen }
    line.notices += l.notices
    line.totalFen += l.amount_fen
    totals.kinds[kind].notices += l.notices
    totals.kinds[kind].amountFen += l.amount_fen
    totals.notices += l.notices
    totals.totalFen += l.amount_fen
  }
  const week = weekStarting(b.week_start, timeZone)
  return {
    id: b.id, title: BULLETIN_TITLE, weekStart: b.week_start, weekEnd: addDays(b.week_start, 6), from: week.from.toISOString(), to: week.to.toISOString(),
    status: b.status as 'draft', drawnUpAt: b.drawn_up_at.toISOString(), drawnUpBy: b.drawn_up_by.name,
    signedAt: b.signed_at ? b.signed_at.toISOString() : null, signedBy: b.signed_by?.name ?? null,
    lines: [...byDepartment.values()], totals,
    unassigned: unassigned.map((u) => ({ complaintId: u.complaint_id, complaintReference: u.complaint_reference, kind: u.kind as NoticeKind, period: u.period })),
  }
}

export async function findBulletin(db: Db, id: string): Promise<PenaltyBulletin> {
  const b = await db.selectFrom('penalty_bulletins').selectAll().where('id', '=', id).executeTakeFirst()
  if (!b) throw notFound('penalty bulletin', id)
  return b
}

/**
 * Draws up (or again) the draft bulletin of the week starting `weekStart` (办法 §7.8): every notice
 * issued before the week's end that is issued or upheld now and in no other bulletin, with the
 * unassigned findings of the same span. A signed bulletin never changes (409); a week that has not
 * ended has no bulletin yet (422).
 */
export async function drawUpBulletin(s: Services, weekStart: string, ctx: AuditContext): Promise<BulletinDto> {
  const timeZone = s.config.BUSINESS_TIMEZONE
  if (!isMonday(weekStart)) throw unprocessable('/body/weekStart', `${weekStart} is not a Monday: a bulletin covers a week from Monday to Sunday`)
  const week = weekStarting(weekStart, timeZone)
  const now = s.clock.now()
  if (week.to > now) throw unprocessable('/body/weekStart', `the week ${weekStart} – ${addDays(weekStart, 6)} ends ${week.to.toISOString()}: a bulletin covers a week that has ended`)
  return s.db.transaction().execute(async (trx) => {
    await trx.insertInto('penalty_bulletins').values({
      id: randomUUID(), week_start: weekStart, status: 'draft', notices: 0, total_fen: 0, drawn_up_at: now, drawn_up_by: JSON.stringify(ctx.actor),
    }).onConflict((oc) => oc.column('week_start').doNothing()).execute()
    const before = await trx.selectFrom('penalty_bulletins').selectAll().where('week_start', '=', weekStart).forUpdate().executeTakeFirstOrThrow()
    if (before.status === 'signed') throw conflict(`the bulletin of the week from ${weekStart} is signed and cannot change`)
    await trx.updateTable('penalty_notices').set({ bulletin_id: null }).where('bulletin_id', '=', before.id).execute()
    await trx.updateTable('penalty_notices').set({ bulletin_id: before.id })
      .where('bulletin_id', 'is', null).where('issued_at', '<', week.to).where('status', 'in', [...CONFIRMABLE, 'unassigned']).execute()
    await trx.updateTable('penalty_bulletins').set({ drawn_up_at: now, drawn_up_by: JSON.stringify(ctx.actor) }).where('id', '=', before.id).execute()
    await repo.refreshDraft(trx, before.id)
    const after = await trx.selectFrom('penalty_bulletins').selectAll().where('id', '=', before.id).executeTakeFirstOrThrow()
    await writeAudits(trx, ctx, [{
      entityType: 'penalty_bulletin', entityId: after.id,
      before: { status: before.status, notices: before.notices, totalFen: before.total_fen }, after: { status: after.status, weekStart, notices: after.notices, totalFen: after.total_fen },
    }], now)
    return bulletinDto(trx, after, timeZone)
  })
}

/**
 * The general manager signs (办法 §7.8 总经理签发): every notice the bulletin lists is confirmed, the
 * bulletin is published (`bulletin.published`) and from then on neither it nor its lines change.
 */
export async function signBulletin(s: Services, id: string, comment: string | null, ctx: AuditContext): Promise<BulletinDto> {
  return s.db.transaction().execute(async (trx) => {
    const b = await trx.selectFrom('penalty_bulletins').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
    if (!b) throw notFound('penalty bulletin', id)
    if (b.status === 'signed') throw conflict(`the bulletin of the week from ${b.week_start} was signed at ${b.signed_at!.toISOString()} and cannot change`)
    const now = s.clock.now()
    const confirmed = await repo.setNoticeStatus(trx, { bulletinId: id, from: [...CONFIRMABLE] }, { at: now.toISOString(), status: 'confirmed', actor: ctx.actor, reason: comment }, now)
    const signed = await trx.updateTable('penalty_bulletins').set({ status: 'signed', signed_at: now, signed_by: JSON.stringify(ctx.actor) })
      .where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    await writeAudits(trx, ctx, [
      { entityType: 'penalty_bulletin', entityId: id, before: { status: 'draft' }, after: { status: 'signed', comment, notices: signed.notices, totalFen: signed.total_fen } },
      ...confirmed.map((n) => ({ entityType: 'penalty_notice', entityId: n.id, before: { status: 'issued or upheld' }, after: { status: 'confirmed', bulletinId: id } })),
    ], now)
    const dto = await bulletinDto(trx, signed, s.config.BUSINESS_TIMEZONE)
    await appendEvents(trx, [{ type: 'bulletin.published', complaintId: null, occurredAt: now, data: { bulletin: dto } }])
    return dto
  })
}

/** finance collected a department's line of a signed bulletin (办法 §7.9): all its confirmed notices are fulfilled */
export async function fulfilLine(s: Services, id: string, departmentId: string, note: string | null, ctx: AuditContext): Promise<NoticeDto[]> {
  return s.db.transaction().execute(async (trx) => {
    const b = await trx.selectFrom('penalty_bulletins').selectAll().where('id', '=', id).forShare().executeTakeFirst()
    if (!b) throw notFound('penalty bulletin', id)
    const line = await trx.selectFrom('penalty_bulletin_lines').select('department_id').where('bulletin_id', '=', id).where('department_id', '=', departmentId).executeTakeFirst()
    if (!line) throw notFound(`line of penalty bulletin ${id} for department`, departmentId)
    if (b.status !== 'signed') throw conflict('the bulletin is not signed yet: only confirmed notices are collected')
    const now = s.clock.now()
    const fulfilled = await repo.setNoticeStatus(trx, { bulletinId: id, departmentId, from: ['confirmed'] }, { at: now.toISOString(), status: 'fulfilled', actor: ctx.actor, reason: note }, now)
    if (fulfilled.length === 0) throw conflict(`every notice of ${departmentId} in this bulletin is fulfilled already`)
    await writeAudits(trx, ctx, fulfilled.map((n) => ({ entityType: 'penalty_notice', entityId: n.id, before: { status: 'confirmed' }, after: { status: 'fulfilled', note } })), now)
    await noticeEvents(trx, fulfilled, now)
    return fulfilled.map(noticeDto)
  })
}
