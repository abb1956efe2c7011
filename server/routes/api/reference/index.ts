import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { reportDates } from '../../../domain/periods.js'
import { errors } from '../../../schemas/common.js'
import {
  AreaCollectionSchema, AreasQuerySchema, CampaignSchema, DictionarySchema, PoiCollectionSchema, PoiQuerySchema, StationCollectionSchema,
} from '../../../schemas/reference.js'

/** Reference data: places, points of interest, the hazard dictionary, the campaign. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/areas', {
    config: { permission: 'session' },
    schema: {
      tags: ['reference'],
      summary: 'Administrative areas of one level as GeoJSON (district, town/street, community/village, grid cell)',
      querystring: AreasQuerySchema,
      response: { 200: AreaCollectionSchema, ...errors(400) },
    },
  }, async (req, reply) => {
    reply.type('application/geo+json')
    return app.reference.areas(req.query.level, req.query.parent)
  })

  app.get('/police-stations', {
    config: { permission: 'session' },
    schema: { tags: ['reference'], summary: 'Police-station areas as GeoJSON', response: { 200: StationCollectionSchema } },
  }, async (_req, reply) => {
    reply.type('application/geo+json')
    return app.reference.policeStations()
  })

  app.get('/pois', {
    config: { permission: 'session' },
    schema: {
      tags: ['reference'],
      summary: 'Points of interest where group rentals concentrate, as GeoJSON',
      querystring: PoiQuerySchema,
      response: { 200: PoiCollectionSchema, ...errors(400) },
    },
  }, async (req, reply) => {
    reply.type('application/geo+json')
    return app.reference.pois(req.query.kind?.split(','))
  })

  app.get('/hazard-dictionary', {
    config: { permission: 'session' },
    schema: { tags: ['reference'], summary: 'The hazard dictionary (attachment 2) with responsible departments', response: { 200: DictionarySchema } },
  }, async () => app.reference.hazardDictionary())

  app.get('/campaign', {
    config: { permission: 'session' },
    schema: { tags: ['reference'], summary: 'The campaign: dates, phases, targets and report days', response: { 200: CampaignSchema } },
  }, async () => {
    const c = await app.campaign.current()
    return { ...c, referenceDate: app.campaign.referenceDate(c), reportDates: reportDates(c.startsOn, c.endsOn, c.reportDays) }
  })
}
export default routes
