import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { townSpecs } from '../../server/seed/geography.js'
import { artifactsDir, phoneContext } from '../helpers/browser.js'
import { locateAndWaitForStreets, mapAttr, ownOriginOnly, seat } from '../helpers/basemap-page.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

let web: WebApp
beforeAll(async () => {
  web = await startWebApp({ serviceWorkers: 'allow' })
})
afterAll(() => web?.close())

describe('the street basemap in the field', () => {
  it('shows the existing key areas while a new one is drawn and snaps its corners to a road of the street map', async () => {
    const { context, page, elsewhere } = await ownOriginOnly(web, { viewport: { width: 1440, height: 900 } })
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
    // What the page said, for the report when the street map does not come (seen only in full CI runs).
    const said: string[] = []
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') said.push(`${m.type()}: ${m.text()}`) })
    page.on('pageerror', e => said.push(`pageerror: ${e.message}`))
    page.on('requestfailed', r => said.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`))
    await page.goto(`${web.base}/`)
    try {
      await locateAndWaitForStreets(page, true)
    }
    catch (e) {
      await page.screenshot({ path: join(artifactsDir, 'basemap-offline-phone-failed.png') })
      const state = await page.evaluate(() => {
        const el = document.querySelector('[data-map-state]')
        return el ? Object.fromEntries([...el.attributes].filter(a => a.name.startsWith('data-')).map(a => [a.name, a.value])) : null
      })
      throw new Error(`${(e as Error).message}\nmap: ${JSON.stringify(state)}\npage: ${said.slice(0, 40).join('\n')}`)
    }
    expect(Number(await mapAttr(page, 'data-basemap-roads'))).toBeGreaterThan(5)
    await page.waitForTimeout(500)
    await page.screenshot({ path: join(artifactsDir, 'basemap-offline-phone.png') })
    await context.close()
  }, 150_000)
})
