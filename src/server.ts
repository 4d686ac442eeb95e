import closeWithGrace from 'close-with-grace'
import { buildApp, createLogger } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { openDatabase } from './db/open.js'

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
  const database = await openDatabase(config, (msg) => logger.warn(msg))
  const app = await buildApp({ config, database, logger })
  app.log.info({ backend: database.backend, dataDir: database.backend === 'pglite' ? config.DATA_DIR : undefined }, 'database ready and migrated')

  // SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the database (onClose)
  closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
  })

  await app.listen({ port: config.PORT, host: config.HOST })
  const base = config.PUBLIC_BASE_URL ?? `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${(app.server.address() as { port: number }).port}`
  app.log.info(`API docs: ${base}/docs  (OpenAPI document: ${base}/openapi.json)`)
  // a person at a terminal gets the URL as a plain line too, outside the JSON log stream
  if (process.stderr.isTTY) console.error(`\n  Complaint service ready on ${database.backend}: API docs at ${base}/docs\n`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
