import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { can } from '../../../domain/access.js'
import { notFound, parseDate } from '../../../lib/http-errors.js'
import { IdParams } from '../../../schemas/access.js'
import { errors } from '../../../schemas/common.js'
import { EnforcementCreateSchema, EnforcementPatchSchema, EnforcementQuerySchema, EnforcementRecordSchema, EnforcementVoidSchema } from '../../../schemas/enforcement.js'

const missing = (id: number) => notFound(`there is no enforcement record with id ${id} in your jurisdiction`, `您的辖区内没有编号为 ${id} 的执法记录`)

/**
 * Enforcement results entered one by one (attachments 4 and 5, 清理整治成效 and 打处情况): at
 * premises, or at a police station. Edited and voided with a reason, never deleted; every write
 * is in the audit trail. Everyone who reads the tables sees their counts there.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    config: { permission: 'enforcement:write' },
    schema: {
      tags: ['enforcement'], summary: 'Enforcement records within your jurisdiction, newest first (voided ones on request)',
      querystring: EnforcementQuerySchema, response: { 200: Type.Array(EnforcementRecordSchema), ...errors(400, 401, 403) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    return app.enforcement.list(user.jurisdiction, req.query, can(user.role, 'people:read'))
  })

  app.post('/', {
    config: { permission: 'enforcement:write' },
    schema: {
      tags: ['enforcement'], summary: 'Record an enforcement result, at premises or at a police station',
      body: EnforcementCreateSchema, response: { 201: EnforcementRecordSchema, ...errors(400, 401, 403, 404) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    parseDate(req.body.occurredOn, 'occurredOn')
    const record = await app.writeTx(req, async (tx) => {
      const id = await app.enforcement.create(tx, user.jurisdiction, user.id, { ...req.body, count: req.body.count ?? 1 })
      const r = (await app.enforcement.get(tx, user.jurisdiction, id))!
      await app.audit.record(tx, req, { action: 'enforcement.create', entity: 'enforcement', entityId: id, after: r })
      return r
    })
    return reply.status(201).send(record)
  })

  app.patch('/:id', {
    config: { permission: 'enforcement:write' },
    schema: {
      tags: ['enforcement'], summary: 'Correct an enforcement record (not a voided one)',
      params: IdParams, body: EnforcementPatchSchema, response: { 200: EnforcementRecordSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    if (req.body.occurredOn) parseDate(req.body.occurredOn, 'occurredOn')
    return app.writeTx(req, async (tx) => {
      const before = await app.enforcement.get(tx, user.jurisdiction, req.params.id)
      if (!before) throw missing(req.params.id)
      await app.enforcement.update(tx, user.jurisdiction, req.params.id, req.body)
      const after = (await app.enforcement.get(tx, user.jurisdiction, req.params.id))!
      await app.audit.record(tx, req, { action: 'enforcement.update', entity: 'enforcement', entityId: req.params.id, before, after })
      return after
    })
  })

  app.post('/:id/void', {
    config: { permission: 'enforcement:write' },
    schema: {
      tags: ['enforcement'], summary: 'Void an enforcement record with a reason: it stays, and no longer counts',
      params: IdParams, body: EnforcementVoidSchema, response: { 200: EnforcementRecordSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    return app.writeTx(req, async (tx) => {
      const done = await app.enforcement.void(tx, user.jurisdiction, req.params.id, user.id, req.body.reason.trim())
      if (!done) throw missing(req.params.id)
      const after = (await app.enforcement.get(tx, user.jurisdiction, req.params.id))!
      await app.audit.record(tx, req, { action: 'enforcement.void', entity: 'enforcement', entityId: req.params.id, after, reason: req.body.reason })
      return after
    })
  })
}
export default routes
