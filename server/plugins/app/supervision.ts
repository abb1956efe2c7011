import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { today as todayInDistrict } from '../../domain/calendar.js'
import type { SupervisingLevel, SupervisionKind } from '../../domain/lists.js'
import { daysOverdue, type EscalationRule } from '../../domain/supervision.js'
import { HttpError, notFound } from '../../lib/http-errors.js'
import type { SupervisionItemDto } from '../../schemas/supervision.js'

/**
 * Supervision (挂牌督办): major hazards, premises and key areas listed with a responsible unit,
 * person and deadline, closed with evidence; the campaign's escalation rules and the day's
 * escalation, computed set-wise. Every read filters on the item's town and police station (those
 * of its subject when listed), as reads of premises filter on the premises' own.
 */

interface ItemRow {
  id: number
  kind: SupervisionKind
  hazardId: number | null
  premisesId: number | null
  keyAreaId: number | null
  subject: string
  hazardItemCode: string | null
  hazardStatus: string | null
  lon: number
  lat: number
  townId: number
  townNameZh: string
  townNameEn: string
  unitKind: 'department' | 'town'
  unitCode: string
  unitNameZh: string
  unitNameEn: string
  responsiblePerson: string
  responsibleUserId: number | null
  reason: string
  supervisingLevel: SupervisingLevel
  listedOn: string
  deadline: string
  level: number
  state: 'open' | 'closed'
  closedAt: Date | null
  closingNote: string | null
  closingPhotoIds: (number | string)[]
}

/** An item as the API answers it, judged on a day. */
export function supervisionDto(r: ItemRow, today: string): SupervisionItemDto {
  return {
    id: r.id, kind: r.kind, hazardId: r.hazardId, premisesId: r.premisesId, keyAreaId: r.keyAreaId, subject: r.subject,
    hazardItemCode: r.hazardItemCode, hazardStatus: r.hazardStatus, lon: r.lon, lat: r.lat,
    town: { id: r.townId, nameZh: r.townNameZh, nameEn: r.townNameEn },
    unit: { kind: r.unitKind, code: r.unitCode, nameZh: r.unitNameZh, nameEn: r.unitNameEn },
    responsiblePerson: r.responsiblePerson, responsibleUserId: r.responsibleUserId, reason: r.reason,
    supervisingLevel: r.supervisingLevel, listedOn: r.listedOn, deadline: r.deadline, daysOverdue: r.state === 'open' ? daysOverdue(r.deadline, today) : 0,
    level: r.level, state: r.state, closedAt: r.closedAt?.toISOString() ?? null, closingNote: r.closingNote,
    closingPhotoIds: r.closingPhotoIds.map(Number),
  }
}

export interface SupervisionInput {
  kind: SupervisionKind
  hazardId?: number
  premisesId?: number
  keyAreaId?: number
  unit: { kind: 'department'; code: string } | { kind: 'town'; id: number }
  responsiblePerson: string
  responsibleUserId: number | null
  reason: string
  deadline: string
  supervisingLevel: SupervisingLevel
}

export interface SupervisionQuery {
  state: 'open' | 'closed' | 'all'
  kind?: SupervisionKind
  overdue?: boolean
  limit: number
}

const subjectMissing = (kind: SupervisionKind, id: number | undefined) => {
  const [en, zh] = kind === 'hazard' ? ['hazard', '隐患'] : kind === 'premises' ? ['premises', '房屋'] : ['key area', '重点地区']
  return notFound(`there is no ${en} with id ${id ?? '(none given)'}`, `没有编号为 ${id ?? '（未给出）'} 的${zh}`)
}

export function supervisionRepository(sql: Sql) {
  const itemSelect = (db: Sql | Tx) => db`
    select s.id, s.kind, s.hazard_id, s.premises_id, s.key_area_id,
           coalesce(p.address, k.name_zh) as subject, h.item_code as hazard_item_code, h.status as hazard_status,
           coalesce(st_x(p.geom), st_x(st_pointonsurface(k.geom))) as lon, coalesce(st_y(p.geom), st_y(st_pointonsurface(k.geom))) as lat,
           s.town_id, t.name_zh as town_name_zh, t.name_en as town_name_en,
           s.unit_kind, coalesce(s.unit_department, s.unit_town_id::text) as unit_code,
           coalesce(d.name_zh, ut.name_zh) as unit_name_zh, coalesce(d.name_en, ut.name_en) as unit_name_en,
           s.responsible_person, s.responsible_user_id, s.reason, s.supervising_level, s.listed_on, s.deadline, s.level, s.state,
           s.closed_at, s.closing_note, s.closing_photo_ids
    from supervision_item s
    left join premises p on p.id = s.premises_id
    left join key_area k on k.id = s.key_area_id
    left join hazard h on h.id = s.hazard_id
    join admin_area t on t.id = s.town_id
    left join department d on d.code = s.unit_department
    left join admin_area ut on ut.id = s.unit_town_id`

  /** The subject of a new listing inside the jurisdiction: its premises, town and police station, or 404/4xx. */
  async function subject(tx: Tx, scope: Jurisdiction, input: SupervisionInput) {
    const s = tx as unknown as Sql
    if (input.kind === 'hazard') {
      const [h] = await tx<{ severity: string; status: string; premisesId: number; townId: number; policeStationId: number | null }[]>`
        select h.severity, h.status, p.id as premises_id, p.town_id, p.police_station_id
        from hazard h join premises p on p.id = h.premises_id where h.id = ${input.hazardId ?? 0} and ${inJurisdiction(s, scope)}`
      if (!h) throw subjectMissing('hazard', input.hazardId)
      if (h.severity !== 'major') throw new HttpError(400, `hazard ${input.hazardId} is a general hazard: only major hazards are listed for supervision`, 'hazard-not-major', `隐患 ${input.hazardId} 是一般隐患：只有重大隐患可挂牌督办`)
      if (h.status === 'rectified' || h.status === 'verified') throw new HttpError(409, `hazard ${input.hazardId} is ${h.status} already: there is nothing left to supervise`, 'hazard-already-rectified', `隐患 ${input.hazardId} 已整改：无需督办`)
      return { premisesId: h.premisesId, keyAreaId: null, townId: h.townId, policeStationId: h.policeStationId }
    }
    if (input.kind === 'premises') {
      const [p] = await tx<{ townId: number; policeStationId: number | null }[]>`
        select p.town_id, p.police_station_id from premises p where p.id = ${input.premisesId ?? 0} and ${inJurisdiction(s, scope)}`
      if (!p) throw subjectMissing('premises', input.premisesId)
      return { premisesId: input.premisesId!, keyAreaId: null, townId: p.townId, policeStationId: p.policeStationId }
    }
    const [k] = await tx<{ townId: number; policeStationId: number | null; status: string }[]>`
      select k.town_id, k.police_station_id, k.status from key_area k where k.id = ${input.keyAreaId ?? 0} and k.deleted_at is null and ${inJurisdiction(s, scope, 'k')}`
    if (!k) throw subjectMissing('key_area', input.keyAreaId)
    if (k.status !== 'listed') throw new HttpError(409, `key area ${input.keyAreaId} is ${k.status}, not listed: only a listed key area is supervised`, 'key-area-not-listed', `重点地区 ${input.keyAreaId} 未挂牌（${k.status}）：只有挂牌的重点地区可督办`)
    return { premisesId: null, keyAreaId: input.keyAreaId!, townId: k.townId, policeStationId: k.policeStationId }
  }

  /** Hazards still open (found or referred) at the item's subject. */
  async function openHazards(tx: Tx, item: { kind: SupervisionKind; premisesId: number | null; keyAreaId: number | null }) {
    const [n] = item.kind === 'key_area'
      ? await tx<{ n: number }[]>`
          select count(*)::int as n from key_area k join premises p on p.geom && k.geom and st_intersects(k.geom, p.geom)
          join hazard h on h.premises_id = p.id where k.id = ${item.keyAreaId!} and h.status in ('found', 'referred')`
      : await tx<{ n: number }[]>`select count(*)::int as n from hazard where premises_id = ${item.premisesId!} and status in ('found', 'referred')`
    return n!.n
  }

  return {
    /** Items of the jurisdiction, the most overdue first. */
    async list(scope: Jurisdiction, q: SupervisionQuery, today: string) {
      const rows = await sql<ItemRow[]>`
        ${itemSelect(sql)}
        where ${inJurisdiction(sql, scope, 's')}
          ${q.state === 'all' ? sql`` : sql`and s.state = ${q.state}`}
          ${q.kind ? sql`and s.kind = ${q.kind}` : sql``}
          ${q.overdue ? sql`and s.state = 'open' and s.deadline < ${today}` : sql``}
        order by (s.state = 'open') desc, s.deadline, s.id
        limit ${q.limit}`
      return rows.map(r => supervisionDto(r, today))
    },

    /** One item of the jurisdiction with the levels it reached, or 404. */
    async get(scope: Jurisdiction, id: number, today: string) {
      const [row] = await sql<ItemRow[]>`${itemSelect(sql)} where s.id = ${id} and ${inJurisdiction(sql, scope, 's')}`
      if (!row) throw notFound(`there is no supervision item with id ${id}`, `没有编号为 ${id} 的督办事项`)
      const escalations = await sql<{ level: number; reachedOn: string; daysOverdue: number }[]>`
        select level, reached_on, days_overdue from escalation_event where item_id = ${id} order by level`
      return { ...supervisionDto(row, today), escalations: [...escalations] }
    },

    /** Lists a subject of the jurisdiction for supervision; one open listing per subject. */
    async create(tx: Tx, scope: Jurisdiction, byId: number, input: SupervisionInput, today: string) {
      const where = await subject(tx, scope, input)
      if (input.unit.kind === 'department') {
        const [d] = await tx`select 1 from department where code = ${input.unit.code}`
        if (!d) throw new HttpError(400, `there is no department "${input.unit.code}"`, 'unknown-unit', `没有代码为“${input.unit.code}”的部门`)
      }
      else {
        const [t] = await tx`select 1 from admin_area where id = ${input.unit.id} and level = 'town' and valid_to is null`
        if (!t) throw new HttpError(400, `there is no current town/street with id ${input.unit.id}`, 'unknown-unit', `没有编号为 ${input.unit.id} 的现行镇（街道）`)
      }
      if (input.responsibleUserId !== null) {
        const [u] = await tx`select 1 from app_user where id = ${input.responsibleUserId} and disabled_at is null`
        if (!u) throw new HttpError(400, `there is no active user with id ${input.responsibleUserId}`, 'unknown-user', `没有编号为 ${input.responsibleUserId} 的在用账号`)
      }
      const [inserted] = await tx<{ id: number }[]>`
        insert into supervision_item (campaign_id, kind, hazard_id, premises_id, key_area_id, town_id, police_station_id,
                                      unit_kind, unit_department, unit_town_id, responsible_person, responsible_user_id, reason, supervising_level, deadline, listed_on, listed_by)
        values ((select id from campaign order by starts_on desc limit 1), ${input.kind}, ${input.kind === 'hazard' ? input.hazardId! : null}, ${where.premisesId}, ${where.keyAreaId},
                ${where.townId}, ${where.policeStationId}, ${input.unit.kind}, ${input.unit.kind === 'department' ? input.unit.code : null},
                ${input.unit.kind === 'town' ? input.unit.id : null}, ${input.responsiblePerson}, ${input.responsibleUserId}, ${input.reason}, ${input.supervisingLevel}, ${input.deadline}, ${today}, ${byId})
        on conflict do nothing
        returning id`
      if (!inserted) throw new HttpError(409, 'this is listed for supervision already and not yet closed', 'already-listed', '该事项已挂牌督办且尚未销号')
      const [row] = await tx<ItemRow[]>`${itemSelect(tx)} where s.id = ${inserted.id}`
      return supervisionDto(row!, today)
    },

    /**
     * Closes an open item with its evidence: the work must be done (the hazard rectified; no open
     * hazard left at the premises or in the key area) and photos, of the subject's premises, shown
     * for a hazard or a premises.
     */
    async close(tx: Tx, scope: Jurisdiction, byId: number, id: number, evidence: { note: string; photoIds: number[] }, today: string) {
      const [item] = await tx<(ItemRow)[]>`${itemSelect(tx)} where s.id = ${id} and ${inJurisdiction(tx as unknown as Sql, scope, 's')} for update of s`
      if (!item) throw notFound(`there is no supervision item with id ${id}`, `没有编号为 ${id} 的督办事项`)
      if (item.state === 'closed') throw new HttpError(409, `supervision item ${id} is closed already`, 'item-closed', `督办事项 ${id} 已销号`)
      if (item.kind === 'hazard' && !['rectified', 'verified'].includes(item.hazardStatus ?? '')) {
        throw new HttpError(409, `hazard ${item.hazardId} is not rectified yet (${item.hazardStatus}): record its rectification first`, 'hazard-not-rectified', `隐患 ${item.hazardId} 尚未整改：请先登记整改`)
      }
      if (item.kind !== 'hazard') {
        const open = await openHazards(tx, item)
        if (open > 0) {
          throw new HttpError(409, `${open} hazards are still open ${item.kind === 'key_area' ? 'in the key area' : 'at the premises'}: they must be cleared to zero first`,
            item.kind === 'key_area' ? 'key-area-hazards-open' : 'premises-hazards-open', `${item.kind === 'key_area' ? '重点地区内' : '该房屋'}仍有 ${open} 处隐患未整改：须先清零`)
        }
      }
      const photoIds = [...new Set(evidence.photoIds)]
      if (item.kind !== 'key_area' && !photoIds.length) {
        throw new HttpError(400, 'close it with evidence: at least one photo of the work done', 'evidence-photo-required', '销号须附证据：至少一张整改照片')
      }
      if (photoIds.length) {
        const mine = item.kind === 'key_area'
          ? await tx<{ id: number }[]>`
              select ph.id from photo ph join premises p on p.id = ph.premises_id join key_area k on k.id = ${item.keyAreaId!}
              where ph.id in ${tx(photoIds)} and ph.deleted_at is null and p.geom && k.geom and st_intersects(k.geom, p.geom)`
          : await tx<{ id: number }[]>`select id from photo where id in ${tx(photoIds)} and deleted_at is null and premises_id = ${item.premisesId!}`
        const found = new Set(mine.map(r => Number(r.id)))
        const stray = photoIds.filter(p => !found.has(p))
        if (stray.length) throw new HttpError(400, `photos ${stray.join(', ')} are not photos of this item's subject`, 'photo-not-of-subject', `照片 ${stray.join('、')} 不是该督办对象的照片`)
      }
      await tx`
        update supervision_item set state = 'closed', closed_at = now(), closed_by = ${byId}, closing_note = ${evidence.note}, closing_photo_ids = ${tx.array(photoIds)}::bigint[]
        where id = ${id}`
      const [after] = await tx<ItemRow[]>`${itemSelect(tx)} where s.id = ${id}`
      return { before: supervisionDto(item, today), after: supervisionDto(after!, today) }
    },

    /**
     * 倒查追究 and 考核: each responsible unit's record over the items of the jurisdiction — listed,
     * open, overdue today, closed on time or late, escalated — worst on-time rate first.
     */
    async accountability(scope: Jurisdiction, today: string) {
      const rows = await sql<{ kind: 'department' | 'town'; code: string; nameZh: string; nameEn: string; listed: number; open: number; overdue: number; closedOnTime: number; closedLate: number; escalated: number }[]>`
        select s.unit_kind as kind, coalesce(s.unit_department, s.unit_town_id::text) as code,
               coalesce(d.name_zh, ut.name_zh) as name_zh, coalesce(d.name_en, ut.name_en) as name_en,
               count(*)::int as listed,
               count(*) filter (where s.state = 'open')::int as open,
               count(*) filter (where s.state = 'open' and s.deadline < ${today})::int as overdue,
               count(*) filter (where s.state = 'closed' and local_day(s.closed_at) <= s.deadline)::int as closed_on_time,
               count(*) filter (where s.state = 'closed' and local_day(s.closed_at) > s.deadline)::int as closed_late,
               count(*) filter (where s.level > 0)::int as escalated
        from supervision_item s left join department d on d.code = s.unit_department left join admin_area ut on ut.id = s.unit_town_id
        where ${inJurisdiction(sql, scope, 's')}
        group by 1, 2, 3, 4`
      const units = rows.map((r) => {
        const judged = r.closedOnTime + r.closedLate + r.overdue
        return { ...r, onTimeRate: judged ? r.closedOnTime / judged : null }
      })
      return units.sort((a, b) => (a.onTimeRate ?? 2) - (b.onTimeRate ?? 2) || b.overdue - a.overdue || a.code.localeCompare(b.code))
    },

    /** The campaign's escalation rules, from level 0 up. */
    async rules(db: Sql | Tx = sql): Promise<EscalationRule[]> {
      return [...await db<EscalationRule[]>`
        select from_level, to_level, after_days, notify from escalation_rule
        where campaign_id = (select id from campaign order by starts_on desc limit 1) order by from_level`]
    },

    /** Replaces the campaign's escalation rules (already checked by escalationRuleProblem). */
    async setRules(tx: Tx, rules: EscalationRule[]) {
      const [c] = await tx<{ id: number }[]>`select id from campaign order by starts_on desc limit 1 for update`
      await tx`delete from escalation_rule where campaign_id = ${c!.id}`
      await tx`insert into escalation_rule ${tx(rules.map(r => ({ campaign_id: c!.id, from_level: r.fromLevel, to_level: r.toLevel, after_days: r.afterDays, notify: r.notify })))}`
    },

    /**
     * The escalation of one district day over every open item, in chunks of items (by id), each its
     * own short transaction: a first run after weeks without one (a backlog of 100,000 items at
     * 1,000,000 premises) locks a chunk's items for a moment, not every item for seconds. Each level
     * an item's lateness reaches that it had not reached is recorded once, the item's level is
     * raised to the highest of them, and the users each rule names are sent a notice. Levels
     * skipped on days the computation did not run are each recorded on the day it next runs. A
     * chunk is judged from the items' levels as committed, so a run stopped half-way is finished by
     * the next one, and a second run of the day (or a second server's at once: they queue on an
     * advisory lock, chunk by chunk) adds nothing.
     */
    async escalate(day: string, opts: { chunk?: number } = {}): Promise<{ reached: number; notices: number; noticeIds: number[] }> {
      const chunk = opts.chunk ?? escalationChunk
      let after = 0
      let reached = 0
      const noticeIds: number[] = []
      for (;;) {
        const r = await sql.begin(async (tx) => {
          await tx`select pg_advisory_xact_lock(${escalationLock})`
          return (await escalateChunk(tx, day, after, chunk))!
        })
        reached += r.reached
        noticeIds.push(...r.noticeIds.map(Number))
        if (r.due < chunk) break
        after = Number(r.lastId)
      }
      return { reached, notices: noticeIds.length, noticeIds }
    },
  }
}

/** The advisory lock escalation runs queue on (one chunk at a time in the database). */
const escalationLock = 16_038

/** Items per transaction: their locks are held for about half a second at 1,000,000 premises on a busy machine. */
const escalationChunk = 10_000

/**
 * One chunk of a day's escalation: the next items after an id whose lateness reaches a level they
 * have not reached, in one statement. The item's row is raised first (its lock proves it exists
 * and still open, and holds off a concurrent close or delete until the chunk commits); the levels
 * and notices are written from the rows the update returned, so every item they name exists.
 * The notices' audience is found by equality joins (the item's responsible user, its town's or
 * police station's commanders, the district's), not by an OR over every user for every level.
 * due is how many items the chunk took (fewer than asked: the last chunk), lastId the highest.
 */
async function escalateChunk(tx: Tx, day: string, after: number, chunk: number) {
  const [r] = await tx<{ reached: number; noticeIds: string[]; due: number; lastId: string | null }[]>`
    with rule as materialized (
      select r.to_level, r.after_days, r.notify from escalation_rule r
      where r.campaign_id = (select id from campaign order by starts_on desc limit 1)
    ),
    due as materialized (
      select s.id, s.level as old_level, t.level
      from supervision_item s
      cross join lateral (select max(r.to_level) as level from rule r where r.to_level > s.level and r.after_days < ${day}::date - s.deadline) t
      where s.state = 'open' and s.deadline < ${day}::date and s.id > ${after}
        and s.campaign_id = (select id from campaign order by starts_on desc limit 1) and t.level is not null
      order by s.id
      limit ${chunk}
    ),
    raised as (
      update supervision_item s set level = d.level
      from due d
      where s.id = d.id and s.state = 'open' and s.level = d.old_level
        -- The chunk's range of ids: the items are read by their key, not all scanned to be hashed.
        and s.id > ${after} and s.id <= (select max(id) from due)
      returning s.id, d.old_level, s.deadline, s.kind, s.town_id, s.police_station_id, s.responsible_user_id
    ),
    step as materialized (
      select u.id as item_id, r.to_level as level, r.notify, (${day}::date - u.deadline) as days_overdue,
             u.kind, u.town_id, u.police_station_id, u.responsible_user_id
      from raised u join rule r on r.to_level > u.old_level and r.after_days < ${day}::date - u.deadline
    ),
    reached as (
      insert into escalation_event (item_id, level, reached_on, days_overdue)
      select item_id, level, ${day}::date, days_overdue from step
      returning 1
    ),
    audience as materialized (
      select id, role, jurisdiction_kind, jurisdiction_town_id, jurisdiction_station_id from app_user where disabled_at is null
    ),
    told_to as (
      select e.item_id, e.level, a.id as user_id from step e join audience a on a.id = e.responsible_user_id
      union
      select e.item_id, e.level, a.id from step e join audience a
        on e.notify = 'jurisdiction' and a.role = 'commander' and a.jurisdiction_kind = 'town' and a.jurisdiction_town_id = e.town_id
      union
      select e.item_id, e.level, a.id from step e join audience a
        on e.notify = 'jurisdiction' and a.role = 'commander' and a.jurisdiction_kind = 'police_station' and a.jurisdiction_station_id = e.police_station_id
      union
      select e.item_id, e.level, a.id from step e join audience a
        on e.notify = 'district' and a.jurisdiction_kind = 'district' and a.role in ('commander', 'leader')
    ),
    told as (
      insert into notice (user_id, kind, payload, town_id, police_station_id, dedupe_key)
      select t.user_id, 'escalation',
             jsonb_build_object('itemId', e.item_id, 'level', e.level, 'kind', e.kind, 'daysOverdue', e.days_overdue, 'reachedOn', ${day}::date, 'townId', e.town_id),
             e.town_id, e.police_station_id, 'escalation:' || e.item_id || ':' || e.level
      from told_to t join step e on e.item_id = t.item_id and e.level = t.level
      on conflict (user_id, kind, dedupe_key) do nothing
      returning id
    )
    select (select count(*) from reached)::int as reached, array(select id from told) as notice_ids,
           (select count(*) from due)::int as due, (select max(id) from due)::text as last_id`
  return r
}

export type SupervisionRepository = ReturnType<typeof supervisionRepository> & {
  /** Runs the escalation of the scheduler's today (its clock): what a server does on its own every few minutes. */
  runScheduled: () => Promise<{ day: string; reached: number; notices: number }>
}

/** How the server escalates by itself: how often, and by which clock (tests give their own). */
export interface SupervisionOptions {
  /** Milliseconds between runs; 0: never on its own (tests call runScheduled). */
  everyMs?: number
  /** The time now, as milliseconds since the epoch. */
  clock?: () => number
}

/** Often enough that a day's escalation follows its midnight within minutes; a run that finds nothing is cheap. */
const defaultEveryMs = 10 * 60_000

declare module 'fastify' {
  interface FastifyInstance {
    supervision: SupervisionRepository
  }
}

export default fp<{ supervision?: SupervisionOptions }>(async (app, opts) => {
  const clock = opts.supervision?.clock ?? Date.now
  const repo = supervisionRepository(app.db.sql)
  const runScheduled = async () => {
    const day = todayInDistrict(clock())
    const { reached, notices, noticeIds } = await repo.escalate(day)
    app.notices.deliver(await app.notices.byIds(noticeIds))
    return { day, reached, notices }
  }
  app.decorate('supervision', { ...repo, runScheduled })
  const everyMs = opts.supervision?.everyMs ?? defaultEveryMs
  if (everyMs > 0) {
    // A database away delays the run to the next round instead of stopping the app.
    const run = () => runScheduled().catch((e: unknown) => app.log.warn({ err: e }, 'escalating supervision items failed'))
    const timer = setInterval(run, everyMs).unref()
    app.addHook('onReady', async () => void run())
    app.addHook('onClose', async () => clearInterval(timer))
  }
}, { name: 'supervision', dependencies: ['db', 'notices'] })
