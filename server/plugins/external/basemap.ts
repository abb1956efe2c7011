import { basename, dirname } from 'node:path'
import fastifyStatic from '@fastify/static'
import fp from 'fastify-plugin'

/**
 * Serves the optional PMTiles basemap file at /basemap/basemap.pmtiles with HTTP range requests
 * (PMTiles reads the parts it needs). A basemap holds no campaign data: it is public.
 */
export default fp<{ file: string }>(async (app, opts) => {
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, permission: 'public' }
    })
    await scope.register(fastifyStatic, {
      root: dirname(opts.file),
      prefix: '/basemap/',
      serve: false,
    })
    scope.get('/basemap/basemap.pmtiles', { schema: { hide: true } }, (_req, reply) =>
      reply.header('Cache-Control', 'public, max-age=3600').sendFile(basename(opts.file), dirname(opts.file), { cacheControl: false }))
  })
}, { name: 'basemap-file' })
