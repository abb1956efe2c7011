import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { badRequest } from '../../../lib/http-errors.js'
import { errors } from '../../../schemas/common.js'
import { AuditQuerySchema, AuditRowSchema } from '../../../schemas/access.js'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    config: { permission: 'audit:read' },
    schema: {
      tags: ['audit'], summary: 'Search the audit trail by user, record and time (newest first)',
      querystring: AuditQuerySchema, response: { 200: Type.Array(AuditRowSchema), ...errors(400, 401, 403) },
    },
  }, async (req) => {
    const q = req.query
    const from = q.from ? new Date(q.from) : undefined
    const to = q.to ? new Date(q.to) : undefined
    if (from && to && from >= to) throw badRequest('"from" must be before "to"', '起始时间须早于截止时间')
    return app.audit.search({
      username: q.user?.toLowerCase(), entity: q.entity, entityId: q.entityId, action: q.action, outcome: q.outcome,
      from, to, limit: q.limit, beforeId: q.beforeId,
    })
  })
}
export default routes
