import fp from 'fastify-plugin'
import type { Sql } from '../../db/index.js'

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
