import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { can } from '../../../domain/access.js'
import type { Band } from '../../../domain/leads-model.js'
import { badRequest, notFound, parseDate } from '../../../lib/http-errors.js'
import { addDays, today as todayInDistrict } from '../../../domain/calendar.js'
import type { LeadStatus } from '../../../domain/lists.js'
import type { LeadFilter } from '../../../plugins/app/leads.js'
import { IdParams } from '../../../schemas/access.js'
import { errors } from '../../../schemas/common.js'
import {
  LeadDetailSchema, LeadIssuedSchema, LeadIssueSchema, LeadModelSchema, LeadPageSchema, LeadPointsQuery, LeadPointsSchema, LeadQuery, LeadRefreshedSchema,
  LeadStatsQuery, LeadStatsSchema, LeadTrainedSchema, LeadVisitedSchema, LeadVisitSchema,
} from '../../../schemas/leads.js'

const ids = (s: string | undefined) => (s === undefined ? undefined : s.split(',').map(Number))

function filterOf(q: { town?: string; community?: string; policeStation?: string; status?: string; band?: string; minScore?: number; subject?: 'premises' | 'address' }): LeadFilter {
  return {
    towns: ids(q.town), communities: ids(q.community), policeStations: ids(q.policeStation),
    statuses: q.status?.split(',') as (LeadStatus | 'active')[] | undefined, bands: q.band?.split(',') as Band[] | undefined,
    minScore: q.minScore, subject: q.subject,
  }
}

/** How far ahead a lead's visit may be due: a campaign's year (as for tasks). */
const maxDaysAhead = 366

/**
 * Leads: premises and addresses ranked by how strongly utility and registration data suggest an
 * unregistered group rental, within the reader's jurisdiction; turning them into inspection tasks;
 * the visit's outcome; how well they work; the model and its retraining (an audited admin action).
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    config: { permission: 'leads:read' },
    schema: { tags: ['leads'], summary: 'Leads ranked by score, filtered by town, community, police station, status, band', querystring: LeadQuery, response: { 200: LeadPageSchema, ...errors(400, 401, 403) } },
  }, async (req) => {
    const user = app.userOf(req)
    const f = { ...filterOf(req.query), ...(req.query.assignedToMe ? { assignedTo: user.id } : {}) }
    return app.leads.list(user.jurisdiction, f, req.query.limit, req.query.offset, can(user.role, 'people:read'))
  })

  app.get('/points', {
    config: { permission: 'leads:read' },
    schema: {
      tags: ['leads'], summary: 'Leads as a GeoJSON layer for the map (highest scores first, no addresses)', querystring: LeadPointsQuery,
      response: { 200: LeadPointsSchema, ...errors(400, 401, 403) },
    },
  }, async req => app.leads.points(app.userOf(req).jurisdiction, filterOf(req.query), req.query.limit))

  app.get('/stats', {
    config: { permission: 'stats:read' },
    schema: {
      tags: ['leads'], summary: 'How well the leads work: issued, visited, confirmed, precision by band and town, group rentals found by data analysis vs patrol (counts only)',
      querystring: LeadStatsQuery, response: { 200: LeadStatsSchema, ...errors(400, 401, 403) },
    },
  }, async req => app.leads.stats(app.userOf(req).jurisdiction, ids(req.query.town)))

  app.get('/models', {
    config: { permission: 'leads:model' },
    schema: { tags: ['leads'], summary: 'The lead models trained so far, newest first, then the rules (version 0, built in; in force while no trained model is)', response: { 200: Type.Array(LeadModelSchema), ...errors(401, 403) } },
  }, async () => (await app.leads.models()).map(m => ({ ...m, trainedAt: m.trainedAt?.toISOString() ?? null })))

  app.post('/models', {
    config: { permission: 'leads:model' },
    schema: {
      tags: ['leads'], summary: 'Train a logistic regression on the visit outcomes recorded so far and make it the model in force (audited)',
      response: { 201: LeadTrainedSchema, ...errors(401, 403, 409) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const result = await app.leads.train(user, async (tx, r) => {
      await app.audit.record(tx, req, {
        action: 'lead-model.train', entity: 'lead-model', entityId: r.version,
        after: { version: r.version, examples: r.examples, positives: r.positives, negatives: r.negatives, metrics: r.metrics, bias: r.bias, weights: r.weights },
      })
    })
    reply.code(201)
    return result
  })

  app.post('/refresh', {
    config: { permission: 'leads:model' },
    schema: { tags: ['leads'], summary: 'Recompute every signal and score now (an import does this by itself)', response: { 200: LeadRefreshedSchema, ...errors(401, 403) } },
  }, async (req) => {
    const r = await app.leads.refresh()
    await app.audit.record(app.db.sql, req, { action: 'leads.refresh', entity: 'lead', after: r })
    return r
  })

  app.post('/tasks', {
    config: { permission: 'tasks:assign' },
    schema: {
      tags: ['leads'], summary: 'Turn leads into inspection visits for an inspector (premises leads become inspect tasks), taking a snapshot of their scores',
      body: LeadIssueSchema, response: { 201: LeadIssuedSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const today = todayInDistrict()
    const dueOn = parseDate(req.body.dueOn, 'dueOn')
    const latest = addDays(today, maxDaysAhead)
    if (dueOn < today) throw badRequest(`the due date (${dueOn}) has passed: a visit is due today (${today}) or later`, `到期日（${dueOn}）已过：走访须今天（${today}）或以后到期`)
    if (dueOn > latest) throw badRequest(`the due date (${dueOn}) is more than ${maxDaysAhead} days ahead`, `到期日（${dueOn}）超过 ${maxDaysAhead} 天之后`)
    const result = await app.writeTx(req, async (tx) => {
      const r = await app.leads.issue(tx, user, app.tasks, { leadIds: req.body.leadIds, assigneeId: req.body.assigneeId, dueOn, note: req.body.note?.trim() || null })
      await app.audit.record(tx, req, {
        action: 'lead.issue', entity: 'lead', entityId: r.leads.map(l => l.id).join(',').slice(0, 200),
        after: { assigneeId: req.body.assigneeId, dueOn, batchId: r.batchId, leads: r.leads },
      })
      return r
    })
    reply.code(201)
    return result
  })

  app.get('/:id', {
    config: { permission: 'leads:read' },
    schema: { tags: ['leads'], summary: 'A lead: its signals against their norms, its meter accounts, monthly use and visits', params: IdParams, response: { 200: LeadDetailSchema, ...errors(401, 403, 404) } },
  }, async (req) => {
    const user = app.userOf(req)
    const d = await app.leads.detail(user.jurisdiction, req.params.id, can(user.role, 'people:read'))
    if (!d) throw notFound(`there is no lead with id ${req.params.id}`, `没有编号为 ${req.params.id} 的线索`)
    return d
  })

  app.post('/:id/visits', {
    config: { permission: 'tasks:work' },
    schema: {
      tags: ['leads'],
      summary: 'Record the visit of a lead: a group rental (registered, found by data analysis), another kind of rental, not a rental, or no access (to try again)',
      params: IdParams, body: LeadVisitSchema, response: { 201: LeadVisitedSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const body = { ...req.body, visitedOn: req.body.visitedOn === undefined ? undefined : parseDate(req.body.visitedOn, 'visitedOn') }
    const r = await app.writeTx(req, async (tx) => {
      const v = await app.leads.recordVisit(tx, user, req.params.id, body)
      await app.audit.record(tx, req, {
        action: 'lead.visit', entity: 'lead', entityId: req.params.id,
        after: { outcome: body.outcome, visitId: v.visitId, status: v.lead.status, closedTasks: v.closedTasks }, reason: body.note ?? null,
      })
      if (v.premises) {
        await app.audit.record(tx, req, {
          action: v.premises.before ? 'premises.update' : 'premises.create', entity: 'premises', entityId: v.premises.id,
          before: v.premises.before ?? undefined, after: v.premises.after, reason: `lead ${req.params.id}: ${body.outcome}`,
        })
      }
      for (const t of v.closedTasks) {
        await app.audit.record(tx, req, {
          action: 'task.done', entity: 'task', entityId: t,
          after: { premisesId: v.premises?.id ?? null, closedByAction: 'lead.visit', leadId: req.params.id },
        })
      }
      return v
    })
    reply.code(201)
    return { lead: r.lead, visitId: r.visitId, premisesId: r.premises?.id ?? null, closedTasks: r.closedTasks }
  })
}
export default routes
