import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { parseDate } from '../../../lib/http-errors.js'
import { type HazardAction, hazardDto } from '../../../plugins/app/inspection.js'
import { IdParams } from '../../../schemas/access.js'
import { errors } from '../../../schemas/common.js'
import { HazardChangeSchema, HazardReferSchema, HazardSchema, HazardStepSchema } from '../../../schemas/inspection.js'
import { clientWrite, markReplayed } from '../../../plugins/app/client-writes.js'
import { closeTasksOnVisit } from '../../../plugins/app/tasks.js'

/**
 * A hazard's life: refer to the responsible department, mark rectified, verify. A step that cannot
 * follow the hazard's status is refused with 409 and a sentence saying why.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  const steps: [HazardAction, string, typeof HazardStepSchema | typeof HazardReferSchema][] = [
    ['refer', 'Refer the hazard to the responsible department (default: the one the dictionary names)', HazardReferSchema],
    ['rectify', 'Mark the hazard rectified', HazardStepSchema],
    ['verify', 'Verify a rectified hazard', HazardStepSchema],
  ]
  for (const [action, summary, body] of steps) {
    app.post(`/:id/${action}`, {
      config: { permission: 'inspection:write' },
      schema: { tags: ['hazards'], summary, params: IdParams, body, response: { 200: HazardSchema, ...errors(400, 401, 403, 404, 409) } },
    }, async (req, reply) => {
      const user = app.userOf(req)
      const { clientId, ...input } = req.body as { clientId?: string; at?: string; note?: string | null; departmentCode?: string; deadline?: string | null }
      if (input.deadline) parseDate(input.deadline, 'deadline')
      const outcome = await app.writeTx(req, tx => clientWrite(app, tx, { clientId, userId: user.id, action: `hazard.${action}`, target: req.params.id, body: input }, async () => {
        const change = await app.inspection.transition(tx, user.jurisdiction, req.params.id, action, input)
        await app.audit.record(tx, req, {
          action: `hazard.${action}`, entity: 'hazard', entityId: req.params.id,
          before: hazardDto(change.before), after: hazardDto(change.after), reason: input.note ?? null,
        })
        await closeTasksOnVisit(app, tx, req, { premisesId: change.after.premisesId, hazardId: req.params.id, action: `hazard.${action}` })
        return { value: change.after, entity: 'hazard', entityId: req.params.id, status: 200 }
      }))
      if (!outcome.replayed) return hazardDto(outcome.value)
      // The step was taken by the first copy: the hazard as it stands now.
      const hazard = await app.writeTx(req, tx => app.inspection.hazard(tx, user.jurisdiction, outcome.entityId))
      return markReplayed(reply, outcome.status).send(hazardDto(hazard))
    })
  }

  app.patch('/:id', {
    config: { permission: 'inspection:write' },
    schema: {
      tags: ['hazards'], summary: 'Set or clear the deadline of an open hazard',
      params: IdParams, body: HazardChangeSchema, response: { 200: HazardSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    if (req.body.deadline) parseDate(req.body.deadline, 'deadline')
    const { after } = await app.writeTx(req, async (tx) => {
      const change = await app.inspection.setDeadline(tx, user.jurisdiction, req.params.id, req.body.deadline)
      await app.audit.record(tx, req, { action: 'hazard.deadline', entity: 'hazard', entityId: req.params.id, before: hazardDto(change.before), after: hazardDto(change.after) })
      return change
    })
    return hazardDto(after)
  })
}
export default routes
