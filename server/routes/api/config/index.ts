import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Basemap } from '../../../lib/config.js'
import { errors } from '../../../schemas/common.js'
import { BasemapSchema } from '../../../schemas/config.js'

/** The demo street map's tiles, served by routes/basemap. */
const streetsUrl = '/basemap/tiles/{z}/{x}/{y}.mvt'
const glyphsUrl = '/basemap/fonts/{fontstack}/{range}.pbf'

/** What the web app needs to know of this installation's configuration. */
const routes: FastifyPluginAsyncTypebox<{ basemap: Pick<Basemap, 'type' | 'url' | 'attribution'> }> = async (app, opts) => {
  app.get('/', {
    config: { permission: 'session' },
    schema: { tags: ['reference'], summary: 'Client configuration: the basemap', response: { 200: Type.Object({ basemap: BasemapSchema }), ...errors(401) } },
  }, async () => {
    const { type, url, attribution } = opts.basemap
    // No basemap configured: the demo's street map when the seed made one (a real database has none).
    // Our glyphs whatever the basemap: the map's own labels (key areas, police stations) need them too.
    if (type === 'none' && await app.basemap.hasTiles()) return { basemap: { type: 'streets' as const, url: streetsUrl, attribution: null, glyphs: glyphsUrl } }
    return { basemap: { type, url, attribution, glyphs: glyphsUrl } }
  })
}
export default routes
