import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { badRequest, parseDate } from '../../../lib/http-errors.js'
import { mapFilterFrom } from '../../../plugins/app/premises-filter.js'
import { addDays, today as todayInDistrict } from '../../../domain/calendar.js'
import { taskDto } from '../../../plugins/app/tasks.js'
import { IdParams } from '../../../schemas/access.js'
import { errors } from '../../../schemas/common.js'
import {
  AssigneeSchema, MyTasksQuery, ProgressSchema, TaskCancelSchema, TaskCompleteSchema, TaskCreatedSchema, TaskCreateSchema, TaskListQuery, TaskSchema,
} from '../../../schemas/tasks.js'

/** How far ahead a visit may be due: a campaign's year. */
const maxDaysAhead = 366

/** "lon,lat" (shape-checked by the schema) as a point on the earth. */
function parseNear(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined
  const [lon, lat] = value.split(',').map(s => Number(s.trim())) as [number, number]
  if (lon < -180 || lon > 180 || lat < -90 || lat > 90) throw badRequest('near must be lon,lat within -180..180 and -90..90', '位置（near）须为 经度,纬度，在 -180～180、-90～90 之内')
  return [lon, lat]
}

/**
 * Visits that commanders assign to inspectors: assigning (by a list, a drawn area or the map's
 * filter), withdrawing, each inspector's progress, and the inspector's own list. A visit closes
 * its task by itself (see server/plugins/app/tasks.ts); an inspect or revisit task may also be
 * closed by hand saying what the visit found.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/mine', {
    config: { permission: 'tasks:work' },
    schema: {
      tags: ['tasks'], summary: 'My visits: open ones first, by due date, then by distance from near= (where I am) when given',
      querystring: MyTasksQuery, response: { 200: Type.Array(TaskSchema), ...errors(400, 401, 403) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    const rows = await app.tasks.mine(user.id, user.jurisdiction, req.query.status, todayInDistrict(), parseNear(req.query.near))
    return rows.map(taskDto)
  })

  app.get('/', {
    config: { permission: 'tasks:assign' },
    schema: {
      tags: ['tasks'], summary: 'Visits at premises of my jurisdiction, soonest due first (overdue=true: what is overdue)',
      querystring: TaskListQuery, response: { 200: Type.Array(TaskSchema), ...errors(400, 401, 403) },
    },
  }, async (req) => {
    const rows = await app.tasks.list(app.userOf(req).jurisdiction, req.query, todayInDistrict())
    return rows.map(taskDto)
  })

  app.get('/progress', {
    config: { permission: 'tasks:assign' },
    schema: { tags: ['tasks'], summary: 'Each inspector\'s visits in my jurisdiction: open, overdue, done (and done late), withdrawn', response: { 200: ProgressSchema, ...errors(401, 403) } },
  }, async (req) => {
    const today = todayInDistrict()
    return { today, inspectors: await app.tasks.progress(app.userOf(req).jurisdiction, today) }
  })

  app.get('/assignees', {
    config: { permission: 'tasks:assign' },
    schema: { tags: ['tasks'], summary: 'The inspectors who work somewhere in my jurisdiction, to whom I may assign visits', response: { 200: Type.Array(AssigneeSchema), ...errors(401, 403) } },
  }, async req => app.tasks.assignees(app.userOf(req).jurisdiction))

  app.post('/', {
    config: { permission: 'tasks:assign' },
    schema: {
      tags: ['tasks'],
      summary: 'Assign visits to an inspector: the premises of a list, of a drawn area and/or of the map\'s filter, within both jurisdictions (dryRun: only count)',
      body: TaskCreateSchema, response: { 201: TaskCreatedSchema, 200: TaskCreatedSchema, ...errors(400, 401, 403, 404) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const today = todayInDistrict()
    const body = req.body
    const dueOn = parseDate(body.dueOn, 'dueOn')
    const latest = addDays(today, maxDaysAhead)
    if (dueOn < today) throw badRequest(`the due date (${dueOn}) has passed: a visit is due today (${today}) or later`, `到期日（${dueOn}）已过：走访须今天（${today}）或以后到期`)
    if (dueOn > latest) throw badRequest(`the due date (${dueOn}) is more than ${maxDaysAhead} days ahead`, `到期日（${dueOn}）超过 ${maxDaysAhead} 天之后`)
    const mapped = body.filter ? await mapFilterFrom(app, body.filter) : undefined
    const on = mapped?.on ?? app.campaign.referenceDate(await app.campaign.current())
    const input = {
      kind: body.kind, assigneeId: body.assigneeId, dueOn, note: body.note?.trim() || null,
      premisesIds: body.premisesIds, geometry: body.geometry, filter: mapped?.filter, on, dryRun: body.dryRun ?? false,
    }
    let told: Awaited<ReturnType<typeof app.notices.add>> = []
    const result = await app.writeTx(req, async (tx) => {
      const r = await app.tasks.assign(tx, user.jurisdiction, user.id, input, today)
      if (r.dryRun) return r
      await app.audit.record(tx, req, {
        action: 'task.assign', entity: 'task-batch', entityId: r.batchId,
        after: { kind: input.kind, assigneeId: input.assigneeId, dueOn, note: input.note, count: r.count, skipped: r.skipped, taskIds: r.rows.map(t => t.id), premisesIds: [...new Set(r.rows.map(t => t.premisesId))] },
      })
      told = await app.notices.add(tx, [{
        userId: input.assigneeId, kind: 'task-assigned', payload: { batchId: r.batchId, count: r.count, dueOn, taskKind: input.kind },
        townId: null, policeStationId: null, dedupeKey: `task-batch:${r.batchId}`,
      }])
      return r
    })
    app.notices.deliver(told)
    reply.code(result.dryRun ? 200 : 201)
    return { dryRun: result.dryRun, batchId: result.batchId, count: result.count, skipped: result.skipped, tasks: result.rows.map(taskDto) }
  })

  app.post('/:id/cancel', {
    config: { permission: 'tasks:assign' },
    schema: {
      tags: ['tasks'], summary: 'Withdraw an open visit', params: IdParams, body: TaskCancelSchema,
      response: { 200: TaskSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const user = app.userOf(req)
    const today = todayInDistrict()
    const { after } = await app.writeTx(req, async (tx) => {
      const change = await app.tasks.cancel(tx, user.jurisdiction, user.id, req.params.id, req.body.note?.trim() || null, today)
      await app.audit.record(tx, req, {
        action: 'task.cancel', entity: 'task', entityId: req.params.id,
        before: taskDto(change.before), after: taskDto(change.after), reason: req.body.note ?? null,
      })
      return change
    })
    return taskDto(after)
  })

  app.post('/:id/complete', {
    config: { permission: 'tasks:work' },
    schema: {
      tags: ['tasks'],
      summary: 'Close my inspect or revisit visit saying what it found, when nothing needed recording (sent again with the same clientId: the task as first closed)',
      params: IdParams, body: TaskCompleteSchema, response: { 200: TaskSchema, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req, reply) => {
    const user = app.userOf(req)
    const today = todayInDistrict()
    const note = req.body.note.trim()
    if (!note) throw badRequest('say in the note what the visit found', '请在说明中写明走访情况')
    const { after, replayed } = await app.writeTx(req, async (tx) => {
      const change = await app.tasks.complete(tx, user.jurisdiction, user.id, req.params.id, { clientId: req.body.clientId, note }, today)
      if (change.replayed) return change
      await app.audit.record(tx, req, {
        action: 'task.complete', entity: 'task', entityId: req.params.id,
        before: taskDto(change.before), after: taskDto(change.after), reason: note,
      })
      return change
    })
    if (replayed) reply.header('Idempotent-Replayed', 'true')
    return taskDto(after)
  })
}
export default routes
