import type { Complaint } from '../db/types.js'
import { complaintRecord } from './representation.js'

/**
 * What every complaint event carries: the complaint's record as of the change — with its `version`,
 * so a receiver can drop an update older than the one it holds, and its complainant's external ids,
 * so a CRM finds its own record — and the facts of the step.
 */
export function complaintEventData(c: Complaint, facts: Record<string, unknown>): Record<string, unknown> {
  return { complaint: complaintRecord(c), facts }
}
