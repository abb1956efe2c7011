import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { dataDir } from '../../lib/config.js'
import { HttpError } from '../../lib/http-errors.js'
import { errors } from '../../schemas/common.js'
import { streetTileZooms } from '../../seed/street-tiles.js'

/** The one font we serve glyphs of (SIL OFL, data/fonts/OFL.txt); Chinese is drawn with the device's fonts. */
const fontDir = join(dataDir, 'fonts', 'Noto Sans Regular')
/** The glyph ranges we have (a few, about 70 kB each), read once. */
const glyphs = new Map(readdirSync(fontDir).filter(f => f.endsWith('.pbf')).map(f => [f.slice(0, -'.pbf'.length), readFileSync(join(fontDir, f))]))

const TileParams = Type.Object({
  z: Type.Integer({ minimum: 0, maximum: 22 }),
  x: Type.Integer({ minimum: 0, maximum: 2 ** 22 - 1 }),
  y: Type.Integer({ minimum: 0, maximum: 2 ** 22 - 1 }),
})

/**
 * The street map and its glyphs, from our own server so that the map asks nothing of the internet.
 * Neither holds campaign data: both are public, and browsers and the phone's service worker may
 * keep them.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/tiles/:z/:x/:y.mvt', {
    config: { permission: 'public' },
    schema: {
      // Map furniture like /basemap/basemap.pmtiles, not part of the API's document.
      hide: true,
      tags: ['tiles'],
      summary: `The demo district's street map as vector tiles (layers water, landuse, waterway, roads), zoom ${streetTileZooms.min} to ${streetTileZooms.max}; 204 where a tile is empty`,
      params: TileParams,
      response: {
        200: Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary', description: 'application/vnd.mapbox-vector-tile, gzip-encoded when the client accepts it' }),
        204: Type.Null(),
        304: Type.Null(),
        ...errors(404),
      },
    },
  }, async (req, reply) => {
    const { z, x, y } = req.params
    if (z < streetTileZooms.min || z > streetTileZooms.max || x >= 2 ** z || y >= 2 ** z) {
      throw new HttpError(404, `the street map has tiles at zooms ${streetTileZooms.min} to ${streetTileZooms.max} only (the map draws deeper zooms from ${streetTileZooms.max})`,
        'tile-out-of-range', `街道底图只有第 ${streetTileZooms.min}–${streetTileZooms.max} 级瓦片`)
    }
    const tile = await app.basemap.tile(z, x, y)
    // A reseeded district changes the tiles: an hour's reuse, then a cheap check by ETag.
    reply.header('Cache-Control', 'public, max-age=3600').header('Vary', 'Accept-Encoding')
    if (!tile) return reply.status(204).send(null)
    reply.header('ETag', tile.etag)
    if (req.headers['if-none-match'] === tile.etag) return reply.status(304).send(null)
    reply.type('application/vnd.mapbox-vector-tile')
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('Content-Encoding', 'gzip').send(tile.data)
    return reply.send(gunzipSync(tile.data))
  })

  app.get('/fonts/:fontstack/:range.pbf', {
    config: { permission: 'public' },
    schema: {
      hide: true,
      tags: ['tiles'],
      summary: 'Map glyphs (SDF protocol buffers) for Latin text; every font stack gets Noto Sans Regular, CJK is drawn with local fonts',
      params: Type.Object({
        fontstack: Type.String({ maxLength: 200 }),
        range: Type.String({ pattern: '^[0-9]+-[0-9]+$', maxLength: 12 }),
      }),
      response: {
        200: Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary', description: 'application/x-protobuf' }),
        ...errors(400, 404),
      },
    },
  }, async (req, reply) => {
    const data = glyphs.get(req.params.range)
    if (!data) {
      throw new HttpError(404, `no glyphs for the range ${req.params.range}: only ${[...glyphs.keys()].join(', ')} are served`, 'glyphs-not-served', `未提供 ${req.params.range} 区段的字形`)
    }
    return reply.header('Cache-Control', 'public, max-age=604800').type('application/x-protobuf').send(data)
  })
}
export default routes
