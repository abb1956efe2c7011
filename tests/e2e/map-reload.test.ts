import { join } from 'node:path'
import type { Route } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactsDir } from '../helpers/browser.js'
import { recordMajorFireHazard, signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

let web: WebApp
beforeAll(async () => {
  web = await startWebApp()
})
afterAll(() => web?.close())

describe('the map after a write', () => {
  // MapLibre re-parses, rather than fetches again, a tile that was still on its way when the tiles'
  // address changed: a write made while the map was loading would stay off the map until the next move.
  it('draws what was written even when the write lands while the map is still loading the point\'s tile', async () => {
    const { t, browser, base } = web
    const [target] = await t.db.sql<{ id: number }[]>`
      select p.id from premises p where p.hazard_count = 0 and p.town_id = (select jurisdiction_town_id from app_user where username = 'inspector')
      order by p.id desc limit 1`
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signInPage(page, base, 'inspector', `/?premises=${target!.id}`)
    await page.waitForFunction(() => document.querySelector('[data-map-state]')?.getAttribute('data-selected-status') === 'none', undefined, { timeout: 30_000 })

    // From now on the premises' tiles are fetched at once (what the database holds at that moment)
    // but arrive only when let through: a slow network delivering the map as it was before the write.
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    const held: string[] = []
    await page.context().route(/\/api\/tiles\/premises\//, async (route: Route) => {
      const response = await route.fetch()
      held.push(route.request().url())
      await gate
      await route.fulfill({ response })
    })
    // Zooming in asks for other tiles (cut from the deepest ones), which now wait on the way.
    await page.click('.maplibregl-ctrl-zoom-in')
    await expect.poll(() => held.length, { timeout: 20_000 }).toBeGreaterThan(0)

    // The write, while they wait. The page asks for the legend's counts again on every change it
    // hears of: once when the panel saved, once more when the server's announcement of new figures
    // arrives (every 2 s at most); both must come while the tiles are held.
    let changes = 0
    page.on('request', (r) => { if (r.url().includes('/api/premises/counts')) changes++ })
    await recordMajorFireHazard(page)
    const [row] = await t.db.sql<{ status: string }[]>`select status from hazard where premises_id = ${target!.id}`
    expect(row!.status).toBe('found')
    await expect.poll(() => changes, { timeout: 20_000 }).toBeGreaterThanOrEqual(2)

    // The tiles from before the write arrive; the map must then fetch the ones after it.
    release()
    await page.waitForFunction(() => document.querySelector('[data-map-state]')?.getAttribute('data-selected-status') === 'open_major', undefined, { timeout: 30_000 })
    await page.screenshot({ path: join(artifactsDir, 'map-after-write-zh.png') })
    await page.close()
  })
})
