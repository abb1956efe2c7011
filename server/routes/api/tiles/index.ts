import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { badRequest } from '../../../lib/http-errors.js'
import { mapFilterFrom } from '../../../plugins/app/premises-filter.js'
import { errors } from '../../../schemas/common.js'
import { MapFilterProperties } from '../../../schemas/premises.js'

/** The map's filters, and v: the client's data version, which makes a changed tile a new URL for the browser. */
const TileQuery = Type.Object({
  ...MapFilterProperties,
  groupRental: Type.Optional(Type.Boolean({
    description: 'Only group rentals as the measures count them on the day (asOf): recorded as a group rental, or a rental meeting the group-rental rule; found by the day and not deregistered',
  })),
  v: Type.Optional(Type.String({ maxLength: 40, pattern: '^[0-9a-zA-Z_-]*$', description: 'cache-buster from the client' })),
}, { additionalProperties: false })

const TileParams = Type.Object({
  z: Type.Integer({ minimum: 0, maximum: 22 }),
  // At zoom 22, the deepest, x and y run up to 2²² - 1.
  x: Type.Integer({ minimum: 0, maximum: 2 ** 22 - 1 }),
  y: Type.Integer({ minimum: 0, maximum: 2 ** 22 - 1 }),
})

/** Whether an Accept-Encoding header takes gzip (not refused with q=0). */
function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(';').map(x => x.trim())
    return (name === 'gzip' || name === '*') && !params.some(p => /^q=0(?:\.0*)?$/.test(p))
  })
}

/** Premises as Mapbox vector tiles (martin-style path), filtered like the map and by jurisdiction. */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/premises/:z/:x/:y.mvt', {
    config: { permission: 'map:read' },
    schema: {
      tags: ['tiles'],
      summary: 'Premises vector tile: points from zoom 14 (id, kind, status, unregistered), counts by status per cell below',
      params: TileParams,
      querystring: TileQuery,
      response: {
        200: Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary', description: 'application/vnd.mapbox-vector-tile' }),
        304: Type.Null(),
        ...errors(400, 401, 403),
      },
    },
  }, async (req, reply) => {
    const { z, x, y } = req.params
    const n = 2 ** z
    if (x >= n || y >= n) throw badRequest(`tile ${z}/${x}/${y} does not exist: at zoom ${z}, x and y run from 0 to ${n - 1}`, `瓦片 ${z}/${x}/${y} 不存在`)
    const { v: _clientVersion, groupRental, ...query } = req.query
    const { filter, on } = await mapFilterFrom(app, query)
    const t = { z, x, y, filter: { ...filter, groupRentalsOnly: groupRental || undefined }, on, scope: app.userOf(req).jurisdiction }
    const version = await app.versions.tileVersion(z, x, y)
    const key = app.tiles.cacheKey(t, version)
    const etag = app.tiles.etag(key)
    // Tiles hold no personal data; the browser may keep them and ask whether they are still current.
    reply.header('Cache-Control', 'private, no-cache').header('ETag', etag).header('Vary', 'Accept-Encoding')
    if (req.headers['if-none-match'] === etag) return reply.status(304).send(null)
    const { data, cached, gzipped } = await app.tiles.tile(t, key, version, { gzip: acceptsGzip(req.headers['accept-encoding']) })
    if (gzipped) reply.header('Content-Encoding', 'gzip')
    reply.header('X-Tile-Cache', cached ? 'hit' : 'miss').type('application/vnd.mapbox-vector-tile')
    return reply.send(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
  })
}
export default routes
