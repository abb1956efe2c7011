import fp from 'fastify-plugin'
import type { Sql } from '../../db/index.js'
import type { Jurisdiction } from '../../domain/access.js'
import { tileRange } from '../../domain/tiles.js'

/** A stored street-map tile: gzip-compressed vector tile bytes and a tag that changes with them. */
export interface StoredTile {
  data: Buffer
  etag: string
}

/**
 * The demo street map's vector tiles, cut by the seed into basemap_tile. A basemap holds no campaign
 * data, so nothing here depends on who asks.
 */
export function basemapRepository(sql: Sql) {
  return {
    async tile(z: number, x: number, y: number): Promise<StoredTile | null> {
      const [row] = await sql<{ data: Buffer; md5: string }[]>`select data, md5(data) as md5 from basemap_tile where z = ${z} and x = ${x} and y = ${y}`
      return row ? { data: Buffer.from(row.data), etag: `"${row.md5}"` } : null
    },

    /**
     * The street-map tiles over a jurisdiction's area between two zooms, with their stored size:
     * what a phone downloads to have streets without network (its size is shown before).
     */
    async tilesOver(j: Jurisdiction, minZoom: number, maxZoom: number): Promise<{ tiles: [number, number, number][]; bytes: number }> {
      const area = j.kind === 'district' ? sql`select geom from admin_area where level = 'district'`
        : j.kind === 'town' ? sql`select geom from admin_area where id = ${j.id}`
          : sql`select geom from police_station where id = ${j.id}`
      const [box] = await sql<{ w: number | null; s: number; e: number; n: number }[]>`
        select st_xmin(b) as w, st_ymin(b) as s, st_xmax(b) as e, st_ymax(b) as n from (select st_extent(geom) as b from (${area}) a) x`
      if (!box || box.w === null) return { tiles: [], bytes: 0 }
      const ranges = []
      for (let z = minZoom; z <= maxZoom; z++) {
        const r = tileRange([box.w, box.s, box.e, box.n], z)
        ranges.push(sql`(z = ${z} and x between ${r.x0} and ${r.x1} and y between ${r.y0} and ${r.y1})`)
      }
      const rows = await sql<{ z: number; x: number; y: number; bytes: number }[]>`
        select z, x, y, octet_length(data) as bytes from basemap_tile
        where ${ranges.reduce((a, r) => sql`${a} or ${r}`)}
        order by z, x, y`
      return { tiles: rows.map(r => [r.z, r.x, r.y]), bytes: rows.reduce((a, r) => a + r.bytes, 0) }
    },

    /** Whether the database holds a street map (the demo's), which the web then draws by default. */
    async hasTiles(): Promise<boolean> {
      const [row] = await sql<{ has: boolean }[]>`select exists (select 1 from basemap_tile) as has`
      return row!.has
    },
  }
}

export type BasemapRepository = ReturnType<typeof basemapRepository>

declare module 'fastify' {
  interface FastifyInstance {
    basemap: BasemapRepository
  }
}

export default fp(async (app) => {
  app.decorate('basemap', basemapRepository(app.db.sql))
}, { name: 'basemap', dependencies: ['db'] })
