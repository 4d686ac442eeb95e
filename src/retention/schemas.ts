import { Type } from 'typebox'
import { DateTime, named } from '../http/common-schemas.js'

export const RetentionRunSchema = named('RetentionRun', Type.Object({
  dryRun: Type.Boolean({ description: 'true: counted only, nothing changed' }),
  retentionYears: Type.Integer(),
  cutoff: DateTime('complaints closed or withdrawn before this instant are due'),
  complaints: Type.Integer({ minimum: 0, description: 'complaints anonymised (or, in a dry run, that would be)' }),
  closed: Type.Integer({ minimum: 0 }),
  withdrawn: Type.Integer({ minimum: 0 }),
  rows: Type.Object({
    timelineEntries: Type.Integer({ minimum: 0 }),
    auditEntries: Type.Integer({ minimum: 0 }),
    notes: Type.Integer({ minimum: 0 }),
    replies: Type.Integer({ minimum: 0 }),
    outboxEvents: Type.Integer({ minimum: 0 }),
    idempotencyRecords: Type.Integer({ minimum: 0, description: 'deleted' }),
  }, { description: 'rows of those complaints rewritten (or, in a dry run, that would be)' }),
}, {
  description: 'what a retention run anonymised, or would anonymise',
  examples: [{ dryRun: true, retentionYears: 2, cutoff: '2024-11-27T19:30:00.000Z', complaints: 42, closed: 40, withdrawn: 2, rows: { timelineEntries: 512, auditEntries: 498, notes: 61, replies: 87, outboxEvents: 430, idempotencyRecords: 0 } }],
}))
