import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import { readAhead } from '../../lib/text-stream.js'
import type { Jurisdiction } from '../../domain/access.js'
import { type FiguresCache, figuresCache, townsOf } from './figures-cache.js'
import { type BoxPointsCache, boxPointsCache, noRows, type PointRows } from './box-points.js'
import { tileBox } from '../../domain/tiles.js'
import { hazardCategories, type HazardCategory, type HazardStatus, hazardStatuses, type PremisesKind } from '../../domain/lists.js'


/** The map's filters: one definition for points, tiles, counts and the measures. */
export interface PremisesFilter {
  bbox?: [number, number, number, number]
  kinds?: PremisesKind[]
  statuses?: HazardStatus[]
  /** Premises with a hazard of one of these categories found by the day. */
  categories?: HazardCategory[]
  towns?: number[]
  communities?: number[]
  policeStations?: number[]
  /** Only premises with an open major hazard. */
  majorOnly?: boolean
  /** Only premises with an open hazard past its deadline. */
  overdueOnly?: boolean
  foundFrom?: string
  foundTo?: string
  /** Only premises inside (or on the edge of) this polygon, as well-known text in WGS 84. */
  withinWkt?: string
  /** Only group rentals as the campaign counts them on the day (groupRentalOnSql). */
  groupRentalsOnly?: boolean
}

/** SQL for a premises' map status on a day (see hazard_status in the migrations). */
export const statusSql = (sql: Sql | Tx, on: string, alias = 'p') => {
  const a = sql(alias)
  return sql`hazard_status(${a}.hazard_count, ${a}.open_count, ${a}.open_major_count, ${a}.open_min_deadline, ${on})`
}

/**
 * The same rule as a number in drawing order (none < rectified < open general < open major < overdue:
 * hazardStatuses' index + 1), from whether there are hazards, open ones and open major ones, and the
 * earliest open deadline: one definition for a premises' status (statusCodeSql) and a cell's (cellStatusSql).
 */
const statusCase = (sql: Sql | Tx, on: string, c: Record<'hasHazard' | 'hasOpen' | 'hasOpenMajor' | 'openMinDeadline', ReturnType<Sql>>) =>
  sql`case when not ${c.hasHazard} then 1 when not ${c.hasOpen} then 2 when ${c.openMinDeadline} < ${on} then 5
           when ${c.hasOpenMajor} then 4 else 3 end`

/** A premises' status as a number (statusCase), worked out once per row where it is counted or ranked. */
export const statusCodeSql = (sql: Sql | Tx, on: string, alias = 'p') => {
  const a = sql(alias)
  return statusCase(sql, on, {
    hasHazard: sql`${a}.hazard_count > 0`, hasOpen: sql`${a}.open_count > 0`,
    hasOpenMajor: sql`${a}.open_major_count > 0`, openMinDeadline: sql`${a}.open_min_deadline`,
  })
}

/** The premises' column holding the day its first hazard of a category was found (migration 054). */
const firstFoundColumn: Record<HazardCategory, string> = {
  public_security: 'first_public_security_found_on', fire: 'first_fire_found_on', housing: 'first_housing_found_on', other: 'first_other_found_on',
}

/**
 * The filter and the jurisdiction as one WHERE condition on premises (alias p). Every query of the
 * map — points, tiles, counts, measures — uses this, so they always agree.
 */
export function premisesWhere(sql: Sql | Tx, f: PremisesFilter, on: string, scope: Jurisdiction, alias = 'p') {
  const a = sql(alias)
  const parts = [inJurisdiction(sql, scope, alias)]
  // Envelope transformed once, column untouched, so the GiST index serves the box (pg_featureserv).
  if (f.bbox) parts.push(sql`${a}.geom && st_makeenvelope(${f.bbox[0]}, ${f.bbox[1]}, ${f.bbox[2]}, ${f.bbox[3]}, 4326)`)
  if (f.kinds?.length) parts.push(sql`${a}.kind in ${sql(f.kinds)}`)
  if (f.towns?.length) parts.push(sql`${a}.town_id in ${sql(f.towns)}`)
  if (f.communities?.length) parts.push(sql`${a}.community_id in ${sql(f.communities)}`)
  if (f.policeStations?.length) parts.push(sql`${a}.police_station_id in ${sql(f.policeStations)}`)
  if (f.statuses?.length) parts.push(sql`${statusSql(sql, on, alias)} in ${sql(f.statuses)}`)
  if (f.majorOnly) parts.push(sql`${a}.open_major_count > 0`)
  if (f.overdueOnly) parts.push(sql`${a}.open_min_deadline < ${on}`)
  if (f.foundFrom) parts.push(sql`${a}.found_on >= ${f.foundFrom}`)
  if (f.foundTo) parts.push(sql`${a}.found_on <= ${f.foundTo}`)
  // The shape, not the column, is built from the parameter, so the GiST index serves ST_Covers.
  if (f.withinWkt) parts.push(sql`st_covers(st_geomfromtext(${f.withinWkt}, 4326), ${a}.geom)`)
  if (f.groupRentalsOnly) parts.push(groupRentalOnSql(sql, on, alias))
  // A hazard of the category found by the day: its first was (kept with the hazard summary,
  // migration 054), rather than each premises' hazards looked up.
  if (f.categories?.length) {
    const found = f.categories.map(c => sql`${a}.${sql(firstFoundColumn[c])} <= ${on}::date`).reduce((x, y) => sql`${x} or ${y}`)
    parts.push(sql`(${found})`)
  }
  return parts.reduce((x, y) => sql`${x} and ${y}`)
}

/**
 * Whether a premises is a group rental on a day, as the measures count one: recorded as a group
 * rental or a rental meeting the rule (is_group_rental_candidate), found by the day and not
 * deregistered by it.
 */
export const groupRentalOnSql = (sql: Sql | Tx, on: string, alias = 'p') => {
  const a = sql(alias)
  return sql`(is_group_rental_candidate(${a}.kind, ${a}.meets_rule) and ${a}.found_on <= ${on}
    and (${a}.deregistered_on is null or ${a}.deregistered_on > ${on}))`
}

/** Whether a premises meets the group-rental rule but is not registered as a group rental. */
export const unregisteredSql = (sql: Sql | Tx, alias = 'p') => {
  const a = sql(alias)
  return sql`(${a}.meets_rule and ${a}.kind in ('group_rental', 'rental')
    and not (${a}.kind = 'group_rental' and ${a}.registered_on is not null) and ${a}.deregistered_on is null)`
}

/**
 * The pre-grouped cells (premises_cell, premises_cell8: kind, town, police station and what makes
 * the status on any day) serve the filters they hold; other filters read premises (a group rental
 * depends on the rule and the day found, which the cells do not hold). A hazard-category filter is
 * served by the cells of premises with hazards by category (premises_cat_cell*, migration 055) when
 * `categoriesFound`: every premises' categories were found by the filter's day (categoriesFoundBy).
 */
export const cellsServe = (f: PremisesFilter, categoriesFound = false) =>
  (!f.categories?.length || categoriesFound) && !f.communities?.length && !f.foundFrom && !f.foundTo && !f.bbox && !f.withinWkt && !f.groupRentalsOnly

/**
 * Whether every premises' hazard categories were found by the day `on`: then "a hazard of these
 * categories found by the day" is "a hazard of these categories", which the cells by category hold.
 * The campaign's days up to today, unless a hazard is recorded as found later; one probe of an index
 * (migration 055).
 */
export async function categoriesFoundBy(db: Sql | Tx, on: string): Promise<boolean> {
  const [row] = await db<{ found: boolean }[]>`
    select coalesce(max(greatest(first_public_security_found_on, first_fire_found_on, first_housing_found_on, first_other_found_on)) <= ${on}::date, true) as found
    from premises`
  return row!.found
}

/** The categories as premises_cat_cell's mask (hazard_categories_mask). */
const categoriesMask = (categories: HazardCategory[]) =>
  categories.reduce((m, c) => m | (1 << hazardCategories.indexOf(c)), 0)

/** The stored cells a filter reads, of premises_cell's size grouped 1, 2 or 8 to a side (cellsServe). */
export function cellsTable(sql: Sql | Tx, f: PremisesFilter, grouped: 1 | 2 | 8) {
  if (f.categories?.length) return grouped === 8 ? sql`premises_cat_cell8` : grouped === 2 ? sql`premises_cat_cell2` : sql`premises_cat_cell`
  return grouped === 8 ? sql`premises_cell8` : grouped === 2 ? sql`premises_cell2` : sql`premises_cell`
}

/** A cell's status as a number (statusCase; alias c), worked out once per row. */
export const cellStatusSql = (sql: Sql | Tx, on: string) => statusCase(sql, on, {
  hasHazard: sql`c.has_hazard`, hasOpen: sql`c.has_open`, hasOpenMajor: sql`c.has_open_major`, openMinDeadline: sql`c.open_min_deadline`,
})

/** premisesWhere for the cells (alias c), for a filter they serve (cellsServe). */
export function cellsWhere(sql: Sql | Tx, f: PremisesFilter, on: string, scope: Jurisdiction) {
  const parts = [inJurisdiction(sql, scope, 'c')]
  if (f.kinds?.length) parts.push(sql`c.kind in ${sql(f.kinds)}`)
  if (f.towns?.length) parts.push(sql`c.town_id in ${sql(f.towns)}`)
  if (f.policeStations?.length) parts.push(sql`c.police_station_id in ${sql(f.policeStations)}`)
  if (f.majorOnly) parts.push(sql`c.has_open_major`)
  if (f.overdueOnly) parts.push(sql`c.open_min_deadline < ${on}`)
  if (f.statuses?.length) parts.push(sql`${cellStatusSql(sql, on)} in ${sql(f.statuses.map(x => hazardStatuses.indexOf(x) + 1))}`)
  // Only on the cells by category (cellsTable), and only when every category was found by the day (cellsServe).
  if (f.categories?.length) parts.push(sql`(c.categories & ${categoriesMask(f.categories)}) <> 0`)
  return parts.reduce((x, y) => sql`${x} and ${y}`)
}

/**
 * Premises as map points. No personal data leaves here: no address, owner, landlord or resident.
 * With caches, the legend's counts and the points are computed once per state of the data and filter.
 */
export function premisesRepository(sql: Sql, opts: {
  cache?: FiguresCache
  /** Kept under the data version (`pointsCache`'s counter), or that of the filter's box (`boxVersion`): what tiles key on. */
  pointsCache?: FiguresCache
  boxVersion?: (box: [number, number, number, number]) => Promise<number>
  /** On real PostgreSQL (streaming), a box's points kept as rows, patched where it changed (box-points.ts). */
  boxPoints?: { cache: BoxPointsCache; changedSince: (box: [number, number, number, number], version: number) => number[] | null }
  streaming?: boolean
  pointsBatch?: number
} = {}) {
  const pointsAt = (filter: PremisesFilter) => filter.bbox && opts.boxVersion ? () => opts.boxVersion!(filter.bbox!) : undefined
  return {
    /**
     * The premises matching the filter as a GeoJSON FeatureCollection (PremisesCollectionSchema),
     * serialised by PostgreSQL: a town holds tens of thousands of points, and rows turned into objects
     * and back into text cost the server's event loop and its garbage collector more than the query.
     */
    pointsJson(scope: Jurisdiction, filter: PremisesFilter, on: string, limit: number, db: Sql | Tx = sql): Promise<string> {
      return opts.pointsCache && db === sql
        ? opts.pointsCache.get(`points|${JSON.stringify([scope, filter, on, limit])}`, () => pointsJson(db, scope, filter, on, limit), pointsAt(filter))
        : pointsJson(db, scope, filter, on, limit)
    },

    /**
     * The same collection for an answer written as it is read: the kept text when the cache has it;
     * otherwise, on real PostgreSQL (opts.streaming), its pieces as the rows come (pointsPieces),
     * kept whole once all are read. A town's 100,000 points are 18 MB that took 1.8 s to build before
     * the first byte left. A box's answer is kept as its rows too (opts.boxPoints): after a write
     * inside the box, the map areas that changed are read again and merged in, not the whole box.
     * On the embedded database the whole text: its one connection serves every statement, and a
     * statement is answered whole before the next one runs.
     */
    async pointsAnswer(scope: Jurisdiction, filter: PremisesFilter, on: string, limit: number): Promise<string | AsyncGenerator<string>> {
      if (!opts.streaming) return this.pointsJson(scope, filter, on, limit)
      const batch = opts.pointsBatch ?? pointsBatch
      const box = filter.bbox
      if (box && opts.boxPoints && opts.boxVersion) {
        const { cache, changedSince } = opts.boxPoints
        return cache.answer(`points|${JSON.stringify([scope, filter, on, limit])}`, {
          limit,
          version: () => opts.boxVersion!(box),
          changedSince: version => changedSince(box, version),
          stream: (keep, drop, maxRows) => pointsPieces(sql, scope, filter, on, limit, batch, keep, drop, maxRows),
          areas: (areas, maxId) => areaRows(sql, scope, filter, on, box, areas, maxId),
          whole: () => featureRows(featureRowsSql(sql, scope, filter, on, sql`order by p.id limit ${limit + 1}`)),
        })
      }
      const entry = await opts.pointsCache?.entry<string>(`points|${JSON.stringify([scope, filter, on, limit])}`, pointsAt(filter))
      if (entry?.kept) {
        // Kept, or being read for another request: its whole text, not a second read of the same rows.
        try {
          return await entry.kept
        }
        catch {
          return pointsPieces(sql, scope, filter, on, limit, batch)
        }
      }
      return pointsPieces(sql, scope, filter, on, limit, batch, entry && (((_, text) => entry.keep(text)) as Keep), entry?.drop)
    },

    /** How many premises match, by status, and how many meet the rule unregistered: the legend's figures. */
    async counts(scope: Jurisdiction, filter: PremisesFilter, on: string, db: Sql | Tx = sql) {
      const cache = opts.cache
      if (!cache || db !== sql) return premisesCounts(db, scope, filter, on)
      const key = `counts|${JSON.stringify([scope, filter, on])}`
      if (!cellsServe(filter)) return cache.get(key, () => premisesCounts(db, scope, filter, on))
      // From the cells, town by town, each town's part kept under its own version (figuresCache.byTown),
      // and the whole under the last version that changed one of its towns: a write in one town
      // counts that town again, not the district, and leaves another town's counts kept.
      const towns = await townsOf(sql, cache, scope, filter)
      return cache.get(key, async () => addPremisesCounts([...(await cache.byTown(key, towns,
        t => premisesCounts(db, scope, { ...filter, towns: [t] }, on))).values()]), cache.inTowns(towns))
    },
  }
}

/** The premises as GeoJSON text, built by PostgreSQL (see pointsJson above). */
async function pointsJson(db: Sql | Tx, scope: Jurisdiction, filter: PremisesFilter, on: string, limit: number): Promise<string> {
  const [row] = await db<{ body: string }[]>`
    with page as (
      select p.id, p.kind, ${statusSql(db, on)} as status, ${unregisteredSql(db)} as unregistered, p.geom
      from premises p
      where ${premisesWhere(db, filter, on, scope)}
      order by p.id
      limit ${limit + 1}
    ), shown as (select * from page order by id limit ${limit})
    select json_build_object(
      'type', 'FeatureCollection',
      'numberReturned', (select count(*) from shown),
      'truncated', (select count(*) from page) > ${limit},
      'features', coalesce((select json_agg(json_build_object(
        'type', 'Feature', 'id', id,
        'geometry', json_build_object('type', 'Point', 'coordinates', json_build_array(st_x(geom), st_y(geom))),
        'properties', json_build_object('id', id, 'kind', kind, 'status', status, 'unregistered', unregistered)) order by id)
        from shown), '[]'::json))::text as body`
  return row!.body
}

/** Rows per piece: the first piece leaves after this many, each piece is about 180 KB. */
const pointsBatch = 1000

/** Given the whole text once every row is read, and the rows (up to the limit and one past it) when at most maxRows. */
type Keep = (rows: PointRows | undefined, text: string) => void

/** The premises of the filter as GeoJSON Feature text, each with its id and map area (map_area), then `tail` (order, limit, more conditions). */
const featureRowsSql = (db: Sql | Tx, scope: Jurisdiction, filter: PremisesFilter, on: string, tail: PendingQuery) => db<{ id: number; area: number; feature: string }[]>`
  select p.id, map_area(p.geom_m)::float8 as area, json_build_object(
    'type', 'Feature', 'id', p.id,
    'geometry', json_build_object('type', 'Point', 'coordinates', json_build_array(st_x(p.geom), st_y(p.geom))),
    'properties', json_build_object('id', p.id, 'kind', p.kind, 'status', ${statusSql(db, on)}, 'unregistered', ${unregisteredSql(db)}))::text as feature
  from premises p
  where ${premisesWhere(db, filter, on, scope)} ${tail}`

type PendingQuery = ReturnType<Sql>

/** The rows of featureRowsSql (or of a query made of several), whole. */
async function featureRows(query: Promise<{ id: number; area: number; feature: string }[]>): Promise<PointRows> {
  const rows = noRows()
  for (const r of await query) {
    rows.ids.push(r.id)
    rows.areas.push(r.area)
    rows.features.push(r.feature)
  }
  return rows
}

/**
 * The rows of the map areas `areas` (data_change's, zoom-16 tiles) within the box, up to id `maxId`
 * when given, by id: each area read through the box's index as a box of its own (a few thousand
 * premises at most), and held to its area exactly as map_area tells it.
 */
function areaRows(db: Sql, scope: Jurisdiction, filter: PremisesFilter, on: string, box: [number, number, number, number],
  areas: readonly number[], maxId: number | undefined): Promise<PointRows> {
  // Past an area's edge by a hair (about 1 cm): a point on it is given to one side by map_area, not by the envelope.
  const pad = 1e-7
  const parts = areas.flatMap((area) => {
    const [w, s, e, n] = tileBox(16, Math.floor(area / 65536), area % 65536)
    const within: [number, number, number, number] = [Math.max(w - pad, box[0]), Math.max(s - pad, box[1]), Math.min(e + pad, box[2]), Math.min(n + pad, box[3])]
    if (within[0] > within[2] || within[1] > within[3]) return []
    return [featureRowsSql(db, scope, { ...filter, bbox: within }, on,
      db`and map_area(p.geom_m) = ${area}::bigint ${maxId === undefined ? db`` : db`and p.id <= ${maxId}`}`)]
  })
  if (parts.length === 0) return Promise.resolve(noRows())
  return featureRows(db<{ id: number; area: number; feature: string }[]>`${parts.reduce((x, y) => db`${x} union all ${y}`)} order by id`)
}

/**
 * The collection of pointsJson as pieces of text, features in the same order built by PostgreSQL,
 * the rows taken as PostgreSQL sends them (two statements, the first piece's rows and the rest: a
 * cursor's round trip per batch waited each time behind everything else on a busy event loop) and
 * read to the end at once whatever the reader's pace (readAhead): the first piece is ready once the
 * first rows are. The counts come last (a collection's members may come in any order); one row past
 * the limit tells it was truncated. `keep` is given the whole text once the last row is read, and
 * the rows too when there are at most `maxRows` (a box's cache patches them; otherwise undefined,
 * and none are collected); `drop` is called if it never is (the query failed).
 */
function pointsPieces(db: Sql, scope: Jurisdiction, filter: PremisesFilter, on: string, limit: number, batchRows: number,
  keep?: Keep, drop?: () => void, maxRows = 0): AsyncGenerator<string> {
  return readAhead(async (push) => {
    const whole: string[] = []
    let rows: PointRows | undefined = maxRows > 0 ? noRows() : undefined
    let piece = '{"type":"FeatureCollection","features":['
    let n = 0
    let truncated = false
    const give = () => {
      if (keep) whole.push(piece)
      push(piece)
      piece = ''
    }
    let read = 0
    let lastId = 0
    const take = (r: { id: number; area: number; feature: string }) => {
      read++
      lastId = r.id
      if (keep && rows) {
        if (rows.ids.length === maxRows) rows = undefined
        else {
          rows.ids.push(r.id)
          rows.areas.push(r.area)
          rows.features.push(r.feature)
        }
      }
      if (n === limit) {
        truncated = true
        return
      }
      piece += n ? `,${r.feature}` : r.feature
      if (++n % batchRows === 0) give()
    }
    try {
      // The first piece's rows on their own, then the rest after its last id, in one snapshot. Asked
      // for at once in id order, a town's 169,027 premises were found and sorted whole (0.8-1.2 s)
      // before the first row left; the first thousand come in a few milliseconds along the primary key.
      await db.begin('isolation level repeatable read read only', async (tx) => {
        const first = Math.min(batchRows, limit + 1)
        await featureRowsSql(tx, scope, filter, on, tx`order by p.id limit ${first}`).forEach(take)
        if (read === first && first < limit + 1) {
          await featureRowsSql(tx, scope, filter, on, tx`and p.id > ${lastId} order by p.id limit ${limit + 1 - first}`).forEach(take)
        }
      })
      piece += `],"numberReturned":${n},"truncated":${truncated}}`
      give()
      keep?.(rows, whole.join(''))
    }
    catch (e) {
      drop?.()
      throw e
    }
  })
}

/**
 * The legend's figures: from the cells eight by eight when they serve the filter (about a tenth as
 * many rows as premises; the unregistered from their own index, migration 050), else from premises.
 * Every write moves the figures' version, and under writes every few seconds the count over a million
 * premises (about a second) was made again for each.
 */
async function premisesCounts(db: Sql | Tx, scope: Jurisdiction, filter: PremisesFilter, on: string) {
  const fromCells = cellsServe(filter) || (cellsServe(filter, true) && await categoriesFoundBy(db, on))
  return fromCells ? premisesCountsFromCells(db, scope, filter, on) : premisesCountsFromRows(db, scope, filter, on)
}

interface CountsRow { status: HazardStatus; n: number; unregistered: number }
type PremisesCounts = ReturnType<typeof countsFrom>

/** The legend's figures of several parts (towns) together. */
function addPremisesCounts(parts: readonly PremisesCounts[]): PremisesCounts {
  const byStatus = Object.fromEntries(hazardStatuses.map(s => [s, parts.reduce((a, p) => a + p.byStatus[s], 0)])) as Record<HazardStatus, number>
  return {
    total: parts.reduce((a, p) => a + p.total, 0),
    byStatus,
    unregistered: parts.reduce((a, p) => a + p.unregistered, 0),
  }
}

function countsFrom(rows: readonly CountsRow[]) {
  const byStatus = Object.fromEntries(hazardStatuses.map(s => [s, 0])) as Record<HazardStatus, number>
  for (const r of rows) byStatus[r.status] += r.n
  return {
    total: rows.reduce((a, r) => a + r.n, 0),
    byStatus,
    unregistered: rows.reduce((a, r) => a + r.unregistered, 0),
  }
}

/**
 * The legend's figures counted from every premises matching the filter. No parallel plan
 * (serial_plan()): with a category filter over the district (1,000,000 premises, about 400,000
 * matching) two workers sorting their halves took 500-580 ms where one process hashing took 270-340.
 */
export async function premisesCountsFromRows(db: Sql | Tx, scope: Jurisdiction, filter: PremisesFilter, on: string) {
  return countsFrom(await db<CountsRow[]>`
    select ${statusSql(db, on)} as status, count(*)::int as n, count(*) filter (where ${unregisteredSql(db)})::int as unregistered
    from premises p where ${premisesWhere(db, filter, on, scope)} and serial_plan()
    group by 1`)
}

/**
 * The same from the cells eight by eight and the unregistered premises' index; only for a filter the
 * cells serve. A town's part is a few milliseconds of work, for which the planner, with a filter,
 * took a parallel plan: starting its two workers took 35 ms of the 40 (and under the load 250 ms a
 * count, a quarter of the pool's time while inspectors wrote). No parallel plan (serial_plan()).
 */
export async function premisesCountsFromCells(db: Sql | Tx, scope: Jurisdiction, filter: PremisesFilter, on: string) {
  return countsFrom(await db<CountsRow[]>`
    select (${db.array([...hazardStatuses])}::text[])[s] as status, sum(n)::int as n, 0 as unregistered
    from (select ${cellStatusSql(db, on)} as s, c.n from ${cellsTable(db, filter, 8)} c where ${cellsWhere(db, filter, on, scope)} and serial_plan()) r
    group by s
    union all
    select ${statusSql(db, on)}, 0, count(*)::int
    from premises p where ${unregisteredSql(db)} and ${premisesWhere(db, filter, on, scope)}
    group by 1`)
}

export type PremisesRepository = ReturnType<typeof premisesRepository>

declare module 'fastify' {
  interface FastifyInstance {
    premises: PremisesRepository
  }
}

export default fp(async (app) => {
  // A town's points are a megabyte or more of text: a few of them kept, the figures many. The points
  // show what tiles show, and are kept as tiles are: a box's under the version of its areas.
  app.decorate('premises', premisesRepository(app.db.sql, {
    cache: figuresCache(app.versions, 2000), pointsCache: figuresCache(app.versions, 16, 'data'), boxVersion: box => app.versions.boxVersion(box),
    boxPoints: { cache: boxPointsCache(16), changedSince: (box, version) => app.versions.boxChangedSince(box, version) },
    streaming: app.db.backend === 'postgres',
  }))
}, { name: 'premises', dependencies: ['db', 'versions'] })
