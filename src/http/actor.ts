import type { FastifyRequest } from 'fastify'
import type { Actor } from '../db/types.js'

/**
 * Who is calling, as recorded on the timeline. Until API keys exist every caller is anonymous;
 * the access-control layer replaces this single function.
 */
export function requestActor(_req: FastifyRequest): Actor {
  return { type: 'anonymous', id: null, role: null, name: null }
}
