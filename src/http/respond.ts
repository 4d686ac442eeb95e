import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * The body of a response as the route's schema for `status` serialises it. Call it inside the
 * transaction of a change: a body that cannot be produced then rolls the change back and becomes a
 * 500 problem+json, instead of a 500 after a commit that a retry would apply twice.
 */
export function serialised(reply: FastifyReply, status: number, body: unknown): string {
  return reply.code(status).serialize(body) as string
}

/** sends a body made by `serialised` as it is */
export const sendSerialised = (reply: FastifyReply, json: string) => reply.type('application/json; charset=utf-8').send(json)

/** every later log line of the request — an error included — names the complaint it is about */
export function logComplaint(req: FastifyRequest, complaintId: string): void {
  req.log = req.log.child({ complaintId })
}
