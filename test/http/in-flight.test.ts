import type { IncomingMessage } from 'node:http'
import t from 'tap'
import { hasBody, InFlight } from '../../src/http/in-flight.js'

const request = (method: string, headers: Record<string, string> = {}) => ({ method, headers }) as unknown as IncomingMessage

t.test('drained: at once when nothing runs, when the last request ends, false after the timeout', async (t) => {
  const running = new InFlight()
  t.equal(await running.drained(1), true, 'nothing running')
  const a = {}
  const b = {}
  running.start(a)
  running.start(a)
  running.start(b)
  t.equal(running.size, 2, 'a request started twice counts once')
  t.equal(await running.drained(20), false, 'still running after the timeout')
  let drained: boolean | undefined
  const waiting = running.drained(10_000).then((d) => (drained = d))
  running.end(a)
  running.end(a)
  running.end({})
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(drained, undefined, 'ending one twice, or one never started, does not end another')
  t.equal(running.size, 1)
  running.end(b)
  await waiting
  t.equal(drained, true, 'resolved when the last one ends')
  t.equal(running.size, 0)
})

t.test('hasBody: the requests Fastify reads a body for', async (t) => {
  t.equal(hasBody(request('GET', { 'content-length': '10' })), false, 'never for GET')
  t.equal(hasBody(request('HEAD')), false, 'never for HEAD')
  t.equal(hasBody(request('POST', { 'content-length': '0' })), false, 'an empty body')
  t.equal(hasBody(request('POST')), false, 'none announced')
  t.equal(hasBody(request('POST', { 'content-length': '17' })), true)
  t.equal(hasBody(request('PUT', { 'transfer-encoding': 'chunked' })), true)
  t.equal(hasBody(request('DELETE', { 'content-length': '2' })), true)
})
