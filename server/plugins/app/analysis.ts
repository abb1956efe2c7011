import { circle } from '@turf/circle'
import { featureCollection } from '@turf/helpers'
import fp from 'fastify-plugin'
import type { Polygon } from 'geojson'
import type { Sql, Tx } from '../../db/index.js'
import type { PendingQuery, Row } from 'postgres'
import { type CopiedRecords, copyBinary, readCopiedInHalves, readCopiedRecords } from '../../db/copy-binary.js'
import type { Jurisdiction } from '../../domain/access.js'
import { clusterInWorker } from './analysis-worker.js'
import { type FiguresCache, figuresCache } from './figures-cache.js'
import { earthRadius, NOISE } from '../../domain/dbscan.js'
import { endOfDay } from '../../domain/calendar.js'
import type { PlaceKind } from '../../domain/lists.js'
import { mercatorRadius, type RingPlace, ringBands, ringFigures, ringReach } from '../../domain/rings.js'
import type { ClusterOfSchema, Clusters, Rings } from '../../schemas/analysis.js'
import type { Static } from 'typebox'
import { groupRentalOnSql, type PremisesFilter, premisesWhere } from './premises.js'

/**
 * Where group rentals and hazards concentrate. Counts and places only: no person, no address.
 *
 * Rings count what lies within true metres (great-circle distance on the sphere turf also uses) of
 * the places the notice names. Clusters are DBSCAN over group rentals or open hazards, computed in
 * Node from the filtered rows so that both backends give the very same clusters.
 */

export type ClusterOf = Static<typeof ClusterOfSchema>
/** The kinds of place a cluster is related to: the notice's campuses, factories and urban villages. */
export const nearestKinds = ['campus', 'factory', 'urban_village'] as const

/**
 * Rings around places and clusters of points. With a `cache`, each result is computed once per state
 * of the data (figures_version, which places bump too) and its arguments: clusters of a million
 * premises take most of a second, and a room of analysts asks for the same ones.
 */
export function analysisRepository(sql: Sql, opts: { cache?: FiguresCache } = {}) {
  const computed = computations(sql)
  const cached = <T>(what: string, args: unknown[], db: Sql | Tx, compute: () => Promise<T>): Promise<T> =>
    opts.cache && db === sql ? opts.cache.get(`${what}|${JSON.stringify(args)}`, compute) : compute()
  return {
    /** Premises, group rentals, open hazards and people within each radius of each place of the kinds. */
    rings: (scope: Jurisdiction, filter: PremisesFilter, on: string, kinds: string[], radii: number[], db: Sql | Tx = sql): Promise<Rings> =>
      cached('rings', [scope, filter, on, kinds, radii], db, () => computed.rings(scope, filter, on, kinds, radii, db)),
    /** Clusters (DBSCAN) of group rentals or open hazards. */
    clusters: (scope: Jurisdiction, filter: PremisesFilter, on: string, of: ClusterOf, eps: number, minPoints: number, db: Sql | Tx = sql): Promise<Clusters> =>
      cached('clusters', [scope, filter, on, of, eps, minPoints], db, () => computed.clusters(scope, filter, on, of, eps, minPoints, db)),
  }
}

function computations(sql: Sql) {
  return {
    async rings(scope: Jurisdiction, filter: PremisesFilter, on: string, kinds: string[], radii: number[], db: Sql | Tx = sql): Promise<Rings> {
      const sorted = [...radii].sort((a, b) => a - b)
      const places = await db<(RingPlace & { poiId: number })[]>`
        select id as poi_id, st_x(m) as x, st_y(m) as y, st_x(geom) as lon, st_y(geom) as lat,
               cos(radians(st_y(geom))) * ${earthRadius / mercatorRadius} as k
        from poi, st_transform(geom, 3857) as m where kind in ${db(kinds)} order by id`
      const [counts, rings] = await Promise.all([
        places.length ? ringCounts(db, sql, places, sorted, scope, filter, on) : new Map<number, RingCounts[]>(),
        db<{ poiId: number; kind: PlaceKind; nameZh: string; nameEn: string; radius: number; lon: number; lat: number; ring: string }[]>`
          select pl.id as poi_id, pl.kind, pl.name_zh, pl.name_en, r.radius, st_x(pl.geom) as lon, st_y(pl.geom) as lat,
                 st_asgeojson(st_buffer(pl.geom::geography, r.radius, 'quad_segs=16')::geometry, 6) as ring
          from poi pl cross join unnest(${radii}::int[]) as r(radius)
          where pl.kind in ${db(kinds)}`,
      ])
      const rows = rings.map(({ ring, ...place }) => {
        // A ring holds its own band and every narrower one.
        const bands = counts.get(place.poiId) ?? []
        const inside = sorted.flatMap((r, i) => r <= place.radius && bands[i] ? [bands[i]] : [])
        const sum = (k: keyof RingCounts) => inside.reduce((a, b) => a + b[k], 0)
        return { ...place, premises: sum('premises'), groupRentals: sum('groupRentals'), openHazards: sum('openHazards'), openMajor: sum('openMajor'), people: sum('people'), ring }
      })
      // Ranked within each radius, as an analyst reads it: group rentals, then open major hazards,
      // then all open hazards. Across radii a wider ring always holds more, so one ranking of all
      // of them only repeated the widest rings first.
      rows.sort((a, b) => a.radius - b.radius || b.groupRentals - a.groupRentals || b.openMajor - a.openMajor || b.openHazards - a.openHazards || a.poiId - b.poiId)
      const ranks = new Map<number, number>()
      return featureCollection(rows.map(({ ring, ...r }) => {
        const rank = (ranks.get(r.radius) ?? 0) + 1
        ranks.set(r.radius, rank)
        return { type: 'Feature' as const, geometry: JSON.parse(ring) as Polygon, properties: { rank, ...r } }
      }))
    },

    async clusters(scope: Jurisdiction, filter: PremisesFilter, on: string, of: ClusterOf, eps: number, minPoints: number, db: Sql | Tx = sql): Promise<Clusters> {
      const until = endOfDay(on)
      // The points (a group rental, or an open hazard at its premises) as a binary copy of fixed-width
      // columns (readCopiedRecords): 300,000 ordinary rows at a million premises cost the driver a
      // second to parse. Each carries a key (its id): DBSCAN's labels are those of visiting the points
      // in the order of their keys, so they are repeatable in whatever order the rows come.
      const record = (d: Sql | Tx) => d`st_x(p.geom), st_y(p.geom), p.id::int8, p.town_id::int4, p.occupants::int4, p.open_count::int4, p.open_major_count::int4`
      // Group rentals are read as a scan of premises, in halves on the pool. Open hazards too, as a
      // scan of hazards looking each premises up by its key, kept from being made a join (offset 0):
      // the planner's hash join of 106,334 open hazards with every premises took 0.9-1.3 s at a
      // million, the lookups 0.46-0.6 s (a town's 0.33 s against 0.51-0.66), and a hash join in halves
      // would read every premises in each. Within a box or a drawn shape, the planner's join starts
      // from the premises the spatial index finds (88 ms for a box without premises, against 0.35 s).
      const spatial = Boolean(filter.bbox || filter.withinWkt)
      const copied = of === 'group-rentals'
        ? await copyHalves(db, sql, 'premises', 'p', (d, part) => d`
            select ${record(d)}, ((p.open_major_count > 0)::int + 2)::int2, p.id::int8
            from premises p
            where ${groupRentalOnSql(d, on)} and ${premisesWhere(d, filter, on, scope)} and ${part}`, pointWidths)
        : await copyHalves(db, spatial ? null : sql, 'hazard', 'h', (d, part) => d`
            select ${record(d)}, ((h.severity = 'major')::int + 2 * (${groupRentalOnSql(d, on)})::int)::int2, h.id::int8
            from hazard h ${spatial ? d`join premises p on p.id = h.premises_id` : d`cross join lateral (select * from premises p where p.id = h.premises_id offset 0) p`}
            where h.found_at < ${until} and (h.rectified_at is null or h.rectified_at >= ${until}) and ${premisesWhere(d, filter, on, scope)}
              and ${part}`, pointWidths)
      const cols = unpackPoints(copied)
      const n = cols.lons.length
      const places = await db<{ id: number; kind: PlaceKind; nameZh: string; nameEn: string; lon: number; lat: number }[]>`
        select id, kind, name_zh, name_en, st_x(geom) as lon, st_y(geom) as lat from poi where kind in ${db([...nearestKinds])} order by id`
      // The arithmetic runs in a worker thread: at a million premises it takes a few tenths of a second,
      // which the event loop would otherwise not turn for.
      const { labels, nearest, nearestMetres, hulls, centres } = await clusterInWorker({
        lons: cols.lons.slice(),
        lats: cols.lats.slice(),
        keys: cols.keys,
        eps,
        minPoints,
        placeLons: Float64Array.from(places, p => p.lon),
        placeLats: Float64Array.from(places, p => p.lat),
      })
      const figures = clusterFigures(cols, labels, of === 'open-hazards')
      const features = hulls.flatMap((ring, label) => {
        const f = figures[label]!
        if (!f.points) return []
        const hull: Polygon = ring ? { type: 'Polygon', coordinates: [ring] }
          // Points in a line or on one spot have no area: a small circle marks them.
          : circle([centres[2 * label]!, centres[2 * label + 1]!], Math.max(25, eps / 4), { units: 'meters', steps: 24 }).geometry
        // The nearest campus, factory or urban village, measured to the closest point of the cluster.
        const place = places[nearest[label]!]
        const nearestPlace = place ? { id: place.id, kind: place.kind, nameZh: place.nameZh, nameEn: place.nameEn, metres: Math.round(nearestMetres[label]!) } : null
        return [{
          type: 'Feature' as const,
          geometry: hull,
          properties: {
            cluster: label + 1,
            points: f.points,
            premises: f.premises,
            groupRentals: f.groupRentals,
            openHazards: f.openHazards,
            openMajor: f.openMajor,
            people: f.people,
            townId: f.townId,
            nearestId: nearestPlace?.id ?? null,
            nearestKind: nearestPlace?.kind ?? null,
            nearestNameZh: nearestPlace?.nameZh ?? null,
            nearestNameEn: nearestPlace?.nameEn ?? null,
            nearestMetres: nearestPlace?.metres ?? null,
          },
        }]
      })
      features.sort((a, b) => b.properties.points - a.properties.points || a.properties.cluster - b.properties.cluster)
      return {
        type: 'FeatureCollection' as const,
        parameters: { of, eps, minPoints, asOf: on, points: n, noise: labels.reduce((a, l) => a + Number(l === NOISE), 0) },
        features,
      }
    },
  }
}

/**
 * A binary copy of a query over a table (as `alias`): in halves when `db` is the pool (readCopiedInHalves),
 * else (inside a transaction, or without a pool to split on) one on `db`.
 */
async function copyHalves(db: Sql | Tx, pool: Sql | null, table: string, alias: string,
  select: (d: Sql | Tx, part: PendingQuery<Row[]>) => PendingQuery<Row[]>, widths: number[]) {
  return db === pool
    ? readCopiedInHalves(pool, table, alias, select, widths)
    : readCopiedRecords(await copyBinary(db, select(db, db`true`)), widths)
}

type RingCounts = Record<(typeof ringFigures)[number], number>

/**
 * Each place's bands (ringBands) from one binary copy of the premises in the box of all the places'
 * reaches (in halves on the pool). At a million premises the database found the 1.57 M (place,
 * premises) pairs of the bench's 71 places by its index and measured each there: 1.55 s p50. One
 * scan of the premises, sorted into places in Node, takes 0.7-0.8 s, most of it the copy.
 */
async function ringCounts(db: Sql | Tx, pool: Sql, places: (RingPlace & { poiId: number })[], radii: number[], scope: Jurisdiction, filter: PremisesFilter, on: string) {
  // Every place's reach in Mercator metres (true metres over its k), plus a metre for rounding.
  const reach = ringReach(radii)
  const r = (p: RingPlace) => reach / p.k + 1
  const [x0, y0] = [Math.min(...places.map(p => p.x - r(p))), Math.min(...places.map(p => p.y - r(p)))]
  const [x1, y1] = [Math.max(...places.map(p => p.x + r(p))), Math.max(...places.map(p => p.y + r(p)))]
  // The box serves when it is a part of the district (a few places, or one town's): when it holds
  // most premises, the scan reads them all anyway and its test of each costs a fifth of a second at
  // a million. The table's extent as its statistics estimate it (none before an ANALYZE: the box).
  const [extent] = await db<{ x0: number; y0: number; x1: number; y1: number }[]>`
    select st_xmin(e) as x0, st_ymin(e) as y0, st_xmax(e) as x1, st_ymax(e) as y1 from st_estimatedextent('premises', 'geom_m') e where e is not null`
  const overlap = extent ? Math.max(0, Math.min(x1, extent.x1) - Math.max(x0, extent.x0)) * Math.max(0, Math.min(y1, extent.y1) - Math.max(y0, extent.y0)) : 0
  const boxed = !extent || overlap < 0.5 * (extent.x1 - extent.x0) * (extent.y1 - extent.y0)
  const copied = await copyHalves(db, pool, 'premises', 'p', (d, part) => d`
    select st_x(p.geom_m), st_y(p.geom_m), (${groupRentalOnSql(d, on)})::int::int2, p.open_count::int4, p.open_major_count::int4, p.occupants::int4
    from premises p
    where ${boxed ? d`p.geom_m && st_makeenvelope(${x0}, ${y0}, ${x1}, ${y1}, 3857)` : d`true`} and ${premisesWhere(d, filter, on, scope)} and ${part}`, [8, 8, 2, 4, 4, 4])
  const { rows: n, at } = copied
  const premises = {
    xs: new Float64Array(n), ys: new Float64Array(n), groupRentals: new Uint8Array(n),
    openCounts: new Int32Array(n), openMajorCounts: new Int32Array(n), occupants: new Int32Array(n),
  }
  copied.forEach((view, o, i) => {
    premises.xs[i] = view.getFloat64(o + at[0]!)
    premises.ys[i] = view.getFloat64(o + at[1]!)
    premises.groupRentals[i] = view.getInt16(o + at[2]!)
    premises.openCounts[i] = view.getInt32(o + at[3]!)
    premises.openMajorCounts[i] = view.getInt32(o + at[4]!)
    premises.occupants[i] = view.getInt32(o + at[5]!)
  })
  const out = ringBands(places, premises, radii)
  const width = ringFigures.length
  return new Map(places.map((p, i) => [p.poiId, radii.map((_, b) => {
    const o = (i * radii.length + b) * width
    return Object.fromEntries(ringFigures.map((f, j) => [f, out[o + j]!])) as RingCounts
  })]))
}

/**
 * Each cluster's figures, in one pass over its points (at a million premises the biggest cluster
 * holds 240,000 of them; an object a point cost a fifth of a second). A premises counts once however
 * many of its hazards are in the cluster; its figures (group rental or not, open hazards, people) are
 * the premises', the same on each of its points (a group rental is a point of its own). The town is
 * the one most of the points are in, the lowest id among equals.
 */
function clusterFigures(cols: ReturnType<typeof unpackPoints>, labels: Int32Array, ofHazards: boolean) {
  const clusters = labels.reduce((a, l) => Math.max(a, l + 1), 0)
  const figures = Array.from({ length: clusters }, () => ({
    points: 0, premises: 0, groupRentals: 0, openHazards: 0, openMajor: 0, people: 0, townId: 0,
  }))
  // Points per cluster and town: a table indexed by the town's id when ids are small (they are a
  // district's towns), else a map. (Premises, cluster) pairs seen: only hazards can repeat a premises.
  let maxTown = 0
  for (let i = 0; i < labels.length; i++) maxTown = Math.max(maxTown, cols.townIds[i]!)
  const width = maxTown + 1
  const table = clusters * width <= 1 << 24 ? new Int32Array(clusters * width) : null
  const towns = new Map<number, number>()
  const seen = new Set<number>()
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!
    if (label === NOISE) continue
    const f = figures[label]!
    f.points++
    if (table) table[label * width + cols.townIds[i]!]!++
    else towns.set(label * width + cols.townIds[i]!, (towns.get(label * width + cols.townIds[i]!) ?? 0) + 1)
    if (ofHazards) {
      f.openHazards++
      if ((cols.flags[i]! & 1) === 1) f.openMajor++
      const pair = cols.premisesIds[i]! * clusters + label
      if (seen.has(pair)) continue
      seen.add(pair)
    }
    else {
      f.openHazards += cols.openCounts[i]!
      f.openMajor += cols.openMajorCounts[i]!
    }
    f.premises++
    if ((cols.flags[i]! & 2) === 2) f.groupRentals++
    f.people += cols.occupants[i]!
  }
  const best = new Float64Array(clusters)
  const consider = (label: number, town: number, count: number) => {
    const f = figures[label]!
    if (count > best[label]! || (count === best[label]! && town < f.townId)) {
      best[label] = count
      f.townId = town
    }
  }
  if (table) {
    for (let k = 0; k < table.length; k++) if (table[k]) consider(Math.floor(k / width), k % width, table[k]!)
  }
  else {
    for (const [key, count] of towns) consider(Math.floor(key / width), key % width, count)
  }
  return figures
}

/** The widths of a point's columns as the clusters' query copies them (see there). */
const pointWidths = [8, 8, 8, 4, 4, 4, 4, 2, 8]

/** The points of the clusters' query, unpacked from its copied records into columns, in the order they came. */
function unpackPoints(copied: CopiedRecords) {
  const { rows: n, at } = copied
  const cols = {
    lons: new Float64Array(n), lats: new Float64Array(n), premisesIds: new Float64Array(n), townIds: new Int32Array(n),
    occupants: new Int32Array(n), openCounts: new Int32Array(n), openMajorCounts: new Int32Array(n), flags: new Uint8Array(n),
    keys: new Float64Array(n),
  }
  const int8 = (view: DataView, o: number) => view.getUint32(o) * 2 ** 32 + view.getUint32(o + 4)
  copied.forEach((view, o, i) => {
    cols.lons[i] = view.getFloat64(o + at[0]!)
    cols.lats[i] = view.getFloat64(o + at[1]!)
    cols.premisesIds[i] = int8(view, o + at[2]!)
    cols.townIds[i] = view.getInt32(o + at[3]!)
    cols.occupants[i] = view.getInt32(o + at[4]!)
    cols.openCounts[i] = view.getInt32(o + at[5]!)
    cols.openMajorCounts[i] = view.getInt32(o + at[6]!)
    cols.flags[i] = view.getInt16(o + at[7]!)
    cols.keys[i] = int8(view, o + at[8]!)
  })
  return cols
}

export type AnalysisRepository = ReturnType<typeof analysisRepository>

declare module 'fastify' {
  interface FastifyInstance {
    analysis: AnalysisRepository
  }
}

export default fp(async (app) => {
  app.decorate('analysis', analysisRepository(app.db.sql, { cache: figuresCache(app.versions, 50) }))
}, { name: 'analysis', dependencies: ['db', 'versions'] })
