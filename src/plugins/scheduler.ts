import cron, { type ScheduledTask } from 'node-cron'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { conflict, notFound } from '../errors.js'
import { createRunCoordinator, type DbRunCoordinator } from '../jobs/coordinator.js'
import { JOBS, scheduleOf, type JobName } from '../jobs/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    jobs: {
      coordinator: DbRunCoordinator
      /** runs a job now, under its lease (no overlap with a scheduled run anywhere) */
      runNow(name: string): Promise<unknown>
    }
  }
}

/**
 * The scheduler: node-cron tasks in the business time zone, coordinated through Postgres with
 * node-cron's own `distributed` option, so several replicas run each job once per tick. Starts when
 * the app is ready, stops on close and waits for running jobs.
 */
export default fp(async function scheduler(app: FastifyInstance) {
  const s = app.services
  const coordinator = createRunCoordinator(s.db, () => s.clock.now())

  async function runNow(name: string) {
    const job = JOBS[name as JobName]
    if (!job) throw notFound('job', name)
    if (!(await coordinator.acquire(name, job.leaseMs))) throw conflict(`job ${name} is running right now (its lease is held); try again shortly`)
    const stopRenewing = coordinator.keepAlive(name, job.leaseMs)
    try {
      return await job.run(s, s.clock.now())
    } finally {
      stopRenewing()
      await coordinator.release(name)
    }
  }
  app.decorate('jobs', { coordinator, runNow })

  const tasks: ScheduledTask[] = []
  const running = new Set<Promise<unknown>>()

  app.addHook('onReady', async () => {
    if (!s.config.SCHEDULER_ENABLED) return
    const scheduled = Object.entries(JOBS).flatMap(([name, job]) => {
      const schedule = scheduleOf(job, s.config)
      return schedule === null ? [] : [{ name, job, schedule }]
    })
    for (const { name, job, schedule } of scheduled) {
      const task = cron.schedule(
        schedule,
        () => {
          // a run longer than its lease keeps it, so no other replica starts the same job meanwhile
          const stopRenewing = coordinator.keepAlive(name, job.leaseMs)
          const run = job.run(s, s.clock.now()).finally(stopRenewing).then(
            (result) => {
              coordinator.succeeded(name) // the tick records it: complaint_job_last_success_timestamp_seconds
              app.log.debug({ job: name, result }, 'job finished')
            },
            (err: unknown) => app.log.error({ err, job: name }, 'job failed'),
          )
          running.add(run)
          return run.finally(() => running.delete(run))
        },
        { name, timezone: s.config.BUSINESS_TIMEZONE, noOverlap: true, distributed: true, runCoordinator: coordinator, distributedLease: job.leaseMs },
      )
      tasks.push(task)
    }
    app.log.info({ jobs: scheduled.map((j) => j.name), holder: coordinator.holder }, 'scheduler started')
  })

  app.addHook('onClose', async () => {
    for (const task of tasks) await task.destroy()
    await Promise.allSettled([...running])
  })
}, { name: 'scheduler' })
