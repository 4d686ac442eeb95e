// npm run job -- <name>: runs one scheduled job now (under its lease) and prints its result.
// On the embedded database stop the service first (PGlite allows one process per data directory).
import { buildApp, createLogger } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/open.js'
import { JOB_NAMES } from '../src/jobs/index.js'

const name = process.argv[2]
if (!name || !(JOB_NAMES as string[]).includes(name)) {
  console.error(`usage: npm run job -- <${JOB_NAMES.join('|')}>`)
  process.exit(2)
}
const config = { ...loadConfig(), SCHEDULER_ENABLED: false, WEBHOOK_DISPATCHER_ENABLED: false }
const app = await buildApp({ config, database: await openDatabase(config), logger: createLogger(config) })
await app.ready()
try {
  console.log(JSON.stringify({ job: name, result: await app.jobs.runNow(name) }, null, 2))
} finally {
  await app.close()
}
