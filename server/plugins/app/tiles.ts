import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import fp from 'fastify-plugin'
import type { Database, Sql } from '../../db/index.js'
import type { Jurisdiction } from '../../domain/access.js'
import { hazardStatuses } from '../../domain/lists.js'
import { encodePointLayer } from '../../domain/mvt.js'
import { categoriesFoundBy, cellStatusSql, cellsServe, cellsTable, cellsWhere, type PremisesFilter, premisesWhere, statusCodeSql, statusSql, unregisteredSql } from './premises.js'

/**
 * Premises as Mapbox vector tiles.
 *
 * From zoom 14 a tile carries every premises as a point (layer "premises": id, kind, status,
 * unregistered). Below, a tile carries one point per cell of the tile (32 x 32, cellsAcross) with
 * the counts by status (layer "premises_agg"), so that no tile ever holds hundreds of thousands of
 * points. A tile of zoom 14 or 15 with more premises than `pointBudget` (a block of dormitories, a
 * dense village) carries the cells too: the points appear a zoom or two later, where the tile is
 * smaller, and a phone never loads a tile of megabytes. From zoom 16 (the last the map asks for; it
 * enlarges those beyond) a tile always carries the points.
 *
 * The rows are computed by one SQL query on both backends, in tile coordinates; PostGIS encodes
 * them with ST_AsMVT where it can, the embedded PostGIS (built without protobuf) hands them to
 * encodePointLayer (server/domain/mvt.ts). Either way the tiles hold the same features. No
 * personal data is selected.
 */

export const extent = 4096
/** Points this far outside a tile (in tile units) are kept, so symbols at tile edges are not cut. */
const buffer = 64
export const rawMinZoom = 14
/** Points a tile of zoom 14 or 15 may carry; over it, it carries counts per cell (about 70 KB of protobuf, 35 KB gzipped). */
export const pointBudget = 4000
/** From this zoom a tile carries its points however many. */
const alwaysRawZoom = 16
/** Cells per side of a zoom-13 tile in premises_cell, the stored cells (migration 006). */
const storedPerZ13Tile = 64
/**
 * Cells per side of a tile of counts, at every zoom: 16 pixels apart on the screen, a grid that reads
 * as density. At 64 x 64 (zooms 12-15 before; docs/scale.md) a tile carried up to 4,096
 * features of dots 8 pixels apart that ran together into a mass where premises are dense, and made
 * the largest tiles (zoom 13: p50 81 KiB, 121 KiB at most). At zoom 12 the densest tile of a million
 * premises took 36 ms with 4,345 cells, 18-20 ms with 1,156. A tile of zoom 14 over the point budget
 * then has the stored cells themselves, read as the zooms below read theirs, not grouped from its tens
 * of thousands of premises (the densest, 32,469 premises: 55-145 ms, now 14 ms).
 */
const cellsAcross = 32
/**
 * How far outside an aggregated tile its cells are counted, in tile units: one whole cell of it, at
 * least the points' buffer. A cell along the edge then counts what the neighbouring tile's same cell
 * does, at the same place, rather than the part of it within the buffer.
 */
const cellBuffer = Math.max(buffer, extent / cellsAcross)
const worldHalf = 20037508.342789244

export interface TileRequest {
  z: number
  x: number
  y: number
  scope: Jurisdiction
  filter: PremisesFilter
  on: string
  /**
   * With a hazard-category filter: whether every premises' categories were found by the day, so that
   * the cells by category serve it (cellsServe; set when the tile is made, tilesRepository.tile).
   */
  categoriesFound?: boolean
}

interface RawRow { id: number; kind: string; status: string; unregistered: boolean; px: number; py: number }
interface AggRow { cell: number; count: number; none: number; rectified: number; openGeneral: number; openMajor: number; overdue: number; status: string; px: number; py: number }
/** The tiles' properties: a premises' point, and a cell's counts with its most urgent status (as ST_AsMVT names them). */
const rawProperties = [['kind', 'kind'], ['status', 'status'], ['unregistered', 'unregistered']] as const
const aggProperties = [['count', 'count'], ['none', 'none'], ['rectified', 'rectified'], ['open_general', 'openGeneral'],
  ['open_major', 'openMajor'], ['overdue', 'overdue'], ['status', 'status']] as const

/** The tile's bounds in Web Mercator metres and its size. */
export function tileBounds(z: number, x: number, y: number) {
  const size = (2 * worldHalf) / 2 ** z
  const minx = -worldHalf + x * size
  const maxy = worldHalf - y * size
  return { minx, maxy, miny: maxy - size, maxx: minx + size, size }
}

/** A tile as kept: its bytes, and gzipped once a client that takes gzip asked for it (`gzipping` while that runs). */
interface KeptTile { data: Uint8Array; gzipped?: Uint8Array; gzipping?: Promise<Uint8Array> }

const gzipAsync = promisify(gzip)

/** A tiny LRU bounded by the sizes of what it keeps (`sizeOf`); a value over a quarter of it is not kept. */
class Lru<V> {
  private map = new Map<string, V>()
  private total = 0
  constructor(private max: number, private sizeOf: (v: V) => number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key)
    if (v) {
      this.map.delete(key)
      this.map.set(key, v)
    }
    return v
  }

  set(key: string, value: V): void {
    const size = this.sizeOf(value)
    if (size > this.max / 4) return
    const was = this.map.get(key)
    if (was) {
      this.map.delete(key)
      this.total -= this.sizeOf(was)
    }
    this.map.set(key, value)
    this.total += size
    for (const [k, v] of this.map) {
      if (this.total <= this.max) break
      this.map.delete(k)
      this.total -= this.sizeOf(v)
    }
  }

  clear(): void {
    this.map.clear()
    this.total = 0
  }

  get size(): number {
    return this.map.size
  }
}

/**
 * A tile's counts per cell as made at a data version, so that the next version's tile reads again
 * only the cells where the data changed since (`rows` undefined: made by ST_AsMVT, whose rows are
 * not seen; read when the tile is made again).
 */
interface KeptCells { version: number; rows?: AggRow[] }

export interface TilesOptions {
  /** Bytes of encoded tiles kept. */
  cacheBytes?: number
  /** Cells of tiles of counts kept, over every tile. */
  cellsKept?: number
  /** The areas under a tile changed after a version, or null when not known (versions.tileChangedSince). */
  changedSince?: (z: number, x: number, y: number, since: number) => number[] | null
}

export function tilesRepository(db: Database, opts: TilesOptions = {}) {
  const sql: Sql = db.sql
  const cache = new Lru<KeptTile>(opts.cacheBytes ?? 128 * 1024 * 1024, t => t.data.byteLength + (t.gzipped?.byteLength ?? 0))
  /**
   * The cells of tiles of counts by tile (its cache key without the version), bounded by their number:
   * about 110 bytes each, so at most about 55 MB (a district's overview at zooms 10-12 is about
   * 100,000 cells; a dense tile of zoom 12 or 13 holds up to 4,400).
   */
  const cellsKept = new Lru<KeptCells>(opts.cellsKept ?? 500_000, k => 1 + (k.rows?.length ?? 0))
  const counts = { made: 0, patched: 0 }
  /**
   * Tiles being made. Everyone's map asks for the same overview tiles, all at once after a change
   * of the data (which every cached tile's key carries) or a start: the requests for a tile being
   * made wait for it instead of each making it again. Under the load test's first seconds, tens of
   * requests made each overview tile side by side, and their queue held every request for seconds.
   */
  const making = new Map<string, Promise<KeptTile>>()

  /**
   * Whether the tile's cells (when it carries cells) are read from the stored ones: up to zoom 14,
   * whose cells are theirs, unless a filter reads what they do not hold.
   */
  const fromStoredCells = (t: TileRequest) => t.z <= 14 && cellsServe(t.filter, t.categoriesFound)

  /** How an overview tile's cells are read from the stored ones (premises_cell, _cell2 or _cell8, or those by category). */
  function cellGrid(t: TileRequest) {
    // premises_cell holds the cells of zoom 13, 64 to a tile of zoom 13; premises_cell2 and
    // premises_cell8 the same two by two and eight by eight (migrations 053, 046): the largest whose
    // cells fit in this tile's (zoom 14: premises_cell's; zoom 13: premises_cell2's; zoom 12: those
    // grouped two by two; zoom 11: premises_cell8's; zoom 10: those two by two).
    const side = cellsAcross
    // z13 cells per side of this tile, and how many of them make one cell of it (a power of two).
    const z13PerTile = storedPerZ13Tile * 2 ** (13 - t.z)
    const grouped: 1 | 2 | 8 = z13PerTile / side >= 8 ? 8 : z13PerTile / side >= 2 ? 2 : 1
    const perTile = z13PerTile / grouped
    // Whole cells of the tile around it (cellBuffer), so whole stored cells as well.
    const pad = (cellBuffer / extent) * perTile
    return {
      side,
      grouped,
      /** Stored cells in one of the tile's, as a shift. */
      shift: Math.log2(perTile / side),
      /** The stored cells read: x0 <= cx < x1, y0 <= cy < y1. */
      x0: t.x * perTile - pad,
      x1: (t.x + 1) * perTile + pad,
      y0: t.y * perTile - pad,
      y1: (t.y + 1) * perTile + pad,
    }
  }

  /**
   * The counts of the tile's cells, from the stored cells; `only` the stored cells of columns
   * only.cx[i], rows only.cy0[i] <= cy < only.cy1[i] (a kept tile's changed cells).
   */
  function cellRowsQuery(t: TileRequest, only?: { cx: number[]; cy0: number[]; cy1: number[] }) {
    const b = tileBounds(t.z, t.x, t.y)
    const { side, grouped, shift, x0, x1, y0, y1 } = cellGrid(t)
    const table = cellsTable(sql, t.filter, grouped)
    // The tile's columns of cells one by one: the key (cx, cy) reads each column's rows of the tile
    // only, where a range of cx read every row of those columns (a tile at the district's edge read
    // its whole strip of the district: 94 ms at zoom 12 for a tile of 3 KiB, 1,000,000 premises).
    const columns = Array.from({ length: x1 - x0 }, (_, i) => x0 + i)
    const code = cellStatusSql(sql, t.on)
    const where = cellsWhere(sql, t.filter, t.on, t.scope)
    const from = only
      ? sql`unnest(${sql.array(only.cx)}::int[], ${sql.array(only.cy0)}::int[], ${sql.array(only.cy1)}::int[]) o(cx, cy0, cy1)
            join ${table} c on c.cx = o.cx and c.cy >= o.cy0 and c.cy < o.cy1 where ${where}`
      : sql`${table} c where c.cx = any(${sql.array(columns)}::int[]) and c.cy >= ${y0} and c.cy < ${y1} and ${where}`
    return sql`
      -- numbered like the grouping of premises below, so both paths name cells alike
      select ((g.cy - ${t.y * side} + 1) * 1000 + (g.cx - ${t.x * side} + 1))::int as cell,
             g.count, g.none, g.rectified, g.open_general, g.open_major, g.overdue,
             (${sql.array([...hazardStatuses])}::text[])[g.rank] as status,
             round((g.sx / g.count - ${b.minx}) / ${b.size} * ${extent})::int as px,
             round((${b.maxy} - g.sy / g.count) / ${b.size} * ${extent})::int as py
      from (
        select cx >> ${shift} as cx, cy >> ${shift} as cy,
               sum(n)::int as count, sum(sum_x) as sx, sum(sum_y) as sy,
               coalesce(sum(n) filter (where s = 1), 0)::int as none,
               coalesce(sum(n) filter (where s = 2), 0)::int as rectified,
               coalesce(sum(n) filter (where s = 3), 0)::int as open_general,
               coalesce(sum(n) filter (where s = 4), 0)::int as open_major,
               coalesce(sum(n) filter (where s = 5), 0)::int as overdue,
               max(s) as rank
        from (
          select c.cx, c.cy, c.n, c.sum_x, c.sum_y, ${code} as s
          from ${from}
          -- each row's status worked out once, not again in each sum that reads it
          offset 0
        ) r
        group by 1, 2
      ) g
      order by cell`
  }

  /**
   * The tile's cells over `areas` (zoom-16 tiles, x * 65536 + y), within the tile and its ring of
   * cells around: numbered on the grid of its zoom's cells over the world (gx, gy), by column, each
   * column's rows in order, each cell once however many changed areas it holds.
   */
  function cellsOver(t: TileRequest, areas: number[]): Map<number, number[]> {
    const side = cellsAcross
    // Cells of this zoom across a zoom-16 area (a half at zoom 10).
    const perArea = (side * 2 ** t.z) / 2 ** 16
    const [gx0, gx1, gy0, gy1] = [t.x * side - 1, (t.x + 1) * side, t.y * side - 1, (t.y + 1) * side]
    const columns = new Map<number, Set<number>>()
    for (const area of areas) {
      const [ax, ay] = [Math.floor(area / 65536), area % 65536]
      for (let gx = Math.max(Math.floor(ax * perArea), gx0); gx <= Math.min(Math.ceil((ax + 1) * perArea) - 1, gx1); gx++) {
        for (let gy = Math.max(Math.floor(ay * perArea), gy0); gy <= Math.min(Math.ceil((ay + 1) * perArea) - 1, gy1); gy++) {
          let column = columns.get(gx)
          if (!column) columns.set(gx, column = new Set())
          column.add(gy)
        }
      }
    }
    return new Map([...columns].map(([gx, ys]) => [gx, [...ys].sort((a, b) => a - b)]))
  }

  /** Runs of consecutive numbers: [first, last] pairs. */
  function runs(ys: number[]): [number, number][] {
    const out: [number, number][] = []
    for (let i = 0; i < ys.length;) {
      let j = i
      while (j + 1 < ys.length && ys[j + 1] === ys[j]! + 1) j++
      out.push([ys[i]!, ys[j]!])
      i = j + 1
    }
    return out
  }

  /**
   * The tile's cells made again where the data changed: `areas` changed since `rows` were read. The
   * tile's cells over them are read again (from the stored cells, or from the premises inside them)
   * and replace theirs (a cell emptied goes); the rest are kept.
   */
  async function patchCells(t: TileRequest, rows: AggRow[], areas: number[]): Promise<AggRow[]> {
    const columns = cellsOver(t, areas)
    if (columns.size === 0) return rows
    const side = cellsAcross
    const changed = new Set<number>()
    for (const [gx, ys] of columns) for (const gy of ys) changed.add((gy - t.y * side + 1) * 1000 + (gx - t.x * side + 1))
    let query
    if (fromStoredCells(t)) {
      // Stored columns with their runs of rows: each of the tile's cells is 1 << shift stored ones a side.
      const { shift } = cellGrid(t)
      const only = { cx: [] as number[], cy0: [] as number[], cy1: [] as number[] }
      for (const [gx, ys] of columns) {
        for (const [first, last] of runs(ys)) {
          for (let cx = gx << shift; cx < (gx + 1) << shift; cx++) {
            only.cx.push(cx)
            only.cy0.push(first << shift)
            only.cy1.push((last + 1) << shift)
          }
        }
      }
      query = cellRowsQuery(t, only)
    }
    else {
      // The premises inside each run of cells, then only those of the cells changed (an index box is
      // a little larger than the premises' point).
      const size = tileBounds(t.z, 0, 0).size / side
      const boxes = [...columns].flatMap(([gx, ys]) => runs(ys).map(([first, last]) =>
        [-worldHalf + gx * size, worldHalf - (last + 1) * size, -worldHalf + (gx + 1) * size, worldHalf - first * size] as const))
      query = premisesCellsQuery(t, { boxes, cells: [...changed] })
    }
    const fresh = await sql<AggRow[]>`${query}`
    return [...rows.filter(r => !changed.has(r.cell)), ...fresh].sort((a, b) => a.cell - b.cell)
  }

  const encodeCells = (rows: readonly AggRow[]) =>
    encodePointLayer<AggRow>({ name: 'premises_agg', extent, x: r => r.px, y: r => r.py, rows, id: r => r.cell, properties: aggProperties })

  /**
   * A tile of counts per cell (zooms 10-13, and a tile of zoom 14 or 15 over the point budget) at
   * data version `version`. Its cells are kept (`cellsKept`): the tile of a later version reads again
   * only those over the areas changed since (inspectors write all day; a dense overview tile made
   * again cost 50-500 ms under load, its changed cells a few). On PostgreSQL a tile made the first
   * time is encoded by ST_AsMVT, as before; its cells are read the first time it is made again.
   */
  async function cellsTile(t: TileRequest, tile: string, version: number): Promise<Uint8Array> {
    const before = cellsKept.get(tile)
    let rows: AggRow[] | undefined
    if (before?.rows && before.version <= version) {
      const changed = opts.changedSince?.(t.z, t.x, t.y, before.version)
      if (changed) {
        rows = await patchCells(t, before.rows, changed)
        counts.patched++
      }
    }
    if (!rows && (before || !db.mvt)) rows = await sql<AggRow[]>`${rowsQuery(t, false).query}`
    // Kept unless a later version's were kept meanwhile.
    if ((cellsKept.get(tile)?.version ?? 0) <= version) cellsKept.set(tile, { version, rows })
    return rows ? encodeCells(rows) : await encodeInDatabase(t, false)
  }

  /** The premises a tile of zoom 14 or 15 would carry as points, up to one more than the budget. */
  async function overBudget(t: TileRequest): Promise<boolean> {
    if (t.z < rawMinZoom || t.z >= alwaysRawZoom) return false
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from (select 1 from premises p where ${inTileSql(t)} and ${premisesWhere(sql, t.filter, t.on, t.scope)} limit ${pointBudget + 1}) s`
    return row!.n > pointBudget
  }

  function inTileSql(t: TileRequest, around = buffer) {
    const b = tileBounds(t.z, t.x, t.y)
    const margin = (b.size * around) / extent
    return sql`p.geom_m && st_makeenvelope(${b.minx - margin}, ${b.miny - margin}, ${b.maxx + margin}, ${b.maxy + margin}, 3857)`
  }

  function rowsQuery(t: TileRequest, raw: boolean) {
    if (!raw && fromStoredCells(t)) return { layer: 'premises_agg', query: cellRowsQuery(t) }
    const b = tileBounds(t.z, t.x, t.y)
    const where = premisesWhere(sql, t.filter, t.on, t.scope)
    if (raw) {
      // Tile coordinates: x from the west edge, y from the north edge, in 1/4096 of the tile.
      const px = sql`round((st_x(p.geom_m) - ${b.minx}) / ${b.size} * ${extent})::int`
      const py = sql`round((${b.maxy} - st_y(p.geom_m)) / ${b.size} * ${extent})::int`
      return {
        layer: 'premises',
        query: sql`select p.id, p.kind, ${statusSql(sql, t.on)} as status, ${unregisteredSql(sql)} as unregistered, ${px} as px, ${py} as py
                   from premises p where ${inTileSql(t)} and ${where} order by p.id`,
      }
    }
    return { layer: 'premises_agg', query: premisesCellsQuery(t) }
  }

  /**
   * The counts of the tile's cells, grouped from the premises; `only` the premises within only.boxes
   * (Web Mercator) and of the cells only.cells (a kept tile's changed cells).
   */
  function premisesCellsQuery(t: TileRequest, only?: { boxes: (readonly [number, number, number, number])[]; cells: number[] }) {
    const b = tileBounds(t.z, t.x, t.y)
    const where = premisesWhere(sql, t.filter, t.on, t.scope)
    const cell = extent / cellsAcross
    const around = cellBuffer
    const box = ([x0, y0, x1, y1]: readonly [number, number, number, number]) => sql`p.geom_m && st_makeenvelope(${x0}, ${y0}, ${x1}, ${y1}, 3857)`
    const within = only
      ? sql`(${only.boxes.slice(1).reduce((or, next) => sql`${or} or ${box(next)}`, box(only.boxes[0]!))})`
      : inTileSql(t, around)
    // One point per cell at the mean position of its premises; the status is the most urgent one.
    // Each premises' point read once (the fence, offset 0: flattened, every use of fx and fy read the
    // geometry again) and its status as a number: at 32,469 premises, the densest tile of the
    // 1,000,000 district, 64 -> 50 ms.
    return sql`
        select cell, count(*)::int as count,
               count(*) filter (where s = 1)::int as none,
               count(*) filter (where s = 2)::int as rectified,
               count(*) filter (where s = 3)::int as open_general,
               count(*) filter (where s = 4)::int as open_major,
               count(*) filter (where s = 5)::int as overdue,
               (${sql.array([...hazardStatuses])}::text[])[max(s)] as status,
               round(avg(fx))::int as px, round(avg(fy))::int as py
        from (
          select fx, fy, s,
                 -- cells numbered row by row from the unrounded position, shifted by one so that the
                 -- buffer's cells are numbered too (the same cells as premises_cell's)
                 ((floor(fy / ${cell}) + 1) * 1000 + floor(fx / ${cell}) + 1)::int as cell
          from (
            select (x - ${b.minx}) / ${b.size} * ${extent} as fx, (${b.maxy} - y) / ${b.size} * ${extent} as fy, s
            from (
              select st_x(p.geom_m) as x, st_y(p.geom_m) as y, ${statusCodeSql(sql, t.on)} as s
              from premises p where ${within} and ${where}
              offset 0
            ) a
          ) b
          -- The index's boxes are float4, a little larger than the cells around the tile: exactly
          -- those, as the stored cells cover them, so that both paths count the same premises.
          where fx >= ${-around} and fx < ${extent + around} and fy >= ${-around} and fy < ${extent + around}
        ) c
        ${only ? sql`where cell = any(${sql.array(only.cells)}::int[])` : sql``}
        group by cell
        order by cell`
  }

  /** Whether the tile carries its premises as points (else counts per cell). */
  const carriesPoints = async (t: TileRequest) => t.z >= rawMinZoom && !(await overBudget(t))

  /** Encodes with ST_AsMVT: the rows' tile coordinates become the points, the other columns properties (`raw`: points, when known). */
  async function encodeInDatabase(t: TileRequest, raw?: boolean): Promise<Uint8Array> {
    raw ??= await carriesPoints(t)
    const { layer, query } = rowsQuery(t, raw)
    const columns = raw
      ? sql`id, kind, status, unregistered`
      : sql`cell as id, count, none, rectified, open_general, open_major, overdue, status`
    // No parallel plan (serial_plan()): a worker's start cost more than a dense tile's whole statement.
    const [row] = await sql<{ tile: Uint8Array }[]>`
      select st_asmvt(q, ${layer}, ${extent}, 'geom', 'id') as tile
      from (select ${columns}, st_makepoint(px, py) as geom from (${query}) r) q
      where serial_plan()`
    return row?.tile ?? new Uint8Array()
  }

  /** Encodes in Node (encodePointLayer), from the same rows. */
  async function encodeInNode(t: TileRequest, raw?: boolean): Promise<Uint8Array> {
    raw ??= await carriesPoints(t)
    const { layer, query } = rowsQuery(t, raw)
    if (raw) {
      return encodePointLayer<RawRow>({ name: layer, extent, x: r => r.px, y: r => r.py, rows: await sql<RawRow[]>`${query}`, id: r => r.id, properties: rawProperties })
    }
    return encodeCells(await sql<AggRow[]>`${query}`)
  }

  return {
    cacheKey(t: TileRequest, version: number): string {
      const f = Object.entries(t.filter).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b))
      return `${version}|${t.scope.kind}:${t.scope.id}|${t.z}/${t.x}/${t.y}|${t.on}|${JSON.stringify(f)}`
    },

    /**
     * The tile's ETag, a digest of its whole cache key (filter included). It must differ wherever the
     * tile's bytes may differ, even at another URL: MapLibre, reloading a tile at the same z/x/y after
     * the map's filter changed the source's URL, keeps the tile it has when the new answer carries its
     * ETag (an ETag made of the version, the jurisdiction and the day alone left the map unfiltered).
     */
    etag(key: string): string {
      return `"${createHash('sha1').update(key).digest('base64url')}"`
    },

    /**
     * The encoded tile, from the cache when the data has not changed since it was made; gzipped when
     * the client takes it (`gzip`) and the tile is not empty (a point costs a few bytes of protobuf,
     * which gzip shrinks to about half).
     */
    async tile(t: TileRequest, key: string, version: number, opts: { gzip?: boolean } = {}): Promise<{ data: Uint8Array; gzipped: boolean; cached: boolean }> {
      const hit = cache.get(key)
      let kept = hit
      if (!kept) {
        let made = making.get(key)
        if (!made) {
          made = (async (): Promise<KeptTile> => {
            counts.made++
            // A category filter's cells: the one probe of whether they serve the day, once per tile made.
            const u = t.filter.categories?.length && t.z <= 14 ? { ...t, categoriesFound: await categoriesFoundBy(sql, t.on) } : t
            // Counts per cell, kept under the key without its version (the same tile at every version); or points.
            if (!(await carriesPoints(u))) return { data: await cellsTile(u, key.slice(key.indexOf('|') + 1), version) }
            return { data: db.mvt ? await encodeInDatabase(u, true) : await encodeInNode(u, true) }
          })()
          making.set(key, made)
          // Kept before it is let go, so that a request coming after finds it in one or the other.
          void made.then(k => cache.set(key, k), () => {}).finally(() => making.delete(key))
        }
        kept = await made
      }
      const gzipped = !!opts.gzip && kept.data.byteLength > 0
      if (gzipped && !kept.gzipped) {
        const tile = kept
        tile.gzipping ??= gzipAsync(tile.data).finally(() => { tile.gzipping = undefined })
        tile.gzipped = await tile.gzipping
        cache.set(key, tile)
      }
      return { data: gzipped ? kept.gzipped! : kept.data, gzipped, cached: !!hit }
    },

    /** Drops every cached tile and the kept cells of tiles of counts (the benchmark measures uncached tiles with it). */
    clearCache: () => {
      cache.clear()
      cellsKept.clear()
    },
    /** Tiles made since the start, and of them tiles of counts per cell made from their kept cells. */
    counts: () => ({ ...counts }),
    cacheSize: () => cache.size,
    encodeInNode,
    encodeInDatabase,
  }
}

export type TilesRepository = ReturnType<typeof tilesRepository>

declare module 'fastify' {
  interface FastifyInstance {
    tiles: TilesRepository
  }
}

export default fp(async (app) => {
  app.decorate('tiles', tilesRepository(app.db, { changedSince: (z, x, y, since) => app.versions.tileChangedSince(z, x, y, since) }))
}, { name: 'tiles', dependencies: ['db', 'versions'] })
