// A child of `npm run bench -- sweep`: the service's sla-sweep job, as `npm run job -- sla-sweep` runs it
// (the compiled services over DATABASE_URL), timed in its two halves — the breach sweep (recordBreaches)
// and the escalations it leads to (escalateOverdue) — and its peak RSS. Prints one JSON line.
import { buildApp, createLogger } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { openDatabase } from '../../src/db/open.js'
import { escalateOverdue, recordBreaches } from '../../src/jobs/sla-sweep.js'

const config = { ...loadConfig(), SCHEDULER_ENABLED: false, WEBHOOK_DISPATCHER_ENABLED: false }
const app = await buildApp({ config, database: await openDatabase(config), logger: createLogger(config) })
await app.ready()
const rssBefore = process.memoryUsage().rss
try {
  const now = app.services.clock.now()
  const t0 = performance.now()
  const breaches = await recordBreaches(app.services, now)
  const t1 = performance.now()
  const { escalated } = await escalateOverdue(app.services, now)
  const t2 = performance.now()
  console.log(JSON.stringify({
    breaches, breachMs: t1 - t0, escalated, escalateMs: t2 - t1, totalMs: t2 - t0,
    rssBeforeMb: rssBefore / 1048576, maxRssMb: process.resourceUsage().maxRSS / 1024,
  }))
} finally {
  await app.close()
}
