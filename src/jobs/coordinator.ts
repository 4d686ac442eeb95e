import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { RunCoordinator } from 'node-cron'
import type { Database } from '../db/types.js'

/**
 * node-cron's run coordinator on Postgres, so that with several replicas each job runs once per tick
 * and never overlaps itself:
 * - a lease per job (`job_leases`): taken only when free or expired, so a run still going blocks the
 *   next tick everywhere, and a crashed holder's lease expires after its TTL;
 * - a row per job and tick (`job_ticks`, insert-once): the first replica to claim the tick runs it.
 * node-cron's keys look like `<task name>:<tick ISO time>`.
 */
export interface DbRunCoordinator extends RunCoordinator {
  holder: string
  /** takes the job's lease outside the cron schedule (on-demand runs); false while another run holds it */
  acquire(job: string, ttlMs: number): Promise<boolean>
  release(job: string): Promise<void>
  /** keeps renewing the job's lease while a run lasts; call the returned function when it ends */
  keepAlive(job: string, ttlMs: number): () => void
  /** the scheduled run of `job` in this process succeeded: its tick is marked so when it completes */
  succeeded(job: string): void
}

export const newHolderId = () => `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`

export function createRunCoordinator(db: Kysely<Database>, now: () => Date, holder = newHolderId()): DbRunCoordinator {
  const jobOf = (key: string) => key.slice(0, key.indexOf(':'))
  // node-cron hands onComplete the key only: the run reports its success in between (a run of a job
  // never overlaps another of the same job, so one flag per job suffices)
  const succeededJobs = new Set<string>()

  async function acquire(job: string, ttlMs: number, via: Kysely<Database> = db): Promise<boolean> {
    const at = now()
    const lease = await via
      .insertInto('job_leases')
      .values({ job, holder, lease_until: new Date(at.getTime() + ttlMs) })
      .onConflict((oc) => oc.column('job').doUpdateSet({ holder, lease_until: new Date(at.getTime() + ttlMs) }).where('job_leases.lease_until', '<=', at))
      .returning('job')
      .executeTakeFirst()
    return lease !== undefined
  }

  async function release(job: string, via: Kysely<Database> = db): Promise<void> {
    await via.updateTable('job_leases').set({ lease_until: now() }).where('job', '=', job).where('holder', '=', holder).execute()
  }

  function keepAlive(job: string, ttlMs: number): () => void {
    const timer = setInterval(() => {
      db.updateTable('job_leases').set({ lease_until: new Date(now().getTime() + ttlMs) }).where('job', '=', job).where('holder', '=', holder).execute()
        .catch(() => undefined) // a failed renewal only means the lease may expire: another replica then takes over
    }, Math.max(1000, Math.floor(ttlMs / 3)))
    timer.unref()
    return () => clearInterval(timer)
  }

  return {
    holder,
    keepAlive,
    acquire: (job, ttlMs) => acquire(job, ttlMs),
    release: (job) => release(job),
    succeeded: (job) => void succeededJobs.add(job),
    async shouldRun(key, ttlMs) {
      const job = jobOf(key)
      succeededJobs.delete(job)
      return db.transaction().execute(async (trx) => {
        if (!(await acquire(job, ttlMs, trx))) return false
        const tick = await trx
          .insertInto('job_ticks')
          .values({ key, job, holder, claimed_at: now() })
          .onConflict((oc) => oc.column('key').doNothing())
          .returning('key')
          .executeTakeFirst()
        if (!tick) await release(job, trx) // another replica already ran this tick
        return tick !== undefined
      })
    },
    async onComplete(key) {
      const job = jobOf(key)
      const succeeded = succeededJobs.delete(job)
      await db.updateTable('job_ticks').set({ finished_at: now(), succeeded }).where('key', '=', key).execute()
      await release(job)
    },
  }
}
