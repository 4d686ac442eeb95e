import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { Services } from '../context.js'
import type { WebhookDelivery, WebhookSubscription } from '../db/types.js'
import { appendEvents } from '../outbox/outbox.js'
import { matchesEventType, retryDelayMs } from './policy.js'
import { targetOf, type DeliveryOutcome } from './targets.js'

export { publicOnlyLookup, signatures } from './http-target.js'

/**
 * The webhook dispatcher (README, Webhooks): at-least-once delivery from the transactional outbox.
 * 1. fan-out: claims undispatched outbox events (FOR UPDATE SKIP LOCKED) and creates one delivery per
 *    matching subscription;
 * 2. send: claims as many due deliveries as it sends at once (FOR UPDATE SKIP LOCKED, then a lock
 *    lease longer than one request), so replicas work in parallel and never send one delivery twice at
 *    once; hands each to its subscription's delivery target (src/webhooks/targets.ts: a signed POST to
 *    a URL, or a built-in target writing into another system); records the attempt only while it
 *    still holds the claim; schedules a retry with backoff or dead-letters it.
 */
export interface DispatchOptions {
  /** events fanned out per round */
  batchSize?: number
  /** deliveries claimed and sent at once per round */
  concurrency?: number
  /** the source of randomness for retry jitter (tests pin it) */
  random?: () => number
}

export interface DispatchResult {
  fannedOut: number
  sent: number
  succeeded: number
  failed: number
}

export async function fanOut(s: Services, now: Date, limit: number): Promise<number> {
  return s.db.transaction().execute(async (trx) => {
    const events = await trx.selectFrom('outbox_events').select(['id', 'event_id', 'type', 'occurred_at'])
      .where('dispatched_at', 'is', null).orderBy('id').limit(limit).forUpdate().skipLocked().execute()
    if (events.length === 0) return 0
    // paused and disabled subscriptions get their deliveries too: held, they go out when re-activated
    const subscriptions = await trx.selectFrom('webhook_subscriptions').select(['id', 'event_types']).execute()
    const deliveries = events.flatMap((e) => subscriptions.filter((sub) => matchesEventType(sub.event_types, e.type)).map((sub) => ({
      id: randomUUID(), subscription_id: sub.id, event_id: e.event_id, event_type: e.type, occurred_at: e.occurred_at,
      status: 'pending', attempts: 0, next_attempt_at: now, created_at: now,
    })))
    if (deliveries.length > 0) {
      await trx.insertInto('webhook_deliveries').values(deliveries).onConflict((oc) => oc.columns(['subscription_id', 'event_id']).doNothing()).execute()
    }
    await trx.updateTable('outbox_events').set({ dispatched_at: now }).where('id', 'in', events.map((e) => e.id)).execute()
    return events.length
  })
}

/**
 * Claims due deliveries of active subscriptions. The claim is a lock lease (`locked_until`, also the
 * claim's token) outlasting one request; a crashed sender's claim expires and the delivery is retried.
 */
async function claim(s: Services, now: Date, limit: number): Promise<WebhookDelivery[]> {
  const lockUntil = new Date(now.getTime() + s.config.WEBHOOK_TIMEOUT_MS * 2 + 5_000)
  const result = await sql<WebhookDelivery>`
    update webhook_deliveries set status = 'sending', locked_until = ${lockUntil}
    where id in (
      select d.id from webhook_deliveries d join webhook_subscriptions sub on sub.id = d.subscription_id and sub.status = 'active'
      where (d.status in ('pending', 'retrying') and d.next_attempt_at <= ${now}) or (d.status = 'sending' and d.locked_until < ${now})
      order by d.next_attempt_at limit ${limit}
      for update of d skip locked)
    returning *`.execute(s.db)
  return result.rows
}

/**
 * Records an attempt — only while this sender still holds the claim (status `sending`, same lease), so
 * a sender whose lease ran out cannot overwrite what another sender did since.
 */
async function record(s: Services, sub: WebhookSubscription, d: WebhookDelivery, o: DeliveryOutcome, now: Date, random: () => number): Promise<boolean> {
  const ok = o.ok
  const attempts = d.attempts + 1
  const retry = !ok && o.retryable && attempts < s.config.WEBHOOK_MAX_ATTEMPTS
  const next = retry
    ? new Date(now.getTime() + retryDelayMs(attempts, { baseSeconds: s.config.WEBHOOK_RETRY_BASE_SECONDS, maxSeconds: s.config.WEBHOOK_RETRY_MAX_SECONDS, maxAttempts: s.config.WEBHOOK_MAX_ATTEMPTS }, o.retryAfter, random))
    : null
  return s.db.transaction().execute(async (trx) => {
    const held = await trx.updateTable('webhook_deliveries').set({
      status: ok ? 'succeeded' : retry ? 'retrying' : 'dead',
      attempts, locked_until: null, last_status_code: o.statusCode, last_error: o.error, last_latency_ms: o.latencyMs,
      ...(ok ? { delivered_at: now } : {}), ...(next ? { next_attempt_at: next } : {}),
    }).where('id', '=', d.id).where('status', '=', 'sending').where('locked_until', '=', d.locked_until!).returning('id').executeTakeFirst()
    if (!held) {
      s.log.warn({ delivery: d.id }, 'webhook claim expired before the attempt was recorded; another sender owns it now')
      return false
    }
    await trx.insertInto('webhook_attempts').values({
      delivery_id: d.id, attempted_at: now, status_code: o.statusCode, latency_ms: o.latencyMs, error: o.error, next_attempt_at: next,
    }).execute()
    if (ok) {
      await trx.updateTable('webhook_subscriptions').set({ failing_since: null }).where('id', '=', sub.id).where('failing_since', 'is not', null).execute()
      return true
    }
    const failing = await trx.updateTable('webhook_subscriptions').set({ failing_since: sql`coalesce(failing_since, ${now})` })
      .where('id', '=', sub.id).returning(['failing_since', 'status']).executeTakeFirstOrThrow()
    // 410 Gone: the receiver asks for no more deliveries (Standard Webhooks) — disabled at once
    const gone = o.gone === true
    const limit = s.config.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000
    if (failing.status === 'active' && (gone || (failing.failing_since && now.getTime() - failing.failing_since.getTime() >= limit))) {
      const reason = gone ? 'the receiver answered 410 Gone' : `deliveries failed for ${s.config.WEBHOOK_DISABLE_AFTER_HOURS} hours (last: ${o.error})`
      await trx.updateTable('webhook_subscriptions').set({ status: 'disabled', disabled_reason: reason, updated_at: now }).where('id', '=', sub.id).execute()
      // the event goes to every subscriber of webhook.*: it names the subscription and host, not the URL (which may carry a token)
      const host = targetOf(sub).host(s, sub)
      await appendEvents(trx, [{ type: 'webhook.subscription_disabled', complaintId: null, occurredAt: now, data: { subscription: { id: sub.id, host }, reason } }])
      s.log.warn({ subscription: sub.id, host }, reason)
    }
    return false
  })
}

/** one round: fan out new events, then send what is due. Returns what it did (0s when idle). */
export async function dispatchOnce(s: Services, opts: DispatchOptions = {}): Promise<DispatchResult> {
  const random = opts.random ?? Math.random
  const fannedOut = await fanOut(s, s.clock.now(), opts.batchSize ?? 100)
  const now = s.clock.now()
  // claim no more than is sent at once: a claimed delivery is never left waiting for a worker
  const due = await claim(s, now, opts.concurrency ?? 10)
  if (due.length === 0) return { fannedOut, sent: 0, succeeded: 0, failed: 0 }
  const subs = new Map((await s.db.selectFrom('webhook_subscriptions').selectAll().where('id', 'in', [...new Set(due.map((d) => d.subscription_id))]).execute()).map((x) => [x.id, x]))
  // the payload's text as the outbox wrote it (a json column keeps it byte for byte): the body signed and sent
  const bodies = new Map((await s.db.selectFrom('outbox_events').select(['event_id', sql<string>`payload::text`.as('body')]).where('event_id', 'in', due.map((d) => d.event_id)).execute()).map((e) => [e.event_id, e.body]))
  const results = await Promise.all(due.map(async (d) => {
    const sub = subs.get(d.subscription_id)!
    // a target that throws (a bug, the database gone) fails this attempt, to be retried, not the whole round
    const outcome = await targetOf(sub).deliver(s, sub, d, bodies.get(d.event_id) ?? '{}', now)
      .catch((err: Error): DeliveryOutcome => ({ ok: false, retryable: true, statusCode: null, error: `${err.name}: ${err.message}`, latencyMs: 0, retryAfter: null }))
    return record(s, sub, d, outcome, s.clock.now(), random)
  }))
  const succeeded = results.filter(Boolean).length
  return { fannedOut, sent: due.length, succeeded, failed: due.length - succeeded }
}
