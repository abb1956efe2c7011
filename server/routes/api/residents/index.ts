import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { can } from '../../../domain/access.js'
import { badRequest, notFound } from '../../../lib/http-errors.js'
import { revealReason, revealReasonMinChars } from '../../../domain/pii.js'
import { IdParams } from '../../../schemas/access.js'
import { errors } from '../../../schemas/common.js'
import { ResidentSchema, RevealSchema, SearchByIdSchema } from '../../../schemas/people.js'

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
