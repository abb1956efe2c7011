import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { keyAreaViewer } from '../../../plugins/app/key-areas-scope.js'
import { errors } from '../../../schemas/common.js'
import { NearPremisesSchema, NearQuerySchema } from '../../../schemas/search.js'

/** "Premises near me": the phone's position, the nearest premises within the jurisdiction. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/near', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['premises'],
      summary: 'The premises nearest a point (WGS-84), nearest first, with the distance in metres, within your jurisdiction',
      querystring: NearQuerySchema,
      response: { 200: Type.Array(NearPremisesSchema), ...errors(400, 401, 403) },
    },
  }, async (req) => {
    const campaign = await app.campaign.current()
    return app.lookup.near(keyAreaViewer(app.userOf(req)), req.query.lon, req.query.lat, req.query.limit, app.campaign.referenceDate(campaign))
  })
}

export default routes
