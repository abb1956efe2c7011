import { existsSync } from 'node:fs'
import { join } from 'node:path'
import fastifyStatic from '@fastify/static'
import fp from 'fastify-plugin'

/**
 * Serves the built web app. Its files are public (the data they show comes from /api, behind
 * sign-in). Paths outside /api and /ogc that match no file get index.html, so that the front end's
 * own routes survive a reload.
 */
export default fp<{ root: string }>(async (app, opts) => {
  if (!existsSync(join(opts.root, 'index.html'))) {
    app.log.warn(`no built web app in ${opts.root}; run \`npm run build\``)
    return
  }
  await app.register(async (web) => {
    // The static plugin registers one route per file; they are all public.
    web.addHook('onRoute', (route) => {
      route.config = { ...route.config, permission: 'public' }
    })
    await web.register(fastifyStatic, {
      root: opts.root,
      wildcard: false,
      // The build writes a Brotli and a gzip copy next to each large asset (web/vite.config.ts): they
      // are sent instead of the file to a browser that takes them, compressed once rather than per request.
      preCompressed: true,
      globIgnore: ['**/*.br', '**/*.gz'],
      // Hashed assets never change; index.html always revalidates. A cache keeps one copy per encoding.
      // The file sender's own Cache-Control (max-age=0) would be written over this one: it is off.
      cacheControl: false,
      setHeaders: (res, path) => {
        res.setHeader('Cache-Control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache')
        res.setHeader('Vary', 'Accept-Encoding')
      },
    })
    web.get('/*', { schema: { hide: true } }, (req, reply) => {
      const path = req.url.split('?')[0]!
      if (path.startsWith('/api/') || path.startsWith('/ogc') || /\.[a-z0-9]+$/i.test(path)) {
        return reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `${req.method} ${path} does not exist` })
      }
      return reply.type('text/html').header('Cache-Control', 'no-cache').sendFile('index.html')
    })
  })
}, { name: 'web' })
