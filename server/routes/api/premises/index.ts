import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { mapFilterFrom } from '../../../map-filter.js'
import { can } from '../../../domain/access.js'
import { notFound } from '../../../http-errors.js'
import { IdParams } from '../../../schemas/access.js'
import { errors } from '../../../schemas/common.js'
import { PremisesDetailSchema, ResidentSchema } from '../../../schemas/people.js'
import { MapFilterQuerySchema, PremisesCollectionSchema, PremisesCountsSchema, PremisesQuerySchema } from '../../../schemas/premises.js'
import { Type } from 'typebox'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['premises'],
      summary: 'Premises as GeoJSON points with their hazard status (no personal data)',
      querystring: PremisesQuerySchema,
      response: { 200: PremisesCollectionSchema, ...errors(400) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const { filter, on } = await mapFilterFrom(app, req.query)
    const result = await app.premises.points(user.jurisdiction, filter, on, req.query.limit)
    reply.type('application/geo+json')
    return result
  })

  app.get('/counts', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['premises'],
      summary: 'How many premises match the map\'s filters, by hazard status',
      querystring: MapFilterQuerySchema,
      response: { 200: PremisesCountsSchema, ...errors(400, 401, 403) },
    },
  }, async (req) => {
    const { filter, on } = await mapFilterFrom(app, req.query)
    return app.premises.counts(app.userOf(req).jurisdiction, filter, on)
  })

  app.get('/:id', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['premises'],
      summary: 'One premises: its facts; owner and second landlord only for roles that may see people',
      params: IdParams,
      response: { 200: PremisesDetailSchema, ...errors(401, 403, 404) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    const row = await app.people.premises(user.jurisdiction, req.params.id, can(user.role, 'people:read'))
    // Outside the jurisdiction a premises does not exist.
    if (!row) throw notFound(`there is no premises with id ${req.params.id}`)
    return row as never
  })

  app.get('/:id/residents', {
    config: { permission: 'people:read' },
    schema: {
      tags: ['premises'],
      summary: 'The residents of one premises, ID numbers masked',
      params: IdParams,
      response: { 200: Type.Array(ResidentSchema), ...errors(401, 403, 404) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    const rows = await app.people.residentsOf(user.jurisdiction, req.params.id, can(user.role, 'special:read'))
    if (!rows) throw notFound(`there is no premises with id ${req.params.id}`)
    return rows
  })
}
export default routes
