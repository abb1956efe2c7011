import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errors } from '../../../schemas/common.js'

export const BasemapSchema = Type.Object({
  type: Type.Union([Type.Literal('none'), Type.Literal('raster'), Type.Literal('pmtiles')]),
  url: Type.Union([Type.String(), Type.Null()]),
  attribution: Type.Union([Type.String(), Type.Null()]),
})

/** What the web app needs to know of this installation's configuration. */
const routes: FastifyPluginAsyncTypebox<{ basemap: { type: 'none' | 'raster' | 'pmtiles'; url: string | null; attribution: string | null } }> = async (app, opts) => {
  app.get('/', {
    config: { permission: 'session' },
    schema: { tags: ['reference'], summary: 'Client configuration: the optional basemap', response: { 200: Type.Object({ basemap: BasemapSchema }), ...errors(401) } },
  }, async () => ({ basemap: opts.basemap }))
}
export default routes
