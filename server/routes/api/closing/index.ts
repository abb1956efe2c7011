import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../../../schemas/common.js'
import { ClosingSchema } from '../../../schemas/closing.js'

/** The closing phase's checklist for commanders, within their jurisdiction. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    config: { permission: 'reports:submit' },
    schema: {
      tags: ['stats'],
      summary: 'What the campaign\'s closing phase needs in my jurisdiction (targets met, key areas cleared and delisted, final tables submitted), with progress',
      response: { 200: ClosingSchema, ...errors(401, 403) },
    },
  }, async (req) => {
    const campaign = await app.campaign.current()
    return app.closing.checklist(campaign, app.campaign.referenceDate(campaign), app.userOf(req).jurisdiction)
  })
}
export default routes
