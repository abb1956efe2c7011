/**
 * The street basemap's figures for `npm run bench` (issue 17): tile serving times, bytes per zoom,
 * and the first paint of the map page with the basemap in headless Chromium.
 */
import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { buildApp } from '../server/app.js'
import { type Database, openDatabase } from '../server/db/index.js'
import { appConnection } from '../server/db/configured.js'
import { loadConfig, rootDir } from '../server/lib/config.js'
import { hashPassword } from '../server/domain/passwords.js'
import { piiKeysFrom } from '../server/domain/pii.js'
import { Random } from '../server/domain/random.js'
import { buildGeography } from '../server/seed/geography.js'
import { streetTiles } from '../server/seed/street-tiles.js'
import { buildStreets } from '../server/seed/streets.js'
import { launchChromium } from '../tests/helpers/browser.js'

interface Row { measure: string; value: string; note: string }

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`

/** Serving times over every stored tile (fetched, then revalidated by ETag), bytes per zoom, first paint. */
export async function benchBasemap(database: Database, opts: { paints: number; seed: number; url?: string }): Promise<Row[]> {
  const rows: Row[] = []
  // A bench database kept (--reuse) from before the street map existed gets the seed's street map now.
  const [stored] = await database.sql<{ n: number }[]>`select count(*)::int as n from basemap_tile`
  if (stored!.n === 0) {
    const t0 = performance.now()
    const tiles = streetTiles(buildStreets(opts.seed, buildGeography(new Random(opts.seed))).features)
    for (const t of tiles) await database.sql`insert into basemap_tile (z, x, y, data) values (${t.z}, ${t.x}, ${t.y}, ${t.data})`
    rows.push({ measure: 'basemap street map built for a reused database', value: `${((performance.now() - t0) / 1000).toFixed(1)} s`, note: `${tiles.length} tiles` })
  }
  const perZoom = await database.sql<{ z: number; n: number; bytes: number; max: number }[]>`
    select z, count(*)::int as n, sum(octet_length(data))::int as bytes, max(octet_length(data))::int as max from basemap_tile group by z order by z`
  if (perZoom.length === 0) return [{ measure: 'basemap', value: '-', note: 'no street map in this database' }]
  for (const r of perZoom) {
    rows.push({ measure: `  basemap bytes z${r.z}`, value: `${kib(r.bytes / r.n)} mean`, note: `${r.n} tiles, ${kib(r.bytes)} in all, max ${kib(r.max)} (gzip)` })
  }

  // On PostgreSQL the app gets the pool `npm start` gives it (the bench's own has 4 connections, and
  // a page's first load asks for a dozen things at once).
  const appDb = opts.url ? await openDatabase(appConnection(loadConfig(), opts.url)) : database
  const app = await buildApp({ db: appDb, keys: piiKeysFrom(Buffer.alloc(32, 1)), webRoot: join(rootDir, 'web', 'dist') })
  try {
    const tiles = await database.sql<{ z: number; x: number; y: number }[]>`select z, x, y from basemap_tile order by z, x, y`
    const fetched: number[] = []
    const revalidated: number[] = []
    for (const t of tiles) {
      const url = `/basemap/tiles/${t.z}/${t.x}/${t.y}.mvt`
      let t0 = performance.now()
      const res = await app.inject({ url, headers: { 'accept-encoding': 'gzip' } })
      fetched.push(performance.now() - t0)
      t0 = performance.now()
      const again = await app.inject({ url, headers: { 'accept-encoding': 'gzip', 'if-none-match': String(res.headers.etag) } })
      revalidated.push(performance.now() - t0)
      if (res.statusCode !== 200 || again.statusCode !== 304) throw new Error(`basemap tile ${url}: ${res.statusCode} then ${again.statusCode}`)
    }
    rows.unshift(
      { measure: 'basemap tile p50 / p95', value: `${percentile(fetched, 50).toFixed(2)} / ${percentile(fetched, 95).toFixed(2)} ms`, note: `all ${tiles.length} tiles z10-z16, read from basemap_tile and sent gzip-encoded` },
      { measure: 'basemap tile revalidated (304) p50 / p95', value: `${percentile(revalidated, 50).toFixed(2)} / ${percentile(revalidated, 95).toFixed(2)} ms`, note: 'the browser\'s cached copy checked by ETag; within max-age (1 h) it asks nothing' },
    )

    if (!existsSync(join(rootDir, 'web', 'dist', 'index.html'))) {
      rows.push({ measure: 'first map paint with the basemap', value: '-', note: 'web/dist missing: npm run build first' })
      return rows
    }
    await app.listen({ port: 0, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const [bench] = await database.sql`select id from app_user where username = 'bench'`
    if (!bench) await database.sql`insert into app_user (username, display_name, password_hash, role) values ('bench', 'Benchmark', ${await hashPassword('bench-password')}, 'leader')`
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'bench', password: 'bench-password' } })
    const session = login.cookies.find(c => c.name === 'grd_session')!.value
    // The browser as the tests start it (without the address bar's popup page that Chromium opens in
    // every new window: tests/helpers/browser.ts), and as shipped, its loads taken in turns.
    const browsers = [await launchChromium(), await launchChromium({ omniboxPages: true })]
    const loads = browsers.map(() => ({ paints: [] as number[], complete: [] as number[], firstTiles: [] as number[] }))
    try {
      for (let i = 0; i < opts.paints; i++) {
        for (const [k, browser] of browsers.entries()) {
          // A fresh context each time: nothing in the browser's cache, as on a first visit.
          const context = await browser.newContext({ viewport: { width: 1440, height: 900 } })
          await context.addCookies([{ name: 'grd_session', value: session, url: base }])
          const page = await context.newPage()
          await page.goto(`${base}/`)
          await page.waitForSelector('[data-first-paint="true"][data-basemap="streets"]', { timeout: 60_000 })
          await page.waitForSelector('[data-map-state="ready"]', { timeout: 60_000 })
          // The map marks these moments by the page's clock, from the start of navigation: the
          // driver's round trips are left out. With them, where the time goes: the map asking for the
          // first premises tile (everything before it is code, sign-in and the map's data). No
          // listener on the driver's requests: one cost the page 100-300 ms of its first paint
          // (measured, the same build either way).
          const [paint, completeAt, tileAt] = await page.evaluate(() => ['map-first-paint', 'map-complete', 'map-tiles-asked:premises'].map(n => performance.getEntriesByName(n)[0]!.startTime))
          loads[k]!.paints.push(paint!)
          loads[k]!.complete.push(completeAt!)
          loads[k]!.firstTiles.push(tileAt!)
          await context.close()
        }
      }
    }
    finally {
      for (const browser of browsers) await browser.close()
    }
    const seconds = (xs: number[]) => `${(percentile(xs, 50) / 1000).toFixed(2)} / ${(Math.max(...xs) / 1000).toFixed(2)} s`
    const [tests, shipped] = loads as [typeof loads[0], typeof loads[0]]
    rows.push(
      { measure: 'first map paint with the basemap p50 / max', value: seconds(tests.paints),
        note: `headless Chromium (software GL), cold cache, 1440 × 900, ${opts.paints} loads: navigation to the first frame with every street and premises tile of the district view drawn; target 2 s` },
      { measure: '  first premises tile asked for p50 / max', value: seconds(tests.firstTiles), note: 'the same loads, by the page\'s clock: the app\'s code, the session check and the map\'s first data come before it' },
      { measure: '  map idle with every layer p50 / max', value: seconds(tests.complete), note: 'the same loads until communities, points of interest and key areas are drawn too and labels have faded in' },
      { measure: '  the same in Chromium as shipped, p50 / max', value: seconds(shipped.paints),
        note: `first paint; tile asked ${seconds(shipped.firstTiles)}; idle ${seconds(shipped.complete)}: each new window also opens the address bar's popup page, loaded beside the app (${opts.paints} loads in turns with the above)` },
    )
    return rows
  }
  finally {
    await app.close()
    if (appDb !== database) await appDb.close()
  }
}
