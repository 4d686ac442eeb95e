// npm run demo: a sandbox to try the whole lifecycle from the docs page. It (re)creates the demo's own
// embedded database (DEMO_DATA_DIR, default ./data-demo), makes one API key per role and a sample
// complaint, prints them; `npm run demo` then starts the service on that directory. It never touches
// DATA_DIR or a DATABASE_URL: minting a key for every role belongs in a sandbox, not in production.
import { rmSync } from 'node:fs'
import path from 'node:path'
import { buildApp, createLogger } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/open.js'
import { seedDemo } from '../src/demo.js'

if (process.env.DATABASE_URL) {
  console.error('npm run demo runs on its own embedded database only: unset DATABASE_URL (create keys for a real deployment with POST /v1/admin/api-keys).')
  process.exit(2)
}
const dataDir = path.resolve(process.env.DEMO_DATA_DIR ?? 'data-demo')
if (dataDir === path.resolve(process.env.DATA_DIR ?? 'data')) {
  console.error(`DEMO_DATA_DIR is the service's DATA_DIR (${dataDir}): the demo would delete it. Choose another directory.`)
  process.exit(2)
}
rmSync(dataDir, { recursive: true, force: true })
const config = { ...loadConfig({ ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' }), SCHEDULER_ENABLED: false, WEBHOOK_DISPATCHER_ENABLED: false }
const app = await buildApp({ config, database: await openDatabase(config), logger: createLogger(config) })
await app.ready()
const seed = await seedDemo(app.services)
await app.close()

const width = Math.max(...seed.keys.map((k) => k.role.length + (k.departmentId ? k.departmentId.length + 3 : 0)))
console.log([
  '',
  `  Demo sandbox in ${path.relative(process.cwd(), dataDir) || dataDir} (deleted and made again by every \`npm run demo\`).`,
  '  API keys, one per role — on the docs page click Authorize and paste the key of the role whose step you take:',
  ...seed.keys.map((k) => `    ${`${k.role}${k.departmentId ? ` (${k.departmentId})` : ''}`.padEnd(width)}  ${k.secret}`),
  '',
  `  Sample complaint ${seed.complaint.reference}: id ${seed.complaint.id}`,
  `  Public tracking: GET /v1/track/${seed.complaint.reference}?token=${seed.complaint.trackingToken}`,
  '  Walk it (POST /v1/complaints/{id}/…): cs_agent acknowledge, assess, handover → department sign, replies,',
  '  investigation, closure-request → cs_agent closure-callback → management close. `allowedActions` says what is next.',
  '',
].join('\n'))
