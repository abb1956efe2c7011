import type { Sql } from '../../db/index.js'
import { type Jurisdiction, wholeDistrict } from '../../domain/access.js'
import { type PremisesFilter, premisesWhere } from './premises.js'

/**
 * The campaign's four measures, as counted on a given day. This is the one implementation of them:
 * the dashboard, the rankings and the biweekly tables all call it, so a number never differs
 * between two screens.
 *
 * - group rentals registered / found: a group rental is found when it is recorded as one, or when a
 *   let dwelling meets the group-rental rule (10+ rooms, beds or people); it is registered when it is
 *   recorded as a group rental with a registration date. Deregistered ones leave both counts.
 * - residents registered / counted: people living in found group rentals on that day, and of them
 *   those whose residence is declared to the police.
 * - major hazards rectified / found, and all hazards rectified / found, since the campaign began.
 */
export const measureKeys = ['group_rentals_registered', 'residents_registered', 'major_hazards_rectified', 'hazards_rectified'] as const
export type MeasureKey = typeof measureKeys[number]

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

/** The first instant after a local (UTC+8) calendar day: times before it happened on or before the day. */
export function endOfDay(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00+08:00`) + 86_400_000)
}

export type GroupBy = 'town_id' | 'police_station_id'

/**
 * Counts behind the measures on a day, one row per town (or police station), over the premises of
 * a jurisdiction that pass the map's filters. A hazard-category filter also narrows the hazards
 * counted to those categories.
 */
export async function measureCountsBy(sql: Sql, asOf: string, groupBy: GroupBy, scope: Jurisdiction = wholeDistrict,
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
             (p.kind = 'group_rental' and p.registered_on <= ${asOf}) as registered
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
