import { join } from 'node:path'
import type { BrowserContext, BrowserContextOptions, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { townSpecs } from '../../server/seed/geography.js'
import { artifactsDir, phoneContext } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

let web: WebApp
beforeAll(async () => {
  web = await startWebApp()
})
afterAll(() => web?.close())

/** The seat of 三井街道, the commander's and the inspector's town: the densest street grid. */
const seat = { longitude: townSpecs[0]!.at[0], latitude: townSpecs[0]!.at[1], accuracy: 20 }

/**
 * A browser context that lets requests reach our server only: anything for another origin is
 * aborted and remembered, so the test sees the map draw with no internet at all.
 */
async function ownOriginOnly(options: BrowserContextOptions): Promise<{ context: BrowserContext; page: Page; elsewhere: string[] }> {
  const context = await web.browser.newContext({ ...options, geolocation: seat, permissions: ['geolocation'] })
  const elsewhere: string[] = []
  await context.route('**/*', (route) => {
    const url = route.request().url()
    if (url.startsWith(web.base) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue()
    elsewhere.push(url)
    return route.abort()
  })
  return { context, page: await context.newPage(), elsewhere }
}

const mapAttr = (page: Page, name: string) => page.getAttribute('[data-map-state]', name)

/** Flies to the device's position (zoom 16) and waits until the street map's labels are drawn there. */
async function locateAndWaitForStreets(page: Page, tap: boolean) {
  await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
  await (tap ? page.tap('[data-testid="locate"]') : page.click('[data-testid="locate"]'))
  await page.waitForFunction(() => (document.querySelector('[data-map-state]')?.getAttribute('data-basemap-labels') ?? '').split('|').filter(Boolean).length >= 3, undefined, { timeout: 30_000 })
}

describe('the street basemap', () => {
  it('draws the demo street map under the premises at zoom 16 with Chinese road names, then pinyin names in English, asking no other origin', async () => {
    const { context, page, elsewhere } = await ownOriginOnly({ viewport: { width: 1440, height: 900 } })
    const tiles: string[] = []
    page.on('response', (res) => {
      if (res.url().includes('/basemap/tiles/') && res.status() === 200) tiles.push(res.url())
    })
    await signInPage(page, web.base, 'commander')
    await locateAndWaitForStreets(page, false)
    await expect(mapAttr(page, 'data-basemap')).resolves.toBe('streets')
    expect(tiles.some(u => /\/basemap\/tiles\/16\/\d+\/\d+\.mvt$/.test(u))).toBe(true)
    expect(Number(await mapAttr(page, 'data-basemap-roads'))).toBeGreaterThan(5)
    const names = (await mapAttr(page, 'data-basemap-labels'))!.split('|')
    expect(names.filter(n => /^[\u4E00-\u9FFF]+(?:[路街巷]|大道|大街)$/.test(n)).length).toBeGreaterThanOrEqual(3)
    expect(Number(await mapAttr(page, 'data-points'))).toBeGreaterThan(0)
    await page.screenshot({ path: join(artifactsDir, 'basemap-z16-zh.png') })

    await page.click('button.lang')
    await page.waitForFunction(() => (document.querySelector('[data-map-state]')?.getAttribute('data-basemap-labels') ?? '').split('|').some(n => / (?:Street|Road|Lane)$/.test(n)), undefined, { timeout: 20_000 })
    await page.waitForTimeout(500)
    await page.screenshot({ path: join(artifactsDir, 'basemap-z16-en.png') })
    expect(elsewhere).toEqual([])
    await context.close()
  })

  it('draws the street map at zoom 16 on a phone (390 × 844)', async () => {
    const { context, page, elsewhere } = await ownOriginOnly(phoneContext)
    await signInPage(page, web.base, 'inspector')
    await locateAndWaitForStreets(page, true)
    expect(Number(await mapAttr(page, 'data-basemap-roads'))).toBeGreaterThan(5)
    await page.waitForTimeout(500)
    await page.screenshot({ path: join(artifactsDir, 'basemap-z16-phone.png') })
    expect(elsewhere).toEqual([])
    await context.close()
  })

  it('darkens the street map with the dashboard\'s dark theme', async () => {
    const { context, page, elsewhere } = await ownOriginOnly({ viewport: { width: 1440, height: 900 } })
    await signInPage(page, web.base, 'leader', '/dashboard')
    await page.evaluate(() => localStorage.setItem('dashboard-dark', '1'))
    await page.reload()
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await expect(page.locator('[data-map-state]').getAttribute('class')).resolves.toContain('dark')
    await expect(mapAttr(page, 'data-basemap')).resolves.toBe('streets')
    // The map's land: the canvas's pixels are dark where nothing of ours is drawn.
    await page.waitForTimeout(800)
    const shot = await page.locator('[data-map-state] canvas').screenshot({ path: join(artifactsDir, 'basemap-dark-dashboard.png') })
    const sharp = (await import('sharp')).default
    const { channels } = await sharp(shot).stats()
    const mean = channels.slice(0, 3).reduce((a, c) => a + c.mean, 0) / 3
    expect(mean).toBeLessThan(90)
    // Closer in (a town picked in the ranking), the streets are drawn dark too.
    const district = Number((await mapAttr(page, 'data-view'))!.split(',')[2])
    await page.locator('[data-testid="ranking"] tbody tr').first().click()
    await page.waitForFunction(z => Number(document.querySelector('[data-map-state]')?.getAttribute('data-view')?.split(',')[2]) > z + 0.5, district, { timeout: 20_000 })
    await page.waitForTimeout(2000)
    await page.locator('[data-map-state] canvas').screenshot({ path: join(artifactsDir, 'basemap-dark-streets.png') })
    expect(elsewhere).toEqual([])
    await context.close()
  })

  it('shows the existing key areas while a new one is drawn and snaps its corners to a road of the street map', async () => {
    const { context, page, elsewhere } = await ownOriginOnly({ viewport: { width: 1440, height: 900 } })
    const previews: GeoJSON.Polygon[] = []
    page.on('request', (req) => {
      if (req.method() === 'POST' && req.url().endsWith('/api/key-areas/preview')) previews.push((req.postDataJSON() as { geometry: GeoJSON.Polygon }).geometry)
    })
    await signInPage(page, web.base, 'commander', '/key-areas/new')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    expect(Number(await mapAttr(page, 'data-key-areas'))).toBeGreaterThan(0)
    const box = (await page.locator('[data-map-state] .map').boundingBox())!
    // Web-mercator pixels of a point in the current view (MapLibre's 512-pixel world at zoom 0).
    const pixel = async (lon: number, lat: number) => {
      const [clon, clat, zoom] = (await mapAttr(page, 'data-view'))!.split(',').map(Number) as [number, number, number]
      const world = 512 * 2 ** zoom
      const x = (l: number) => ((l + 180) / 360) * world
      const y = (b: number) => ((1 - Math.log(Math.tan((b * Math.PI) / 180) + 1 / Math.cos((b * Math.PI) / 180)) / Math.PI) / 2) * world
      return { x: box.x + box.width / 2 + x(lon) - x(clon), y: box.y + box.height / 2 + y(lat) - y(clat) }
    }
    // Zoom in on the town's seat, where a secondary road runs north-south along its longitude.
    const [lon, lat] = townSpecs[0]!.at
    for (let i = 0; i < 6 && Number((await mapAttr(page, 'data-view'))!.split(',')[2]) < 15; i++) {
      const at = await pixel(lon, lat)
      await page.mouse.move(at.x, at.y)
      await page.mouse.wheel(0, -600)
      await page.waitForTimeout(700)
    }
    // Two corners 6 pixels east of the road, two well east of it; then back to the first to close.
    const corners = [await pixel(lon, lat + 0.0008), await pixel(lon, lat - 0.0008)].map(p => ({ x: p.x + 6, y: p.y }))
    corners.push({ x: corners[1]!.x + 160, y: corners[1]!.y }, { x: corners[0]!.x + 160, y: corners[0]!.y })
    for (const c of [...corners, corners[0]!]) {
      await page.mouse.move(c.x, c.y)
      await page.waitForTimeout(150)
      await page.mouse.click(c.x, c.y)
      await page.waitForTimeout(150)
    }
    await page.waitForFunction(() => document.querySelector('[data-testid="key-area-form"]')?.getAttribute('data-preview-state') !== 'idle', undefined, { timeout: 10_000 })
    await page.screenshot({ path: join(artifactsDir, 'basemap-key-area-snapping.png') })
    const ring = previews.at(-1)!.coordinates[0]!
    const onRoad = ring.slice(0, -1).filter(([x]) => Math.abs(x! - lon) < 3e-5)
    // Without snapping the two western corners would lie 6 pixels (about 12 m) east of the road.
    expect(onRoad.length, JSON.stringify(ring)).toBe(2)
    expect(elsewhere).toEqual([])
    await context.close()
  })

  it('keeps the street map of the inspector\'s town on the phone, its size shown first, and draws it with no network', async () => {
    const context = await web.browser.newContext({ ...phoneContext, geolocation: seat, permissions: ['geolocation'] })
    const page = await context.newPage()
    await signInPage(page, web.base, 'inspector', '/my-tasks')
    await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, { timeout: 30_000 })
    await expect(page.locator('[data-testid="offline-streets-size"]').textContent()).resolves.toMatch(/\d+\.\d MB/)
    await page.tap('[data-testid="offline-download"]')
    await page.waitForSelector('[data-testid="offline-area"][data-downloaded]', { timeout: 60_000 })
    await context.setOffline(true)
    await page.goto(`${web.base}/`)
    await locateAndWaitForStreets(page, true)
    expect(Number(await mapAttr(page, 'data-basemap-roads'))).toBeGreaterThan(5)
    await page.waitForTimeout(500)
    await page.screenshot({ path: join(artifactsDir, 'basemap-offline-phone.png') })
    await context.close()
  })
})
