import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { type PolygonInput, type PolygonProblem, polygonProblem, validityProblem } from '../../domain/polygon.js'
import { keyAreaNameFor, keyAreaScope, type KeyAreaViewer } from './key-areas-scope.js'
import { endOfDay } from '../../domain/calendar.js'

/**
 * A key area's boundary as drawn: the checks it must pass before it is stored (shape, validity,
 * size, jurisdiction, overlaps) and what lies inside it. Reads only: the repository (key-areas.ts)
 * stores what passes.
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

/** How a boundary is checked: clipped to the jurisdiction, ignoring the key area being edited, within another area than the viewer's. */
export interface BoundaryCheckOptions {
  clip?: boolean
  excludeId?: number
  within?: Jurisdiction
}

/** The area a user may draw in, as SQL yielding one geometry. */
function jurisdictionGeom(sql: Sql | Tx, scope: Jurisdiction) {
  switch (scope.kind) {
    case 'district': return sql`(select geom from admin_area where level = 'district' and valid_to is null order by id limit 1)`
    case 'town': return sql`(select geom from admin_area where id = ${scope.id!})`
    case 'police_station': return sql`(select geom from police_station where id = ${scope.id!})`
  }
}

/** The one statement of a check: validity, size, the part inside the jurisdiction, overlaps, suggestion (and counts when asked). */
type CheckRow = {
  valid: boolean; reason: string; areaKm2: number | null; insideKm2: number | null; outsideShare: number | null; clip: boolean | null
  clipped: string | null; ewkt: string | null; townId: number | null; policeStationId: number | null
  overlaps: { id: number; nameZh: string; share: number; visible: boolean; draft: boolean }[] | null; hiddenShare: number | null
}

/**
 * Checks a drawn boundary: its shape, PostGIS validity, size, jurisdiction (the viewer's, or
 * `within` when given), overlaps. Overlaps are named only when the viewer may see the other key
 * area; the rest are one warning that says how much overlaps areas outside the viewer's view.
 */
export async function checkBoundary(db: Sql | Tx, geometry: PolygonInput, viewer: KeyAreaViewer, opts: BoundaryCheckOptions = {}): Promise<CheckedGeometry> {
  return (await checkAndCount(db, geometry, viewer, opts, null)).checked
}

/**
 * The checks, and what the boundary holds when `counting` says over which jurisdiction and day
 * (null when the boundary is not a valid polygon),
 * in ONE statement: under load every statement of a request waits for a pooled connection and
 * costs a round trip, a parse and a plan, and the preview used to ask four or five of them. The
 * geometry operations run only for a valid polygon (on which they cannot fail), and the boundary
 * clipped to the jurisdiction is computed once for its area and its shape.
 */
export async function checkAndCount(db: Sql | Tx, geometry: PolygonInput, viewer: KeyAreaViewer, opts: BoundaryCheckOptions,
  counting: { scope: Jurisdiction; on: string } | null): Promise<{ checked: CheckedGeometry; counts: CountsInside | null }> {
  const scope = opts.within ?? viewer.jurisdiction
  const none: CheckedGeometry = { problems: [], warnings: [], geojson: null, ewkt: null, areaKm2: null, outsideShare: null, suggested: { townId: null, policeStationId: null } }
  const shape = polygonProblem(geometry)
  if (shape) return { checked: { ...none, problems: [shape] }, counts: null }
  const json = JSON.stringify({ type: geometry.type, coordinates: geometry.coordinates })
  const [r] = await db<(CheckRow & Partial<CountRow>)[]>`
    with g0 as materialized (select st_setsrid(st_geomfromgeojson(${json}), 4326) as geom),
    v as materialized (select st_isvalid(geom) as valid, st_isvalidreason(geom) as reason from g0),
    g as materialized (select st_multi(g0.geom) as geom from g0, v where v.valid),
    i as materialized (
      select st_area(g.geom::geography) / 1e6 as area_km2, st_intersection(g.geom, j.geom) as inside
      from g, (select ${jurisdictionGeom(db, scope)} as geom) j
    ),
    s as materialized (
      select area_km2, coalesce(st_area(inside::geography), 0) / 1e6 as inside_km2,
             st_asgeojson(st_multi(st_collectionextract(st_makevalid(inside), 3)), 7) as clipped
      from i
    ),
    a as materialized (
      -- Slivers along a shared border (under 0.1 %) are drawing noise, not a claim on the neighbour's ground.
      select s.*, o.outside_share, ${!!opts.clip} and o.outside_share > 0.001 and s.inside_km2 > 0 as clip
      from s cross join lateral (select case when s.area_km2 > 0 then greatest(0, 1 - s.inside_km2 / s.area_km2) else 0 end as outside_share) o
    ),
    -- The boundary to store: the part inside when clipped (as the GeoJSON text it is stored from), else as drawn.
    b as materialized (select case when a.clip then st_setsrid(st_geomfromgeojson(a.clipped), 4326) else g0.geom end as geom from a, g0),
    o as materialized (
      select k.id, k.name_zh, st_area(st_intersection(k.geom, b.geom)::geography) / nullif(st_area(b.geom::geography), 0) as share,
             (${keyAreaScope(db, viewer)}) as visible, k.status = 'draft' as draft
      from key_area k, b
      where k.deleted_at is null and k.geom && b.geom and st_intersects(k.geom, b.geom)
        ${opts.excludeId ? db`and k.id <> ${opts.excludeId}` : db``}
    )
    select v.valid, v.reason, a.area_km2, a.inside_km2, a.outside_share, a.clip, a.clipped,
           (select st_asewkt(st_multi(b.geom)) from b) as ewkt,
           (select t.id from admin_area t, b where t.level = 'town' and t.valid_to is null and t.geom && b.geom
              order by st_area(st_intersection(t.geom, b.geom)) desc limit 1) as town_id,
           (select p.id from police_station p, b where p.valid_to is null and p.geom && b.geom
              order by st_area(st_intersection(p.geom, b.geom)) desc limit 1) as police_station_id,
           (select json_agg(json_build_object('id', o.id, 'name_zh', o.name_zh, 'share', o.share, 'visible', o.visible, 'draft', o.draft) order by o.share desc)
              from o) as overlaps,
           -- A listed area the viewer cannot see still matters (the same ground listed twice), but its
           -- name and id stay with those who may see it; a draft there is nobody else's business yet.
           (select st_area(st_intersection(u.geom, b.geom)::geography) / nullif(st_area(b.geom::geography), 0)
              from (select st_union(k.geom) as geom from key_area k join o on o.id = k.id
                    where o.share > 0.001 and not o.visible and not o.draft) u, b) as hidden_share
           ${counting ? db`, c.*` : db``}
    from v left join a on true
    ${counting ? db`cross join (${countsSelect(db, json, counting.scope, counting.on)}) c` : db``}`
  if (!r!.valid) return { checked: { ...none, problems: [validityProblem(r!.reason)] }, counts: null }
  const insideKm2 = r!.insideKm2!
  const outsideShare = r!.outsideShare!
  const problems: PolygonProblem[] = []
  const geojson = r!.clip ? r!.clipped! : json
  const areaKm2 = r!.clip ? insideKm2 : r!.areaKm2!
  if (outsideShare > 0.001 && !r!.clip) {
    problems.push(insideKm2 > 0
      ? { code: 'outside-jurisdiction', message: `${(outsideShare * 100).toFixed(1)}% of the area lies outside your jurisdiction: redraw it, or keep only the part inside`,
          messageZh: `该区域有 ${(outsideShare * 100).toFixed(1)}% 在您的辖区之外：请重画，或只保留辖区内的部分` }
      : { code: 'outside-jurisdiction', message: 'the area lies entirely outside your jurisdiction', messageZh: '该区域完全在您的辖区之外' })
  }
  if (areaKm2 > keyAreaLimits.maxAreaKm2) {
    problems.push({ code: 'too-large', message: `the area is ${areaKm2.toFixed(1)} km²; a key area may be at most ${keyAreaLimits.maxAreaKm2} km²`,
      messageZh: `面积为 ${areaKm2.toFixed(1)} 平方公里；重点地区最大 ${keyAreaLimits.maxAreaKm2} 平方公里` })
  }
  if (areaKm2 < keyAreaLimits.minAreaKm2) {
    problems.push({ code: 'too-small', message: `the area is only ${Math.round(areaKm2 * 1e6)} m²; draw the whole key area`,
      messageZh: `面积只有 ${Math.round(areaKm2 * 1e6)} 平方米；请画出整个重点地区` })
  }
  const overlaps = (r!.overlaps ?? []).filter(o => o.share > 0.001)
  const warnings: PolygonProblem[] = overlaps.filter(o => o.visible).map((o) => {
    const name = keyAreaNameFor(viewer, o.nameZh)
    return { code: 'overlap', message: `overlaps key area "${name}" (#${o.id}) over ${(o.share * 100).toFixed(1)}% of this area`,
      messageZh: `与重点地区“${name}”（#${o.id}）重叠，占本区域的 ${(o.share * 100).toFixed(1)}%` }
  })
  if (overlaps.some(o => !o.visible && !o.draft)) {
    const pct = ((r!.hiddenShare ?? 0) * 100).toFixed(1)
    warnings.push({ code: 'overlap-hidden', message: `${pct}% of this area overlaps key areas outside your jurisdiction`, messageZh: `本区域有 ${pct}% 与您辖区之外的重点地区重叠` })
  }
  const checked: CheckedGeometry = { problems, warnings, geojson, ewkt: r!.ewkt, areaKm2, outsideShare, suggested: { townId: r!.townId, policeStationId: r!.policeStationId } }
  return { checked, counts: counting ? countsOf(r as CountRow) : null }
}

/** What countsInside gives: attachment 3's figures and the open hazards by category. */
export interface CountsInside {
  houses: number
  rentalHouses: number
  groupRentals: number
  groupRentalsWithHazards: number
  residentsRegistered: number
  openHazards: { total: number; public_security: number; fire: number; housing: number; other: number }
}

type CountRow = { houses: number; rentalHouses: number; groupRentals: number; groupRentalsWithHazards: number; residentsRegistered: number
  ps: number; fire: number; housing: number; other: number }

function countsOf(c: CountRow): CountsInside {
  return {
    houses: c.houses, rentalHouses: c.rentalHouses, groupRentals: c.groupRentals, groupRentalsWithHazards: c.groupRentalsWithHazards,
    residentsRegistered: c.residentsRegistered,
    openHazards: { total: c.ps + c.fire + c.housing + c.other, public_security: c.ps, fire: c.fire, housing: c.housing, other: c.other },
  }
}

/**
 * The zoom-13 cells a boundary reaches, as SQL common table expressions to follow a `with`: g (the
 * boundary, nothing when it is not a valid polygon), part (the cells holding premises in its box,
 * one row per cell, town and police station), block (the blocks of 4 x 4 cells holding them,
 * migration 041, and whether the boundary covers each whole) and classified (part's rows the
 * boundary reaches: whether it covers the cell whole, and whether its block is covered whole).
 * What a whole block or cell holds is read from its totals, what a crossed cell holds premises by
 * premises (its source rows, by the cell index of migration 047): countsInside and attachment 4
 * (reports-counts.ts).
 *
 * Every CTE is small (a few hundred rows for a town-sized boundary), and each is joined only to
 * the one before it by key: the planner cannot know their sizes, and a join between two of them it
 * takes for single rows becomes a nested loop over both (tens of thousands of comparisons).
 */
export function boundaryCells(db: Sql | Tx, geojson: string) {
  return db`
    g as materialized (select geom from (select st_setsrid(st_geomfromgeojson(${geojson}), 4326) as geom) x where st_isvalid(geom)),
    range as materialized (
      select premises_cell_x(st_xmin(m)) as x0, premises_cell_x(st_xmax(m)) as x1,
             premises_cell_y(st_ymax(m)) as y0, premises_cell_y(st_ymin(m)) as y1
      from (select st_transform(geom, 3857) as m from g) b
    ),
    -- The cells holding premises, with their towns and stations (the tiles' premises_cell has a row
    -- for each), not every cell of the box: a boundary drawn over empty land costs nothing. Read
    -- column by column: the key is x then y, and a range on both would read every cell of the
    -- box's columns from one end of the district to the other (a tenth of the time of a 1 km²
    -- preview at 1,000,000 premises).
    part as materialized (
      select c.cx, c.cy, c.town_id, c.police_station_id
      from range r cross join generate_series(r.x0, r.x1) x
      cross join lateral (
        select c.cx, c.cy, c.town_id, c.police_station_id from premises_cell c
        where c.cx = x and c.cy between r.y0 and r.y1
        offset 0 -- one index range per column, not a join of all columns with the index
      ) c
      group by 1, 2, 3, 4
    ),
    -- Blocks first: the cells of a block the boundary covers are covered too, without a test each.
    block as materialized (
      select b.block_x, b.block_y, st_covers(g.geom, b.rect) as whole
      from (select cx / 4 as block_x, cy / 4 as block_y, premises_block_rect(cx / 4, cy / 4) as rect from part group by cx / 4, cy / 4) b, g
      where st_intersects(g.geom, b.rect)
    ),
    classified as materialized (
      select p.cx, p.cy, p.town_id, p.police_station_id, b.whole or st_covers(g.geom, r.rect) as whole, b.whole as in_whole_block
      from part p join block b on b.block_x = p.cx / 4 and b.block_y = p.cy / 4
      cross join lateral (select case when not b.whole then premises_cell_rect(p.cx, p.cy) end as rect) r, g
      where b.whole or st_intersects(g.geom, r.rect)
    )`
}

/**
 * Attachment 3's figures inside a boundary, on a day, over the user's jurisdiction: the one rule
 * for the key area's page, the live preview and attachment 3. A house counts from the day it was
 * found until the day it was deregistered; rented houses are let dwellings and group rentals; group
 * rentals are those recorded as one or meeting the rule; with hazards, those with a hazard open at
 * the end of the day.
 *
 * The blocks of 4 x 4 zoom-13 cells lying wholly inside the boundary are read from their running
 * totals by day (premises_block_day, migration 041), the cells wholly inside in the other blocks
 * from theirs (premises_cell_day, migrations 036 and 037); the premises of the cells the boundary
 * crosses one by one, each from its own changes (countsInsideFromRows is the same rule over every
 * row, for the tests).
 */
export async function countsInside(db: Sql | Tx, geojson: string, scope: Jurisdiction, on: string): Promise<CountsInside> {
  const [c] = await db<CountRow[]>`${countsSelect(db, geojson, scope, on)}`
  return countsOf(c!)
}

/** countsInside's statement, one row of CountRow, to be asked alone or inside another statement (the preview's). */
function countsSelect(db: Sql | Tx, geojson: string, scope: Jurisdiction, on: string) {
  return db`
    -- Nothing of a boundary that is not a valid polygon (the preview asks before its check answers).
    with ${boundaryCells(db, geojson)},
    -- The running totals as they stood on the day (the last row at or before it) of the blocks
    -- covered whole, and of the cells covered whole in the other blocks.
    -- A whole block's towns and stations are those of its cells (each in classified, marked in_whole_block).
    whole_block as (
      select d.* from (
        select distinct k.cx / 4 as block_x, k.cy / 4 as block_y, k.town_id, k.police_station_id from classified k
        where k.in_whole_block and ${inJurisdiction(db, scope, 'k')}
      ) bp
      cross join lateral (
        select * from premises_block_day d
        where (d.block_x, d.block_y, d.town_id, d.police_station_id) = (bp.block_x, bp.block_y, bp.town_id, bp.police_station_id) and d.day <= ${on}
        order by d.day desc limit 1
      ) d
    ),
    whole_cell as (
      select d.* from classified k
      cross join lateral (
        select * from premises_cell_day d
        where (d.cx, d.cy, d.town_id, d.police_station_id) = (k.cx, k.cy, k.town_id, k.police_station_id) and d.day <= ${on}
        order by d.day desc limit 1
      ) d
      where k.whole and not k.in_whole_block and ${inJurisdiction(db, scope, 'k')}
    ),
    whole as (
      select coalesce(sum(d.houses), 0)::int as houses, coalesce(sum(d.rental_houses), 0)::int as rental_houses,
             coalesce(sum(d.group_rentals), 0)::int as group_rentals,
             coalesce(sum(d.group_rentals_with_hazards), 0)::int as group_rentals_with_hazards,
             coalesce(sum(d.residents_registered), 0)::int as residents_registered,
             coalesce(sum(d.hz_public_security), 0)::int as ps, coalesce(sum(d.hz_fire), 0)::int as fire,
             coalesce(sum(d.hz_housing), 0)::int as housing, coalesce(sum(d.hz_other), 0)::int as other
      from (
        select houses, rental_houses, group_rentals, group_rentals_with_hazards, residents_registered, hz_public_security, hz_fire, hz_housing, hz_other
        from whole_block
        union all
        select houses, rental_houses, group_rentals, group_rentals_with_hazards, residents_registered, hz_public_security, hz_fire, hz_housing, hz_other
        from whole_cell
      ) d
    ),
    -- The premises along the boundary by their own changes (premises_cell_day_source: one row each,
    -- their residents' and hazards' included, found by their cell as the totals were summed), summed
    -- up to the day: the same rule as the totals. Tested against the boundary and taken as their
    -- changes' total from the cell index alone (migration 052); a premises with a change after the
    -- day has its changes up to the day summed from its row.
    edge_in as materialized (
      select s.premises_id, s.total from classified k
      join premises_cell_day_source s on (s.cx, s.cy, s.town_id, s.police_station_id) = (k.cx, k.cy, k.town_id, k.police_station_id), g
      where not k.whole and st_intersects(g.geom, s.geom) and ${inJurisdiction(db, scope, 'k')}
    ),
    edge as (
      select coalesce(sum(d.houses), 0)::int as houses, coalesce(sum(d.rental_houses), 0)::int as rental_houses,
             coalesce(sum(d.group_rentals), 0)::int as group_rentals,
             coalesce(sum(d.group_rentals_with_hazards), 0)::int as group_rentals_with_hazards,
             coalesce(sum(d.residents_registered), 0)::int as residents_registered,
             coalesce(sum(d.hz_public_security), 0)::int as ps, coalesce(sum(d.hz_fire), 0)::int as fire,
             coalesce(sum(d.hz_housing), 0)::int as housing, coalesce(sum(d.hz_other), 0)::int as other
      from (
        select (e.total).* from edge_in e where (e.total).day <= ${on}
        union all
        select d.* from edge_in e join premises_cell_day_source s on s.premises_id = e.premises_id
        cross join lateral unnest(s.deltas) d
        where (e.total).day > ${on} and d.day <= ${on}
      ) d
    )
    select w.houses + e.houses as houses, w.rental_houses + e.rental_houses as rental_houses, w.group_rentals + e.group_rentals as group_rentals,
           w.group_rentals_with_hazards + e.group_rentals_with_hazards as group_rentals_with_hazards,
           w.residents_registered + e.residents_registered as residents_registered,
           w.ps + e.ps as ps, w.fire + e.fire as fire, w.housing + e.housing as housing, w.other + e.other as other
    from whole w, edge e`
}

/**
 * A boundary being drawn: its checks and, when it is a valid polygon, what it holds over the
 * viewer's jurisdiction on the day, in one statement (checkAndCount).
 */
export async function previewBoundary(db: Sql | Tx, geometry: PolygonInput, viewer: KeyAreaViewer, opts: BoundaryCheckOptions, on: string) {
  const { checked, counts } = await checkAndCount(db, geometry, viewer, opts, { scope: viewer.jurisdiction, on })
  // Counted whenever the boundary is a valid polygon (check gives no geometry for one that is not),
  // even when it reaches outside the jurisdiction: the user sees what it holds while drawing.
  return { checked, counts: checked.geojson === null ? null : counts }
}

/** countsInside's rule counted from every premises, resident and hazard inside: what the cells must equal. */
export async function countsInsideFromRows(db: Sql | Tx, geojson: string, scope: Jurisdiction, on: string): Promise<CountsInside> {
  const until = endOfDay(on)
  const [c] = await db<CountRow[]>`
    with g as (select st_setsrid(st_geomfromgeojson(${geojson}), 4326) as geom),
    inside as (
      select p.id, p.kind, is_group_rental_candidate(p.kind, p.meets_rule) as group_rental
      from premises p, g
      where p.geom && g.geom and st_intersects(g.geom, p.geom) and ${inJurisdiction(db, scope)}
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
  return countsOf(c!)
}
