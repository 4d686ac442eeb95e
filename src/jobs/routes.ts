import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { DateTime, json, named, Nullable, problems } from '../http/common-schemas.js'
import { JOBS, JOB_NAMES, scheduleOf } from './index.js'

const JobName = Type.Enum([...JOB_NAMES])
const Job = named('Job', Type.Object({
  name: JobName, schedule: Nullable(Type.String({ description: 'cron expression in the business time zone; null: not scheduled in this configuration (it still runs on demand)' })), description: Type.String(),
  lastTick: Nullable(DateTime()), lastFinishedAt: Nullable(DateTime()), leaseHolder: Nullable(Type.String({ description: 'the replica running it now' })), leaseUntil: Nullable(DateTime()),
}, {
  description: 'a scheduled job',
  examples: [{ name: 'sla-sweep', schedule: '* * * * *', description: 'records breached clocks once per cycle (sla.breached) and upgrades complaints whose closure limit passed', lastTick: '2026-11-26T03:02:00.000Z', lastFinishedAt: '2026-11-26T03:02:00.412Z', leaseHolder: null, leaseUntil: null }],
}))
const JobList = named('JobList', Type.Object({ items: Type.Array(Job) }))
const JobRun = named('JobRun', Type.Object({ job: JobName, ranAt: DateTime(), result: Type.Record(Type.String(), Type.Unknown(), { description: 'the job’s own summary, e.g. breaches recorded per clock' }) }, {
  examples: [{ job: 'sla-sweep', ranAt: '2026-11-26T03:05:00.000Z', result: { breaches: { handover: 1, first_reply: 0, closure: 0, callback: 0 }, escalated: 0 } }],
}))

export default async function jobRoutes(app: FastifyInstance) {
  const { services } = app
  const tags = ['admin']

  app.get('/v1/admin/jobs', {
    schema: {
      operationId: 'listJobs', tags, summary: 'Scheduled jobs, their schedule and last run',
      response: { 200: json('Every job.', JobList) },
    },
  }, async () => {
    const now = services.clock.now()
    const leases = await services.db.selectFrom('job_leases').selectAll().execute()
    const ticks = await services.db.selectFrom('job_ticks').select(['job', (eb) => eb.fn.max('claimed_at').as('last'), (eb) => eb.fn.max('finished_at').as('finished')]).groupBy('job').execute()
    return {
      items: JOB_NAMES.map((name) => {
        const lease = leases.find((l) => l.job === name && l.lease_until > now)
        const tick = ticks.find((t) => t.job === name)
        return {
          name, schedule: scheduleOf(JOBS[name], services.config), description: JOBS[name].description,
          lastTick: tick?.last ? new Date(tick.last).toISOString() : null,
          lastFinishedAt: tick?.finished ? new Date(tick.finished).toISOString() : null,
          leaseHolder: lease?.holder ?? null, leaseUntil: lease ? lease.lease_until.toISOString() : null,
        }
      }),
    }
  })

  app.post('/v1/admin/jobs/:name/run', {
    schema: {
      operationId: 'runJob', tags, summary: 'Run a job now',
      description: 'Runs under the job’s lease: 409 while a scheduled run holds it anywhere in the cluster.',
      params: Type.Object({ name: JobName }, { additionalProperties: false }),
      response: { 200: json('What the run did.', JobRun), ...problems(409) },
    },
  }, async (req) => {
    const { name } = req.params as { name: (typeof JOB_NAMES)[number] }
    const ranAt = services.clock.now().toISOString()
    return { job: name, ranAt, result: await app.jobs.runNow(name) }
  })
}
