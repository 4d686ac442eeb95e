import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import t from 'tap'
import { createLogger } from '../../src/app.js'
import { logComplaint } from '../../src/http/respond.js'

t.test('logComplaint names the complaint on every later line of its request, and of no other', async (t) => {
  const lines: Array<Record<string, unknown>> = []
  const root = createLogger({ LOG_LEVEL: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) })
  // as Fastify does: one child logger per request, bound to its id
  const first = { log: root.child({ reqId: 'r1' }) } as unknown as FastifyRequest
  const second = { log: root.child({ reqId: 'r2' }) } as unknown as FastifyRequest
  const firstLogger = first.log
  logComplaint(first, 'c-1')
  first.log.info('step')
  second.log.info('other request')
  root.info('app')
  logComplaint(second, 'c-2')
  second.log.error('failed')
  t.equal(first.log, firstLogger, 'the request keeps its logger')
  t.same(lines.map((l) => [l.msg, l.reqId, l.complaintId]), [
    ['step', 'r1', 'c-1'],
    ['other request', 'r2', undefined],
    ['app', undefined, undefined],
    ['failed', 'r2', 'c-2'],
  ])
})

t.test('a logger that cannot add bindings gets a child with the complaint instead', async (t) => {
  const made: Array<Record<string, unknown>> = []
  const child = { info: () => undefined } as unknown as FastifyBaseLogger
  const log = { child: (bindings: Record<string, unknown>) => (made.push(bindings), child) } as unknown as FastifyBaseLogger
  const req = { log } as unknown as FastifyRequest
  logComplaint(req, 'c-3')
  t.same(made, [{ complaintId: 'c-3' }])
  t.equal(req.log, child)
})
