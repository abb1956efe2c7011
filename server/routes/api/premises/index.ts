import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { parseBbox, parseDate, parseIdList } from '../../../http-errors.js'
import type { HazardStatus, PremisesKind } from '../../../plugins/app/premises.js'
import { can } from '../../../domain/access.js'
import { notFound } from '../../../http-errors.js'
import { IdParams } from '../../../schemas/access.js'
import { errors } from '../../../schemas/common.js'
import { PremisesDetailSchema, ResidentSchema } from '../../../schemas/people.js'
import { PremisesCollectionSchema, PremisesQuerySchema } from '../../../schemas/premises.js'
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
    const q = req.query
    const user = app.userOf(req)
    const campaign = await app.campaign.current()
    const on = q.asOf ? parseDate(q.asOf, 'asOf') : app.campaign.referenceDate(campaign)
    const result = await app.premises.points(user.jurisdiction, {
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
