import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { DateTime, Nullable, problems } from '../http/common-schemas.js'
import { JOBS, JOB_NAMES } from './index.js'

const JobName = Type.Enum([...JOB_NAMES])

export default async function jobRoutes(app: FastifyInstance) {
  const { services } = app
  const tags = ['admin']

  app.get('/v1/admin/jobs', {
    schema: {
      operationId: 'listJobs', tags, summary: 'Scheduled jobs, their schedule and last run',
      response: {
        200: Type.Object({
          items: Type.Array(Type.Object({
            name: JobName, schedule: Type.String(), description: Type.String(),
            lastTick: Nullable(DateTime()), lastFinishedAt: Nullable(DateTime()), leaseHolder: Nullable(Type.String()), leaseUntil: Nullable(DateTime()),
          })),
        }),
      },
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
          name, schedule: JOBS[name].schedule, description: JOBS[name].description,
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
      response: { 200: Type.Object({ job: JobName, ranAt: DateTime(), result: Type.Unknown() }), ...problems(404, 409) },
    },
  }, async (req) => {
    const { name } = req.params as { name: (typeof JOB_NAMES)[number] }
    const ranAt = services.clock.now().toISOString()
    return { job: name, ranAt, result: await app.jobs.runNow(name) }
  })
}
