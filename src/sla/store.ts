import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/types.js'
import { defaultCalendar, DEFAULT_BLOCKS, type Block, type BusinessCalendar } from '../domain/calendar.js'
import type { SlaPolicy } from '../domain/sla.js'

/**
 * SLA policies and the business calendar as the service reads them: policy versions are immutable
 * (cached for good); the current version and the calendar overrides are re-read after a short TTL,
 * so replicas see an administrator's change within seconds, and at once in the replica that made it.
 */
/**
 * Inside a transaction pass it as `via`: PGlite has one connection, so a read on the pool would wait
 * for the very transaction that waits for it.
 */
export interface SlaStore {
  policy(version: number, via?: Kysely<Database>): Promise<SlaPolicy>
  currentVersion(via?: Kysely<Database>): Promise<number>
  calendar(via?: Kysely<Database>): Promise<BusinessCalendar>
  /** forget cached current version and overrides (after a change through the API) */
  invalidate(): void
}

const TTL_MS = 30_000

export function createSlaStore(db: Kysely<Database>, opts: { timeZone: string; blocks?: readonly Block[]; now?: () => number }): SlaStore {
  const now = opts.now ?? Date.now
  const policies = new Map<number, Promise<SlaPolicy>>()
  let current: { at: number; value: Promise<number> } | undefined
  let calendar: { at: number; value: Promise<BusinessCalendar> } | undefined
  const fresh = <T>(entry: { at: number; value: T } | undefined) => entry && now() - entry.at < TTL_MS

  return {
    policy(version, via = db) {
      let p = policies.get(version)
      if (!p) {
        p = via.selectFrom('sla_policies').select(['version', 'policy']).where('version', '=', version).executeTakeFirstOrThrow()
          .then((row) => ({ ...(row.policy as Omit<SlaPolicy, 'version'>), version: row.version }))
        p.catch(() => policies.delete(version))
        policies.set(version, p)
      }
      return p
    },
    currentVersion(via = db) {
      if (!fresh(current)) {
        const value = via.selectFrom('sla_policies').select((eb) => eb.fn.max('version').as('v')).executeTakeFirstOrThrow().then((r) => Number(r.v))
        current = { at: now(), value }
        value.catch(() => (current = undefined))
      }
      return current!.value
    },
    calendar(via = db) {
      if (!fresh(calendar)) {
        const value = via.selectFrom('calendar_overrides').select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'), 'working']).execute()
          .then((rows) => ({ ...defaultCalendar(opts.timeZone), blocks: opts.blocks ?? DEFAULT_BLOCKS, overrides: new Map(rows.map((r) => [r.day, r.working])) }))
        calendar = { at: now(), value }
        value.catch(() => (calendar = undefined))
      }
      return calendar!.value
    },
    invalidate() {
      current = undefined
      calendar = undefined
    },
  }
}
