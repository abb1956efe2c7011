import type { Sql } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import { type Jurisdiction, wholeDistrict } from '../../domain/access.js'
import { enforcementColumn, type EnforcementKind } from '../../domain/enforcement.js'
import { addDays } from '../../domain/periods.js'
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

/** The first instant of a local (UTC+8) calendar day. */
export function startOfDay(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00+08:00`))
}

/** The first instant after a local (UTC+8) calendar day: times before it happened on or before the day. */
export function endOfDay(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00+08:00`) + 86_400_000)
}

export type GroupBy = 'town_id' | 'police_station_id'

/** Whether the daily-change tables can answer for a filter: they hold town, police station and kind. */
export const deltasServe = (f: PremisesFilter) =>
  !f.bbox && !f.statuses?.length && !f.categories?.length && !f.communities?.length && !f.majorOnly && !f.overdueOnly && !f.foundFrom && !f.foundTo

/**
 * Counts behind the measures on a day, one row per town (or police station), over the premises of
 * a jurisdiction that pass the map's filters: from the daily-change tables where they can answer
 * (the usual case, fast at any size), otherwise from the rows themselves.
 */
export function measureCountsBy(sql: Sql, asOf: string, groupBy: GroupBy, scope: Jurisdiction = wholeDistrict,
  filter: PremisesFilter = {}): Promise<Map<number, MeasureCounts>> {
  return deltasServe(filter) ? measureCountsFromDeltas(sql, asOf, groupBy, scope, filter) : measureCountsFromRows(sql, asOf, groupBy, scope, filter)
}

/** The WHERE condition of the daily-change tables (alias d) for a jurisdiction and the filters they hold. */
function deltaWhere(sql: Sql, scope: Jurisdiction, f: PremisesFilter) {
  const parts = [inJurisdiction(sql, scope, 'd')]
  if (f.kinds?.length) parts.push(sql`d.kind in ${sql(f.kinds)}`)
  if (f.towns?.length) parts.push(sql`d.town_id in ${sql(f.towns)}`)
  if (f.policeStations?.length) parts.push(sql`d.police_station_id in ${sql(f.policeStations)}`)
  return parts.reduce((a, b) => sql`${a} and ${b}`)
}

/** The measures' counts as sums of daily changes up to the day (measure_delta, hazard_delta). */
export async function measureCountsFromDeltas(sql: Sql, asOf: string, groupBy: GroupBy, scope: Jurisdiction = wholeDistrict,
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
export async function measureCountsFromRows(sql: Sql, asOf: string, groupBy: GroupBy, scope: Jurisdiction = wholeDistrict,
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
export async function measureSeries(sql: Sql, days: string[], scope: Jurisdiction = wholeDistrict, filter: PremisesFilter = {}): Promise<MeasureCounts[]> {
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
export async function hazardBreakdown(sql: Sql, asOf: string, scope: Jurisdiction = wholeDistrict, filter: PremisesFilter = {}) {
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
  const order = ['public_security', 'fire', 'housing', 'other']
  return {
    byCategory: order.map((category) => {
      const c = byCategory.find(x => x.category === category) ?? { category, found: 0, rectified: 0 }
      return { ...c, open: c.found - c.rectified }
    }),
    overdue: overdue.sort((a, b) => b.overdue - a.overdue),
  }
}

// ---------------------------------------------------------------------------------------------
// The biweekly tables (attachments 4 and 5): counts of what happened in each report period.
// ---------------------------------------------------------------------------------------------

/** What the biweekly tables count, one field per data column of attachments 4 and 5. */
export const reportCountKeys = [
  'grRegistered', 'grResidentsRegistered', 'grDeregistered', 'grResidentsDeregistered', 'statementsSigned', 'secondLandlords',
  'foundTotal', 'foundPublicSecurity', 'foundFire', 'foundHousing', 'foundOther',
  'rectifiedTotal', 'rectifiedPublicSecurity', 'rectifiedFire', 'rectifiedHousing', 'rectifiedOther',
  'floatingRegistered', 'floatingMentalIllness', 'floatingConcern', 'floatingOthers', 'floatingDeregistered',
  'landlordsPenalised', 'floatingPenalised', 'criminalCases', 'publicSecurityCases', 'fugitives',
  'dealtTotal', 'arrests', 'coercive', 'administrative',
  'keyAreasListed', 'keyAreasCleared', 'keyAreaHazardsFound', 'keyAreaHazardsRectified',
] as const
export type ReportCountKey = typeof reportCountKeys[number]
export type ReportCounts = Record<ReportCountKey, number>

export const emptyReportCounts = (): ReportCounts => Object.fromEntries(reportCountKeys.map(k => [k, 0])) as ReportCounts

export function addReportCounts(a: ReportCounts, b: ReportCounts): ReportCounts {
  const out = emptyReportCounts()
  for (const k of reportCountKeys) out[k] = a[k] + b[k]
  return out
}

/** Where a table's counts come from: the police stations of a jurisdiction, or what lies inside a key area. */
export type ReportSubject =
  | { kind: 'stations'; scope: Jurisdiction }
  | { kind: 'area'; scope: Jurisdiction; geojson: string }

const categoryKey: Record<string, 'PublicSecurity' | 'Fire' | 'Housing' | 'Other'> = {
  public_security: 'PublicSecurity', fire: 'Fire', housing: 'Housing', other: 'Other',
}
/**
 * Counts of each period, per police station (or one group, 0, for a key area). Every column counts
 * events — a registration, a deregistration, a statement signed, a hazard found — on the local day
 * they happened (README, "The biweekly tables", states each rule for people). The rules:
 *
 * - group rentals registered: premises recorded as group rentals, on group_rental_registered_on (the
 *   later of registered_on and the day it became a group rental); deregistered: by deregistered_on.
 *   Their residents registered / deregistered: residents of found group rentals (recorded as one, or
 *   a let dwelling meeting the rule), by the resident's dates.
 * - statements signed and second landlords collected: found group rentals, by the dates recorded.
 * - hazards found / rectified, by category (群租房管理情况): hazards in group rentals (found on or
 *   after the day the premises became one), from the hazard rows; the key area's own hazards found
 *   / rectified (attachment 4): every hazard inside it.
 * - floating population registered / deregistered: floating residents, by their dates; "of them"
 *   sorts each person registered by the flags in force on the report day (the last period's end):
 *   disjoint by default, or with persons of concern including the mentally ill
 *   (concernIncludesMentalIllness, the campaign's switch).
 * - enforcement results and 打处 (dealt with): the counts of enforcement records not voided, by
 *   occurred_on; dealt with = arrests + other criminal coercive measures + administrative penalties.
 * - key areas listed / cleared (attachment 5): key areas (not drafts, not deleted) by listed_on /
 *   cleared_on, under their police station.
 *
 * Per police station, the premises and resident events are sums of measure_delta's daily event
 * counts (a pass over millions of residents took seconds); only flagged people are read row by row.
 * Inside a key area (or with fromRows, for the tests) everything is counted from the raw rows.
 */
export async function reportCounts(sql: Sql, periods: { from: string; to: string }[], subject: ReportSubject,
  opts: { fromRows?: boolean; concernIncludesMentalIllness?: boolean } = {}): Promise<Map<number | null, ReportCounts[]>> {
  if (!periods.length) return new Map()
  // Period i (1-based) holds the days from thresholds[i] up to the day before thresholds[i + 1].
  const thresholds = [...periods.map(p => p.from), addDays(periods[periods.length - 1]!.to, 1)]
  const first = periods[0]!.from
  const last = periods[periods.length - 1]!.to
  const out = new Map<number | null, ReportCounts[]>()
  const cell = (group: number | null, n: number) => {
    let row = out.get(group)
    if (!row) out.set(group, (row = periods.map(() => emptyReportCounts())))
    return row[n - 1]!
  }
  const area = subject.kind === 'area'
  const g = area ? sql`0` : sql`coalesce(p.police_station_id, 0)`
  const premisesWhere = area
    ? sql`p.geom && (select geom from subject) and st_intersects((select geom from subject), p.geom) and ${inJurisdiction(sql, subject.scope)}`
    : inJurisdiction(sql, subject.scope)
  const subjectCte = area
    ? sql`subject as (select st_setsrid(st_geomfromgeojson(${subject.geojson}), 4326) as geom)`
    : sql`subject as (select null::geometry as geom)`
  const bucket = (day: ReturnType<typeof sql>) => sql`width_bucket(${day}, ${thresholds}::date[])`

  type Row = { groupId: number; n: number; col: string; count: number }
  const fromRows = area || opts.fromRows
  // A flag counts when it is in force on the report day (the last period's end), whatever it was
  // when the person registered: a person flagged later moves out of 其他 in the cumulative row.
  const flagInForce = sql`f.flagged_on <= ${last} and (f.cleared_on is null or f.cleared_on > ${last})`
  // The "of them" columns from a set of flagged people (m: mental illness, c: person of concern).
  // Disjoint by default; with the campaign's switch, 关注对象 counts the mentally ill too (note 3).
  // flaggedAny is everyone flagged, taken off the registrations to give 其他.
  const flagCols = (from: ReturnType<typeof sql>) => sql`
    select group_id, n, 'floatingMentalIllness' as col, count(*)::int as count from ${from} where m group by 1, 2
    union all select group_id, n, 'floatingConcern', count(*)::int from ${from}
      where ${opts.concernIncludesMentalIllness ? sql`c or m` : sql`c and not m`} group by 1, 2
    union all select group_id, n, 'flaggedAny', count(*)::int from ${from} where m or c group by 1, 2`
  const residentEvents: Promise<Row[]> = fromRows
    ? sql<Row[]>`
      with ${subjectCte},
      r as materialized (
        select ${g} as group_id, r.id, r.floating, is_group_rental_candidate(p.kind, p.meets_rule) as in_group_rental,
               r.registered_on, r.deregistered_on
        from resident r join premises p on p.id = r.premises_id
        where ${premisesWhere}
          and (r.registered_on between ${first} and ${last} or r.deregistered_on between ${first} and ${last})
      ),
      registered as (
        select group_id, ${bucket(sql`registered_on`)} as n,
               count(*) filter (where in_group_rental)::int as gr, count(*) filter (where floating)::int as floating
        from r where registered_on between ${first} and ${last} group by 1, 2
      ),
      deregistered as (
        select group_id, ${bucket(sql`deregistered_on`)} as n,
               count(*) filter (where in_group_rental)::int as gr, count(*) filter (where floating)::int as floating
        from r where deregistered_on between ${first} and ${last} group by 1, 2
      ),
      -- Floating people registered in a period, by the flags in force on the report day (see flagCols).
      flagged as (
        select r.group_id, ${bucket(sql`r.registered_on`)} as n,
               bool_or(f.category = 'mental_illness') as m, bool_or(f.category = 'person_of_concern') as c
        from r join resident_flag f on f.resident_id = r.id and ${flagInForce}
        where r.floating and r.registered_on between ${first} and ${last}
        group by 1, 2, r.id
      )
      select group_id, n, 'grResidentsRegistered' as col, gr as count from registered where gr > 0
      union all select group_id, n, 'floatingRegistered', floating from registered where floating > 0
      union all select group_id, n, 'grResidentsDeregistered', gr from deregistered where gr > 0
      union all select group_id, n, 'floatingDeregistered', floating from deregistered where floating > 0
      union all ${flagCols(sql`flagged`)}`
    : Promise.all([
        sql<Row[]>`
          select d.police_station_id as group_id, ${bucket(sql`d.day`)} as n, v.col, sum(v.count)::int as count
          from measure_delta d cross join lateral (values
            ('grResidentsRegistered', d.ev_gr_res_registered), ('grResidentsDeregistered', d.ev_gr_res_deregistered),
            ('floatingRegistered', d.ev_floating_registered), ('floatingDeregistered', d.ev_floating_deregistered)
          ) as v(col, count)
          where d.day between ${first} and ${last} and ${inJurisdiction(sql, subject.scope, 'd')}
          group by 1, 2, 3 having sum(v.count) <> 0`,
        // Floating people registered in a period, by the flags in force on the report day (see
        // flagCols). Only flagged people are read; the others are the rest of the registrations.
        sql<Row[]>`
          with flagged as (
            select ${g} as group_id, ${bucket(sql`r.registered_on`)} as n,
                   bool_or(f.category = 'mental_illness') as m, bool_or(f.category = 'person_of_concern') as c
            from resident_flag f join resident r on r.id = f.resident_id join premises p on p.id = r.premises_id
            where r.floating and r.registered_on between ${first} and ${last} and ${inJurisdiction(sql, subject.scope)} and ${flagInForce}
            group by 1, 2, r.id
          )
          ${flagCols(sql`flagged`)}`,
      ]).then(([a, b]) => [...a, ...b])
  const premisesEvents: Promise<Row[]> = fromRows
    ? sql<Row[]>`
      with ${subjectCte},
      e as (
        select ${g} as group_id, v.col, v.day
        from premises p
        cross join lateral (values
          ('grRegistered', group_rental_registered_on(p.kind, p.registered_on, p.group_rental_since)),
          ('grDeregistered', case when p.kind = 'group_rental' and p.registered_on is not null then p.deregistered_on end),
          ('statementsSigned', case when is_group_rental_candidate(p.kind, p.meets_rule) then p.statement_signed_on end),
          ('secondLandlords', case when is_group_rental_candidate(p.kind, p.meets_rule) then p.second_landlord_collected_on end)
        ) as v(col, day)
        where ${premisesWhere} and v.day between ${first} and ${last}
      )
      select group_id, ${bucket(sql`day`)} as n, col, count(*)::int as count from e group by 1, 2, 3`
    : sql<Row[]>`
        select d.police_station_id as group_id, ${bucket(sql`d.day`)} as n, v.col, sum(v.count)::int as count
        from measure_delta d cross join lateral (values
          ('grRegistered', d.ev_gr_registered), ('grDeregistered', d.ev_gr_deregistered),
          ('statementsSigned', d.ev_statements_signed), ('secondLandlords', d.ev_second_landlords)
        ) as v(col, count)
        where d.day between ${first} and ${last} and ${inJurisdiction(sql, subject.scope, 'd')}
        group by 1, 2, 3 having sum(v.count) <> 0`
  const [premisesRows, residentRows, enforcementRows, hazardRows, keyAreaRows] = await Promise.all([
    premisesEvents,
    residentEvents,
    sql<Row[]>`
      with ${subjectCte}
      select ${area ? sql`0` : sql`coalesce(e.police_station_id, 0)`} as group_id, ${bucket(sql`e.occurred_on`)} as n,
             e.kind as col, sum(e.count)::int as count
      from enforcement_event e
      where e.voided_at is null and e.occurred_on between ${first} and ${last} and ${inJurisdiction(sql, subject.scope, 'e')}
        ${area ? sql`and e.geom && (select geom from subject) and st_intersects((select geom from subject), e.geom)` : sql``}
      group by 1, 2, 3`,
    // Hazards from their rows: 群租房管理情况 counts those in group rentals (a premises recorded as
    // one, from the day it became one, or a let dwelling meeting the rule), prefixed 'gr'; the key
    // area's own 排查/整改隐患数 count every hazard inside it.
    sql<Row[]>`
      with ${subjectCte},
      h as (
        select ${g} as group_id, i.category_code, (h.found_at at time zone 'Asia/Shanghai')::date as found_on,
               (h.rectified_at at time zone 'Asia/Shanghai')::date as rectified_on,
               is_group_rental_candidate(p.kind, p.meets_rule)
                 and (p.group_rental_since is null or (h.found_at at time zone 'Asia/Shanghai')::date >= p.group_rental_since) as gr
        from hazard h join premises p on p.id = h.premises_id join hazard_item i on i.code = h.item_code
        where ${premisesWhere} and (h.found_at >= ${startOfDay(first)} and h.found_at < ${endOfDay(last)}
          or h.rectified_at >= ${startOfDay(first)} and h.rectified_at < ${endOfDay(last)})
      )
      select group_id, ${bucket(sql`v.day`)} as n, case when h.gr then 'gr:' else 'all:' end || v.col || ':' || h.category_code as col, count(*)::int as count
      from h cross join lateral (values ('found', h.found_on), ('rectified', h.rectified_on)) as v(col, day)
      where v.day between ${first} and ${last}
      group by 1, 2, 3`,
    area
      ? Promise.resolve([] as Row[])
      : sql<Row[]>`
          select coalesce(k.police_station_id, 0) as group_id, ${bucket(sql`v.day`)} as n, v.col, count(*)::int as count
          from key_area k cross join lateral (values ('keyAreasListed', k.listed_on), ('keyAreasCleared', k.cleared_on)) as v(col, day)
          where k.deleted_at is null and k.status <> 'draft' and v.day between ${first} and ${last}
            and ${inJurisdiction(sql, subject.scope, 'k')}
          group by 1, 2, 3`,
  ])
  const group = (id: number) => (id === 0 ? null : id)
  const flaggedAny = new Map<number | null, number[]>()
  for (const r of [...premisesRows, ...residentRows]) {
    if (r.col === 'flaggedAny') {
      const key = group(r.groupId)
      const row = flaggedAny.get(key) ?? periods.map(() => 0)
      row[r.n - 1]! += r.count
      flaggedAny.set(key, row)
      cell(key, r.n)
    }
    else cell(group(r.groupId), r.n)[r.col as ReportCountKey] += r.count
  }
  for (const r of enforcementRows) cell(group(r.groupId), r.n)[enforcementColumn[r.col as EnforcementKind]] += r.count
  for (const r of hazardRows) {
    const [which, what, category] = r.col.split(':') as ['gr' | 'all', 'found' | 'rectified', string]
    const c = cell(group(r.groupId), r.n)
    if (which === 'gr') {
      c[`${what}${categoryKey[category]!}`] += r.count
      c[`${what}Total`] += r.count
    }
    c[what === 'found' ? 'keyAreaHazardsFound' : 'keyAreaHazardsRectified'] += r.count
  }
  for (const r of keyAreaRows) cell(group(r.groupId), r.n)[r.col as ReportCountKey] += r.count
  for (const [key, rows] of out) {
    rows.forEach((c, i) => {
      c.floatingOthers = c.floatingRegistered - (flaggedAny.get(key)?.[i] ?? 0)
      c.dealtTotal = c.arrests + c.coercive + c.administrative
      // The key area's own hazard columns belong to attachment 4 alone.
      if (!area) c.keyAreaHazardsFound = c.keyAreaHazardsRectified = 0
    })
  }
  return out
}
