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
    if (type === 'none') return { basemap: await app.basemap.hasTiles() ? { type: 'streets' as const, url: streetsUrl, attribution: null, glyphs: glyphsUrl } : { type, url, attribution, glyphs: null } }
    return { basemap: { type, url, attribution, glyphs: type === 'vector-pmtiles' ? glyphsUrl : null } }
  })
}
export default routes
