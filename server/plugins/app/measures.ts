import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import { type Jurisdiction, wholeDistrict } from '../../domain/access.js'
import { endOfDay } from '../../domain/calendar.js'
import { hazardCategories, type MeasureKey, measureKeys } from '../../domain/lists.js'
import { type PremisesFilter, premisesWhere } from './premises.js'

/**
 * The campaign's four measures, as counted on a given day. This is the one implementation of them:
 * the dashboard and the rankings call it, and the biweekly tables count from the same daily changes
 * (reports-counts.ts), so a number never differs between two screens.
 *
 * - group rentals registered / found: a group rental is found when it is recorded as one, or when a
 *   let dwelling meets the group-rental rule (10+ rooms, beds or people); it is registered when it is
 *   recorded as a group rental with a registration date. Deregistered ones leave both counts.
 * - residents registered / counted: people living in found group rentals on that day, and of them
 *   those whose residence is declared to the police.
 * - major hazards rectified / found, and all hazards rectified / found, since the campaign began.
 */

export interface MeasureCounts {
  groupRentalsFound: number
  groupRentalsRegistered: number
  residentsCounted: number
  residentsRegistered: number
  hazardsFound: number
  hazardsRectified: number
  majorHazardsFound: number
  majorHazardsRectified: number
}

export const emptyCounts = (): MeasureCounts => ({
  groupRentalsFound: 0, groupRentalsRegistered: 0, residentsCounted: 0, residentsRegistered: 0,
  hazardsFound: 0, hazardsRectified: 0, majorHazardsFound: 0, majorHazardsRectified: 0,
})

export function addCounts(a: MeasureCounts, b: MeasureCounts): MeasureCounts {
  const out = emptyCounts()
  for (const k of Object.keys(out) as (keyof MeasureCounts)[]) out[k] = a[k] + b[k]
  return out
}

export type GroupBy = 'town_id' | 'police_station_id'

/** Whether the daily-change tables can answer for a filter: they hold town, police station and kind. */
export const deltasServe = (f: PremisesFilter) =>
  !f.bbox && !f.withinWkt && !f.statuses?.length && !f.categories?.length && !f.communities?.length && !f.majorOnly && !f.overdueOnly && !f.foundFrom && !f.foundTo && !f.groupRentalsOnly

/**
 * Counts behind the measures on a day, one row per town (or police station), over the premises of
 * a jurisdiction that pass the map's filters: from the daily-change tables where they can answer
 * (the usual case, fast at any size), otherwise from the rows themselves.
 */
export function measureCountsBy(sql: Sql | Tx, asOf: string, groupBy: GroupBy, scope: Jurisdiction = wholeDistrict,
  filter: PremisesFilter = {}): Promise<Map<number, MeasureCounts>> {
  return deltasServe(filter) ? measureCountsFromDeltas(sql, asOf, groupBy, scope, filter) : measureCountsFromRows(sql, asOf, groupBy, scope, filter)
}

/** The WHERE condition of the daily-change tables (alias d) for a jurisdiction and the filters they hold. */
function deltaWhere(sql: Sql | Tx, scope: Jurisdiction, f: PremisesFilter) {
  const parts = [inJurisdiction(sql, scope, 'd')]
  if (f.kinds?.length) parts.push(sql`d.kind in ${sql(f.kinds)}`)
  if (f.towns?.length) parts.push(sql`d.town_id in ${sql(f.towns)}`)
  if (f.policeStations?.length) parts.push(sql`d.police_station_id in ${sql(f.policeStations)}`)
  return parts.reduce((a, b) => sql`${a} and ${b}`)
}

/** The measures' counts as sums of daily changes up to the day (measure_delta, hazard_delta). */
export async function measureCountsFromDeltas(sql: Sql | Tx, asOf: string, groupBy: GroupBy, scope: Jurisdiction = wholeDistrict,
  filter: PremisesFilter = {}): Promise<Map<number, MeasureCounts>> {
  const key = sql(groupBy)
  const where = deltaWhere(sql, scope, filter)
  const [people, hazards] = await Promise.all([
    sql<{ groupId: number; gf: number; gr: number; rc: number; rr: number }[]>`
      select d.${key} as group_id, sum(gr_found)::int as gf, sum(gr_registered)::int as gr,
             sum(res_counted)::int as rc, sum(res_registered)::int as rr
      from measure_delta d where d.day <= ${asOf} and ${where}
      group by 1`,
    sql<{ groupId: number; f: number; r: number; mf: number; mr: number }[]>`
      select d.${key} as group_id, sum(found)::int as f, sum(rectified)::int as r,
             sum(major_found)::int as mf, sum(major_rectified)::int as mr
      from hazard_delta d where d.day <= ${asOf} and ${where}
      group by 1`,
  ])
  const out = new Map<number, MeasureCounts>()
  const entry = (id: number) => {
    let c = out.get(id)
    if (!c) out.set(id, (c = emptyCounts()))
    return c
  }
  for (const r of people) Object.assign(entry(r.groupId), { groupRentalsFound: r.gf, groupRentalsRegistered: r.gr, residentsCounted: r.rc, residentsRegistered: r.rr })
  for (const r of hazards) Object.assign(entry(r.groupId), { hazardsFound: r.f, hazardsRectified: r.r, majorHazardsFound: r.mf, majorHazardsRectified: r.mr })
  // A police station id of 0 stands for "none" in the change tables.
  if (groupBy === 'police_station_id' && out.has(0)) {
    out.set(null as unknown as number, out.get(0)!)
    out.delete(0)
  }
  for (const [id, c] of out) if (Object.values(c).every(v => v === 0)) out.delete(id)
  return out
}

/**
 * The measures' counts straight from premises, residents and hazards — the definition itself, used
 * for filters the change tables do not hold (and by the tests to check them).
 */
export async function measureCountsFromRows(sql: Sql | Tx, asOf: string, groupBy: GroupBy, scope: Jurisdiction = wholeDistrict,
  filter: PremisesFilter = {}): Promise<Map<number, MeasureCounts>> {
  const until = endOfDay(asOf)
  const key = sql(groupBy)
  const visible = premisesWhere(sql, filter, asOf, scope)
  const categories = filter.categories?.length
    ? sql`and h.item_code in (select code from hazard_item where category_code in ${sql(filter.categories)})`
    : sql``
  const rows = await sql<({ groupId: number } & MeasureCounts)[]>`
    with found as (
      select p.id, p.${key} as group_id,
             coalesce(group_rental_registered_on(p.kind, p.registered_on, p.group_rental_since) <= ${asOf}, false) as registered
      from premises p
      where (p.kind = 'group_rental' or (p.kind = 'rental' and p.meets_rule))
        and p.found_on <= ${asOf}
        and (p.deregistered_on is null or p.deregistered_on > ${asOf})
        and ${visible}
    ),
    rentals as (
      select group_id, count(*)::int as found, count(*) filter (where registered)::int as registered
      from found group by group_id
    ),
    residents as (
      select f.group_id, count(*)::int as counted,
             count(*) filter (where r.registered_on <= ${asOf})::int as registered
      from found f join resident r on r.premises_id = f.id
      where r.moved_in_on <= ${asOf} and (r.moved_out_on is null or r.moved_out_on > ${asOf})
      group by f.group_id
    ),
    hazards as (
      select p.${key} as group_id,
             count(*)::int as found,
             count(*) filter (where h.rectified_at < ${until})::int as rectified,
             count(*) filter (where h.severity = 'major')::int as major_found,
             count(*) filter (where h.severity = 'major' and h.rectified_at < ${until})::int as major_rectified
      from hazard h join premises p on p.id = h.premises_id
      where h.found_at < ${until} and ${visible} ${categories}
      group by p.${key}
    ),
    groups as (
      select group_id from rentals union select group_id from residents union select group_id from hazards
    )
    select g.group_id,
           coalesce(rn.found, 0) as group_rentals_found, coalesce(rn.registered, 0) as group_rentals_registered,
           coalesce(rs.counted, 0) as residents_counted, coalesce(rs.registered, 0) as residents_registered,
           coalesce(h.found, 0) as hazards_found, coalesce(h.rectified, 0) as hazards_rectified,
           coalesce(h.major_found, 0) as major_hazards_found, coalesce(h.major_rectified, 0) as major_hazards_rectified
    from groups g
    left join rentals rn on rn.group_id is not distinct from g.group_id
    left join residents rs on rs.group_id is not distinct from g.group_id
    left join hazards h on h.group_id is not distinct from g.group_id`
  return new Map(rows.map(({ groupId, ...counts }) => [groupId, counts]))
}

export interface Measure {
  key: MeasureKey
  numerator: number
  denominator: number
  /** numerator / denominator, or null when there is nothing to count yet. */
  rate: number | null
  /** The campaign's target, or null where it tracks without a fixed target. */
  target: number | null
  /** Whether the rate reaches the target (null without a target or a rate). */
  met: boolean | null
}

/** Turns counts into the four measures against the campaign's targets. */
export function measuresFrom(c: MeasureCounts, targets: Partial<Record<MeasureKey, number | null>>): Measure[] {
  const pairs: Record<MeasureKey, [number, number]> = {
    group_rentals_registered: [c.groupRentalsRegistered, c.groupRentalsFound],
    residents_registered: [c.residentsRegistered, c.residentsCounted],
    major_hazards_rectified: [c.majorHazardsRectified, c.majorHazardsFound],
    hazards_rectified: [c.hazardsRectified, c.hazardsFound],
  }
  return measureKeys.map((key) => {
    const [numerator, denominator] = pairs[key]
    const rate = denominator > 0 ? numerator / denominator : null
    const target = targets[key] ?? null
    return { key, numerator, denominator, rate, target, met: rate === null || target === null ? null : rate >= target - 1e-9 }
  })
}

/** Sums of every counter up to each of the given days, for the jurisdiction and filters (the trend charts). */
export async function measureSeries(sql: Sql | Tx, days: string[], scope: Jurisdiction = wholeDistrict, filter: PremisesFilter = {}): Promise<MeasureCounts[]> {
  if (!days.length) return []
  if (!deltasServe(filter)) {
    // The definition itself, day by day: slower, for filters the change tables do not hold.
    const out: MeasureCounts[] = []
    for (const day of days) out.push([...(await measureCountsFromRows(sql, day, 'town_id', scope, filter)).values()].reduce(addCounts, emptyCounts()))
    return out
  }
  const last = days.reduce((a, b) => (a > b ? a : b))
  const where = deltaWhere(sql, scope, filter)
  const [people, hazards] = await Promise.all([
    sql<{ day: string; gf: number; gr: number; rc: number; rr: number }[]>`
      select d.day, sum(gr_found)::int as gf, sum(gr_registered)::int as gr, sum(res_counted)::int as rc, sum(res_registered)::int as rr
      from measure_delta d where d.day <= ${last} and ${where} group by d.day order by d.day`,
    sql<{ day: string; f: number; r: number; mf: number; mr: number }[]>`
      select d.day, sum(found)::int as f, sum(rectified)::int as r, sum(major_found)::int as mf, sum(major_rectified)::int as mr
      from hazard_delta d where d.day <= ${last} and ${where} group by d.day order by d.day`,
  ])
  return days.map((day) => {
    const c = emptyCounts()
    for (const r of people) {
      if (r.day > day) break
      c.groupRentalsFound += r.gf
      c.groupRentalsRegistered += r.gr
      c.residentsCounted += r.rc
      c.residentsRegistered += r.rr
    }
    for (const r of hazards) {
      if (r.day > day) break
      c.hazardsFound += r.f
      c.hazardsRectified += r.r
      c.majorHazardsFound += r.mf
      c.majorHazardsRectified += r.mr
    }
    return c
  })
}

/**
 * Hazards on a day by category (found, rectified, open) and the overdue ones by town and by the
 * department responsible, over the jurisdiction and filters.
 */
export async function hazardBreakdown(sql: Sql | Tx, asOf: string, scope: Jurisdiction = wholeDistrict, filter: PremisesFilter = {}) {
  type Cat = { category: string; found: number; rectified: number }
  type Over = { townId: number; departmentCode: string; overdue: number }
  let byCategory: Cat[]
  let overdue: Over[]
  if (deltasServe(filter)) {
    const where = deltaWhere(sql, scope, filter)
    byCategory = [...await sql<Cat[]>`
      select category_code as category, sum(found)::int as found, sum(rectified)::int as rectified
      from hazard_delta d where d.day <= ${asOf} and ${where} group by 1`]
    overdue = [...await sql<Over[]>`
      select town_id, department_code, sum(overdue)::int as overdue
      from hazard_delta d where d.day <= ${asOf} and ${where} group by 1, 2 having sum(overdue) > 0`]
  }
  else {
    const until = endOfDay(asOf)
    const where = premisesWhere(sql, filter, asOf, scope)
    const categories = filter.categories?.length ? sql`and i.category_code in ${sql(filter.categories)}` : sql``
    byCategory = [...await sql<Cat[]>`
      select i.category_code as category, count(*)::int as found, count(*) filter (where h.rectified_at < ${until})::int as rectified
      from hazard h join premises p on p.id = h.premises_id join hazard_item i on i.code = h.item_code
      where h.found_at < ${until} and ${where} ${categories} group by 1`]
    overdue = [...await sql<Over[]>`
      select p.town_id, h.department_code, count(*)::int as overdue
      from hazard h join premises p on p.id = h.premises_id join hazard_item i on i.code = h.item_code
      where h.found_at < ${until} and (h.rectified_at is null or h.rectified_at >= ${until}) and h.deadline < ${asOf}
        and ${where} ${categories}
      group by 1, 2`]
  }
  return {
    byCategory: hazardCategories.map((category) => {
      const c = byCategory.find(x => x.category === category) ?? { category, found: 0, rectified: 0 }
      return { ...c, open: c.found - c.rectified }
    }),
    overdue: overdue.sort((a, b) => b.overdue - a.overdue),
  }
}
