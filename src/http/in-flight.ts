import type { IncomingMessage } from 'node:http'

/**
 * Requests being worked on, from their first hook to their answer. Fastify's `close()` waits for open
 * connections, not for work: a request whose client hung up keeps running its handler (its database
 * statements included) after the connection is gone, and `onClose` ran under it — the database closed,
 * the handler's next statement failed with "driver has already been destroyed", logged as an error at
 * every stop under load. The app closes the database only once this count is back to zero.
 *
 * A request starts in the first `onRequest` hook and ends when its answer is handed over (`onSend`),
 * which Fastify runs whether or not the client is still there; ending twice (an error in `onSend`
 * answered again) counts once. Requests that fail before routing (a malformed URL) run neither hook
 * and were never counted. One kind of request never reaches `onSend`: one with a body whose client hung
 * up while the `onRequest` hooks ran — Fastify reads the body afterwards, from a request stream already
 * destroyed, and waits for it forever (its handler never runs); the app ends those at `onRequestAbort`.
 */
export class InFlight {
  private readonly running = new WeakSet<object>()
  private count = 0
  private waiters: Array<() => void> = []

  get size(): number {
    return this.count
  }

  start(request: object): void {
    if (this.running.has(request)) return
    this.running.add(request)
    this.count++
  }

  end(request: object): void {
    if (!this.running.delete(request)) return
    if (--this.count === 0) for (const wake of this.waiters.splice(0)) wake()
  }

  /** resolves true once nothing is running, false if `timeoutMs` passed first */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake)
        resolve(false)
      }, timeoutMs)
      this.waiters.push(wake)
    })
  }
}

/** whether Fastify reads a body for this request (GET and HEAD never; others when one is announced) */
export function hasBody(raw: IncomingMessage): boolean {
  if (raw.method === 'GET' || raw.method === 'HEAD') return false
  const length = raw.headers['content-length']
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}
