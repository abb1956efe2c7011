import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { acceptanceStageOf } from '../../domain/lists.js'
import { reportDates } from '../../domain/periods.js'
import type { PolygonInput } from '../../domain/polygon.js'
import { badRequest, HttpError, notFound } from '../../lib/http-errors.js'
import type { ProposalParameters } from '../../schemas/analysis.js'
import type { KeyAreaAttributes, KeyAreaProperties } from '../../schemas/key-areas.js'
import type { Campaign } from './campaign.js'
import { type FiguresCache, figuresCache } from './figures-cache.js'
import { type BoundaryCheckOptions, type CheckedGeometry, checkAndCount, checkBoundary, countsInside, keyAreaLimits, previewBoundary } from './key-areas-boundary.js'
import { keyAreaNameFor, keyAreaScope, type KeyAreaViewer } from './key-areas-scope.js'
import { daysBetween, endOfDay, localMinute } from '../../domain/calendar.js'

/**
 * Key areas (重点地区): boundaries drawn by commanders, listed for remediation with a deadline by
 * which their hazards must be cleared to zero. Every saved boundary is kept as a version; writes
 * carry the version they change (If-Match) so that two commanders cannot overwrite each other.
 */

/** The advisory-lock space proposals of one town queue in (the second key is the town's id). */
const proposalLockSpace = 16_012

export function keyAreasRepository(sql: Sql, opts: { cache?: FiguresCache } = {}) {
  /**
   * Each area's open hazards on a day and on its listing day, in one pass over the premises inside
   * it. Outside a transaction they are kept per state of the hazards (figures_version) and of the
   * areas asked for (id, version, listing day): the map asks for every key area when it opens, and
   * counting them takes a second at a hundred thousand premises.
   */
  async function openCounts(db: Sql | Tx, areas: { id: number; version: number; listedOn: string | null }[], on: string) {
    const count = async () => {
      if (!areas.length) return new Map<number, { open: number; atListing: number }>()
      const until = endOfDay(on)
      const rows = await db<{ id: number; open: number; atListing: number }[]>`
        select k.id,
               count(*) filter (where h.found_at < ${until} and (h.rectified_at is null or h.rectified_at >= ${until}))::int as open,
               count(*) filter (where k.listed_on is not null and h.found_at < end_of_local_day(k.listed_on)
                 and (h.rectified_at is null or h.rectified_at >= end_of_local_day(k.listed_on)))::int as at_listing
        from key_area k
        left join premises p on p.geom && k.geom and st_intersects(k.geom, p.geom)
        left join hazard h on h.premises_id = p.id
        where k.id in ${db(areas.map(a => a.id))}
        group by k.id`
      return new Map(rows.map(r => [r.id, r]))
    }
    if (!opts.cache || db !== sql) return count()
    const key = `key-area-counts|${on}|${areas.map(a => `${a.id}:${a.version}:${a.listedOn ?? ''}`).join(',')}`
    return opts.cache.get(key, count)
  }

  /** Key areas as features with their progress toward zero open hazards on a day. */
  async function features(db: Sql | Tx, viewer: KeyAreaViewer, on: string, id?: number) {
    const rows = await db<(Record<string, unknown> & { id: number; version: number; geometry: string; labelPoint: string; updatedAt: Date; deadline: string | null; listedOn: string | null; lastDecision: 'accepted' | 'returned' | null; submitted: boolean })[]>`
      select k.id, k.version, k.name_zh, k.name_en, k.town_id, t.name_zh as town_name_zh, t.name_en as town_name_en,
             k.police_station_id, s.name_zh as police_station_name_zh, s.name_en as police_station_name_en,
             k.status, k.listed_on, k.deadline, k.commander_user_id, u.display_name as commander_name,
             k.actual_population, k.floating_population, k.mental_illness_count, k.persons_of_concern_count,
             st_area(k.geom::geography) / 1e6 as area_km2, k.updated_at, k.proposed_from,
             st_asgeojson(k.geom, 7) as geometry, st_asgeojson(st_pointonsurface(k.geom), 7) as label_point,
             (select a.decision from key_area_acceptance a where a.key_area_id = k.id order by a.submitted_at desc, a.id desc limit 1) as last_decision,
             exists (select 1 from key_area_acceptance a where a.key_area_id = k.id) as submitted
      from key_area k
      join admin_area t on t.id = k.town_id
      left join police_station s on s.id = k.police_station_id
      left join app_user u on u.id = k.commander_user_id
      where k.deleted_at is null and ${keyAreaScope(db, viewer)} ${id === undefined ? db`` : db`and k.id = ${id}`}
      order by k.deadline nulls last, k.id`
    const counts = await openCounts(db, rows, on)
    return rows.map(({ geometry, labelPoint, updatedAt, lastDecision, submitted, ...p }) => {
      const c = counts.get(p.id)
      const openHazards = c?.open ?? 0
      const openHazardsAtListing = p.listedOn === null ? null : c?.atListing ?? 0
      return {
        type: 'Feature' as const,
        id: p.id,
        geometry: JSON.parse(geometry) as { type: string; coordinates: unknown[] },
        properties: {
          ...p,
          nameZh: keyAreaNameFor(viewer, p.nameZh as string),
          nameEn: keyAreaNameFor(viewer, p.nameEn as string | null),
          updatedAt: updatedAt.toISOString(),
          openHazards,
          openHazardsAtListing,
          // Toward zero: the share of the hazards open at listing that are gone (new ones count against it).
          progress: openHazardsAtListing ? Math.max(0, 1 - openHazards / openHazardsAtListing) : (p.listedOn ? (openHazards === 0 ? 1 : 0) : null),
          daysLeft: p.deadline ? daysBetween(on, p.deadline) : null,
          acceptanceStage: acceptanceStageOf(p.status as string, submitted ? lastDecision : undefined),
          labelPoint: (JSON.parse(labelPoint) as { coordinates: number[] }).coordinates,
        } as unknown as KeyAreaProperties,
      }
    })
  }

  async function validateAttributes(db: Sql | Tx, scope: Jurisdiction, a: KeyAreaAttributes, townId: number, stationId: number | null) {
    if (a.deadline && a.listedOn && a.deadline < a.listedOn) throw badRequest(`the deadline (${a.deadline}) is before the listing date (${a.listedOn})`, `整治期限（${a.deadline}）早于挂牌日期（${a.listedOn}）`)
    if ((a.status ?? 'listed') !== 'draft' && !a.listedOn) throw badRequest('a listed key area needs its listing date (listedOn); save it as a draft otherwise', '挂牌的重点地区须填写挂牌日期；否则请存为草稿')
    const [town] = await db`select 1 from admin_area where id = ${townId} and level = 'town' and valid_to is null`
    if (!town) throw badRequest(`there is no current town or street with id ${townId}`, `没有编号为 ${townId} 的现行镇（街道）`)
    if (stationId !== null) {
      const [st] = await db`select 1 from police_station where id = ${stationId} and valid_to is null`
      if (!st) throw badRequest(`there is no current police station with id ${stationId}`, `没有编号为 ${stationId} 的现行派出所`)
    }
    if (scope.kind === 'town' && townId !== scope.id) throw new HttpError(403, 'You may list key areas of your own town or street only.', 'outside-jurisdiction', '只能挂牌本镇（街道）的重点地区。')
    if (scope.kind === 'police_station' && stationId !== scope.id) throw new HttpError(403, 'You may list key areas of your own police station\'s area only.', 'outside-jurisdiction', '只能挂牌本派出所辖区的重点地区。')
    if (a.commanderUserId) {
      const [u] = await db`select 1 from app_user where id = ${a.commanderUserId} and role = 'commander' and disabled_at is null`
      if (!u) throw badRequest(`user ${a.commanderUserId} is not an active commander`, `用户 ${a.commanderUserId} 不是在用的指挥长`)
    }
  }

  const attributeColumns = (a: KeyAreaAttributes, townId: number, stationId: number | null) => ({
    name_zh: a.nameZh.trim(), name_en: a.nameEn?.trim() || null, town_id: townId, police_station_id: stationId,
    status: a.status ?? 'listed', listed_on: a.listedOn ?? null, deadline: a.deadline ?? null, commander_user_id: a.commanderUserId ?? null,
    actual_population: a.actualPopulation ?? null, floating_population: a.floatingPopulation ?? null,
    mental_illness_count: a.mentalIllnessCount ?? null, persons_of_concern_count: a.personsOfConcernCount ?? null,
  })

  async function saveVersion(tx: Tx, id: number, userId: number) {
    await tx`
      insert into key_area_version (key_area_id, version, geom, attributes, saved_by)
      select id, version, geom, jsonb_build_object(
               'nameZh', name_zh, 'nameEn', name_en, 'townId', town_id, 'policeStationId', police_station_id, 'status', status,
               'listedOn', listed_on, 'deadline', deadline, 'commanderUserId', commander_user_id,
               'actualPopulation', actual_population, 'floatingPopulation', floating_population,
               'mentalIllnessCount', mental_illness_count, 'personsOfConcernCount', persons_of_concern_count,
               'deleted', deleted_at is not null), ${userId}
      from key_area where id = ${id}`
  }

  /** The row locked for a write, after checking that it is still a version the writer saw (If-Match). */
  async function lockForWrite(tx: Tx, viewer: KeyAreaViewer, id: number, ifMatch: number[]) {
    const [k] = await tx<{ version: number; updatedAt: Date; username: string | null }[]>`
      select k.version, k.updated_at,
             (select u.username from key_area_version v left join app_user u on u.id = v.saved_by
               where v.key_area_id = k.id order by v.version desc limit 1) as username
      from key_area k where k.id = ${id} and k.deleted_at is null and ${keyAreaScope(tx, viewer)}
      for update of k`
    if (!k) throw notFound(`there is no key area with id ${id}`, `没有编号为 ${id} 的重点地区`)
    if (!ifMatch.length) {
      throw new HttpError(412, `If-Match names no version of this key area (it is now version ${k.version}, ETag "${k.version}"). Reload it and apply your changes again.`, 'version-conflict',
        `If-Match 未指明此重点地区的任何版本（现为第 ${k.version} 版，ETag 为 "${k.version}"）。请重新载入后再修改。`)
    }
    if (!ifMatch.includes(k.version)) {
      const edited = ifMatch.join(', ')
      throw new HttpError(412, `This key area was changed by ${k.username ?? 'someone else'} at ${k.updatedAt.toISOString()} (now version ${k.version}; you edited version ${edited}). Reload it and apply your changes again.`, 'version-conflict',
        `此重点地区已被${k.username ?? '他人'}于 ${localMinute(k.updatedAt)} 修改（现为第 ${k.version} 版，您编辑的是第 ${edited} 版）。请重新载入后再修改。`)
    }
  }

  /** A checked boundary refused with its first problem, as a drawn one is. */
  function refuseProblems(c: CheckedGeometry) {
    if (c.problems.length) throw new HttpError(400, c.problems[0]!.message, 'invalid-boundary', c.problems[0]!.messageZh)
  }

  /** Inserts a key area with a checked boundary and its first version. */
  async function insert(tx: Tx, scope: Jurisdiction, userId: number, campaignId: number, c: CheckedGeometry, a: KeyAreaAttributes) {
    const townId = a.townId ?? c.suggested.townId
    if (!townId) throw badRequest('the area lies in no town or street of the district', '该区域不在本区任何镇（街道）内')
    const stationId = a.policeStationId === undefined ? c.suggested.policeStationId : a.policeStationId
    await validateAttributes(tx, scope, a, townId, stationId)
    const [row] = await tx<{ id: number }[]>`
      insert into key_area ${tx({ ...attributeColumns(a, townId, stationId), campaign_id: campaignId, created_by: userId, geom: c.ewkt } as unknown as Record<string, string>)}
      returning id`
    await saveVersion(tx, row!.id, userId)
    return { id: row!.id, warnings: c.warnings }
  }

  return {
    /** A boundary being drawn, checked (key-areas-boundary.ts). */
    check: (geometry: PolygonInput, viewer: KeyAreaViewer, opts: BoundaryCheckOptions = {}, db: Sql | Tx = sql) => checkBoundary(db, geometry, viewer, opts),

    /** A boundary being drawn: its checks and what it holds on the day (key-areas-boundary.ts). */
    preview: (geometry: PolygonInput, viewer: KeyAreaViewer, opts: BoundaryCheckOptions, on: string, db: Sql | Tx = sql) => previewBoundary(db, geometry, viewer, opts, on),

    /** Attachment 3's figures inside a boundary (key-areas-boundary.ts). */
    counts: (geojson: string, scope: Jurisdiction, on: string, db: Sql | Tx = sql) => countsInside(db, geojson, scope, on),

    async list(viewer: KeyAreaViewer, on: string, db: Sql | Tx = sql) {
      return features(db, viewer, on)
    },

    async get(viewer: KeyAreaViewer, id: number, campaign: Campaign, on: string, db: Sql | Tx = sql) {
      const scope = viewer.jurisdiction
      const [f] = await features(db, viewer, on, id)
      if (!f) return undefined
      const geojson = JSON.stringify(f.geometry)
      const days = reportDates(campaign.startsOn, campaign.endsOn, campaign.reportDays).filter(d => d <= on)
      const trendOf = async () => days.length
        ? await db<{ date: string; open: number; found: number; rectified: number }[]>`
            with g as (select st_setsrid(st_geomfromgeojson(${geojson}), 4326) as geom),
            h as (
              select h.found_at, h.rectified_at from hazard h join premises p on p.id = h.premises_id, g
              where p.geom && g.geom and st_intersects(g.geom, p.geom) and ${inJurisdiction(db, scope)}
            )
            select d::text as date,
                   count(*) filter (where h.found_at < end_of_local_day(d)
                     and (h.rectified_at is null or h.rectified_at >= end_of_local_day(d)))::int as open,
                   count(*) filter (where h.found_at < end_of_local_day(d))::int as found,
                   count(*) filter (where h.rectified_at < end_of_local_day(d))::int as rectified
            from unnest(${days}::date[]) as d left join h on true
            group by d order by d`
        : []
      // Warnings about the boundary as it is, whoever reads it: only the overlaps they may see are
      // named. Asked with the counts in one statement, beside the trend.
      const [trend, { checked, counts }] = await Promise.all([
        trendOf(),
        checkAndCount(db, f.geometry, viewer, { excludeId: id, within: { kind: 'district', id: null } }, { scope, on }),
      ])
      return { ...f, counts: counts ?? await countsInside(db, geojson, scope, on), trend: [...trend], warnings: checked.warnings }
    },

    async versions(viewer: KeyAreaViewer, id: number, db: Sql | Tx = sql) {
      const [k] = await db`select 1 from key_area k where k.id = ${id} and ${keyAreaScope(db, viewer)}`
      if (!k) return undefined
      const rows = await db<{ version: number; savedAt: Date; savedBy: string | null; geometry: string; attributes: Record<string, unknown> }[]>`
        select v.version, v.saved_at, u.username as saved_by, st_asgeojson(v.geom, 7) as geometry, v.attributes
        from key_area_version v left join app_user u on u.id = v.saved_by
        where v.key_area_id = ${id} order by v.version desc`
      return rows.map(r => ({
        ...r, savedAt: r.savedAt.toISOString(), geometry: JSON.parse(r.geometry),
        attributes: { ...r.attributes, nameZh: keyAreaNameFor(viewer, r.attributes.nameZh as string), nameEn: keyAreaNameFor(viewer, (r.attributes.nameEn ?? null) as string | null) },
      }))
    },

    async create(tx: Tx, viewer: KeyAreaViewer, userId: number, campaignId: number, geometry: PolygonInput, a: KeyAreaAttributes, clip: boolean) {
      const c = await checkBoundary(tx, geometry, viewer, { clip })
      refuseProblems(c)
      return insert(tx, viewer.jurisdiction, userId, campaignId, c, a)
    },

    /**
     * A cluster proposed as a key area: a draft for the commander of the town it falls in, with the
     * analysis that found it. The boundary passes the checks of a drawn one (shape, validity, size,
     * the proposer's jurisdiction), keeping the part inside the proposer's jurisdiction and then
     * inside that town, so that its commander can list it as it stands. The same cluster proposed
     * again while the earlier proposal is still a draft is refused (409).
     */
    async propose(tx: Tx, proposer: KeyAreaViewer & { id: number; username: string }, campaignId: number, geometry: PolygonInput, nameZh: string, parameters: ProposalParameters) {
      const first = await checkBoundary(tx, geometry, proposer, { clip: true })
      refuseProblems(first)
      const townId = first.suggested.townId
      if (!townId) throw badRequest('the cluster lies in no town or street of the district', '该聚集区不在本区任何镇（街道）内')
      const c = await checkBoundary(tx, JSON.parse(first.geojson!) as PolygonInput, proposer, { clip: true, within: { kind: 'town', id: townId } })
      refuseProblems(c)
      // Two proposals of one cluster at the same moment would each find no earlier draft: one waits.
      await tx`select pg_advisory_xact_lock(${proposalLockSpace}, ${townId})`
      const [earlier] = await tx<{ id: number; createdAt: Date; proposedBy: string | null }[]>`
        with g as (select st_setsrid(st_geomfromgeojson(${c.geojson}), 4326) as geom)
        select k.id, k.created_at, k.proposed_from ->> 'proposedBy' as proposed_by
        from key_area k, g
        where k.town_id = ${townId} and k.status = 'draft' and k.deleted_at is null and k.proposed_from is not null
          and k.geom && g.geom
          and st_area(st_intersection(k.geom, g.geom)) >= ${keyAreaLimits.sameProposalOverlap} * st_area(st_union(k.geom, g.geom))
        order by k.id limit 1`
      if (earlier) {
        const when = localMinute(earlier.createdAt)
        throw new HttpError(409, `This cluster has already been proposed (draft key area #${earlier.id}, by ${earlier.proposedBy ?? 'someone'} at ${when}); it is waiting for the town's commander.`, 'duplicate-proposal',
          `该聚集区已被建议过（重点地区草稿 #${earlier.id}，${earlier.proposedBy ?? '他人'}于 ${when} 提出），正等待镇（街道）指挥长处理。`)
      }
      const [commander] = await tx<{ id: number }[]>`
        select id from app_user where role = 'commander' and disabled_at is null and jurisdiction_town_id = ${townId} order by id limit 1`
      const commanderUserId = commander?.id ?? null
      const { id, warnings } = await insert(tx, proposer.jurisdiction, proposer.id, campaignId, c, { nameZh, status: 'draft', townId, commanderUserId })
      await tx`update key_area set proposed_from = ${tx.json({ ...parameters, proposedBy: proposer.username })} where id = ${id}`
      return { keyAreaId: id, townId, commanderUserId, warnings }
    },

    async update(tx: Tx, viewer: KeyAreaViewer, userId: number, id: number, ifMatch: number[], geometry: PolygonInput, a: KeyAreaAttributes, clip: boolean) {
      const scope = viewer.jurisdiction
      await lockForWrite(tx, viewer, id, ifMatch)
      const c = await checkBoundary(tx, geometry, viewer, { clip, excludeId: id })
      refuseProblems(c)
      const townId = a.townId ?? c.suggested.townId
      if (!townId) throw badRequest('the area lies in no town or street of the district', '该区域不在本区任何镇（街道）内')
      const stationId = a.policeStationId === undefined ? c.suggested.policeStationId : a.policeStationId
      await validateAttributes(tx, scope, a, townId, stationId)
      const [before] = await tx`select * from key_area_version where key_area_id = ${id} order by version desc limit 1`
      await tx`
        update key_area set ${tx({ ...attributeColumns(a, townId, stationId), geom: c.ewkt } as unknown as Record<string, string>)}, version = version + 1
        where id = ${id}`
      await saveVersion(tx, id, userId)
      return { before: before?.attributes, warnings: c.warnings }
    },

    async remove(tx: Tx, viewer: KeyAreaViewer, userId: number, id: number, ifMatch: number[]) {
      await lockForWrite(tx, viewer, id, ifMatch)
      await tx`update key_area set deleted_at = now(), version = version + 1 where id = ${id}`
      await saveVersion(tx, id, userId)
    },
  }
}

export type KeyAreasRepository = ReturnType<typeof keyAreasRepository>

declare module 'fastify' {
  interface FastifyInstance {
    keyAreas: KeyAreasRepository
  }
}

export default fp(async (app) => {
  app.decorate('keyAreas', keyAreasRepository(app.db.sql, { cache: figuresCache(app.versions, 50) }))
}, { name: 'key-areas', dependencies: ['db', 'versions'] })
