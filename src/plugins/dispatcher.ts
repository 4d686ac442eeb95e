import { setTimeout as sleep } from 'node:timers/promises'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { dispatchOnce } from '../webhooks/dispatcher.js'

/**
 * The webhook dispatch loop (not a cron: events go out within about WEBHOOK_POLL_MS). Every replica
 * may run it; SKIP LOCKED shares the work. Stops on close after the round in flight.
 */
export default fp(async function dispatcher(app: FastifyInstance) {
  const s = app.services
  if (!s.config.WEBHOOK_DISPATCHER_ENABLED) return
  const stop = new AbortController()
  let loop: Promise<void> | undefined

  app.addHook('onReady', async () => {
    loop = (async () => {
      while (!stop.signal.aborted) {
        let idle = true
        try {
          const r = await dispatchOnce(s)
          idle = r.fannedOut === 0 && r.sent === 0
        } catch (err) {
          app.log.error({ err }, 'webhook dispatch round failed')
        }
        if (idle) await sleep(s.config.WEBHOOK_POLL_MS, undefined, { signal: stop.signal }).catch(() => undefined)
      }
    })()
  })
  app.addHook('onClose', async () => {
    stop.abort()
    await loop
  })
}, { name: 'dispatcher' })
