import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { today as todayInDistrict } from '../../../domain/calendar.js'
import { type CoordinateSystem, toWgs84 } from '../../../domain/coords.js'
import { redactPersonal } from '../../../domain/redact.js'
import { badRequest, notFound, parseDate } from '../../../lib/http-errors.js'
import { sendTextStream } from '../../../lib/text-stream.js'
import { mapFilterFrom } from '../../../plugins/app/premises-filter.js'
import { hazardDto, type PremisesInput } from '../../../plugins/app/inspection.js'
import { EnforcementSchema, HazardCreateSchema, HazardSchema, PremisesChangeSchema, PremisesCreateSchema } from '../../../schemas/inspection.js'
import { clientWrite, markReplayed } from '../../../plugins/app/client-writes.js'
import { closeTasksOnVisit } from '../../../plugins/app/tasks.js'
import { can } from '../../../domain/access.js'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { IdParams } from '../../../schemas/access.js'
import { errors } from '../../../schemas/common.js'
import { type PremisesDetail, PremisesDetailSchema, ResidentSchema } from '../../../schemas/people.js'
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
    // JSON text (PremisesCollectionSchema): a string Fastify sends as it is, or pieces streamed.
    const answer = await app.premises.pointsAnswer(user.jurisdiction, filter, on, req.query.limit)
    reply.type('application/geo+json')
    if (typeof answer === 'string') return reply.send(answer)
    return sendTextStream(req, reply, answer)
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
  }, async req => detailFor(app, req, req.params.id))

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
      response: { 201: PremisesDetailSchema, ...errors(400, 401, 403, 409) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const { clientId, ...body } = req.body
    const input = premisesInput(body)
    const outcome = await app.writeTx(req, tx => clientWrite(app, tx, { clientId, userId: user.id, action: 'premises.create', target: null, body }, async () => {
      const after = await app.inspection.createPremises(tx, user.jurisdiction, input as Parameters<typeof app.inspection.createPremises>[2])
      await app.audit.record(tx, req, { action: 'premises.create', entity: 'premises', entityId: after.id as number, after: redactPersonal(after) })
      return { value: after.id as number, entity: 'premises', entityId: after.id as number, status: 201 }
    }))
    if (outcome.replayed) return markReplayed(reply, outcome.status).send(await detailFor(app, req, outcome.entityId))
    return reply.status(201).send(await detailFor(app, req, outcome.value))
  })

  app.patch('/:id', {
    config: { permission: 'inspection:write' },
    schema: {
      tags: ['premises'],
      summary: 'Change the facts or the location of premises',
      params: IdParams, body: PremisesChangeSchema,
      response: { 200: PremisesDetailSchema, ...errors(400, 401, 403, 404, 409, 412) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const { clientId, expected, ...body } = req.body
    const input = premisesInput(body)
    const outcome = await app.writeTx(req, tx => clientWrite(app, tx, { clientId, userId: user.id, action: 'premises.update', target: req.params.id, body: { ...body, expected } }, async () => {
      const { before, after } = await app.inspection.updatePremises(tx, user.jurisdiction, req.params.id, input, expected)
      await app.audit.record(tx, req, { action: 'premises.update', entity: 'premises', entityId: req.params.id, before: redactPersonal(before), after: redactPersonal(after) })
      await closeTasksOnVisit(app, tx, req, { premisesId: req.params.id, action: 'premises.update' })
      return { value: req.params.id, entity: 'premises', entityId: req.params.id, status: 200 }
    }))
    if (outcome.replayed) return markReplayed(reply, outcome.status).send(await detailFor(app, req, outcome.entityId))
    return detailFor(app, req, req.params.id)
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
      response: { 201: HazardSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const { clientId, ...body } = req.body
    if (body.deadline) parseDate(body.deadline, 'deadline')
    if (body.foundOn) parseDate(body.foundOn, 'foundOn')
    if (body.foundOn && body.foundAt) throw badRequest('give the day the hazard was found (foundOn) or its time (foundAt), not both', '发现日期与发现时间只能填写一项')
    const outcome = await app.writeTx(req, tx => clientWrite(app, tx, { clientId, userId: user.id, action: 'hazard.create', target: req.params.id, body }, async () => {
      const h = await app.inspection.addHazard(tx, user.jurisdiction, req.params.id, body)
      await app.audit.record(tx, req, { action: 'hazard.create', entity: 'hazard', entityId: h.id, after: hazardDto(h) })
      await closeTasksOnVisit(app, tx, req, { premisesId: req.params.id, hazardId: h.id, action: 'hazard.create' })
      return { value: h, entity: 'hazard', entityId: h.id, status: 201 }
    }))
    if (!outcome.replayed) return reply.status(201).send(hazardDto(outcome.value))
    const hazard = await app.writeTx(req, tx => app.inspection.hazard(tx, user.jurisdiction, outcome.entityId))
    return markReplayed(reply, outcome.status).send(hazardDto(hazard))
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
  const { location, ...rest } = body as { location?: { lon: number; lat: number; crs?: CoordinateSystem } } & Record<string, unknown>
  const today = todayInDistrict()
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

/** One premises as the user may see it: owners and second landlords only for roles that see people. */
async function detailFor(app: FastifyInstance, req: FastifyRequest, id: number): Promise<PremisesDetail> {
  const user = app.userOf(req)
  const row = await app.people.premises(user.jurisdiction, id, can(user.role, 'people:read'))
  // Outside the jurisdiction a premises does not exist.
  if (!row) throw notFound(`there is no premises with id ${id}`, `没有编号为 ${id} 的房屋`)
  return row
}

export default routes
