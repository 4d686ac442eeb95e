import { randomUUID } from 'node:crypto'

/**
 * UUIDv7 (RFC 9562): 48-bit Unix milliseconds then random bits, so ids sort by the time they were made:
 * event ids (the outbox's order, the webhook-id) and complaint ids. A complaint's id leads every index
 * keyed by it — its timeline's, its breaches', its events' — so with time-ordered ids the complaints
 * being worked on now (the ones the sweep and the lifecycle write for) share a few recent index pages
 * instead of landing on a random page of each (README: Performance). The random
 * bits are a v4 UUID's (Node draws those from a cached block of entropy, where a `randomBytes(16)` per
 * id cost a system call each: 0.15 s of a 21,000-event sweep): its first 48 bits give way to the time,
 * its version nibble to 7, and its variant bits are already RFC 9562's.
 */
export function uuidv7(now = Date.now()): string {
  const time = now.toString(16).padStart(12, '0')
  const random = randomUUID() // xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`
}
