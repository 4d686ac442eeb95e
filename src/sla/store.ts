import { sql, type Kysely } from 'kysely'
import type { Database } from '../db/types.js'
import { defaultCalendar, DEFAULT_BLOCKS, type Block, type BusinessCalendar } from '../domain/calendar.js'
import type { SlaPolicy } from '../domain/sla.js'

/**
 * SLA policies and the business calendar as the service reads them: policy versions are immutable
 * (cached for good); the current version and the calendar overrides are re-read after a short TTL,
 * so replicas see an administrator's change within seconds, and at once in the replica that made it.
 *
 * Inside a transaction pass it as `via`. Only resolved values are cached, and a pending read is shared
 * only among callers reading from the pool: on PGlite (one connection) a read started on the pool cannot
 * finish while a transaction holds the connection, and a transaction awaiting that read would wait for
 * ever. Sharing the pool's read matters when the cache expires under load: a list page asks for the
 * calendar once per complaint, at once, and 50 concurrent pages each asking 50 times put 2,500 queries
 * in the pool's queue every 30 seconds (npm run bench: the overload guard then shed 42–45% of requests).
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

  /** the pool's read of `key` in flight, if any: concurrent pool callers share it */
  const inFlight = new Map<string, Promise<unknown>>()
  /** bumped by invalidate(): a read started before a change neither is joined nor fills the cache after it */
  let generation = 0
  const readOnce = <T>(key: string, via: Kysely<Database>, read: () => Promise<T>): Promise<T> => {
    if (via !== db) return read()
    let pending = inFlight.get(key) as Promise<T> | undefined
    if (!pending) {
      const started: Promise<T> = read().finally(() => {
        if (inFlight.get(key) === started) inFlight.delete(key)
      })
      inFlight.set(key, started)
      pending = started
    }
    return pending
  }

  return {
    async policy(version, via = db) {
      let p = policies.get(version)
      if (!p) {
        const row = await readOnce(`policy ${version}`, via, () => via.selectFrom('sla_policies').select(['version', 'policy']).where('version', '=', version).executeTakeFirstOrThrow())
        p = { ...(row.policy as Omit<SlaPolicy, 'version'>), version: row.version }
        policies.set(version, p)
      }
      return p
    },
    async currentVersion(via = db) {
      if (fresh(current)) return current.value
      const asOf = generation
      const row = await readOnce('current version', via, () => via.selectFrom('sla_policies').select((eb) => eb.fn.max('version').as('v')).executeTakeFirstOrThrow())
      const value = Number(row.v)
      if (asOf === generation) current = { at: now(), value }
      return value
    },
    async calendar(via = db) {
      if (fresh(calendar)) return calendar.value
      const asOf = generation
      const rows = await readOnce('calendar', via, () => via.selectFrom('calendar_overrides').select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'), 'working']).execute())
      const value = { ...defaultCalendar(opts.timeZone), blocks: opts.blocks ?? DEFAULT_BLOCKS, overrides: new Map(rows.map((r) => [r.day, r.working])) }
      if (asOf === generation) calendar = { at: now(), value }
      return value
    },
    invalidate() {
      generation++
      inFlight.clear()
      current = undefined
      calendar = undefined
    },
  }
}
