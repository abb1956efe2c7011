import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { can } from '../../../domain/access.js'
import { badRequest, notFound, parseDate } from '../../../lib/http-errors.js'
import { revealReason, revealReasonMinChars } from '../../../domain/pii.js'
import { IdParams } from '../../../schemas/access.js'
import { errors } from '../../../schemas/common.js'
import { ResidentSchema, RevealSchema, SearchByIdSchema } from '../../../schemas/people.js'
import { FlagClearSchema, FlagSchema, FlagSetSchema } from '../../../schemas/enforcement.js'
import { today as todayInDistrict } from '../../../domain/calendar.js'

/** Residents: masked by default; a full ID number only with a reason, and every reveal audited. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/:id/reveal', {
    config: { permission: 'people:reveal' },
    schema: {
      tags: ['residents'], summary: 'The full ID number of a resident, for a stated reason (audited)',
      params: IdParams, body: RevealSchema,
      response: { 200: Type.Object({ id: Type.Integer(), idNumber: Type.String() }), ...errors(400, 401, 403, 404) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    const reason = revealReason(req.body.reason)
    if (!reason) {
      throw badRequest(`say why you need the full ID number, in at least ${revealReasonMinChars} letters or digits (it is kept in the audit trail)`,
        `请说明查看完整证件号码的理由，至少 ${revealReasonMinChars} 个文字（理由记入审计日志）`)
    }
    const found = await app.people.revealIdNumber(user.jurisdiction, req.params.id)
    if (!found) throw notFound(`there is no resident with id ${req.params.id}`, `没有编号为 ${req.params.id} 的人员`)
    await app.audit.record(app.db.sql, req, { action: 'resident.reveal-id', entity: 'resident', entityId: req.params.id, reason })
    return { id: req.params.id, idNumber: found.idNumber }
  })

  const noResident = (id: number) => notFound(`there is no resident with id ${id}`, `没有编号为 ${id} 的人员`)
  const pastDay = (day: string, name: string) => {
    parseDate(day, name)
    if (day > todayInDistrict()) throw badRequest(`${name} (${day}) is in the future`, `日期（${day}）晚于今天`)
  }

  // The special categories: seen and written by the roles that see people, in their jurisdiction.
  // Leaders and analysts see them only as the biweekly tables' counts.
  app.get('/:id/flags', {
    config: { permission: 'special:read' },
    schema: {
      tags: ['residents'], summary: 'A resident\'s special categories, current and past',
      params: IdParams, response: { 200: Type.Array(FlagSchema), ...errors(401, 403, 404) },
    },
  }, async (req) => {
    const flags = await app.people.flagsOf(app.db.sql, app.userOf(req).jurisdiction, req.params.id)
    if (!flags) throw noResident(req.params.id)
    return flags
  })

  app.post('/:id/flags', {
    config: { permission: 'special:write' },
    schema: {
      tags: ['residents'], summary: 'Set a special category on a resident from a day, with the reason (audited)',
      params: IdParams, body: FlagSetSchema, response: { 201: Type.Array(FlagSchema), ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    pastDay(req.body.flaggedOn, 'flaggedOn')
    const flags = await app.writeTx(req, async (tx) => {
      const id = await app.people.setFlag(tx, user.jurisdiction, req.params.id, user.id, req.body)
      if (id === undefined) throw noResident(req.params.id)
      await app.audit.record(tx, req, {
        action: 'resident.flag', entity: 'resident', entityId: req.params.id,
        after: { flag: id, specialCategory: req.body.category, flaggedOn: req.body.flaggedOn, flagReason: req.body.reason },
      })
      return (await app.people.flagsOf(tx, user.jurisdiction, req.params.id))!
    })
    return reply.status(201).send(flags)
  })

  app.post('/:id/flags/clear', {
    config: { permission: 'special:write' },
    schema: {
      tags: ['residents'], summary: 'Clear a special category of a resident from a day, with the reason (audited)',
      params: IdParams, body: FlagClearSchema, response: { 200: Type.Array(FlagSchema), ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    pastDay(req.body.clearedOn, 'clearedOn')
    return app.writeTx(req, async (tx) => {
      const id = await app.people.clearFlag(tx, user.jurisdiction, req.params.id, user.id, req.body)
      if (id === undefined) throw noResident(req.params.id)
      await app.audit.record(tx, req, {
        action: 'resident.unflag', entity: 'resident', entityId: req.params.id,
        after: { flag: id, specialCategory: req.body.category, clearedOn: req.body.clearedOn, flagReason: req.body.reason },
      })
      return (await app.people.flagsOf(tx, user.jurisdiction, req.params.id))!
    })
  })

  // POST, so that the number searched for never appears in a URL, a log line or browser history.
  app.post('/search', {
    config: { permission: 'people:read' },
    schema: {
      tags: ['residents'], summary: 'Residents with exactly this ID number, within your jurisdiction',
      body: SearchByIdSchema, response: { 200: Type.Array(ResidentSchema), ...errors(400, 401, 403) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    const rows = await app.people.findByIdNumber(user.jurisdiction, req.body.idNumber, can(user.role, 'special:read'))
    await app.audit.record(app.db.sql, req, { action: 'resident.search-id', entity: 'resident', after: { matches: rows.map(r => r.id) } })
    return rows
  })
}
export default routes
