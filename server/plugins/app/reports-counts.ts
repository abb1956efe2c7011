import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { addDays, endOfDay, startOfDay } from '../../domain/calendar.js'
import { enforcementColumn } from '../../domain/enforcement.js'
import type { EnforcementKind } from '../../domain/lists.js'
import { boundaryCells } from './key-areas-boundary.js'

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
 * counts (a pass over millions of residents took seconds), the hazards of group_rental_hazard_delta's.
 * Inside a key area, the premises, resident and hazard events of the zoom-13 cells wholly inside it
 * are sums of premises_cell_event's, those of the premises in the cells its boundary crosses come
 * from each premises' own events (premises_cell_event_source, migration 040), enforcement records
 * by their points. Only flagged people are read row by row, from the flags (by their premises'
 * points in a key area). With fromRows (for the tests) everything is counted from the raw rows.
 */
export async function reportCounts(sql: Sql | Tx, periods: { from: string; to: string }[], subject: ReportSubject,
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
  const fromRows = opts.fromRows
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
  // Floating people registered in a period, by the flags in force on the report day (see
  // flagCols). Only the flags are read, which carry their person's registration and place
  // (migrations 035, 040); the others are the rest of the registrations.
  const flagRows = fromRows
    ? Promise.resolve([] as Row[])
    : sql<Row[]>`
      with ${subjectCte},
      flagged as (
        select ${area ? sql`0` : sql`coalesce(f.police_station_id, 0)`} as group_id, ${bucket(sql`f.registered_on`)} as n,
               bool_or(f.category = 'mental_illness') as m, bool_or(f.category = 'person_of_concern') as c
        from resident_flag f
        where f.floating and f.registered_on between ${first} and ${last} and ${inJurisdiction(sql, subject.scope, 'f')} and ${flagInForce}
          ${area ? sql`and f.geom && (select geom from subject) and st_intersects((select geom from subject), f.geom)` : sql``}
        group by 1, 2, f.resident_id
      )
      ${flagCols(sql`flagged`)}`
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
    : area ? flagRows : Promise.all([
        sql<Row[]>`
          select d.police_station_id as group_id, ${bucket(sql`d.day`)} as n, v.col, sum(v.count)::int as count
          from measure_delta d cross join lateral (values
            ('grResidentsRegistered', d.ev_gr_res_registered), ('grResidentsDeregistered', d.ev_gr_res_deregistered),
            ('floatingRegistered', d.ev_floating_registered), ('floatingDeregistered', d.ev_floating_deregistered)
          ) as v(col, count)
          where d.day between ${first} and ${last} and ${inJurisdiction(sql, subject.scope, 'd')}
          group by 1, 2, 3 having sum(v.count) <> 0`,
        flagRows,
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
    : subject.kind === 'area' ? areaEvents(sql, subject, first, last, thresholds) : sql<Row[]>`
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
    // Hazards: 群租房管理情况 counts those in group rentals (a premises recorded as one, from the
    // day it became one, or a let dwelling meeting the rule), prefixed 'gr', per station from their
    // daily changes; the key area's own 排查/整改隐患数 count every hazard inside it, from the rows.
    area && !fromRows
      ? Promise.resolve([] as Row[])
      : !fromRows
      ? sql<Row[]>`
        select d.police_station_id as group_id, ${bucket(sql`d.day`)} as n, 'gr:' || v.col || ':' || d.category_code as col, sum(v.count)::int as count
        from group_rental_hazard_delta d cross join lateral (values ('found', d.found), ('rectified', d.rectified)) as v(col, count)
        where d.day between ${first} and ${last} and ${inJurisdiction(sql, subject.scope, 'd')}
        group by 1, 2, 3 having sum(v.count) <> 0`
      : sql<Row[]>`
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
    // A key area's events from its cells carry its hazards too (areaEvents).
    if (hazardColumn(r.col)) hazardRows.push(r)
    else if (r.col === 'flaggedAny') {
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

/** A hazard's column: whose hazards ('gr' in group rentals, 'all' the others), what happened and the category, 'gr:found:fire'. */
const hazardColumn = (col: string) => col.startsWith('gr:') || col.startsWith('all:')

/**
 * A key area's premises, resident and hazard events in each period (group 0), named as the rows
 * count them ('grRegistered', 'gr:found:fire', 'all:rectified:other' ...: the report_event type of
 * migration 040): the cells wholly inside from their sums, the premises of the cells the boundary
 * crosses from their own events, point in polygon. The two are asked side by side, on two
 * connections; the caller adds up what both give.
 */
async function areaEvents(sql: Sql | Tx, subject: { scope: Jurisdiction; geojson: string }, first: string, last: string, thresholds: string[]) {
  type Row = { groupId: number; n: number; col: string; count: number }
  const bucket = (day: ReturnType<typeof sql>) => sql`width_bucket(${day}, ${thresholds}::date[])`
  // A cell's days are in order: the days of the periods are a slice of them, found by bisection
  // (width_bucket counts the days at or before a day), not by reading every day of the cell.
  const slice = (column: string) => sql`c.${sql(column)}[width_bucket(${first}::date - 1, c.days) + 1 : width_bucket(${last}::date, c.days)]`
  const [whole, edge] = await Promise.all([
    sql<Row[]>`
      with ${boundaryCells(sql, subject.geojson)}
      -- Summed by period in each cell first: a dense cell holds hundreds of days of events.
      select 0 as group_id, e.n, e.event::text as col, sum(e.count)::int as count
      from classified k
      join premises_cell_event c on (c.cx, c.cy, c.town_id, c.police_station_id) = (k.cx, k.cy, k.town_id, k.police_station_id)
      cross join lateral (
        select ${bucket(sql`u.day`)} as n, u.event, sum(u.count) as count
        from unnest(${slice('days')}, ${slice('events')}, ${slice('counts')}) as u(day, event, count)
        where u.day between ${first} and ${last}
        group by 1, 2
      ) e
      where k.whole and cardinality(c.days) > 0 and ${inJurisdiction(sql, subject.scope, 'k')}
      group by e.n, e.event`,
    sql<Row[]>`
      with ${boundaryCells(sql, subject.geojson)}
      select 0 as group_id, ${bucket(sql`e.day`)} as n, e.event::text as col, count(*)::int as count
      from classified k
      join premises_cell_event_source s on (s.cx, s.cy, s.town_id, s.police_station_id) = (k.cx, k.cy, k.town_id, k.police_station_id)
      join premises p on p.id = s.premises_id
      cross join lateral unnest(s.days, s.events) as e(day, event), g
      where not k.whole and st_intersects(g.geom, p.geom) and ${inJurisdiction(sql, subject.scope, 'k')} and e.day between ${first} and ${last}
      group by 2, e.event`,
  ])
  return [...whole, ...edge]
}
