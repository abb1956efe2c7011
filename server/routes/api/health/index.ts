import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HealthSchema } from '../../../schemas/health.js'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    config: { permission: 'public' },
    schema: { tags: ['system'], summary: 'Whether the service and its database answer', response: { 200: HealthSchema } },
  }, async () => {
    await app.db.sql`select 1`
    return { ok: true, backend: app.db.backend, postgis: app.db.postgis, mvt: app.db.mvt }
  })
}
export default routes
