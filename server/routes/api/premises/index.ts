import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { toWgs84 } from '../../../domain/coords.js'
import { redactPersonal } from '../../../domain/redact.js'
import { badRequest, parseDate } from '../../../http-errors.js'
import { mapFilterFrom } from '../../../map-filter.js'
import type { PremisesInput } from '../../../plugins/app/inspection.js'
import { EnforcementSchema, HazardCreateSchema, HazardSchema, PremisesChangeSchema, PremisesCreateSchema } from '../../../schemas/inspection.js'
import { hazardDto } from '../../inspection-helpers.js'
import { closeTasksOnVisit } from '../../../plugins/app/tasks.js'
import { can } from '../../../domain/access.js'
import { notFound } from '../../../http-errors.js'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { IdParams } from '../../../schemas/access.js'
import { errors } from '../../../schemas/common.js'
import { PremisesDetailSchema, ResidentSchema } from '../../../schemas/people.js'
import { MapFilterQuerySchema, PremisesCollectionText, PremisesCountsSchema, PremisesQuerySchema } from '../../../schemas/premises.js'
import { Type } from 'typebox'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['premises'],
      summary: 'Premises as GeoJSON points with their hazard status (no personal data)',
      querystring: PremisesQuerySchema,
      response: { 200: PremisesCollectionText, ...errors(400) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const { filter, on } = await mapFilterFrom(app, req.query)
    // Already JSON text (PremisesCollectionSchema): Fastify sends a string as it is.
    const body = await app.premises.pointsJson(user.jurisdiction, filter, on, req.query.limit)
    return reply.type('application/geo+json').send(body)
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
    if (!row) throw notFound(`there is no premises with id ${req.params.id}`, `没有编号为 ${req.params.id} 的房屋`)
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
    if (!rows) throw notFound(`there is no premises with id ${req.params.id}`, `没有编号为 ${req.params.id} 的房屋`)
    return rows
  })

  app.post('/', {
    config: { permission: 'inspection:write' },
    schema: {
      tags: ['premises'],
      summary: 'Record premises found by an inspection (location in WGS-84, GCJ-02 or BD-09)',
      body: PremisesCreateSchema,
      response: { 201: PremisesDetailSchema, ...errors(400, 401, 403) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const input = premisesInput(req.body)
    const created = await app.writeTx(req, async (tx) => {
      const after = await app.inspection.createPremises(tx, user.jurisdiction, input as Parameters<typeof app.inspection.createPremises>[2])
      await app.audit.write(tx, { userId: user.id, username: user.username, action: 'premises.create', entity: 'premises', entityId: after.id as number, after: redactPersonal(after), ip: req.ip, requestId: req.id })
      return after
    })
    return reply.status(201).send(await detailFor(app, req, created.id as number) as never)
  })

  app.patch('/:id', {
    config: { permission: 'inspection:write' },
    schema: {
      tags: ['premises'],
      summary: 'Change the facts or the location of premises',
      params: IdParams, body: PremisesChangeSchema,
      response: { 200: PremisesDetailSchema, ...errors(400, 401, 403, 404) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    const input = premisesInput(req.body)
    await app.writeTx(req, async (tx) => {
      const { before, after } = await app.inspection.updatePremises(tx, user.jurisdiction, req.params.id, input)
      await app.audit.write(tx, { userId: user.id, username: user.username, action: 'premises.update', entity: 'premises', entityId: req.params.id, before: redactPersonal(before), after: redactPersonal(after), ip: req.ip, requestId: req.id })
      await closeTasksOnVisit(app, tx, req, { premisesId: req.params.id, action: 'premises.update' })
    })
    return await detailFor(app, req, req.params.id) as never
  })

  app.get('/:id/hazards', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['premises'],
      summary: 'The hazards of one premises with their status history',
      params: IdParams,
      querystring: Type.Object({ asOf: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })) }, { additionalProperties: false }),
      response: { 200: Type.Array(HazardSchema), ...errors(400, 401, 403, 404) },
    },
  }, async (req) => {
    const campaign = await app.campaign.current()
    const on = req.query.asOf ? parseDate(req.query.asOf, 'asOf') : app.campaign.referenceDate(campaign)
    const user = app.userOf(req)
    const rows = await app.inspection.hazardsOf(user.jurisdiction, req.params.id, on, can(user.role, 'people:read'))
    if (!rows) throw notFound(`there is no premises with id ${req.params.id}`, `没有编号为 ${req.params.id} 的房屋`)
    return rows.map(hazardDto)
  })

  app.post('/:id/hazards', {
    config: { permission: 'inspection:write' },
    schema: {
      tags: ['premises'],
      summary: 'Record a hazard found at the premises, from the dictionary',
      params: IdParams, body: HazardCreateSchema,
      response: { 201: HazardSchema, ...errors(400, 401, 403, 404) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    if (req.body.deadline) parseDate(req.body.deadline, 'deadline')
    const hazard = await app.writeTx(req, async (tx) => {
      const h = await app.inspection.addHazard(tx, user.jurisdiction, req.params.id, req.body)
      await app.audit.write(tx, { userId: user.id, username: user.username, action: 'hazard.create', entity: 'hazard', entityId: h.id, after: hazardDto(h), ip: req.ip, requestId: req.id })
      await closeTasksOnVisit(app, tx, req, { premisesId: req.params.id, hazardId: h.id, action: 'hazard.create' })
      return h
    })
    return reply.status(201).send(hazardDto(hazard))
  })

  app.get('/:id/enforcement', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['premises'],
      summary: 'Enforcement results recorded at the premises',
      params: IdParams,
      response: { 200: Type.Array(EnforcementSchema), ...errors(401, 403, 404) },
    },
  }, async (req) => {
    const rows = await app.inspection.enforcementOf(app.userOf(req).jurisdiction, req.params.id)
    if (!rows) throw notFound(`there is no premises with id ${req.params.id}`, `没有编号为 ${req.params.id} 的房屋`)
    return rows
  })
}

/** The body's fields as the repository takes them, the location converted to WGS-84 and dates checked. */
const dateZh: Record<string, string> = {
  foundOn: '发现日期', registeredOn: '登记日期', deregisteredOn: '注销日期', statementSignedOn: '签订责任书日期', leaseFiledOn: '租赁备案日期',
  secondLandlordCollectedOn: '二房东信息采集日期',
}

function premisesInput(body: Record<string, unknown>): PremisesInput {
  const { location, ...rest } = body as { location?: { lon: number; lat: number; crs?: 'wgs84' | 'gcj02' | 'bd09' } } & Record<string, unknown>
  const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10)
  for (const k of ['foundOn', 'registeredOn', 'deregisteredOn', 'statementSignedOn', 'leaseFiledOn', 'secondLandlordCollectedOn']) {
    const v = rest[k]
    if (typeof v === 'string') {
      parseDate(v, k)
      if (v > today) throw badRequest(`${k} (${v}) is in the future`, `${dateZh[k] ?? k}（${v}）晚于今天`)
    }
  }
  if (typeof rest.registeredOn === 'string' && typeof rest.foundOn === 'string' && rest.registeredOn < rest.foundOn) {
    throw badRequest('registeredOn cannot be before foundOn', '登记日期不能早于发现日期')
  }
  if (typeof rest.address === 'string') rest.address = rest.address.trim()
  const input: PremisesInput = { ...rest }
  if (location) [input.lon, input.lat] = toWgs84(location.lon, location.lat, location.crs ?? 'wgs84')
  return input
}

/** The premises as GET /api/premises/:id answers it, for the user of the request. */
async function detailFor(app: FastifyInstance, req: FastifyRequest, id: number) {
  const user = app.userOf(req)
  return app.people.premises(user.jurisdiction, id, can(user.role, 'people:read'))
}

export default routes
