import type { FastifyInstance } from 'fastify'
import { json } from '../http/common-schemas.js'
import { RetentionRunSchema } from './schemas.js'
import { previewRetention } from './retention.js'

export default async function retentionRoutes(app: FastifyInstance) {
  app.get('/v1/admin/retention', {
    schema: {
      operationId: 'previewRetention', tags: ['admin'], summary: 'Retention dry run: what the next run would anonymise',
      description: 'Counts the complaints closed or withdrawn more than RETENTION_YEARS (2) ago that still hold the complainant’s personal data, and the rows of theirs a run would rewrite; changes nothing. The run itself is the daily `retention` job (`POST /v1/admin/jobs/retention/run` runs it now).',
      response: { 200: json('What a run would do now.', RetentionRunSchema) },
    },
  }, async () => previewRetention(app.services, app.services.clock.now()))
}
