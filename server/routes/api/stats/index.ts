import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { badRequest } from '../../../lib/http-errors.js'
import { mapFilterFrom } from '../../../plugins/app/premises-filter.js'
import { errors } from '../../../schemas/common.js'
import { HazardStatsSchema, SeriesSchema, SummaryQuerySchema, SummarySchema } from '../../../schemas/stats.js'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/summary', {
    config: { permission: 'stats:read' },
    schema: {
      tags: ['stats'],
      summary: 'The four measures against their targets, for the district and each town/street, on a day',
      querystring: SummaryQuerySchema,
      response: { 200: SummarySchema, ...errors(400) },
    },
  }, async (req) => {
    const campaign = await app.campaign.current()
    const { filter, on: asOf } = await mapFilterFrom(app, req.query)
    if (asOf < campaign.startsOn) throw badRequest(`asOf ${asOf} is before the campaign began (${campaign.startsOn})`, `${asOf} 早于整治开始日期（${campaign.startsOn}）`)
    return app.stats.summary(campaign, asOf, app.userOf(req).jurisdiction, filter)
  })

  app.get('/series', {
    config: { permission: 'stats:read' },
    schema: {
      tags: ['stats'],
      summary: 'The four measures on every report day (14th, 29th) of the campaign up to a day: the trend',
      querystring: SummaryQuerySchema,
      response: { 200: SeriesSchema, ...errors(400) },
    },
  }, async (req) => {
    const campaign = await app.campaign.current()
    const { filter, on: asOf } = await mapFilterFrom(app, req.query)
    if (asOf < campaign.startsOn) throw badRequest(`asOf ${asOf} is before the campaign began (${campaign.startsOn})`, `${asOf} 早于整治开始日期（${campaign.startsOn}）`)
    return app.stats.series(campaign, asOf, app.userOf(req).jurisdiction, filter)
  })

  app.get('/hazards', {
    config: { permission: 'stats:read' },
    schema: {
      tags: ['stats'],
      summary: 'Hazards found and rectified by category, and overdue hazards by town and department, on a day',
      querystring: SummaryQuerySchema,
      response: { 200: HazardStatsSchema, ...errors(400) },
    },
  }, async (req) => {
    const { filter, on: asOf } = await mapFilterFrom(app, req.query)
    return app.stats.hazards(asOf, app.userOf(req).jurisdiction, filter)
  })
}
export default routes
