import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { today as todayInDistrict } from '../../../domain/calendar.js'
import { keyAreaViewer } from '../../../plugins/app/key-areas-scope.js'
import { IdParams } from '../../../schemas/access.js'
import { AcceptanceDecisionSchema, AcceptanceSchema, AcceptanceStageSchema, AcceptanceSubmitSchema } from '../../../schemas/acceptance.js'
import { errors } from '../../../schemas/common.js'

/** Acceptance and delisting of key areas (检查验收 / 摘牌): where one stands, submitting it, deciding. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/key-areas/:id', {
    config: { permission: 'supervision:read' },
    schema: { tags: ['acceptance'], summary: 'A key area\'s acceptance: its stage, open hazards, days to its deadline and every submission', params: IdParams, response: { 200: AcceptanceStageSchema, ...errors(401, 403, 404) } },
  }, async req => app.acceptance.stage(keyAreaViewer(app.userOf(req)), req.params.id, todayInDistrict()))

  app.post('/key-areas/:id', {
    config: { permission: 'supervision:write' },
    schema: {
      tags: ['acceptance'], summary: 'Submit a key area for acceptance once no hazard is open inside it, with the checklist confirmed and its evidence',
      params: IdParams, body: AcceptanceSubmitSchema, response: { 201: AcceptanceSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const input = { checklist: req.body.checklist, note: req.body.note?.trim() || null, photoIds: [...new Set(req.body.photoIds)], documents: req.body.documents.map(d => d.trim()).filter(Boolean) }
    const created = await app.writeTx(req, async (tx) => {
      const a = await app.acceptance.submit(tx, keyAreaViewer(user), user.id, req.params.id, input)
      await app.audit.record(tx, req, { action: 'acceptance.submit', entity: 'key_area', entityId: req.params.id, after: a })
      return a
    })
    reply.code(201)
    return created
  })

  app.post('/:id/decision', {
    config: { permission: 'supervision:write' },
    schema: {
      tags: ['acceptance'], summary: 'Accept a submitted key area (it is delisted) or return it with reasons; not by its submitter',
      params: IdParams, body: AcceptanceDecisionSchema, response: { 200: AcceptanceSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    const reasons = req.body.reasons?.trim() || null
    return app.writeTx(req, async (tx) => {
      const a = await app.acceptance.decide(tx, keyAreaViewer(user), user.id, req.params.id, req.body.decision, reasons)
      await app.audit.record(tx, req, { action: `acceptance.${req.body.decision === 'accepted' ? 'accept' : 'return'}`, entity: 'key_area', entityId: a.keyAreaId, after: a, reason: reasons })
      return a
    })
  })
}
export default routes
