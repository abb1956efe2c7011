import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../../../schemas/common.js'
import { HealthSchema } from '../../../schemas/health.js'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    config: { permission: 'public' },
    schema: {
      tags: ['system'],
      summary: 'Whether the service and its database answer',
      description: 'While the database is away: 503 with Retry-After and reason `database-unavailable`, at once rather than after a timeout.',
      response: { 200: HealthSchema, ...errors(503) },
    },
  }, async () => app.health.check())
}
export default routes
