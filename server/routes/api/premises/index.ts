import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { parseBbox, parseDate, parseIdList } from '../../../http-errors.js'
import type { HazardStatus, PremisesKind } from '../../../plugins/app/premises.js'
import { errors } from '../../../schemas/common.js'
import { PremisesCollectionSchema, PremisesQuerySchema } from '../../../schemas/premises.js'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    schema: {
      tags: ['premises'],
      summary: 'Premises as GeoJSON points with their hazard status (no personal data)',
      querystring: PremisesQuerySchema,
      response: { 200: PremisesCollectionSchema, ...errors(400) },
    },
  }, async (req, reply) => {
    const q = req.query
    const campaign = await app.campaign.current()
    const on = q.asOf ? parseDate(q.asOf, 'asOf') : app.campaign.referenceDate(campaign)
    const result = await app.premises.points({
      bbox: q.bbox ? parseBbox(q.bbox) : undefined,
      kinds: q.kind?.split(',') as PremisesKind[] | undefined,
      statuses: q.status?.split(',') as HazardStatus[] | undefined,
      towns: parseIdList(q.town),
      communities: parseIdList(q.community),
      policeStations: parseIdList(q.policeStation),
      majorOnly: q.major,
      overdueOnly: q.overdue,
      foundFrom: q.foundFrom ? parseDate(q.foundFrom, 'foundFrom') : undefined,
      foundTo: q.foundTo ? parseDate(q.foundTo, 'foundTo') : undefined,
    }, on, q.limit)
    reply.type('application/geo+json')
    return result
  })
}
export default routes
