import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { polygonProblem } from '../../domain/polygon.js'
import { badRequest, HttpError, notFound } from '../../lib/http-errors.js'
import type { TaskDto } from '../../schemas/tasks.js'
import { maxTasksPerAssignment } from '../../schemas/tasks.js'
import { type PremisesFilter, premisesWhere } from './premises.js'
import { jurisdictionOf, type UserRow } from './users.js'

/**
 * Visits that commanders assign to inspectors, and how a visit closes them. A task is one visit:
 * inspect or revisit a premises, or verify one rectified hazard, by a due date. Every read joins
 * the premises and filters on the reader's jurisdiction; an inspector is given only premises that
 * lie in both the commander's jurisdiction and their own.
 *
 * How a visit closes a task, in the transaction of the write that makes the visit:
 * - inspect: the assignee records the premises' facts, records a hazard there, or adds a photo
 *   of the premises or of one of its hazards;
 * - revisit: the same, or a step of one of its hazards (refer, rectify, verify);
 * - verify: the hazard is verified (which needs its "after" photo when the campaign says so),
 *   by whoever verifies it: nothing is left to do at that hazard.
 * A write by someone else at the premises leaves an inspect or revisit task open: a desk edit
 * or a colleague passing by is not the visit that was assigned. The assignee may also close an
 * inspect or revisit task saying what the visit found when nothing needed recording.
 */

export type TaskKind = 'inspect' | 'revisit' | 'verify'

/** The writes that make a visit, as their audit actions. */
export type VisitAction = 'premises.update' | 'hazard.create' | 'photo.upload' | 'hazard.refer' | 'hazard.rectify' | 'hazard.verify'

/** Which kinds of the assignee's tasks at the premises each write closes. */
const closesOwn: Record<VisitAction, TaskKind[]> = {
  'premises.update': ['inspect', 'revisit'],
  'hazard.create': ['inspect', 'revisit'],
  'photo.upload': ['inspect', 'revisit'],
  'hazard.refer': ['revisit'],
  'hazard.rectify': ['revisit'],
  'hazard.verify': ['revisit'],
}

interface TaskRow {
  id: number
  kind: TaskKind
  status: 'open' | 'done' | 'cancelled'
  premisesId: number
  premisesKind: string
  address: string
  lon: number
  lat: number
  hazardId: number | null
  hazardItemCode: string | null
  hazardSeverity: string | null
  hazardStatus: string | null
  hazardDeadline: string | null
  assigneeId: number
  assigneeUsername: string
  assigneeDisplayName: string
  assignedById: number
  assignedByUsername: string
  assignedByDisplayName: string
  batchId: string
  dueOn: string
  overdue: boolean
  note: string | null
  createdAt: Date
  closedAt: Date | null
  closedBy: string | null
  closedByAction: string | null
  closingNote: string | null
  clientId: string | null
  distanceM: number | null
}

export function taskDto(r: TaskRow): TaskDto {
  return {
    id: r.id, kind: r.kind, status: r.status, premisesId: r.premisesId, premisesKind: r.premisesKind, address: r.address, lon: r.lon, lat: r.lat,
    hazard: r.hazardId === null ? null : { id: r.hazardId, itemCode: r.hazardItemCode!, severity: r.hazardSeverity!, status: r.hazardStatus!, deadline: r.hazardDeadline },
    assignee: { id: r.assigneeId, username: r.assigneeUsername, displayName: r.assigneeDisplayName },
    assignedBy: { id: r.assignedById, username: r.assignedByUsername, displayName: r.assignedByDisplayName },
    batchId: r.batchId, dueOn: r.dueOn, overdue: r.overdue, note: r.note, createdAt: r.createdAt.toISOString(),
    closedAt: r.closedAt?.toISOString() ?? null, closedBy: r.closedBy, closedByAction: r.closedByAction, closingNote: r.closingNote,
    distanceM: r.distanceM === null ? null : Math.round(r.distanceM),
  }
}

const taskClosed = (t: Pick<TaskRow, 'status' | 'closedByAction'>) => (t.status === 'cancelled'
  ? new HttpError(409, 'This visit was withdrawn by a commander; nothing more is needed.', 'task-cancelled', '此走访任务已被指挥长撤销，无需再办。')
  : new HttpError(409, `This visit is already done (closed by ${t.closedByAction ?? 'a visit'}).`, 'task-done', `此走访任务已完成（${t.closedByAction ?? '走访'}）。`))

export interface AssignInput {
  kind: TaskKind
  assigneeId: number
  dueOn: string
  note: string | null
  premisesIds?: number[]
  geometry?: { type: string; coordinates: unknown[] }
  filter?: PremisesFilter
  /** The day the map filter's statuses are judged on. */
  on: string
  dryRun: boolean
}

export function tasksRepository(sql: Sql) {
  const taskSelect = (db: Sql | Tx, today: string, near?: [number, number]) => db`
    select t.id, t.kind, t.status, t.premises_id, p.kind as premises_kind, p.address, st_x(p.geom) as lon, st_y(p.geom) as lat,
           t.hazard_id, h.item_code as hazard_item_code, h.severity as hazard_severity, h.status as hazard_status, h.deadline as hazard_deadline,
           t.assignee_id, a.username as assignee_username, a.display_name as assignee_display_name,
           t.assigned_by as assigned_by_id, b.username as assigned_by_username, b.display_name as assigned_by_display_name,
           t.batch_id::text as batch_id, t.due_on, (t.status = 'open' and t.due_on < ${today}) as overdue, t.note, t.created_at,
           t.closed_at, c.username as closed_by, t.closed_by_action, t.closing_note, t.client_id::text as client_id,
           ${near ? db`st_distance(p.geom::geography, st_setsrid(st_makepoint(${near[0]}, ${near[1]}), 4326)::geography, false)` : db`null::float8`} as distance_m
    from task t join premises p on p.id = t.premises_id left join hazard h on h.id = t.hazard_id
    join app_user a on a.id = t.assignee_id join app_user b on b.id = t.assigned_by left join app_user c on c.id = t.closed_by`

  /** An active inspector and where they may work, or 400. */
  async function inspector(db: Sql | Tx, id: number): Promise<{ id: number; displayName: string; jurisdiction: Jurisdiction }> {
    const [u] = await db<(Pick<UserRow, 'id' | 'displayName' | 'jurisdictionKind' | 'jurisdictionTownId' | 'jurisdictionStationId'>)[]>`
      select id, display_name, jurisdiction_kind, jurisdiction_town_id, jurisdiction_station_id
      from app_user where id = ${id} and role = 'inspector' and disabled_at is null`
    if (!u) throw new HttpError(400, `user ${id} is not an active inspector: visits are assigned to inspectors`, 'not-an-inspector', `用户 ${id} 不是在用的排查员：走访任务只能派给排查员`)
    return { id: u.id, displayName: u.displayName, jurisdiction: jurisdictionOf(u) }
  }

  /** The task inside the jurisdiction, locked for the transaction, or 404. */
  async function lockTask(tx: Tx, scope: Jurisdiction, id: number, today: string): Promise<TaskRow> {
    const [row] = await tx<TaskRow[]>`${taskSelect(tx, today)} where t.id = ${id} and ${inJurisdiction(tx as unknown as Sql, scope)} for update of t`
    if (!row) throw notFound(`there is no task with id ${id}`, `没有编号为 ${id} 的走访任务`)
    return row
  }

  /** The premises an assignment selects: inside the commander's jurisdiction, split by the inspector's. */
  async function select(tx: Tx, scope: Jurisdiction, theirs: Jurisdiction, input: AssignInput): Promise<{ ids: number[]; outside: number }> {
    const s = tx as unknown as Sql
    if (input.premisesIds) {
      if (input.geometry || input.filter) throw badRequest('give either premisesIds or an area and/or a filter, not both', '请只给出房屋编号列表，或区域和/或筛选条件，不能同时给出')
      const wanted = [...new Set(input.premisesIds)]
      const rows = await tx<{ id: number; mine: boolean }[]>`
        select p.id, ${inJurisdiction(s, theirs)} as mine from premises p where p.id in ${tx(wanted)} and ${inJurisdiction(s, scope)}`
      const found = new Set(rows.map(r => r.id))
      const absent = wanted.filter(id => !found.has(id))
      // Outside the commander's jurisdiction a premises does not exist.
      if (absent.length) throw notFound(`there is no premises with id ${absent.slice(0, 10).join(', ')}${absent.length > 10 ? ` (and ${absent.length - 10} more)` : ''}`, `没有编号为 ${absent.slice(0, 10).join('、')} 的房屋`)
      const foreign = rows.filter(r => !r.mine).map(r => r.id)
      if (foreign.length) {
        throw new HttpError(400, `premises ${foreign.slice(0, 10).join(', ')}${foreign.length > 10 ? ` (and ${foreign.length - 10} more)` : ''} lie outside the inspector's jurisdiction: an inspector is given only premises where they work`,
          'outside-assignee-jurisdiction', `房屋 ${foreign.slice(0, 10).join('、')} 不在该排查员的辖区内：只能派给排查员其辖区内的房屋`)
      }
      return { ids: wanted, outside: 0 }
    }
    if (!input.geometry && !input.filter) throw badRequest('say which premises: premisesIds, a drawn area (geometry) or the map\'s filter', '请指明房屋：房屋编号列表、所画区域或地图筛选条件')
    let area = tx``
    if (input.geometry) {
      const g = input.geometry
      if (g.type !== 'Polygon' && g.type !== 'MultiPolygon') throw badRequest(`the area must be a Polygon or MultiPolygon, not a ${String(g.type)}`, `区域须为多边形（Polygon 或 MultiPolygon），不能是 ${String(g.type)}`)
      const problem = polygonProblem(g)
      if (problem) throw new HttpError(400, `the area: ${problem.message}`, 'invalid-area', `区域：${problem.messageZh}`)
      // A lasso drawn quickly may cross itself: what it encloses is still what the commander meant.
      const shape = tx`st_makevalid(st_setsrid(st_geomfromgeojson(${JSON.stringify(g)}), 4326))`
      area = tx`and p.geom && ${shape} and st_intersects(p.geom, ${shape})`
    }
    const where = tx`${premisesWhere(s, input.filter ?? {}, input.on, scope)} ${area}`
    const [n] = await tx<{ mine: number; outside: number }[]>`
      select count(*) filter (where mine)::int as mine, count(*) filter (where not mine)::int as outside
      from (select ${inJurisdiction(s, theirs)} as mine from premises p where ${where}) q`
    if (n!.mine > maxTasksPerAssignment) {
      throw new HttpError(400, `the selection holds ${n!.mine} premises; at most ${maxTasksPerAssignment} are assigned at once (draw a smaller area or narrow the filter)`,
        'too-many-premises', `所选范围有 ${n!.mine} 处房屋；一次最多派 ${maxTasksPerAssignment} 处（请缩小区域或筛选条件）`)
    }
    const ids = (await tx<{ id: number }[]>`select p.id from premises p where ${where} and ${inJurisdiction(s, theirs)} order by p.id`).map(r => r.id)
    return { ids, outside: n!.outside }
  }

  return {
    /** The inspectors a commander may give visits to: those who work somewhere in the commander's jurisdiction. */
    async assignees(scope: Jurisdiction) {
      const rows = await sql<{ id: number; username: string; displayName: string; jurisdictionKind: UserRow['jurisdictionKind']; jurisdictionTownId: number | null; jurisdictionStationId: number | null; nameZh: string; nameEn: string }[]>`
        select u.id, u.username, u.display_name, u.jurisdiction_kind, u.jurisdiction_town_id, u.jurisdiction_station_id,
               coalesce(a.name_zh, s.name_zh, d.name_zh, '全区') as name_zh, coalesce(a.name_en, s.name_en, d.name_en, 'Whole district') as name_en
        from app_user u
        left join admin_area a on a.id = u.jurisdiction_town_id
        left join police_station s on s.id = u.jurisdiction_station_id
        left join lateral (select name_zh, name_en from admin_area where level = 'district' and valid_to is null order by id limit 1) d on u.jurisdiction_kind = 'district'
        where u.role = 'inspector' and u.disabled_at is null
        order by u.display_name, u.id`
      const out = []
      for (const r of rows) {
        const theirs = jurisdictionOf(r)
        const [overlap] = await sql<{ any: boolean }[]>`
          select exists (select 1 from premises p where ${inJurisdiction(sql, scope)} and ${inJurisdiction(sql, theirs)}) as any`
        if (overlap!.any) out.push({ id: r.id, username: r.username, displayName: r.displayName, jurisdiction: { ...theirs, nameZh: r.nameZh, nameEn: r.nameEn } })
      }
      return out
    },

    /**
     * Assigns visits: one task per selected premises (per rectified hazard there, for verify),
     * leaving out the premises outside the inspector's jurisdiction (an explicit list naming one
     * is refused) and those where a visit of the kind is open already. A dry run only counts.
     */
    async assign(tx: Tx, scope: Jurisdiction, byId: number, input: AssignInput, today: string) {
      const assignee = await inspector(tx, input.assigneeId)
      const { ids, outside } = await select(tx, scope, assignee.jurisdiction, input)
      let targets: { premisesId: number; hazardId: number | null }[] = ids.map(id => ({ premisesId: id, hazardId: null }))
      let nothingToVerify = 0
      if (input.kind === 'verify' && ids.length) {
        targets = [...await tx<{ premisesId: number; hazardId: number }[]>`
          select premises_id, id as hazard_id from hazard where premises_id in ${tx(ids)} and status = 'rectified' order by premises_id, id`]
        nothingToVerify = ids.length - new Set(targets.map(x => x.premisesId)).size
      }
      else if (input.kind === 'verify') targets = []
      const open = targets.length
        ? await tx<{ premisesId: number; hazardId: number }[]>`
            select premises_id, coalesce(hazard_id, 0) as hazard_id from task
            where status = 'open' and kind = ${input.kind} and premises_id in ${tx([...new Set(targets.map(x => x.premisesId))])}`
        : []
      const taken = new Set(open.map(o => `${o.premisesId}:${o.hazardId}`))
      const fresh = targets.filter(x => !taken.has(`${x.premisesId}:${x.hazardId ?? 0}`))
      const skipped = { outsideAssignee: outside, alreadyOpen: targets.length - fresh.length, nothingToVerify }
      if (input.dryRun) return { dryRun: true, batchId: null, count: fresh.length, skipped, rows: [] as TaskRow[] }
      if (!fresh.length) {
        throw new HttpError(400, `nothing to assign: the selection holds no premises of yours that ${assignee.displayName} may be given${skipped.alreadyOpen ? ` (${skipped.alreadyOpen} already have an open visit of this kind)` : ''}${skipped.nothingToVerify ? ` (${skipped.nothingToVerify} have no rectified hazard awaiting verification)` : ''}`,
          'nothing-to-assign', `没有可派的任务：所选范围内没有可派给${assignee.displayName}的本辖区房屋${skipped.alreadyOpen ? `（${skipped.alreadyOpen} 处已有同类未完成任务）` : ''}${skipped.nothingToVerify ? `（${skipped.nothingToVerify} 处没有待验收的已整改隐患）` : ''}`)
      }
      const batchId = randomUUID()
      const inserted = await tx<{ id: number }[]>`
        insert into task ${tx(fresh.map(x => ({
          kind: input.kind, premises_id: x.premisesId, hazard_id: x.hazardId, assignee_id: assignee.id, assigned_by: byId,
          batch_id: batchId, due_on: input.dueOn, note: input.note,
        })))}
        on conflict do nothing
        returning id`
      const rows = inserted.length
        ? await tx<TaskRow[]>`${taskSelect(tx, today)} where t.id in ${tx(inserted.map(r => r.id))} order by t.id`
        : []
      return { dryRun: false, batchId, count: rows.length, skipped: { ...skipped, alreadyOpen: skipped.alreadyOpen + fresh.length - rows.length }, rows: [...rows] }
    },

    /** Tasks of premises inside the jurisdiction (a commander's view), soonest due first. */
    async list(scope: Jurisdiction, q: { assigneeId?: number; status: 'open' | 'done' | 'cancelled' | 'all'; kind?: TaskKind; overdue?: boolean; limit: number }, today: string) {
      const parts = [inJurisdiction(sql, scope)]
      if (q.assigneeId !== undefined) parts.push(sql`t.assignee_id = ${q.assigneeId}`)
      if (q.status !== 'all') parts.push(sql`t.status = ${q.status}`)
      if (q.kind) parts.push(sql`t.kind = ${q.kind}`)
      if (q.overdue) parts.push(sql`t.status = 'open' and t.due_on < ${today}`)
      const where = parts.reduce((a, b) => sql`${a} and ${b}`)
      return [...await sql<TaskRow[]>`${taskSelect(sql, today)} where ${where} order by t.due_on, t.id limit ${q.limit}`]
    },

    /** The user's own tasks inside their jurisdiction: by due date, then by distance when the user's place is known. */
    async mine(userId: number, scope: Jurisdiction, status: 'open' | 'done' | 'all', today: string, near?: [number, number]) {
      return [...await sql<TaskRow[]>`
        ${taskSelect(sql, today, near)}
        where t.assignee_id = ${userId} and ${inJurisdiction(sql, scope)} ${status === 'all' ? sql`` : sql`and t.status = ${status}`}
        order by t.status = 'open' desc, t.due_on, distance_m nulls last, t.id
        limit 2000`]
    },

    /** Each inspector's tasks in the jurisdiction: open, overdue, done (late), cancelled. */
    async progress(scope: Jurisdiction, today: string) {
      return [...await sql<{ id: number; username: string; displayName: string; open: number; overdue: number; done: number; doneLate: number; cancelled: number }[]>`
        select u.id, u.username, u.display_name,
               count(*) filter (where t.status = 'open')::int as open,
               count(*) filter (where t.status = 'open' and t.due_on < ${today})::int as overdue,
               count(*) filter (where t.status = 'done')::int as done,
               count(*) filter (where t.status = 'done' and local_day(t.closed_at) > t.due_on)::int as done_late,
               count(*) filter (where t.status = 'cancelled')::int as cancelled
        from task t join premises p on p.id = t.premises_id join app_user u on u.id = t.assignee_id
        where ${inJurisdiction(sql, scope)}
        group by u.id, u.username, u.display_name
        order by overdue desc, open desc, u.display_name`]
    },

    /** A commander withdraws an open task. */
    async cancel(tx: Tx, scope: Jurisdiction, byId: number, id: number, note: string | null, today: string) {
      const before = await lockTask(tx, scope, id, today)
      if (before.status !== 'open') throw taskClosed(before)
      await tx`update task set status = 'cancelled', closed_at = now(), closed_by = ${byId}, closed_by_action = 'task.cancel', closing_note = ${note} where id = ${id}`
      return { before, after: await lockTask(tx, scope, id, today) }
    },

    /**
     * The assignee closes an inspect or revisit task saying what the visit found. The same
     * completion sent again (same client id) answers the task as it was closed, writing nothing.
     */
    async complete(tx: Tx, scope: Jurisdiction, userId: number, id: number, input: { clientId: string; note: string }, today: string) {
      const before = await lockTask(tx, scope, id, today)
      if (before.clientId === input.clientId) return { before, after: before, replayed: true }
      if (before.assigneeId !== userId) {
        throw new HttpError(403, `This visit is assigned to ${before.assigneeDisplayName}; only they can close it.`, 'not-assignee', `此走访任务派给了${before.assigneeDisplayName}，只有本人可以办结。`)
      }
      if (before.status !== 'open') throw taskClosed(before)
      if (before.kind === 'verify') {
        throw new HttpError(409, 'A verification visit closes when the hazard is verified (with its "after" photo): verify the hazard instead.',
          'verify-to-close', '验收任务在隐患验收（附整改后照片）时办结：请验收该隐患。')
      }
      const [used] = await tx`select 1 from task where client_id = ${input.clientId}`
      if (used) throw new HttpError(409, 'This completion\'s client id was already used for another task; make a new id for each.', 'client-id-reused', '此次办结的客户端编号已用于另一任务；每次须使用新的编号。')
      await tx`update task set status = 'done', closed_at = now(), closed_by = ${userId}, closed_by_action = 'task.complete',
                 closing_note = ${input.note}, client_id = ${input.clientId} where id = ${id}`
      return { before, after: await lockTask(tx, scope, id, today), replayed: false }
    },

    /**
     * Closes, in the caller's transaction, the open tasks that a write at a premises completes
     * (see the rules at the top); answers the tasks closed, for the audit trail.
     */
    async closeByVisit(tx: Tx, userId: number, visit: { premisesId: number; hazardId?: number | null; action: VisitAction }) {
      const own = closesOwn[visit.action]
      return [...await tx<{ id: number; kind: TaskKind; assigneeId: number }[]>`
        update task set status = 'done', closed_at = now(), closed_by = ${userId}, closed_by_action = ${visit.action}
        where status = 'open' and premises_id = ${visit.premisesId}
          and ((assignee_id = ${userId} and kind in ${tx(own)})
               or (${visit.action === 'hazard.verify'} and kind = 'verify' and hazard_id = ${visit.hazardId ?? null}))
        returning id, kind, assignee_id`]
    },
  }
}

export type TasksRepository = ReturnType<typeof tasksRepository>

declare module 'fastify' {
  interface FastifyInstance {
    tasks: TasksRepository
  }
}

export default fp(async (app) => {
  app.decorate('tasks', tasksRepository(app.db.sql))
}, { name: 'tasks', dependencies: ['db'] })

/**
 * For the routes of the writes that make a visit: closes the tasks the write completes, with an
 * audit row each, in the write's own transaction (so both are kept or neither).
 */
export async function closeTasksOnVisit(app: FastifyInstance, tx: Tx, req: FastifyRequest, visit: { premisesId: number; hazardId?: number | null; action: VisitAction }): Promise<void> {
  const user = app.userOf(req)
  for (const t of await app.tasks.closeByVisit(tx, user.id, visit)) {
    await app.audit.record(tx, req, {
      action: 'task.done', entity: 'task', entityId: t.id,
      after: { kind: t.kind, assigneeId: t.assigneeId, premisesId: visit.premisesId, hazardId: visit.hazardId ?? null, closedByAction: visit.action },
    })
  }
}
