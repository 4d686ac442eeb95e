import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/types.js'
import { defaultCalendar, DEFAULT_BLOCKS, type Block, type BusinessCalendar } from '../domain/calendar.js'
import type { SlaPolicy } from '../domain/sla.js'

/**
 * SLA policies and the business calendar as the service reads them: policy versions are immutable
 * (cached for good); the current version and the calendar overrides are re-read after a short TTL,
 * so replicas see an administrator's change within seconds, and at once in the replica that made it.
 *
 * Inside a transaction pass it as `via`. Only resolved values are cached, never a pending read: on
 * PGlite (one connection) a read started on the pool cannot finish while a transaction holds the
 * connection, and a transaction awaiting that read would wait for ever.
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
  const policies = new Map<number, SlaPolicy>()
  let current: { at: number; value: number } | undefined
  let calendar: { at: number; value: BusinessCalendar } | undefined
  const fresh = <T>(entry: { at: number; value: T } | undefined): entry is { at: number; value: T } => entry !== undefined && now() - entry.at < TTL_MS

  return {
    async policy(version, via = db) {
      let p = policies.get(version)
      if (!p) {
        const row = await via.selectFrom('sla_policies').select(['version', 'policy']).where('version', '=', version).executeTakeFirstOrThrow()
        p = { ...(row.policy as Omit<SlaPolicy, 'version'>), version: row.version }
        policies.set(version, p)
      }
      return p
    },
    async currentVersion(via = db) {
      if (fresh(current)) return current.value
      const row = await via.selectFrom('sla_policies').select((eb) => eb.fn.max('version').as('v')).executeTakeFirstOrThrow()
      current = { at: now(), value: Number(row.v) }
      return current.value
    },
    async calendar(via = db) {
      if (fresh(calendar)) return calendar.value
      const rows = await via.selectFrom('calendar_overrides').select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'), 'working']).execute()
      const value = { ...defaultCalendar(opts.timeZone), blocks: opts.blocks ?? DEFAULT_BLOCKS, overrides: new Map(rows.map((r) => [r.day, r.working])) }
      calendar = { at: now(), value }
      return value
    },
    invalidate() {
      current = undefined
      calendar = undefined
    },
  }
}
