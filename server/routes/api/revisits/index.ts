import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { today as todayInDistrict } from '../../../domain/calendar.js'
import { IdParams } from '../../../schemas/access.js'
import { errors } from '../../../schemas/common.js'
import { OutcomeSchema, RelapseRatesSchema, RevisitItemSchema, SampleCreateSchema, SampleListQuery, SampleSchema, SampleSummarySchema } from '../../../schemas/revisits.js'

/** Revisits (明察暗访): drawing a reproducible sample, recording outcomes, and the relapse rates. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/samples', {
    config: { permission: 'supervision:list' },
    schema: {
      tags: ['revisits'], summary: 'Draw a reproducible random sample of rectified hazards or registered group rentals of my jurisdiction (a town, a proportion or a size, a seed)',
      body: SampleCreateSchema, response: { 201: SampleSchema, ...errors(400, 401, 403, 404) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const sample = await app.writeTx(req, async (tx) => {
      const s = await app.revisits.draw(tx, user.jurisdiction, user.id, req.body, todayInDistrict())
      await app.audit.record(tx, req, { action: 'revisit.draw', entity: 'revisit-sample', entityId: s.id, after: { ...req.body, size: s.size, population: s.population } })
      return s
    })
    reply.code(201)
    return sample
  })

  app.get('/samples', {
    config: { permission: 'supervision:read' },
    schema: {
      tags: ['revisits'], summary: 'The samples holding records of my jurisdiction, the latest first, with their progress (outcomes recorded of those drawn)',
      querystring: SampleListQuery, response: { 200: Type.Array(SampleSummarySchema), ...errors(400, 401, 403) },
    },
  }, async req => app.revisits.list(app.userOf(req).jurisdiction, req.query.limit))

  app.get('/samples/:id', {
    config: { permission: 'supervision:read' },
    schema: { tags: ['revisits'], summary: 'A sample\'s records of my jurisdiction and their outcomes', params: IdParams, response: { 200: SampleSchema, ...errors(401, 403, 404) } },
  }, async req => app.revisits.get(app.db.sql, app.userOf(req).jurisdiction, req.params.id))

  app.post('/items/:id/outcome', {
    config: { permission: 'supervision:write' },
    schema: {
      tags: ['revisits'], summary: 'Record what a revisit found; a relapse reopens the hazard, its history kept',
      params: IdParams, body: OutcomeSchema, response: { 200: RevisitItemSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    const note = req.body.note?.trim() || null
    return app.writeTx(req, async (tx) => {
      const item = await app.revisits.outcome(tx, user.jurisdiction, user.id, req.params.id, req.body.outcome, note)
      await app.audit.record(tx, req, { action: 'revisit.outcome', entity: 'revisit-item', entityId: req.params.id, after: item, reason: note })
      return item
    })
  })

  app.get('/rates', {
    config: { permission: 'supervision:read' },
    schema: { tags: ['revisits'], summary: 'Relapse rates of the revisits of my jurisdiction, by town and by the department that rectified', response: { 200: RelapseRatesSchema, ...errors(401, 403) } },
  }, async req => app.revisits.rates(app.userOf(req).jurisdiction))
}
export default routes
