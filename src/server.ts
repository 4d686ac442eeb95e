import closeWithGrace from 'close-with-grace'
import { buildApp, createLogger } from './app.js'
import { describeDatabase, startupBanner } from './banner.js'
import { ConfigError, loadConfig } from './config.js'
import { openDatabase } from './db/open.js'
import { ensureFirstAdminKey } from './access/keys.js'
import { checkCalendarCoverage } from './jobs/calendar-coverage.js'
import { sealStoredSecrets, withEmbeddedSecretsKey } from './webhooks/secrets.js'

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const
/**
 * A Ctrl-C, or a stop sent to the whole process group (a terminal, systemd), reaches the server twice
 * under `npm start`: once directly and once forwarded by npm to its child. The same signal again within
 * this window is that copy, not a person insisting; a later one stops the process at once.
 */
const REPEATED_SIGNAL_MS = 2_000

/** The process: config, database, listen, graceful shutdown. */
async function main() {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message)
      process.exit(1)
    }
    throw err
  }

  const logger = createLogger(config)
  const handle = await openDatabase(config, (msg) => logger.warn(msg))
  config = await withEmbeddedSecretsKey(config, (msg) => logger.warn(msg))
  const app = await buildApp({ config, database: handle, logger })
  try {
    const sealed = await sealStoredSecrets(handle.db, app.services.secrets)
    if (sealed > 0) app.log.info({ sealed }, 'webhook secrets sealed with the current SECRETS_KEY')
  } catch (err) {
    // subscriptions exist and their secrets cannot be read: deliveries could not be signed
    app.log.fatal((err as Error).message)
    await app.close()
    process.exit(1)
  }
  app.log.info({ backend: handle.backend, dataDir: handle.backend === 'pglite' ? config.DATA_DIR : undefined, applied: handle.applied }, 'database ready and migrated')
  const firstKey = await ensureFirstAdminKey(handle.db, new Date(), config.ADMIN_API_KEY)
  // the holiday-data warning goes to the log at start, not only with the daily job
  const coverage = await checkCalendarCoverage(app.services, app.services.clock.now())
  if (!coverage.warning) app.log.info({ coveredThrough: coverage.coveredThrough }, 'holiday data covers the coming months')

  // SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the database (onClose), exit 0;
  // after SHUTDOWN_GRACE_MS exit 1 anyway. close-with-grace keeps the other signals and fatal errors.
  const shutdown = closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS, skip: [...STOP_SIGNALS] }, async ({ err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    await app.close()
  })
  let first: { signal: NodeJS.Signals; at: number } | undefined
  const onStopSignal = (signal: NodeJS.Signals) => {
    const at = performance.now()
    if (!first) {
      first = { signal, at }
      app.log.info({ signal }, 'shutting down')
      void shutdown.close()
    } else if (signal !== first.signal || at - first.at > REPEATED_SIGNAL_MS) {
      app.log.error({ signal }, 'second signal: exiting without waiting for in-flight requests')
      process.exit(1)
    }
  }
  for (const signal of STOP_SIGNALS) process.on(signal, onStopSignal)

  await app.listen({ port: config.PORT, host: config.HOST })
  const base = config.PUBLIC_BASE_URL ?? `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${(app.server.address() as { port: number }).port}`
  const database = describeDatabase(config)
  app.log.info({ database }, `API docs: ${base}/docs  (OpenAPI document: ${base}/openapi.json)`)
  const firstKeyPrinted = firstKey && !config.ADMIN_API_KEY ? firstKey : undefined
  // a new installation: the one time its first admin key exists in plain text. stderr, not the log stream.
  if (firstKeyPrinted) app.log.warn('no API key existed: created a first admin key and printed it on stderr (shown once)')
  // plain lines for a person, whatever the log format: where the docs are, which database, the first key
  process.stderr.write(startupBanner({ base, database, metricsOn: config.METRICS_TOKEN !== undefined, firstKey: firstKeyPrinted, backend: handle.backend }))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
