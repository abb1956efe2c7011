import fp from 'fastify-plugin'
import { pgArray } from '../../db/arrays.js'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction, Role } from '../../domain/access.js'
import {
  bands, type Band, type Features, leadFeatures, type LeadFeature, type LinearModel, minTraining, type Reason, rulesModel, scoreOf, type TrainingExample,
} from '../../domain/leads-model.js'
import { maskPersonalText } from '../../domain/redact.js'
import { badRequest, HttpError, notFound } from '../../lib/http-errors.js'
import type { LeadStatus, otherRentalKinds, VisitOutcome } from '../../domain/lists.js'
import { today as todayInDistrict } from '../../domain/calendar.js'
import { figuresCache, type FiguresCache } from './figures-cache.js'
import { trainInWorker } from './leads-train.js'
import type { TasksRepository } from './tasks.js'

/**
 * Leads: premises not registered as group rentals, and addresses whose meters match no premises,
 * ranked by how strongly their signals suggest a group rental. A refresh recomputes everything
 * set-wise, in statements over a few hundred accounts or leads each, so that other users' queries
 * run between them (the embedded database answers one statement at a time). Commanders issue and
 * assign leads; the visit records the outcome — a group rental registered on the spot as found by
 * data analysis, another kind of rental, not a rental, or no access (to try again) — and the
 * outcomes train the next model.
 */

/** Kinds of premises that may hide a group rental: dwellings let, not collective housing already registered as such. */
export const candidateKinds = ['rental', 'homestay', 'family_hotel'] as const

export interface LeadFilter {
  towns?: number[]
  communities?: number[]
  policeStations?: number[]
  /** 'active' for new, open and assigned leads. */
  statuses?: (LeadStatus | 'active')[]
  bands?: Band[]
  assignedTo?: number
  minScore?: number
  subject?: 'premises' | 'address'
}

export interface VisitInput {
  outcome: VisitOutcome
  visitedOn?: string
  /** For another kind of rental: which. */
  kind?: typeof otherRentalKinds[number]
  roomsLet?: number
  bedsLet?: number
  occupants?: number
  note?: string | null
}

export interface Actor {
  id: number
  username: string
  role: Role
  jurisdiction: Jurisdiction
}

/** Statements cover this many accounts or leads each, so that none holds the database for long. */
const chunk = 400
/** Accounts per statement of their statistics (a year of daily readings is ~370 rows per account). */
const statsChunk = 1000
/** Leads scored per round trip. */
const scorePage = 2000
/** Days back over which resident registrations and deregistrations count as turnover. */
export const turnoverDays = 180
/** Samples an area's norm needs before it is trusted; fewer, and the wider area's norm is used. */
const normMinimum = 8

const where = (sql: Sql, scope: Jurisdiction, f: LeadFilter) => {
  const parts = [inJurisdiction(sql, scope, 'l'), sql`l.candidate`]
  if (f.towns?.length) parts.push(sql`l.town_id in ${sql(f.towns)}`)
  if (f.communities?.length) parts.push(sql`l.community_id in ${sql(f.communities)}`)
  if (f.policeStations?.length) parts.push(sql`l.police_station_id in ${sql(f.policeStations)}`)
  if (f.statuses?.length) {
    const s = f.statuses.flatMap(x => (x === 'active' ? ['new', 'open', 'assigned'] : [x]))
    parts.push(sql`l.status in ${sql(s)}`)
  }
  if (f.bands?.length) parts.push(sql`l.band in ${sql(f.bands)}`)
  if (f.assignedTo !== undefined) parts.push(sql`l.assigned_to = ${f.assignedTo}`)
  if (f.minScore !== undefined) parts.push(sql`l.score >= ${f.minScore}`)
  if (f.subject === 'premises') parts.push(sql`l.premises_id is not null`)
  if (f.subject === 'address') parts.push(sql`l.site_key is not null`)
  return parts.reduce((a, b) => sql`${a} and ${b}`)
}

/**
 * Runs one chunk of a refresh in a transaction of its own (or in the caller's, when a refresh runs
 * inside one), with memory enough to aggregate a chunk's daily values in a hash table rather than
 * sort them on disk.
 */
async function ownTransaction(db: Sql | Tx, run: (tx: Tx) => Promise<unknown>): Promise<void> {
  const go = async (tx: Tx) => {
    await tx`set local work_mem = '64MB'`
    await run(tx)
  }
  // A transaction's sql has savepoints; the pool's has not.
  if ('savepoint' in db) await go(db)
  else await db.begin(go)
}

export interface LeadsOptions {
  /** Keeps the map layer and the list's counts under the leads' counter (lead_version): asked again, they cost no query. */
  cache?: FiguresCache
  /** Told after this process wrote leads outside a request's write transaction (a refresh, a training). */
  written?: () => void
}

export function leadsRepository(sql: Sql, opts: LeadsOptions = {}) {
  let running: Promise<RefreshSummary> | null = null
  let again = false

  /** The model in force: the active trained one, or the rules. */
  async function activeModel(db: Sql | Tx = sql): Promise<LinearModel> {
    const [m] = await db<{ version: number; model: { bias: number; weights: Record<LeadFeature, number> } }[]>`
      select version, model from lead_model where active`
    if (!m) return rulesModel
    return { version: m.version, kind: 'logistic_regression', bias: m.model.bias, weights: m.model.weights }
  }

  /** The day the signals are read on: today while the campaign runs, its last day after. */
  async function referenceDay(db: Sql | Tx): Promise<string> {
    const [c] = await db<{ startsOn: string; endsOn: string }[]>`select starts_on, ends_on from campaign order by starts_on desc limit 1`
    const today = todayInDistrict()
    if (!c) return today
    return today > c.endsOn ? c.endsOn : today < c.startsOn ? c.startsOn : today
  }

  /**
   * What each account's readings say, a range of accounts per statement and transaction: their
   * months read once, their days unnested once and aggregated once. The calendar is joined per
   * month as arrays of the days' kinds (a join per day cost a hash probe for each of a year's 365
   * values), and a day's Spring Festival window (the festival and the 21 days before it) is a
   * column of the same aggregation, grouped by account and festival, instead of a second pass.
   */
  async function accountStats(db: Sql | Tx) {
    const [r] = await db<{ lo: number | null; hi: number | null }[]>`select min(id) as lo, max(id) as hi from meter_account`
    if (r!.lo === null) return 0
    for (let lo = r!.lo; lo <= r!.hi!; lo += statsChunk) {
      await ownTransaction(db, tx => tx`
        with acc as (select id, utility from meter_account where id between ${lo} and ${lo + statsChunk - 1}),
        -- The same range on the readings' key: an index range scan (a join to acc was planned as a scan of every reading, per chunk).
        rd as (select m.* from meter_reading m where m.account_id between ${lo} and ${lo + statsChunk - 1}),
        festival as (select min(day) as s, max(day) as e from calendar_day where kind = 'spring_festival' group by extract(year from day)),
        -- Per month of daily readings, per day of it: a rest day, a Spring Festival day, the festival window it lies in (its first day) and whether it is in the festival itself.
        k as (
          select mm.month, array_agg(coalesce(c.kind <> 'workday', extract(isodow from x.day) >= 6) order by x.day) as rest,
                 array_agg(coalesce(c.kind = 'spring_festival', false) order by x.day) as sf,
                 array_agg(y.s order by x.day) as fs, array_agg(x.day >= y.s order by x.day) as infest
          from (select distinct month from rd where daily is not null) mm
          cross join lateral generate_series(mm.month, mm.month + interval '1 month' - interval '1 day', interval '1 day') as g(t)
          cross join lateral (select g.t::date as day) x
          left join calendar_day c on c.day = x.day
          left join festival y on x.day between y.s - 21 and y.e
          group by mm.month
        ),
        part as (
          select rd.account_id, k.fs[u.i] as fs, count(*) as days,
            count(*) filter (where k.rest[u.i] and not k.sf[u.i]) as n_rest, sum(u.v) filter (where k.rest[u.i] and not k.sf[u.i]) as s_rest,
            count(*) filter (where not k.rest[u.i]) as n_work, sum(u.v) filter (where not k.rest[u.i]) as s_work,
            count(u.n) as n_night, sum(u.n) as s_night, sum(u.v) filter (where u.n is not null) as s_vn,
            count(*) filter (where k.infest[u.i]) as n_sf, sum(u.v) filter (where k.infest[u.i]) as s_sf,
            count(*) filter (where not k.infest[u.i]) as n_pre, sum(u.v) filter (where not k.infest[u.i]) as s_pre
          from rd join k on k.month = rd.month
          cross join lateral unnest(rd.daily, rd.night) with ordinality as u(v, n, i)
          where u.v is not null
          group by 1, 2
        ),
        ds as (
          select account_id, sum(days)::int as days,
            case when sum(n_rest) >= 8 and sum(n_work) >= 20
              then (sum(s_rest)::numeric / sum(n_rest)) / nullif(sum(s_work)::numeric / sum(n_work), 0) end as rest_ratio,
            case when sum(n_night) >= 14 then sum(s_night)::float8 / nullif(sum(s_vn), 0) end as night_share,
            -- Use during the festival against the three weeks before it, averaged over the years that have enough of both.
            avg((s_sf::numeric / n_sf) / nullif(s_pre::numeric / n_pre, 0)) filter (where fs is not null and n_sf >= 5 and n_pre >= 14) as dip
          from part group by account_id
        ),
        mo as (
          select account_id, count(*)::int as months, sum(total)::float8 / 100 / nullif(sum(covered), 0) as mean_daily,
            case when count(*) filter (where covered >= 20) >= 6
              then max(per_day) filter (where covered >= 20) / nullif(percentile_cont(0.5) within group (order by per_day) filter (where covered >= 20), 0) end as swing
          from (
            select rd.account_id, rd.total, cov.covered, rd.total::float8 / 100 / nullif(cov.covered, 0) as per_day
            from rd cross join lateral (select case when rd.daily is null then extract(day from rd.month + interval '1 month' - interval '1 day')::int
                                                     else cardinality(array_remove(rd.daily, null)) end as covered) cov
          ) m where covered > 0
          group by account_id
        ),
        h as (
          select account_id, case when count(*) >= 7 then avg(pv) end as peak_valley from (
            select rd.account_id, (max(hh.x) - min(hh.x))::float8 / nullif(avg(hh.x), 0) as pv
            from rd cross join lateral unnest(rd.hourly) with ordinality as hh(x, i)
            where rd.hourly is not null and hh.x is not null
            group by rd.account_id, rd.month, (hh.i - 1) / 24 having count(hh.x) = 24
          ) q group by account_id
        )
        insert into meter_stat as ms (account_id, utility, days, months, mean_daily, rest_ratio, night_share, peak_valley, seasonal_swing, holiday_dip, computed_at)
        select acc.id, acc.utility, coalesce(ds.days, 0), coalesce(mo.months, 0), mo.mean_daily, ds.rest_ratio, ds.night_share, h.peak_valley, mo.swing, ds.dip, now()
        from acc
        left join ds on ds.account_id = acc.id
        left join mo on mo.account_id = acc.id
        left join h on h.account_id = acc.id
        on conflict (account_id) do update set days = excluded.days, months = excluded.months, mean_daily = excluded.mean_daily,
          rest_ratio = excluded.rest_ratio, night_share = excluded.night_share, peak_valley = excluded.peak_valley,
          seasonal_swing = excluded.seasonal_swing, holiday_dip = excluded.holiday_dip, computed_at = excluded.computed_at
        -- An account whose readings did not change keeps its row: a refresh with nothing new writes nothing.
        where (ms.utility, ms.days, ms.months, ms.mean_daily, ms.rest_ratio, ms.night_share, ms.peak_valley, ms.seasonal_swing, ms.holiday_dip)
          is distinct from (excluded.utility, excluded.days, excluded.months, excluded.mean_daily, excluded.rest_ratio, excluded.night_share,
                            excluded.peak_valley, excluded.seasonal_swing, excluded.holiday_dip)`)
    }
    const [n] = await db<{ n: number }[]>`select count(*)::int as n from meter_stat`
    return n!.n
  }

  /** Leads: every candidate premises, and every site of accounts matched to no premises. */
  async function syncCandidates(db: Sql | Tx) {
    // Accounts matched to no premises are grouped by address, or by a ~10 m cell of their point; a
    // range of accounts per statement, so that no statement holds every account's row.
    const [r] = await db<{ lo: number | null; hi: number | null }[]>`select min(id) as lo, max(id) as hi from meter_account`
    for (let lo = r!.lo ?? 1; r!.hi !== null && lo <= r!.hi; lo += statsChunk * 20) {
      await db`
        update meter_account a set site_key = k.key
        from (select id, case when premises_id is null and geom is not null
                then coalesce(address_key(address), 'pt:' || round(st_x(geom)::numeric, 4) || ',' || round(st_y(geom)::numeric, 4)) end as key
              from meter_account where id between ${lo} and ${lo + statsChunk * 20 - 1}) k
        where k.id = a.id and a.site_key is distinct from k.key`
    }
    // A range of premises per statement: an upsert locks every lead it meets, changed or not.
    const [pr] = await db<{ lo: number | null; hi: number | null }[]>`select min(id) as lo, max(id) as hi from premises`
    for (let lo = pr!.lo ?? 1; pr!.hi !== null && lo <= pr!.hi; lo += statsChunk * 5) {
      await db`
      insert into lead as l (premises_id, address, geom, town_id, community_id, police_station_id, candidate)
      select p.id, p.address, p.geom, p.town_id, p.community_id, p.police_station_id, true
      from premises p
      where p.id between ${lo} and ${lo + statsChunk * 5 - 1} and p.kind in ${db(candidateKinds)} and p.deregistered_on is null
        -- A rental that meets the rule is counted as a group rental already (is_group_rental_candidate).
        and not coalesce(is_group_rental_candidate(p.kind, p.meets_rule), false)
        and not exists (select 1 from lead v where v.result_premises_id = p.id and v.status = 'visited')
      on conflict (premises_id) do update set address = excluded.address, geom = excluded.geom, town_id = excluded.town_id,
        community_id = excluded.community_id, police_station_id = excluded.police_station_id, candidate = true
      where (l.address, l.geom, l.town_id, l.community_id, l.police_station_id, l.candidate)
        is distinct from (excluded.address, excluded.geom, excluded.town_id, excluded.community_id, excluded.police_station_id, true)`
    }
    await db`
      update lead l set candidate = false
      where l.candidate and l.premises_id is not null and not exists (
        select 1 from premises p where p.id = l.premises_id and p.kind in ${db(candidateKinds)} and p.deregistered_on is null
          and not coalesce(is_group_rental_candidate(p.kind, p.meets_rule), false))`
    await db`
      insert into lead as l (site_key, address, geom, town_id, community_id, police_station_id, candidate)
      select s.site_key, s.address, s.geom, s.town_id, s.community_id, s.police_station_id, true
      from (
        select a.site_key, coalesce(min(a.address), '经纬度 ' || round(avg(st_x(a.geom))::numeric, 5) || ', ' || round(avg(st_y(a.geom))::numeric, 5)) as address,
               st_centroid(st_collect(a.geom)) as geom, min(a.town_id) as town_id, min(a.community_id) as community_id, min(a.police_station_id) as police_station_id
        from meter_account a where a.site_key is not null and a.town_id is not null group by a.site_key
      ) s
      on conflict (site_key) do update set address = excluded.address, geom = excluded.geom, town_id = excluded.town_id,
        community_id = excluded.community_id, police_station_id = excluded.police_station_id, candidate = true
      where (l.address, l.geom, l.town_id, l.community_id, l.police_station_id, l.candidate)
        is distinct from (excluded.address, excluded.geom, excluded.town_id, excluded.community_id, excluded.police_station_id, true)`
    await db`
      update lead l set candidate = false
      where l.candidate and l.site_key is not null and not exists (select 1 from meter_account a where a.site_key = l.site_key)`
  }

  /**
   * Each candidate's signals from its accounts' statistics, its premises and its residents, kept in
   * lead_signal (not yet in the lead: its norms need every lead's signals first, and a lead is
   * written once per refresh, with its norms and score).
   */
  async function subjectSignals(db: Sql | Tx, on: string) {
    const [r] = await db<{ lo: number | null; hi: number | null }[]>`select min(id) as lo, max(id) as hi from lead where candidate`
    if (r!.lo === null) {
      await db`delete from lead_signal`
      return
    }
    await db`delete from lead_signal where lead_id < ${r!.lo} or lead_id > ${r!.hi!}`
    for (let lo = r!.lo; lo <= r!.hi!; lo += chunk) {
      await ownTransaction(db, async (tx) => {
        await tx`delete from lead_signal where lead_id between ${lo} and ${lo + chunk - 1}`
        await tx`
        with l as (select id, premises_id, site_key, town_id, community_id from lead where id between ${lo} and ${lo + chunk - 1} and candidate),
        acc as (
          select l.id as lead_id, a.id as account_id, a.utility from l join meter_account a on a.premises_id = l.premises_id
          union all
          select l.id, a.id, a.utility from l join meter_account a on a.site_key = l.site_key
        ),
        -- One row per lead, its utilities side by side: a join per utility to a CTE of every
        -- lead's rows was a nested loop, each lead scanning the whole chunk's rows three times.
        u as (
          select acc.lead_id,
            sum(s.mean_daily) filter (where acc.utility = 'electricity') as e_mean,
            sum(s.rest_ratio * s.mean_daily) filter (where acc.utility = 'electricity')
              / nullif(sum(s.mean_daily) filter (where acc.utility = 'electricity' and s.rest_ratio is not null), 0) as rest_ratio,
            sum(s.night_share * s.mean_daily) filter (where acc.utility = 'electricity')
              / nullif(sum(s.mean_daily) filter (where acc.utility = 'electricity' and s.night_share is not null), 0) as night_share,
            sum(s.peak_valley * s.mean_daily) filter (where acc.utility = 'electricity')
              / nullif(sum(s.mean_daily) filter (where acc.utility = 'electricity' and s.peak_valley is not null), 0) as peak_valley,
            sum(s.seasonal_swing * s.mean_daily) filter (where acc.utility = 'electricity')
              / nullif(sum(s.mean_daily) filter (where acc.utility = 'electricity' and s.seasonal_swing is not null), 0) as swing,
            sum(s.holiday_dip * s.mean_daily) filter (where acc.utility = 'electricity')
              / nullif(sum(s.mean_daily) filter (where acc.utility = 'electricity' and s.holiday_dip is not null), 0) as dip,
            sum(s.mean_daily) filter (where acc.utility = 'water') as w_mean,
            sum(s.mean_daily) filter (where acc.utility = 'gas') as g_mean
          from acc join meter_stat s on s.account_id = acc.account_id
          group by 1
        )
        insert into lead_signal (lead_id, town_id, community_id, features)
        select l.id, l.town_id, l.community_id, jsonb_strip_nulls(jsonb_build_object(
          'size', case when p.id is null or p.rooms_let = 0 then 'U' when p.rooms_let <= 2 then 'S' when p.rooms_let <= 5 then 'M' else 'L' end,
          'elecMean', round(u.e_mean::numeric, 3), 'restDayRatio', round(u.rest_ratio::numeric, 3), 'nightShare', round(u.night_share::numeric, 3),
          'peakToValley', round(u.peak_valley::numeric, 3), 'seasonalSwing', round(u.swing::numeric, 3), 'holidayDip', round(u.dip::numeric, 3),
          'waterMean', round(u.w_mean::numeric, 3), 'gasMean', round(u.g_mean::numeric, 3),
          'registeredResidents', res.n, 'residentTurnover', res.turnover,
          'waterPerResident', case when p.id is not null and u.w_mean is not null then round((u.w_mean * 30.4 / greatest(res.n, 1))::numeric, 3) end,
          'meetsRule', case when p.id is not null then p.meets_rule::int end))
        from l
        left join premises p on p.id = l.premises_id
        left join u on u.lead_id = l.id
        left join lateral (
          select count(*) filter (where r.registered_on <= ${on} and (r.deregistered_on is null or r.deregistered_on > ${on}))::int as n,
                 (count(*) filter (where r.registered_on > ${on}::date - ${turnoverDays}::int and r.registered_on <= ${on})
                  + count(*) filter (where r.deregistered_on > ${on}::date - ${turnoverDays}::int and r.deregistered_on <= ${on}))::int as turnover
          from resident r where r.premises_id = l.premises_id
        ) res on l.premises_id is not null`
      })
    }
  }

  /**
   * Use against the norm: the median of the candidates of the same community and size (rooms let),
   * or, with fewer than eight of them, of the town and size, the community, the town, the district.
   * The medians are computed in one read of the refresh's signals and kept (lead_norm).
   */
  async function norms(db: Sql | Tx) {
    await ownTransaction(db, async (tx) => {
      await tx`delete from lead_norm`
      await tx`
        with b as (
          select community_id, town_id, features->>'size' as size,
                 (features->>'elecMean')::float8 as e, (features->>'waterMean')::float8 as w, (features->>'gasMean')::float8 as g
          from lead_signal
        )
        insert into lead_norm (level, community_id, town_id, size, e, ne, w, nw, g, ng)
        select 'community_size', community_id, null, size, ${medians(tx)} from b group by community_id, size
        union all select 'town_size', null, town_id, size, ${medians(tx)} from b group by town_id, size
        union all select 'community', community_id, null, null, ${medians(tx)} from b group by community_id
        union all select 'town', null, town_id, null, ${medians(tx)} from b group by town_id
        union all select 'district', null, null, null, ${medians(tx)} from b`
    })
  }

  /** The refresh's features of the leads in `page` (a query of lead_signal rows): their signals and their use against the norms. */
  function withNorms(db: Sql | Tx, page: ReturnType<Sql>) {
    return db`
      with b as (
        select s.lead_id as id, s.community_id, s.town_id, s.features, s.features->>'size' as size,
               (s.features->>'elecMean')::float8 as e, (s.features->>'waterMean')::float8 as w, (s.features->>'gasMean')::float8 as g
        from (${page}) s
      ),
      n as (
        select b.id, b.features, b.e, b.w, b.g,
          coalesce(case when cs.ne >= ${normMinimum} then cs.e end, case when ts.ne >= ${normMinimum} then ts.e end,
                   case when c.ne >= ${normMinimum} then c.e end, case when t.ne >= ${normMinimum} then t.e end, d.e) as ne,
          coalesce(case when cs.nw >= ${normMinimum} then cs.w end, case when ts.nw >= ${normMinimum} then ts.w end,
                   case when c.nw >= ${normMinimum} then c.w end, case when t.nw >= ${normMinimum} then t.w end, d.w) as nw,
          coalesce(case when cs.ng >= ${normMinimum} then cs.g end, case when ts.ng >= ${normMinimum} then ts.g end,
                   case when c.ng >= ${normMinimum} then c.g end, case when t.ng >= ${normMinimum} then t.g end, d.g) as ng
        from b
        left join lead_norm cs on cs.level = 'community_size' and cs.community_id is not distinct from b.community_id and cs.size = b.size
        left join lead_norm ts on ts.level = 'town_size' and ts.town_id = b.town_id and ts.size = b.size
        left join lead_norm c on c.level = 'community' and c.community_id is not distinct from b.community_id
        left join lead_norm t on t.level = 'town' and t.town_id = b.town_id
        left join lead_norm d on d.level = 'district'
      )
      select n.id, n.features || jsonb_strip_nulls(jsonb_build_object(
        'elecNorm', round(n.ne::numeric, 3), 'elecVsNorm', round((n.e / nullif(n.ne, 0))::numeric, 3),
        'waterNorm', round(n.nw::numeric, 3), 'waterVsNorm', round((n.w / nullif(n.nw, 0))::numeric, 3),
        'gasNorm', round(n.ng::numeric, 3), 'gasVsNorm', round((n.g / nullif(n.ng, 0))::numeric, 3))) as features
      from n`
  }

  /** A page of scores as columns for unnest: ids, scores, bands, reasons. */
  const scoreColumns = (db: Sql | Tx, ids: number[], scored: ReturnType<typeof scoreOf>[]) => db`
    unnest(${pgArray(ids)}::bigint[], ${pgArray(scored.map(s => s.score))}::real[], ${pgArray(scored.map(s => s.band))}::text[],
      ${pgArray(scored.map(s => JSON.stringify(s.reasons)))}::text[]) as t(id, score, band, reasons)`

  /**
   * Writes each candidate once: its signals, its norms and its score with the model in force, a page
   * at a time (the score in Node), and only when one of them changed, so that a refresh leaves no
   * dead row behind for a lead it did not change. The page's features are read with their norms,
   * scored, and computed again in the update (cheaper than sending them back, and the same text).
   */
  async function scoreFresh(db: Sql | Tx, model: LinearModel) {
    let after = 0
    let n = 0
    for (;;) {
      const rows = await db<{ id: number; features: Features }[]>`
        ${withNorms(db, db`select * from lead_signal where lead_id > ${after} order by lead_id limit ${scorePage}`)} order by id`
      if (!rows.length) break
      const last = rows[rows.length - 1]!.id
      const scored = rows.map(r => scoreOf(model, r.features))
      await db`
        update lead l set features = f.features, score = t.score, band = t.band, reasons = t.reasons::jsonb, model_version = ${model.version}, scored_at = now()
        from ${scoreColumns(db, rows.map(r => r.id), scored)}
        join (${withNorms(db, db`select * from lead_signal where lead_id between ${rows[0]!.id} and ${last}`)}) f on f.id = t.id
        where l.id = t.id and l.candidate
          and (l.features, l.score, l.band, l.reasons, l.model_version) is distinct from (f.features, t.score, t.band, t.reasons::jsonb, ${model.version})`
      after = last
      n += rows.length
    }
    return n
  }

  /** Scores every candidate again with the model in force from the signals it has, a page at a time, in Node (after a training). */
  async function scoreAll(db: Sql | Tx, model: LinearModel) {
    let after = 0
    let n = 0
    for (;;) {
      const rows = await db<{ id: number; features: Features }[]>`
        select id, features from lead where candidate and id > ${after} order by id limit ${scorePage}`
      if (!rows.length) break
      const scored = rows.map(r => scoreOf(model, r.features))
      await db`
        update lead l set score = t.score, band = t.band, reasons = t.reasons::jsonb, model_version = ${model.version}, scored_at = now()
        from ${scoreColumns(db, rows.map(r => r.id), scored)}
        where l.id = t.id and (l.score, l.band, l.reasons, l.model_version) is distinct from (t.score, t.band, t.reasons::jsonb, ${model.version})`
      after = rows[rows.length - 1]!.id
      n += rows.length
    }
    return n
  }

  /**
   * Leaves the leads ready to read: vacuumed (their pages marked all-visible, so that the list's
   * count reads its index alone) and analysed. Only a role that owns the table may (the embedded
   * database, a deployment without a separate app role); the app's least-privileged role leaves it
   * to autovacuum, which migration 044 makes prompt on the leads. Outside a transaction only.
   */
  async function settle(db: Sql | Tx) {
    if ('savepoint' in db) return
    const [may] = await db<{ owner: boolean }[]>`select pg_has_role(current_user, relowner, 'usage') as owner from pg_class where oid = 'lead'::regclass`
    if (may?.owner) await db`vacuum (analyze) lead`
  }

  async function refreshOnce(db: Sql | Tx): Promise<RefreshSummary> {
    const started = Date.now()
    let lap = started
    const phase = () => {
      const now = Date.now()
      const ms = now - lap
      lap = now
      return ms
    }
    const on = await referenceDay(db)
    const accounts = await accountStats(db)
    const statsMs = phase()
    await syncCandidates(db)
    await subjectSignals(db, on)
    await norms(db)
    const signalsMs = phase()
    const model = await activeModel(db)
    const scored = await scoreFresh(db, model)
    const scoreMs = phase()
    await settle(db)
    const vacuumMs = phase()
    return { accounts, scored, modelVersion: model.version, ms: Date.now() - started, phases: { statsMs, signalsMs, scoreMs, vacuumMs } }
  }

  async function pointsOf(scope: Jurisdiction, f: LeadFilter, limit: number) {
    const rows = await sql<{ id: number; score: number; band: Band; status: LeadStatus; subject: 'premises' | 'address'; lon: number; lat: number }[]>`
      select l.id, l.score, l.band, l.status, case when l.premises_id is null then 'address' else 'premises' end as subject,
             st_x(l.geom) as lon, st_y(l.geom) as lat
      from lead l where ${where(sql, scope, f)}
      order by l.score desc, l.id limit ${limit + 1}`
    return {
      type: 'FeatureCollection' as const,
      truncated: rows.length > limit,
      features: rows.slice(0, limit).map(({ lon, lat, ...props }) => ({
        type: 'Feature' as const, id: props.id, geometry: { type: 'Point' as const, coordinates: [lon, lat] }, properties: props,
      })),
    }
  }

  async function lockLead(tx: Tx, scope: Jurisdiction, id: number) {
    const [l] = await tx<{ id: number; status: LeadStatus; premisesId: number | null; siteKey: string | null; address: string; lon: number; lat: number
      assignedTo: number | null; taskId: number | null; issuedAt: Date | null; score: number; band: Band; features: Features; modelVersion: number; townId: number }[]>`
      select l.id, l.status, l.premises_id, l.site_key, l.address, st_x(l.geom) as lon, st_y(l.geom) as lat, l.assigned_to, l.task_id, l.issued_at,
             l.score, l.band, l.features, l.model_version, l.town_id
      from lead l where l.id = ${id} and ${inJurisdiction(tx as unknown as Sql, scope, 'l')} for update`
    if (!l) throw notFound(`there is no lead with id ${id}`, `没有编号为 ${id} 的线索`)
    return l
  }

  return {
    activeModel,

    /**
     * Recomputes every signal, norm and score. One refresh at a time: a call made while one runs
     * waits for it and then runs once more (whatever changed meanwhile is seen).
     */
    async refresh(db: Sql | Tx = sql): Promise<RefreshSummary> {
      if (db !== sql) return refreshOnce(db)
      if (running) {
        again = true
        await running.catch(() => undefined)
        if (running) return running
      }
      const go = async (): Promise<RefreshSummary> => {
        let result = await refreshOnce(sql)
        while (again) {
          again = false
          result = await refreshOnce(sql)
        }
        return result
      }
      running = go().finally(() => {
        running = null
        opts.written?.()
      })
      return running
    },

    /** Scores again with the model in force (after training), without recomputing the signals. */
    async rescore(db: Sql | Tx = sql) {
      return scoreAll(db, await activeModel(db))
    },

    /** Leads ranked by score, within the jurisdiction and the filter. */
    async list(scope: Jurisdiction, f: LeadFilter, limit: number, offset: number, withPeople: boolean) {
      // The count reads every matching lead (half a million at a million premises): kept per version
      // of the leads like the map layer, while the page itself is an index range read.
      const count = async () => (await sql<{ total: number }[]>`select count(*)::int as total from lead l where ${where(sql, scope, f)}`)[0]!.total
      const total = opts.cache ? await opts.cache.get(JSON.stringify(['leads-count', scope, f]), count) : await count()
      const rows = await sql<LeadRow[]>`
        select l.id, case when l.premises_id is null then 'address' else 'premises' end as subject, l.premises_id, p.kind as premises_kind,
               l.address, st_x(l.geom) as lon, st_y(l.geom) as lat, l.town_id, t.name_zh as town_name_zh, t.name_en as town_name_en,
               c.name_zh as community_name_zh, l.police_station_id, l.score, l.band, l.reasons, l.model_version, l.status, l.outcome, l.outcome_on,
               l.attempts, l.assigned_to, u.display_name as assigned_name, l.task_id, l.issued_at, l.issued_band, l.result_premises_id
        from lead l
        left join premises p on p.id = l.premises_id
        join admin_area t on t.id = l.town_id
        left join admin_area c on c.id = l.community_id
        left join app_user u on u.id = l.assigned_to
        where ${where(sql, scope, f)}
        order by l.score desc, l.id
        limit ${limit} offset ${offset}`
      return { total, items: rows.map(r => ({ ...r, address: withPeople ? r.address : maskPersonalText(r.address), issuedAt: r.issuedAt?.toISOString() ?? null })) }
    },

    /**
     * The leads as map points (no address), the highest scores first: computed once per version of
     * the leads and filter, when the repository has a cache.
     */
    async points(scope: Jurisdiction, f: LeadFilter, limit: number) {
      const compute = () => pointsOf(scope, f, limit)
      return opts.cache ? opts.cache.get(JSON.stringify(['leads-points', scope, f, limit]), compute) : compute()
    },

    /** One lead: its signals against their norms, its accounts (holders for roles that see people), its monthly use and its visits. */
    async detail(scope: Jurisdiction, id: number, withPeople: boolean) {
      const [l] = await sql<(LeadRow & { features: Record<string, unknown>; issuedScore: number | null; issuedModel: number | null })[]>`
        select l.id, case when l.premises_id is null then 'address' else 'premises' end as subject, l.premises_id, p.kind as premises_kind,
               l.address, st_x(l.geom) as lon, st_y(l.geom) as lat, l.town_id, t.name_zh as town_name_zh, t.name_en as town_name_en,
               c.name_zh as community_name_zh, l.police_station_id, l.score, l.band, l.reasons, l.model_version, l.status, l.outcome, l.outcome_on,
               l.attempts, l.assigned_to, u.display_name as assigned_name, l.task_id, l.issued_at, l.issued_band, l.result_premises_id, l.features,
               l.issued_score, l.issued_model
        from lead l
        left join premises p on p.id = l.premises_id
        join admin_area t on t.id = l.town_id
        left join admin_area c on c.id = l.community_id
        left join app_user u on u.id = l.assigned_to
        where l.id = ${id} and ${inJurisdiction(sql, scope, 'l')}`
      if (!l) return undefined
      const accounts = await sql<{ id: number; utility: string; accountNo: string; holderName: string | null; address: string | null; matchMethod: string | null; matchDistanceM: number | null }[]>`
        select a.id, a.utility, a.account_no, a.holder_name, a.address, a.match_method, a.match_distance_m
        from meter_account a
        where ${l.premisesId !== null ? sql`a.premises_id = ${l.premisesId}` : sql`a.site_key = (select site_key from lead where id = ${id})`}
        order by a.utility, a.account_no`
      const months = await sql<{ utility: string; month: string; perDay: number }[]>`
        select a.utility, r.month::text as month,
               sum(r.total)::float8 / 100 / max(case when r.daily is null then extract(day from r.month + interval '1 month' - interval '1 day')::int
                                                      else (select count(x) from unnest(r.daily) x) end) as per_day
        from meter_account a join meter_reading r on r.account_id = a.id
        where a.id in ${sql(accounts.length ? accounts.map(a => a.id) : [0])}
        group by a.utility, r.month order by 1, 2`
      const visits = await sql<{ id: number; outcome: VisitOutcome; visitedOn: string; userName: string | null; premisesId: number | null; note: string | null }[]>`
        select v.id, v.outcome, v.visited_on, u.display_name as user_name, v.premises_id, v.note
        from lead_visit v left join app_user u on u.id = v.user_id where v.lead_id = ${id} order by v.id`
      const mask = (s: string | null) => (s === null || withPeople ? s : maskPersonalText(s))
      return {
        ...l,
        address: mask(l.address)!,
        issuedAt: l.issuedAt?.toISOString() ?? null,
        accounts: accounts.map(({ id: _, holderName, ...a }) => ({ ...a, address: mask(a.address), ...(withPeople ? { holderName } : {}) })),
        months: [...months].map(m => ({ ...m, perDay: Math.round(m.perDay * 100) / 100 })),
        visits: visits.map(v => ({ ...v, note: mask(v.note) })),
      }
    },

    /**
     * Turns leads into visits (issuing them takes a snapshot of their score: precision is judged on
     * what was handed out). A premises lead becomes an inspect task of the field-work tasks (or is
     * linked to the inspect task already open there); an address has no premises a task could
     * name, so its lead is assigned to the inspector directly. Refuses the whole batch when one
     * lead is not the commander's (404), already visited (409) or outside the inspector's area (400).
     */
    async issue(tx: Tx, actor: Actor, tasks: TasksRepository, input: { leadIds: number[]; assigneeId: number; dueOn: string; note: string | null }) {
      const unique = [...new Set(input.leadIds)]
      const rows = await tx<{ id: number; status: LeadStatus; premisesId: number | null; townId: number; policeStationId: number | null }[]>`
        select l.id, l.status, l.premises_id, l.town_id, l.police_station_id from lead l
        where l.id in ${tx(unique)} and ${inJurisdiction(tx as unknown as Sql, actor.jurisdiction, 'l')}
        order by l.id for update`
      const missing = unique.filter(id => !rows.some(r => r.id === id))
      if (missing.length) throw notFound(`there is no lead with id ${missing.slice(0, 10).join(', ')}`, `没有编号为 ${missing.slice(0, 10).join('、')} 的线索`)
      const done = rows.filter(r => r.status === 'visited')
      if (done.length) throw new HttpError(409, `lead ${done.map(r => r.id).slice(0, 10).join(', ')} has been visited already`, 'lead-visited', `线索 ${done.map(r => r.id).slice(0, 10).join('、')} 已走访完毕`)
      const [u] = await tx<{ id: number; role: Role; kind: string; townId: number | null; stationId: number | null }[]>`
        select id, role, jurisdiction_kind as kind, jurisdiction_town_id as town_id, jurisdiction_station_id as station_id
        from app_user where id = ${input.assigneeId} and disabled_at is null`
      if (!u || u.role !== 'inspector') throw new HttpError(400, `user ${input.assigneeId} is not an active inspector: visits are assigned to inspectors`, 'not-an-inspector', `用户 ${input.assigneeId} 不是在用的排查员：走访任务只能派给排查员`)
      const outside = rows.filter(r => (u.kind === 'town' && r.townId !== u.townId) || (u.kind === 'police_station' && r.policeStationId !== u.stationId))
      if (outside.length) {
        throw new HttpError(400, `lead ${outside.map(r => r.id).slice(0, 10).join(', ')} lies outside the inspector's jurisdiction: an inspector is given only leads where they work`,
          'outside-assignee-jurisdiction', `线索 ${outside.map(r => r.id).slice(0, 10).join('、')} 不在该排查员的辖区内`)
      }
      const premisesIds = rows.filter(r => r.premisesId !== null).map(r => r.premisesId!)
      const today = todayInDistrict()
      let batchId: string | null = null
      if (premisesIds.length) {
        const open = await tx<{ premisesId: number }[]>`select premises_id from task where status = 'open' and kind = 'inspect' and premises_id in ${tx(premisesIds)}`
        const taken = new Set(open.map(o => o.premisesId))
        const fresh = premisesIds.filter(id => !taken.has(id))
        if (fresh.length) {
          const made = await tasks.assign(tx, actor.jurisdiction, actor.id,
            { kind: 'inspect', assigneeId: input.assigneeId, dueOn: input.dueOn, note: input.note, premisesIds: fresh, on: today, dryRun: false }, today)
          batchId = made.batchId
        }
      }
      const changed = await tx<{ id: number; status: LeadStatus; assignedTo: number | null; taskId: number | null; issuedScore: number; issuedBand: Band }[]>`
        update lead l set
          status = 'assigned', assigned_to = ${input.assigneeId}, assigned_at = now(),
          task_id = (select t.id from task t where t.premises_id = l.premises_id and t.kind = 'inspect' and t.status = 'open' order by t.id desc limit 1),
          issued_at = coalesce(l.issued_at, now()), issued_by = coalesce(l.issued_by, ${actor.id}),
          issued_score = coalesce(l.issued_score, l.score), issued_band = coalesce(l.issued_band, l.band),
          issued_model = coalesce(l.issued_model, l.model_version), issued_features = coalesce(l.issued_features, l.features)
        where l.id in ${tx(unique)}
        returning l.id, l.status, l.assigned_to, l.task_id, l.issued_score, l.issued_band`
      return { batchId, leads: [...changed].sort((x, y) => x.id - y.id) }
    },

    /**
     * Records a visit's outcome (the function a field task's completion calls too). A group rental
     * is registered on the spot as found by data analysis — the premises changed to a group rental,
     * or created at the address — another kind of rental is recorded as that kind, "not a rental"
     * closes the lead, and "no access" keeps it open for another try. Answers the lead, the premises
     * written (with before and after, for the audit trail) and the visit.
     */
    async recordVisit(tx: Tx, actor: Actor, id: number, input: VisitInput) {
      const l = await lockLead(tx, actor.jurisdiction, id)
      if (l.status === 'new') throw new HttpError(409, 'this lead has not been issued yet: a commander issues or assigns it first', 'lead-not-issued', '此线索尚未下发：须由指挥长先下发或指派')
      if (l.status === 'visited') throw new HttpError(409, 'this lead has been visited already', 'lead-visited', '此线索已走访完毕')
      if (actor.role === 'inspector' && l.assignedTo !== null && l.assignedTo !== actor.id) {
        throw new HttpError(403, 'this lead is assigned to another inspector', 'lead-assigned-elsewhere', '此线索已指派给其他排查员')
      }
      const today = todayInDistrict()
      const visitedOn = input.visitedOn ?? today
      const issuedOn = todayInDistrict(l.issuedAt!)
      if (visitedOn > today) throw badRequest(`the visit (${visitedOn}) cannot be in the future`, `走访日期（${visitedOn}）不能晚于今天`)
      if (visitedOn < issuedOn) throw badRequest(`the visit (${visitedOn}) cannot be before the lead was issued (${issuedOn})`, `走访日期（${visitedOn}）不能早于线索下发日期（${issuedOn}）`)
      const counts = { rooms_let: input.roomsLet, beds_let: input.bedsLet, occupants: input.occupants }
      if (input.outcome === 'group_rental' && !Object.values(counts).some(v => v !== undefined && v >= 10)) {
        throw new HttpError(400, 'a group rental has 10 or more rooms let, beds let or people living there: give the counts found', 'rule-not-met',
          '群租房须有 10 间以上出租房间、10 张以上床位或 10 人以上居住：请填写走访所见的数量')
      }
      if (input.outcome === 'other_rental' && !input.kind) throw badRequest('say which kind of rental it is', '请选择出租房屋的类型')
      if (input.outcome !== 'other_rental' && input.kind) throw badRequest('a kind is given only for another kind of rental', '只有“其他出租房屋”需选择类型')

      let premises: { id: number; before: Record<string, unknown> | null; after: Record<string, unknown> } | null = null
      const snapshot = async (pid: number) => (await tx<Record<string, unknown>[]>`
        select id, kind, address, rooms_let, beds_let, occupants, found_on, registered_on, discovery_method from premises where id = ${pid}`)[0]!
      if (input.outcome === 'group_rental' || input.outcome === 'other_rental') {
        const kind = input.outcome === 'group_rental' ? 'group_rental' : input.kind!
        const set = Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== undefined)) as Record<string, number>
        if (l.premisesId !== null) {
          const before = await snapshot(l.premisesId)
          const registered = kind === 'group_rental' ? (before.registeredOn as string | null) ?? (visitedOn < (before.foundOn as string) ? before.foundOn as string : visitedOn) : before.registeredOn
          await tx`update premises set ${tx({ ...set, kind, registered_on: registered as string, discovery_method: kind === 'group_rental' ? 'data_analysis' : before.discoveryMethod as string })}
                   where id = ${l.premisesId}`
          premises = { id: l.premisesId, before, after: await snapshot(l.premisesId) }
        }
        else {
          const [p] = await tx<{ id: number }[]>`
            insert into premises ${tx({
              kind, address: l.address, geom: `SRID=4326;POINT(${l.lon} ${l.lat})`, ...set, found_on: visitedOn,
              registered_on: kind === 'group_rental' ? visitedOn : null, discovery_method: 'data_analysis',
            } as Record<string, string | number | null>)}
            returning id`
          await tx`update meter_account set premises_id = ${p!.id}, match_method = 'visit', match_distance_m = null, unmatched_reason = null, site_key = null
                   where site_key = ${l.siteKey}`
          premises = { id: p!.id, before: null, after: await snapshot(p!.id) }
        }
      }
      const final = input.outcome !== 'no_access'
      const [visit] = await tx<{ id: number }[]>`
        insert into lead_visit (lead_id, outcome, visited_on, user_id, premises_id, rooms_let, beds_let, occupants, note)
        values (${id}, ${input.outcome}, ${visitedOn}, ${actor.id}, ${premises?.id ?? l.premisesId}, ${input.roomsLet ?? null}, ${input.bedsLet ?? null},
                ${input.occupants ?? null}, ${input.note ?? null})
        returning id`
      const [after] = await tx<{ id: number; status: LeadStatus; outcome: VisitOutcome; attempts: number; resultPremisesId: number | null }[]>`
        update lead set outcome = ${input.outcome}, outcome_on = ${visitedOn}, attempts = attempts + 1,
          status = case when ${final} then 'visited' else status end,
          result_premises_id = coalesce(${premises?.id ?? null}, case when ${final} then premises_id end, result_premises_id),
          candidate = case when ${input.outcome === 'group_rental'} then false else candidate end
        where id = ${id}
        returning id, status, outcome, attempts, result_premises_id`
      // The visit the task asked for has been made (no access: the task stays open for another try).
      const closedTasks = final && l.taskId !== null
        ? [...await tx<{ id: number }[]>`update task set status = 'done', closed_at = now(), closed_by = ${actor.id}, closed_by_action = 'lead.visit'
                                         where id = ${l.taskId} and status = 'open' returning id`].map(t => t.id)
        : []
      return { lead: after!, visitId: visit!.id, premises, closedTasks }
    },

    /**
     * How well the leads work: issued, visited, confirmed, precision overall, by the band they were
     * issued in and by town; group rentals registered by how they were found; the model in force.
     * Counts only, no people.
     */
    async stats(scope: Jurisdiction, towns?: number[]) {
      const area = [inJurisdiction(sql, scope, 'l'), ...(towns?.length ? [sql`l.town_id in ${sql(towns)}`] : [])].reduce((a, b) => sql`${a} and ${b}`)
      const pArea = [inJurisdiction(sql, scope, 'p'), ...(towns?.length ? [sql`p.town_id in ${sql(towns)}`] : [])].reduce((a, b) => sql`${a} and ${b}`)
      const tally = (group: ReturnType<typeof sql>) => sql<{ key: string | null; issued: number; visited: number; confirmed: number; otherRental: number; notRental: number; noAccess: number; candidates: number }[]>`
        select ${group} as key,
          count(*) filter (where l.status <> 'new')::int as issued,
          count(*) filter (where l.status = 'visited')::int as visited,
          count(*) filter (where l.status = 'visited' and l.outcome = 'group_rental')::int as confirmed,
          count(*) filter (where l.status = 'visited' and l.outcome = 'other_rental')::int as other_rental,
          count(*) filter (where l.status = 'visited' and l.outcome = 'not_rental')::int as not_rental,
          count(*) filter (where l.status <> 'visited' and l.outcome = 'no_access')::int as no_access,
          count(*) filter (where l.candidate and l.status = 'new')::int as candidates
        from lead l where ${area} group by 1`
      const precision = (x: { visited: number; confirmed: number }) => (x.visited ? Math.round((x.confirmed / x.visited) * 1000) / 1000 : null)
      const [all] = await tally(sql`'all'`)
      const byBand = await tally(sql`l.issued_band`)
      const byTown = await sql<{ id: number; nameZh: string; nameEn: string; issued: number; visited: number; confirmed: number }[]>`
        select t.id, t.name_zh, t.name_en,
          count(*) filter (where l.status <> 'new')::int as issued,
          count(*) filter (where l.status = 'visited')::int as visited,
          count(*) filter (where l.status = 'visited' and l.outcome = 'group_rental')::int as confirmed
        from lead l join admin_area t on t.id = l.town_id where ${area} and l.status <> 'new' group by t.id order by t.id`
      const found = await sql<{ method: string; n: number }[]>`
        select p.discovery_method as method, count(*)::int as n from premises p
        where ${pArea} and p.kind = 'group_rental' and p.registered_on is not null and p.deregistered_on is null group by 1`
      const by = Object.fromEntries(found.map(f => [f.method, f.n])) as Record<string, number>
      const total = found.reduce((a, f) => a + f.n, 0)
      const data = by.data_analysis ?? 0
      const model = await activeModel()
      const [trained] = model.version ? await sql<{ trainedAt: Date; training: { examples: number } }[]>`select trained_at, training from lead_model where version = ${model.version}` : []
      const empty = { issued: 0, visited: 0, confirmed: 0, otherRental: 0, notRental: 0, noAccess: 0, candidates: 0 }
      const a = all ?? { key: 'all', ...empty }
      return {
        issued: a.issued, visited: a.visited, confirmed: a.confirmed, otherRental: a.otherRental, notRental: a.notRental, noAccessPending: a.noAccess,
        candidates: a.candidates, precision: precision(a),
        byBand: bands.map(({ band }) => {
          const b = byBand.find(x => x.key === band) ?? { key: band, ...empty }
          return { band, issued: b.issued, visited: b.visited, confirmed: b.confirmed, precision: precision(b) }
        }),
        byTown: byTown.map(t => ({ ...t, precision: precision(t) })),
        registered: {
          total, dataAnalysis: data, patrol: by.patrol ?? 0, ledgerImport: by.ledger_import ?? 0, report: by.report ?? 0, other: by.other ?? 0,
          // Without the leads, the registers would hold total − data group rentals: the uplift is data / (total − data).
          uplift: total - data > 0 ? Math.round((data / (total - data)) * 1000) / 1000 : null,
        },
        model: { version: model.version, kind: model.kind, trainedAt: trained?.trainedAt.toISOString() ?? null, examples: trained?.training.examples ?? null },
      }
    },

    /** The models trained so far, newest first, then the rules (version 0, in code), in force while no trained one is. */
    async models() {
      const trained = [...await sql<{ version: number; kind: string; active: boolean; trainedAt: Date | null; trainedBy: string | null; training: Record<string, unknown>; model: { bias: number; weights: Record<string, number> } }[]>`
        select m.version, m.kind, m.active, m.trained_at, u.display_name as trained_by, m.training - 'examples_list' as training, m.model - 'library' as model
        from lead_model m left join app_user u on u.id = m.trained_by order by m.version desc`]
      const rules = { version: 0, kind: 'rules', active: !trained.some(m => m.active), trainedAt: null, trainedBy: null, training: {}, model: { bias: rulesModel.bias, weights: { ...rulesModel.weights } } }
      return [...trained, rules]
    },

    /**
     * Trains a logistic regression on the visited leads (a group rental found: 1; another kind of
     * rental or not a rental: 0), on the signals they were issued with, and makes it the model in
     * force (`audit` writes its record in the same transaction); then scores every lead with it, a
     * page per statement after the commit, so that no transaction holds every lead while they are
     * scored. Refused (409) with too few outcomes of either kind.
     */
    async train(actor: Actor, audit: (tx: Tx, result: Omit<TrainResult, 'scored'>) => Promise<void>): Promise<TrainResult> {
      // Read and trained outside any transaction: the embedded database has one connection, which a
      // transaction would hold for the seconds the training takes.
      const rows = await sql<{ id: number; outcome: VisitOutcome; features: Features }[]>`
        select id, outcome, issued_features as features from lead
        where status = 'visited' and outcome in ('group_rental', 'other_rental', 'not_rental') and issued_features is not null order by id`
      const examples: TrainingExample[] = rows.map(r => ({ leadId: r.id, features: r.features, positive: r.outcome === 'group_rental' }))
      const positives = examples.filter(e => e.positive).length
      const negatives = examples.length - positives
      if (examples.length < minTraining.total || positives < minTraining.each || negatives < minTraining.each) {
        throw new HttpError(409, `too few visit outcomes to train on: ${examples.length} (${positives} group rentals, ${negatives} not); at least ${minTraining.total} with ${minTraining.each} of each are needed`,
          'too-few-outcomes', `可用于训练的走访结果太少：${examples.length} 条（群租房 ${positives} 条，非群租房 ${negatives} 条）；至少需要 ${minTraining.total} 条，且每类不少于 ${minTraining.each} 条`)
      }
      const trained = await trainInWorker(examples)
      const made = await sql.begin(async (tx) => {
        await tx`select set_config('app.user_id', ${String(actor.id)}, true)`
        await tx`update lead_model set active = false where active`
        const training = { examples: examples.length, positives, negatives, ...trained.metrics, examples_list: examples.map(e => [e.leadId, e.positive ? 1 : 0]) }
        const [m] = await tx<{ version: number }[]>`
          insert into lead_model (kind, features, model, training, trained_by, active)
          values ('logistic_regression', ${pgArray([...leadFeatures])}::text[], ${JSON.stringify({ bias: trained.model.bias, weights: trained.model.weights, library: trained.library })}::text::jsonb,
                  ${JSON.stringify(training)}::text::jsonb, ${actor.id}, true)
          returning version`
        const result = { version: m!.version, examples: examples.length, positives, negatives, metrics: trained.metrics, bias: trained.model.bias, weights: trained.model.weights }
        await audit(tx, result)
        return result
      })
      try {
        return { ...made, scored: await scoreAll(sql, { version: made.version, ...trained.model }) }
      }
      finally {
        opts.written?.()
      }
    },
  }
}

export interface TrainResult {
  version: number
  examples: number
  positives: number
  negatives: number
  metrics: { auc: number | null; rulesAuc: number | null; accuracy: number }
  bias: number
  weights: Record<LeadFeature, number>
  scored: number
}

export interface RefreshSummary {
  accounts: number
  scored: number
  modelVersion: number
  ms: number
  /** Where the time went: the accounts' statistics, the leads' signals and norms, the scoring and writing, the vacuum of the leads. */
  phases: { statsMs: number; signalsMs: number; scoreMs: number; vacuumMs: number }
}

export interface LeadRow {
  id: number
  subject: 'premises' | 'address'
  premisesId: number | null
  premisesKind: string | null
  address: string
  lon: number
  lat: number
  townId: number
  townNameZh: string
  townNameEn: string
  communityNameZh: string | null
  policeStationId: number | null
  score: number
  band: Band
  reasons: Reason[]
  modelVersion: number
  status: LeadStatus
  outcome: VisitOutcome | null
  outcomeOn: string | null
  attempts: number
  assignedTo: number | null
  assignedName: string | null
  taskId: number | null
  issuedAt: Date | null
  issuedBand: Band | null
  resultPremisesId: number | null
}

/** Medians of the three uses and how many leads each stands on, as columns e, ne, w, nw, g, ng. */
function medians(sql: Sql | Tx) {
  return sql`
    percentile_cont(0.5) within group (order by e) filter (where e > 0) as e, count(*) filter (where e > 0) as ne,
    percentile_cont(0.5) within group (order by w) filter (where w > 0) as w, count(*) filter (where w > 0) as nw,
    percentile_cont(0.5) within group (order by g) filter (where g > 0) as g, count(*) filter (where g > 0) as ng`
}

export type LeadsRepository = ReturnType<typeof leadsRepository>

declare module 'fastify' {
  interface FastifyInstance {
    leads: LeadsRepository
  }
}

export default fp(async (app) => {
  const leads = leadsRepository(app.db.sql, { cache: figuresCache(app.versions, 64, 'leads'), written: () => app.versions.forget() })
  app.decorate('leads', leads)
  // Readings change the signals: a committed import refreshes the leads (the import's job waits for it).
  app.readings.onCommit(async () => { await leads.refresh() })
}, { name: 'leads', dependencies: ['db', 'versions', 'readings'] })
