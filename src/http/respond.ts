import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * The body of a response as the route's schema for `status` serialises it. Call it inside the
 * transaction of a change: a body that cannot be produced then rolls the change back and becomes a
 * 500 problem+json, instead of a 500 after a commit that a retry would apply twice.
 */
export function serialised(reply: FastifyReply, status: number, body: Record<string, unknown>): string {
  // the response schemas are per media type (reply.serialize() cannot pick one): ask for application/json's
  return reply.code(status).type('application/json; charset=utf-8').serializeInput(body, String(status), 'application/json') as string
}

/** sends a body made by `serialised` as it is */
export const sendSerialised = (reply: FastifyReply, json: string) => reply.send(json)

/** every later log line of the request — an error included — names the complaint it is about */
export function logComplaint(req: FastifyRequest, complaintId: string): void {
  req.log = req.log.child({ complaintId })
}
