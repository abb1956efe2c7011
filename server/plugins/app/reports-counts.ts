import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { addDays } from '../../domain/calendar.js'

/**
 * The biweekly tables' counting (attachments 4 and 5): what happened in each report period, per
 * police station or inside a key area. The tables themselves are built in reports.ts; the hazard
 * columns are the dashboard's hazard measures (measures.ts), summed from the same daily changes.
 */

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
const enforcementKey: Record<string, ReportCountKey> = {
  landlord_penalised: 'landlordsPenalised', floating_person_penalised: 'floatingPenalised', criminal_case_solved: 'criminalCases',
  public_security_case_solved: 'publicSecurityCases', fugitive_caught: 'fugitives',
  arrest: 'arrests', criminal_coercive_measure: 'coercive', administrative_penalty: 'administrative',
}

/**
 * Counts of each period, per police station (or one group, 0, for a key area). Every column counts
 * events — a registration, a deregistration, a statement signed, a hazard found — on the local day
 * they happened, so a cumulative figure is exactly the sum of its periods. The rules:
 *
 * - group rentals registered / deregistered: premises recorded as group rentals, by registered_on /
 *   deregistered_on; their residents registered / deregistered: residents of found group rentals
 *   (recorded as one, or a let dwelling meeting the rule), by the resident's dates.
 * - statements signed and second landlords collected: found group rentals, by the dates recorded.
 * - hazards found / rectified, by category: the dashboard's hazard measures (hazard_delta, the same
 *   daily changes its figures are sums of); inside a key area, the hazard rows of the premises in it.
 * - floating population registered / deregistered: floating residents, by their dates; "of them"
 *   sorts each person registered into one class by the flags in force at the end of the period
 *   they registered in: mental illness first, then persons of concern, else others.
 *
 * Per police station, the premises and resident events are sums of measure_delta's daily event
 * counts (a pass over millions of residents took seconds); only flagged people are read row by row.
 * Inside a key area (or with fromRows, for the tests) everything is counted from the raw rows.
 * - enforcement results and 打处 (dealt with): the enforcement events' counts, by occurred_on;
 *   dealt with = arrests + other criminal coercive measures + administrative penalties.
 * - key areas listed / cleared (attachment 5): key areas (not drafts, not deleted) by listed_on /
 *   cleared_on, under their police station.
 * - the key area's own hazards found / rectified (attachment 4): its hazards found / rectified.
 */
export async function reportCounts(sql: Sql | Tx, periods: { from: string; to: string }[], subject: ReportSubject,
  opts: { fromRows?: boolean } = {}): Promise<Map<number | null, ReportCounts[]>> {
  if (!periods.length) return new Map()
  // Period i (1-based) holds the days from thresholds[i] up to the day before thresholds[i + 1].
  const thresholds = [...periods.map(p => p.from), addDays(periods[periods.length - 1]!.to, 1)]
  const ends = periods.map(p => p.to)
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
      -- Floating people registered in a period, by the flag they carry at the period's end: mental
      -- illness first, then person of concern. Only flagged people are looked at; the others are
      -- the rest of the period's floating registrations (counted in JS).
      flagged as (
        select r.group_id, ${bucket(sql`r.registered_on`)} as n,
               case when bool_or(f.category = 'mental_illness') then 'floatingMentalIllness'
                    when bool_or(f.category = 'person_of_concern') then 'floatingConcern' end as col
        from r join resident_flag f on f.resident_id = r.id
          and f.flagged_on <= (${ends}::date[])[${bucket(sql`r.registered_on`)}]
          and (f.cleared_on is null or f.cleared_on > (${ends}::date[])[${bucket(sql`r.registered_on`)}])
        where r.floating and r.registered_on between ${first} and ${last}
        group by 1, 2, r.id
      )
      select group_id, n, 'grResidentsRegistered' as col, gr as count from registered where gr > 0
      union all select group_id, n, 'floatingRegistered', floating from registered where floating > 0
      union all select group_id, n, 'grResidentsDeregistered', gr from deregistered where gr > 0
      union all select group_id, n, 'floatingDeregistered', floating from deregistered where floating > 0
      union all select group_id, n, col, count(*)::int from flagged where col is not null group by 1, 2, 3`
    : Promise.all([
        sql<Row[]>`
          select d.police_station_id as group_id, ${bucket(sql`d.day`)} as n, v.col, sum(v.count)::int as count
          from measure_delta d cross join lateral (values
            ('grResidentsRegistered', d.ev_gr_res_registered), ('grResidentsDeregistered', d.ev_gr_res_deregistered),
            ('floatingRegistered', d.ev_floating_registered), ('floatingDeregistered', d.ev_floating_deregistered)
          ) as v(col, count)
          where d.day between ${first} and ${last} and ${inJurisdiction(sql, subject.scope, 'd')}
          group by 1, 2, 3 having sum(v.count) <> 0`,
        // Floating people registered in a period, by the flag they carry at the period's end:
        // mental illness first, then person of concern. Only flagged people are read; the others
        // are the rest of the period's floating registrations.
        sql<Row[]>`
          select group_id, n, col, count(*)::int as count from (
            select ${g} as group_id, ${bucket(sql`r.registered_on`)} as n,
                   case when bool_or(f.category = 'mental_illness') then 'floatingMentalIllness'
                        when bool_or(f.category = 'person_of_concern') then 'floatingConcern' end as col
            from resident_flag f join resident r on r.id = f.resident_id join premises p on p.id = r.premises_id
            where r.floating and r.registered_on between ${first} and ${last} and ${inJurisdiction(sql, subject.scope)}
              and f.flagged_on <= (${ends}::date[])[${bucket(sql`r.registered_on`)}]
              and (f.cleared_on is null or f.cleared_on > (${ends}::date[])[${bucket(sql`r.registered_on`)}])
            group by 1, 2, r.id
          ) x where col is not null group by 1, 2, 3`,
      ]).then(([a, b]) => [...a, ...b])
  const premisesEvents: Promise<Row[]> = fromRows
    ? sql<Row[]>`
      with ${subjectCte},
      e as (
        select ${g} as group_id, v.col, v.day
        from premises p
        cross join lateral (values
          ('grRegistered', case when p.kind = 'group_rental' then p.registered_on end),
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
      where e.occurred_on between ${first} and ${last} and ${inJurisdiction(sql, subject.scope, 'e')}
        ${area ? sql`and e.geom && (select geom from subject) and st_intersects((select geom from subject), e.geom)` : sql``}
      group by 1, 2, 3`,
    area
      ? sql<Row[]>`
          with ${subjectCte},
          h as (
            select i.category_code, local_day(h.found_at) as found_on,
                   local_day(h.rectified_at) as rectified_on
            from hazard h join premises p on p.id = h.premises_id join hazard_item i on i.code = h.item_code
            where ${premisesWhere}
          )
          select 0 as group_id, ${bucket(sql`v.day`)} as n, v.col || ':' || h.category_code as col, count(*)::int as count
          from h cross join lateral (values ('found', h.found_on), ('rectified', h.rectified_on)) as v(col, day)
          where v.day between ${first} and ${last}
          group by 1, 2, 3`
      : sql<Row[]>`
          select d.police_station_id as group_id, ${bucket(sql`d.day`)} as n, v.col || ':' || d.category_code as col, sum(v.count)::int as count
          from hazard_delta d cross join lateral (values ('found', d.found), ('rectified', d.rectified)) as v(col, count)
          where d.day between ${first} and ${last} and ${inJurisdiction(sql, subject.scope, 'd')}
          group by 1, 2, 3 having sum(v.count) <> 0`,
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
  for (const r of [...premisesRows, ...residentRows]) cell(group(r.groupId), r.n)[r.col as ReportCountKey] += r.count
  for (const r of enforcementRows) cell(group(r.groupId), r.n)[enforcementKey[r.col]!] += r.count
  for (const r of hazardRows) {
    const [what, category] = r.col.split(':') as ['found' | 'rectified', string]
    const c = cell(group(r.groupId), r.n)
    c[`${what}${categoryKey[category]!}`] += r.count
    c[`${what}Total`] += r.count
  }
  for (const r of keyAreaRows) cell(group(r.groupId), r.n)[r.col as ReportCountKey] += r.count
  for (const rows of out.values()) {
    for (const c of rows) {
      c.floatingOthers = c.floatingRegistered - c.floatingMentalIllness - c.floatingConcern
      c.dealtTotal = c.arrests + c.coercive + c.administrative
      if (area) {
        c.keyAreaHazardsFound = c.foundTotal
        c.keyAreaHazardsRectified = c.rectifiedTotal
      }
    }
  }
  return out
}
