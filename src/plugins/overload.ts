import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { DbHandle } from '../db/create-db.js'
import { ProblemError } from '../errors.js'

/** how long an overloaded replica asks clients to wait */
const RETRY_AFTER_SECONDS = 5
const WARM_UP_MS = 5_000

/**
 * Load shedding: while the event loop lags (mean delay above OVERLOAD_EVENT_LOOP_DELAY_MS) or too many
 * queries wait for a database connection (OVERLOAD_MAX_WAITING_QUERIES), requests are answered at once
 * with 503 problem+json and Retry-After instead of queueing without bound. /healthz keeps answering: the
 * process is alive, just busy (/readyz says whether to send it traffic).
 */
export default fp(async function overload(app: FastifyInstance, opts: { database: Pick<DbHandle, 'backend' | 'waitingQueries'> }) {
  const { config } = app.services
  // the embedded database runs its queries on the event loop: a long query there is not overload
  const maxEventLoopDelay = opts.database.backend === 'pglite' ? 0 : config.OVERLOAD_EVENT_LOOP_DELAY_MS
  const maxWaiting = config.OVERLOAD_MAX_WAITING_QUERIES
  const waiting = opts.database.waitingQueries
  // start-up's one-off work (compiling every schema) is not load: the event loop is judged from a few
  // seconds after the service is ready
  let warmedUp = false
  const shed = (reply: FastifyReply, why: string) => {
    reply.header('retry-after', String(RETRY_AFTER_SECONDS))
    return Promise.reject(new ProblemError({ status: 503, code: 'overloaded', title: 'Service Unavailable', detail: `${why}: retry after ${RETRY_AFTER_SECONDS} seconds` }))
  }
  app.addHook('onReady', async () => { setTimeout(() => { warmedUp = true }, WARM_UP_MS).unref() })
  await app.register(underPressure, {
    ...(maxEventLoopDelay > 0 ? { maxEventLoopDelay } : {}),
    pressureHandler: (req, reply) => {
      if (req.url === '/healthz' || !warmedUp) return undefined
      return shed(reply, 'the event loop is overloaded')
    },
  })
  // the connection queue is read on every request (a sampled check lets a short burst through unseen)
  if (maxWaiting > 0 && waiting) {
    app.addHook('onRequest', async (req, reply) => {
      if (req.url !== '/healthz' && waiting() > maxWaiting) await shed(reply, `more than ${maxWaiting} queries are waiting for a database connection`)
    })
  }
}, { name: 'overload', dependencies: ['problems'] })
