import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ProblemError } from '../errors.js'

const WINDOW_MS = 60_000
/** the orchestrator's probes are never throttled */
const EXEMPT = new Set(['/healthz', '/readyz'])
/** addresses tracked at most; expired windows are dropped when this is reached */
const MAX_TRACKED = 50_000

/**
 * Requests answered without a valid API key — public routes, unknown paths and every 401 — count
 * per client address; once an address has had RATE_LIMIT_ANONYMOUS_PER_MINUTE of them in its current
 * minute, its requests are 429 until the minute ends, checked before authentication, so a key guess
 * costs no database read. Requests with a valid key count against their key instead
 * (@fastify/rate-limit, after authentication). Counting happens when the answer is known, so requests
 * in flight together can pass the limit by their number, once.
 */
export default fp(async function addressLimit(app: FastifyInstance) {
  const max = app.services.config.RATE_LIMIT_ANONYMOUS_PER_MINUTE
  const windows = new Map<string, { count: number; endsAt: number }>()
  const now = () => app.services.clock.now().getTime()
  const exempt = (request: FastifyRequest) => EXEMPT.has(request.url.split('?')[0]!)

  app.addHook('onRequest', async (request, reply) => {
    if (exempt(request)) return
    const window = windows.get(request.ip)
    const at = now()
    if (!window || window.endsAt <= at || window.count < max) return
    const seconds = Math.ceil((window.endsAt - at) / 1000)
    reply.header('retry-after', String(seconds))
    throw new ProblemError({
      status: 429, code: 'rate-limited', title: 'Too Many Requests',
      detail: `more than ${max} requests a minute without a valid API key from this address; retry after ${seconds} s`,
    })
  })

  app.addHook('onResponse', async (request) => {
    if (request.principal || exempt(request)) return
    const at = now()
    let window = windows.get(request.ip)
    if (!window || window.endsAt <= at) {
      if (windows.size >= MAX_TRACKED) for (const [ip, w] of windows) if (w.endsAt <= at) windows.delete(ip)
      window = { count: 0, endsAt: at + WINDOW_MS }
      windows.set(request.ip, window)
    }
    window.count++
  })
}, { name: 'address-limit', dependencies: ['problems'] })
