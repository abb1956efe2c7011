import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'
import vue from '@vitejs/plugin-vue'
import ElementPlus from 'unplugin-element-plus/vite'
import { defineConfig, type Plugin } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'

const brotliAsync = promisify(brotliCompress)
const gzipAsync = promisify(gzip)

/**
 * A Brotli (.br) and a gzip (.gz) copy of every built script, stylesheet and image in assets/ over
 * 1 KiB, compressed once at the highest levels: the server sends the copy the browser takes
 * (server/plugins/external/web.ts), a third of MapLibre's megabyte, instead of compressing per request.
 */
function precompress(): Plugin {
  let outDir = ''
  return {
    name: 'grd-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = join(config.root, config.build.outDir, 'assets')
    },
    async closeBundle() {
      const files = readdirSync(outDir).filter(f => /\.(?:m?js|css|svg|json)$/.test(f))
      await Promise.all(files.map(async (f) => {
        const data = readFileSync(join(outDir, f))
        if (data.length < 1024) return
        const [br, gz] = await Promise.all([
          brotliAsync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }),
          gzipAsync(data, { level: 9 }),
        ])
        writeFileSync(join(outDir, `${f}.br`), br)
        writeFileSync(join(outDir, `${f}.gz`), gz)
      }))
    },
  }
}

// The API runs on PORT (3000); `npm run dev:web` proxies to it. Production serves dist/ from Fastify.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Each `import { ElX } from 'element-plus'` brings in that component's stylesheet only, so a page
  // loads the Element Plus CSS it uses instead of the whole sheet.
  plugins: [
    vue(), ElementPlus(), precompress(),
    // An installable app whose shell (every built file) is kept by a service worker, so that the
    // phone opens it with no network. Workbox's runtime is copied next to sw.js: nothing from a CDN.
    // The page registers the worker itself after it has loaded (src/offline/register.ts), so the
    // sign-in page's first load carries no registration code.
    VitePWA({
      injectRegister: false,
      registerType: 'autoUpdate',
      includeAssets: ['favicon.svg'],
      manifest: {
        name: '群租房安全隐患整治监测',
        short_name: '群租房整治',
        description: 'Group-rental safety campaign: map, visits and hazards, also offline',
        lang: 'zh-CN',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#1f3a5f',
        icons: [
          { src: '/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // .mjs: MapLibre's worker, without which the map draws nothing.
        globPatterns: ['**/*.{js,mjs,css,html,svg,png,woff2}'],
        // MapLibre's chunk and its worker are over Workbox's 2 MB default; the map is the app.
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        navigateFallback: '/index.html',
        // The API, OGC and the basemap file are never answered with the app's page.
        navigateFallbackDenylist: [/^\/api\//, /^\/ogc/, /^\/basemap\//],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
        runtimeCaching: [{
          // Premises tiles come from the network while there is one; without it, from the area
          // downloaded for offline use (stored under the tile's path, whatever the filters), and
          // an empty tile where nothing was downloaded rather than an error on the map.
          urlPattern: ({ url }) => url.pathname.startsWith('/api/tiles/premises/'),
          // Serialized into sw.js: it may name nothing outside itself (the cache's name is the
          // literal of src/offline/names.ts).
          handler: async ({ request, url }) => {
            try {
              return await fetch(request)
            }
            catch {
              const cache = await caches.open('grd-offline-tiles')
              return (await cache.match(`${url.origin}${url.pathname}`)) ?? new Response(null, { status: 204 })
            }
          },
        }, {
          // The street map and its glyphs, the same way: the download keeps them for the jurisdiction.
          urlPattern: ({ url }) => url.pathname.startsWith('/basemap/tiles/') || url.pathname.startsWith('/basemap/fonts/'),
          handler: async ({ request, url }) => {
            try {
              return await fetch(request)
            }
            catch {
              const cache = await caches.open('grd-offline-tiles')
              return (await cache.match(`${url.origin}${url.pathname}`)) ?? new Response(null, { status: url.pathname.startsWith('/basemap/tiles/') ? 204 : 404 })
            }
          },
        }],
      },
    }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The manifest says which files index.html loads eagerly; a test holds that to a budget.
    manifest: true,
    chunkSizeWarningLimit: 2500,
    rolldownOptions: {
      output: {
        // MapLibre is most of the map page's weight: one chunk of its own, which the first-load
        // budget test names, loaded only by the pages that draw a map.
        // The worker's URL (a `?url` import the router's map prefetch uses) stays out of it.
        codeSplitting: { groups: [{ name: 'maplibre', test: /[\\/]node_modules[\\/]maplibre-gl[\\/][^?]*$/ }] },
      },
    },
  },
  server: {
    proxy: { '/api': `http://127.0.0.1:${process.env.PORT || 3000}` },
  },
})
