import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import { can, type Jurisdiction, type Role } from '../../domain/access.js'
import { reportDates } from '../../domain/periods.js'
import { type PolygonInput, type PolygonProblem, polygonProblem, validityProblem } from '../../domain/polygon.js'
import { maskPersonalText } from '../../domain/redact.js'
import { badRequest, HttpError, notFound } from '../../http-errors.js'
import type { ProposalParameters } from '../../schemas/analysis.js'
import type { KeyAreaProperties } from '../../schemas/key-areas.js'
import type { Campaign } from './campaign.js'
import { endOfDay } from './measures.js'

/**
 * Key areas (重点地区): boundaries drawn by commanders, listed for remediation with a deadline by
 * which their hazards must be cleared to zero. Every saved boundary is kept as a version; writes
 * carry the version they change (If-Match) so that two commanders cannot overwrite each other.
 */

export const keyAreaLimits = {
  /** A key area is an urban village or the blocks around a park: a few km² at most. */
  maxAreaKm2: 30,
  /** Smaller than a house plot is a slip of the mouse. */
  minAreaKm2: 0.0005,
  /**
   * A proposal whose boundary shares this much with a draft proposed earlier for the same town
   * (intersection over union) is the same cluster proposed again.
   */
  sameProposalOverlap: 0.9,
}

/** The advisory-lock space proposals of one town queue in (the second key is the town's id). */
const proposalLockSpace = 16_012

/**
 * Who reads key areas: where they may look, whether they see drafts, whether they see people.
 * A draft (a proposal from the cluster analysis, or a boundary a commander has not listed yet) is
 * seen only by those who may list it: commanders whose jurisdiction holds it. Names are free text
 * and are masked for roles that do not see people (an ID or phone number typed into one).
 */
export interface KeyAreaViewer {
  jurisdiction: Jurisdiction
  drafts: boolean
  people: boolean
}

/** The viewer a signed-in user is. */
export function keyAreaViewer(user: { role: Role; jurisdiction: Jurisdiction }): KeyAreaViewer {
  return { jurisdiction: user.jurisdiction, drafts: can(user.role, 'key-areas:write'), people: can(user.role, 'people:read') }
}

export interface CheckedGeometry {
  problems: PolygonProblem[]
  warnings: PolygonProblem[]
  /** The boundary to store (clipped to the jurisdiction when asked), as GeoJSON text. */
  geojson: string | null
  /** The same as EWKT, a geometry's text form that travels as an ordinary parameter. */
  ewkt: string | null
  areaKm2: number | null
  outsideShare: number | null
  suggested: { townId: number | null; policeStationId: number | null }
}

export interface KeyAreaAttributes {
  nameZh: string
  nameEn?: string | null
  townId?: number
  policeStationId?: number | null
  status?: 'draft' | 'listed' | 'cleared' | 'delisted'
  listedOn?: string | null
  deadline?: string | null
  commanderUserId?: number | null
  actualPopulation?: number | null
  floatingPopulation?: number | null
  mentalIllnessCount?: number | null
  personsOfConcernCount?: number | null
}

/**
 * Key areas a viewer may see, as SQL on a key_area row: by the town or police station they were
 * listed for, and drafts only for those who may list them.
 */
export function keyAreaScope(sql: Sql | Tx, viewer: KeyAreaViewer, alias = 'k') {
  const a = sql(alias)
  const drafts = viewer.drafts ? sql`` : sql`and ${a}.status <> 'draft'`
  switch (viewer.jurisdiction.kind) {
    case 'district': return sql`true ${drafts}`
    case 'town': return sql`${a}.town_id = ${viewer.jurisdiction.id!} ${drafts}`
    case 'police_station': return sql`${a}.police_station_id = ${viewer.jurisdiction.id!} ${drafts}`
  }
}

/** A key area's name as a viewer may read it. */
export function keyAreaNameFor<T extends string | null>(viewer: KeyAreaViewer, name: T): T {
  return (name === null || viewer.people ? name : maskPersonalText(name)) as T
}
const nameFor = keyAreaNameFor

/** The area a user may draw in, as SQL yielding one geometry. */
function jurisdictionGeom(sql: Sql | Tx, scope: Jurisdiction) {
  switch (scope.kind) {
    case 'district': return sql`(select geom from admin_area where level = 'district' and valid_to is null order by id limit 1)`
    case 'town': return sql`(select geom from admin_area where id = ${scope.id!})`
    case 'police_station': return sql`(select geom from police_station where id = ${scope.id!})`
  }
}

/**
 * Attachment 3's figures inside a boundary, on a day, over the user's jurisdiction: the one rule
 * for the key area's page and attachment 3. A house counts from the day it was found until the day
 * it was deregistered; rented houses are let dwellings and group rentals; group rentals are those
 * recorded as one or meeting the rule; with hazards, those with a hazard open at the end of the day.
 */
export async function keyAreaCounts(db: Sql | Tx, geojson: string, scope: Jurisdiction, on: string) {
  const until = endOfDay(on)
  const [c] = await db<{ houses: number; rentalHouses: number; groupRentals: number; groupRentalsWithHazards: number; residentsRegistered: number;
    ps: number; fire: number; housing: number; other: number }[]>`
    with g as (select st_setsrid(st_geomfromgeojson(${geojson}), 4326) as geom),
    inside as (
      select p.id, p.kind, is_group_rental_candidate(p.kind, p.meets_rule) as group_rental
      from premises p, g
      where p.geom && g.geom and st_intersects(g.geom, p.geom) and ${inJurisdiction(db as unknown as Sql, scope)}
        and p.found_on <= ${on} and (p.deregistered_on is null or p.deregistered_on > ${on})
    ),
    open_hazards as (
      select h.premises_id, i.category_code from hazard h join inside p on p.id = h.premises_id join hazard_item i on i.code = h.item_code
      where h.found_at < ${until} and (h.rectified_at is null or h.rectified_at >= ${until})
    ),
    -- Grouped once and joined, not looked up row by row.
    with_hazards as (select distinct premises_id from open_hazards),
    by_category as (select category_code, count(*)::int as n from open_hazards group by 1)
    select (select count(*) from inside)::int as houses,
           (select count(*) from inside where kind in ('rental', 'group_rental'))::int as rental_houses,
           (select count(*) from inside where group_rental)::int as group_rentals,
           (select count(*) from inside i join with_hazards w on w.premises_id = i.id where i.group_rental)::int as group_rentals_with_hazards,
           (select count(*) from resident r join inside i on i.id = r.premises_id
             where r.moved_in_on <= ${on} and (r.moved_out_on is null or r.moved_out_on > ${on}) and r.registered_on <= ${on})::int as residents_registered,
           coalesce((select n from by_category where category_code = 'public_security'), 0) as ps,
           coalesce((select n from by_category where category_code = 'fire'), 0) as fire,
           coalesce((select n from by_category where category_code = 'housing'), 0) as housing,
           coalesce((select n from by_category where category_code = 'other'), 0) as other`
  return {
    houses: c!.houses, rentalHouses: c!.rentalHouses, groupRentals: c!.groupRentals, groupRentalsWithHazards: c!.groupRentalsWithHazards,
    residentsRegistered: c!.residentsRegistered,
    openHazards: { total: c!.ps + c!.fire + c!.housing + c!.other, public_security: c!.ps, fire: c!.fire, housing: c!.housing, other: c!.other },
  }
}

export function keyAreasRepository(sql: Sql) {
  /**
   * Checks a drawn boundary: its shape, PostGIS validity, size, jurisdiction (the viewer's, or
   * `within` when given), overlaps. Overlaps are named only when the viewer may see the other key
   * area; the rest are one warning that says how much overlaps areas outside the viewer's view.
   */
  async function check(db: Sql | Tx, geometry: PolygonInput, viewer: KeyAreaViewer, opts: { clip?: boolean; excludeId?: number; within?: Jurisdiction } = {}): Promise<CheckedGeometry> {
    const scope = opts.within ?? viewer.jurisdiction
    const none: CheckedGeometry = { problems: [], warnings: [], geojson: null, ewkt: null, areaKm2: null, outsideShare: null, suggested: { townId: null, policeStationId: null } }
    const shape = polygonProblem(geometry)
    if (shape) return { ...none, problems: [shape] }
    const json = JSON.stringify({ type: geometry.type, coordinates: geometry.coordinates })
    const [v] = await db<{ valid: boolean; reason: string }[]>`
      select st_isvalid(g) as valid, st_isvalidreason(g) as reason
      from (select st_setsrid(st_geomfromgeojson(${json}), 4326) as g) s`
    if (!v!.valid) return { ...none, problems: [validityProblem(v!.reason)] }
    const [r] = await db<{ areaKm2: number; insideKm2: number; clipped: string | null }[]>`
      with g as (select st_multi(st_setsrid(st_geomfromgeojson(${json}), 4326)) as geom),
           j as (select ${jurisdictionGeom(db, scope)} as geom)
      select st_area(g.geom::geography) / 1e6 as area_km2,
             coalesce(st_area(st_intersection(g.geom, j.geom)::geography), 0) / 1e6 as inside_km2,
             st_asgeojson(st_multi(st_collectionextract(st_makevalid(st_intersection(g.geom, j.geom)), 3)), 7) as clipped
      from g, j`
    const outsideShare = r!.areaKm2 > 0 ? Math.max(0, 1 - r!.insideKm2 / r!.areaKm2) : 0
    const problems: PolygonProblem[] = []
    let geojson = json
    let areaKm2 = r!.areaKm2
    // Slivers along a shared border are drawing noise, not a claim on the neighbour's ground.
    if (outsideShare > 0.001) {
      if (opts.clip && r!.insideKm2 > 0) {
        geojson = r!.clipped!
        areaKm2 = r!.insideKm2
      }
      else {
        problems.push(r!.insideKm2 > 0
          ? { message: `${(outsideShare * 100).toFixed(1)}% of the area lies outside your jurisdiction: redraw it, or keep only the part inside`,
              messageZh: `该区域有 ${(outsideShare * 100).toFixed(1)}% 在您的辖区之外：请重画，或只保留辖区内的部分` }
          : { message: 'the area lies entirely outside your jurisdiction', messageZh: '该区域完全在您的辖区之外' })
      }
    }
    if (areaKm2 > keyAreaLimits.maxAreaKm2) {
      problems.push({ message: `the area is ${areaKm2.toFixed(1)} km²; a key area may be at most ${keyAreaLimits.maxAreaKm2} km²`,
        messageZh: `面积为 ${areaKm2.toFixed(1)} 平方公里；重点地区最大 ${keyAreaLimits.maxAreaKm2} 平方公里` })
    }
    if (areaKm2 < keyAreaLimits.minAreaKm2) {
      problems.push({ message: `the area is only ${Math.round(areaKm2 * 1e6)} m²; draw the whole key area`,
        messageZh: `面积只有 ${Math.round(areaKm2 * 1e6)} 平方米；请画出整个重点地区` })
    }
    const overlaps = (await db<{ id: number; nameZh: string; share: number; visible: boolean; draft: boolean }[]>`
      with g as (select st_setsrid(st_geomfromgeojson(${geojson}), 4326) as geom)
      select k.id, k.name_zh, st_area(st_intersection(k.geom, g.geom)::geography) / nullif(st_area(g.geom::geography), 0) as share,
             (${keyAreaScope(db, viewer)}) as visible, k.status = 'draft' as draft
      from key_area k, g
      where k.deleted_at is null and k.geom && g.geom and st_intersects(k.geom, g.geom)
        ${opts.excludeId ? db`and k.id <> ${opts.excludeId}` : db``}
      order by share desc`).filter(o => o.share > 0.001)
    const warnings: PolygonProblem[] = overlaps.filter(o => o.visible).map((o) => {
      const name = nameFor(viewer, o.nameZh)
      return { message: `overlaps key area "${name}" (#${o.id}) over ${(o.share * 100).toFixed(1)}% of this area`,
        messageZh: `与重点地区“${name}”（#${o.id}）重叠，占本区域的 ${(o.share * 100).toFixed(1)}%` }
    })
    // A listed area the viewer cannot see still matters (the same ground listed twice), but its
    // name and id stay with those who may see it; a draft there is nobody else's business yet.
    const hidden = overlaps.filter(o => !o.visible && !o.draft).map(o => o.id)
    if (hidden.length) {
      const [h] = await db<{ share: number }[]>`
        with g as (select st_setsrid(st_geomfromgeojson(${geojson}), 4326) as geom)
        select st_area(st_intersection(u.geom, g.geom)::geography) / nullif(st_area(g.geom::geography), 0) as share
        from (select st_union(k.geom) as geom from key_area k where k.id in ${db(hidden)}) u, g`
      const pct = ((h?.share ?? 0) * 100).toFixed(1)
      warnings.push({ message: `${pct}% of this area overlaps key areas outside your jurisdiction`, messageZh: `本区域有 ${pct}% 与您辖区之外的重点地区重叠` })
    }
    const [s] = await db<{ townId: number | null; policeStationId: number | null; ewkt: string }[]>`
      with g as (select st_setsrid(st_geomfromgeojson(${geojson}), 4326) as geom)
      select st_asewkt(st_multi(g.geom)) as ewkt, (select t.id from admin_area t where t.level = 'town' and t.valid_to is null and t.geom && g.geom
                order by st_area(st_intersection(t.geom, g.geom)) desc limit 1) as town_id,
             (select p.id from police_station p where p.valid_to is null and p.geom && g.geom
                order by st_area(st_intersection(p.geom, g.geom)) desc limit 1) as police_station_id
      from g`
    return { problems, warnings, geojson, ewkt: s!.ewkt, areaKm2, outsideShare, suggested: { townId: s!.townId, policeStationId: s!.policeStationId } }
  }

  /** Key areas as features with their progress toward zero open hazards on a day. */
  async function features(db: Sql | Tx, viewer: KeyAreaViewer, on: string, id?: number) {
    const until = endOfDay(on)
    const rows = await db<(Record<string, unknown> & { id: number; geometry: string; updatedAt: Date; openHazards: number; openHazardsAtListing: number | null; deadline: string | null; listedOn: string | null })[]>`
      select k.id, k.version, k.name_zh, k.name_en, k.town_id, t.name_zh as town_name_zh, t.name_en as town_name_en,
             k.police_station_id, s.name_zh as police_station_name_zh, s.name_en as police_station_name_en,
             k.status, k.listed_on, k.deadline, k.commander_user_id, u.display_name as commander_name,
             k.actual_population, k.floating_population, k.mental_illness_count, k.persons_of_concern_count,
             st_area(k.geom::geography) / 1e6 as area_km2, k.updated_at, k.proposed_from,
             st_asgeojson(k.geom, 7) as geometry,
             (select count(*) from hazard h join premises p on p.id = h.premises_id
               where p.geom && k.geom and st_intersects(k.geom, p.geom)
                 and h.found_at < ${until} and (h.rectified_at is null or h.rectified_at >= ${until}))::int as open_hazards,
             case when k.listed_on is null then null else
               (select count(*) from hazard h join premises p on p.id = h.premises_id
                 where p.geom && k.geom and st_intersects(k.geom, p.geom)
                   and h.found_at < (k.listed_on + 1)::timestamp at time zone 'Asia/Shanghai'
                   and (h.rectified_at is null or h.rectified_at >= (k.listed_on + 1)::timestamp at time zone 'Asia/Shanghai'))::int
             end as open_hazards_at_listing
      from key_area k
      join admin_area t on t.id = k.town_id
      left join police_station s on s.id = k.police_station_id
      left join app_user u on u.id = k.commander_user_id
      where k.deleted_at is null and ${keyAreaScope(db, viewer)} ${id === undefined ? db`` : db`and k.id = ${id}`}
      order by k.deadline nulls last, k.id`
    const day = Date.parse(`${on}T00:00:00Z`)
    return rows.map(({ geometry, updatedAt, ...p }) => ({
      type: 'Feature' as const,
      id: p.id,
      geometry: JSON.parse(geometry) as { type: string; coordinates: unknown[] },
      properties: {
        ...p,
        nameZh: nameFor(viewer, p.nameZh as string),
        nameEn: nameFor(viewer, p.nameEn as string | null),
        updatedAt: updatedAt.toISOString(),
        // Toward zero: the share of the hazards open at listing that are gone (new ones count against it).
        progress: p.openHazardsAtListing ? Math.max(0, 1 - p.openHazards / p.openHazardsAtListing) : (p.listedOn ? (p.openHazards === 0 ? 1 : 0) : null),
        daysLeft: p.deadline ? Math.round((Date.parse(`${p.deadline}T00:00:00Z`) - day) / 86_400_000) : null,
      } as unknown as KeyAreaProperties,
    }))
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
        `此重点地区已被${k.username ?? '他人'}于 ${new Date(k.updatedAt.getTime() + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ')} 修改（现为第 ${k.version} 版，您编辑的是第 ${edited} 版）。请重新载入后再修改。`)
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
    check,
    counts: keyAreaCounts,

    async list(viewer: KeyAreaViewer, on: string) {
      return features(sql, viewer, on)
    },

    async get(viewer: KeyAreaViewer, id: number, campaign: Campaign, on: string) {
      const scope = viewer.jurisdiction
      const [f] = await features(sql, viewer, on, id)
      if (!f) return undefined
      const geojson = JSON.stringify(f.geometry)
      const days = reportDates(campaign.startsOn, campaign.endsOn, campaign.reportDays).filter(d => d <= on)
      const trend = days.length
        ? await sql<{ date: string; open: number; found: number; rectified: number }[]>`
            with g as (select st_setsrid(st_geomfromgeojson(${geojson}), 4326) as geom),
            h as (
              select h.found_at, h.rectified_at from hazard h join premises p on p.id = h.premises_id, g
              where p.geom && g.geom and st_intersects(g.geom, p.geom) and ${inJurisdiction(sql, scope)}
            )
            select d::text as date,
                   count(*) filter (where h.found_at < (d + 1)::timestamp at time zone 'Asia/Shanghai'
                     and (h.rectified_at is null or h.rectified_at >= (d + 1)::timestamp at time zone 'Asia/Shanghai'))::int as open,
                   count(*) filter (where h.found_at < (d + 1)::timestamp at time zone 'Asia/Shanghai')::int as found,
                   count(*) filter (where h.rectified_at < (d + 1)::timestamp at time zone 'Asia/Shanghai')::int as rectified
            from unnest(${days}::date[]) as d left join h on true
            group by d order by d`
        : []
      // Warnings about the boundary as it is, whoever reads it: only the overlaps they may see are named.
      const { warnings } = await check(sql, f.geometry, viewer, { excludeId: id, within: { kind: 'district', id: null } })
      return { ...f, counts: await keyAreaCounts(sql, geojson, scope, on), trend: [...trend], warnings }
    },

    async versions(viewer: KeyAreaViewer, id: number) {
      const [k] = await sql`select 1 from key_area k where k.id = ${id} and ${keyAreaScope(sql, viewer)}`
      if (!k) return undefined
      const rows = await sql<{ version: number; savedAt: Date; savedBy: string | null; geometry: string; attributes: Record<string, unknown> }[]>`
        select v.version, v.saved_at, u.username as saved_by, st_asgeojson(v.geom, 7) as geometry, v.attributes
        from key_area_version v left join app_user u on u.id = v.saved_by
        where v.key_area_id = ${id} order by v.version desc`
      return rows.map(r => ({
        ...r, savedAt: r.savedAt.toISOString(), geometry: JSON.parse(r.geometry),
        attributes: { ...r.attributes, nameZh: nameFor(viewer, r.attributes.nameZh as string), nameEn: nameFor(viewer, (r.attributes.nameEn ?? null) as string | null) },
      }))
    },

    async create(tx: Tx, viewer: KeyAreaViewer, userId: number, campaignId: number, geometry: PolygonInput, a: KeyAreaAttributes, clip: boolean) {
      const c = await check(tx, geometry, viewer, { clip })
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
      const first = await check(tx, geometry, proposer, { clip: true })
      refuseProblems(first)
      const townId = first.suggested.townId
      if (!townId) throw badRequest('the cluster lies in no town or street of the district', '该聚集区不在本区任何镇（街道）内')
      const c = await check(tx, JSON.parse(first.geojson!) as PolygonInput, proposer, { clip: true, within: { kind: 'town', id: townId } })
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
        const when = new Date(earlier.createdAt.getTime() + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ')
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
      const c = await check(tx, geometry, viewer, { clip, excludeId: id })
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
  app.decorate('keyAreas', keyAreasRepository(app.db.sql))
}, { name: 'key-areas', dependencies: ['db'] })
