import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactsDir, phoneContext } from '../helpers/browser.js'
import { seat } from '../helpers/basemap-page.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

let web: WebApp
beforeAll(async () => {
  web = await startWebApp()
})
afterAll(() => web?.close())

/** The map's buttons a finger aims at on the phone. */
const buttons = {
  locate: '[data-testid="locate"]',
  zoomIn: '.maplibregl-ctrl-zoom-in',
  layers: '.map-layers',
  add: '[data-testid="premises-add"]',
  filters: '[data-testid="filters-open"]',
}

describe('the map on the phone', () => {
  it('keeps the locate button, the zoom buttons, the layer box and the toolbar where they first appear, for 3 s and until the map is ready', async () => {
    const context = await web.browser.newContext(phoneContext)
    const page = await context.newPage()
    await signInPage(page, web.base, 'inspector', '/')
    await page.goto(`${web.base}/`, { waitUntil: 'commit' })
    // Sampled in the page at every frame from the moment each button is first shown (a tap aims
    // where the finger saw the button a moment before), until 3 s later and the map is ready.
    const seen = await page.evaluate(async (selectors) => {
      const boxes: Record<string, { first: string; moved: string[] }> = {}
      let locateAt = 0
      const boxOf = (el: Element) => {
        const r = el.getBoundingClientRect()
        return r.width && r.height ? `${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}x${Math.round(r.height)}` : ''
      }
      const start = performance.now()
      await new Promise<void>((resolve) => {
        const sample = () => {
          const now = performance.now()
          for (const [name, selector] of Object.entries(selectors)) {
            const el = document.querySelector(selector)
            const box = el ? boxOf(el) : ''
            const b = boxes[name]
            if (!b && box) boxes[name] = { first: box, moved: [] }
            else if (b && box !== b.first && !b.moved.includes(box)) b.moved.push(box)
          }
          if (!locateAt && boxes.locate) locateAt = now
          const ready = document.querySelector('[data-map-state="ready"]') !== null
          if ((locateAt && now - locateAt > 3000 && ready) || now - start > 60_000) resolve()
          else requestAnimationFrame(sample)
        }
        sample()
      })
      return boxes
    }, buttons)
    for (const name of Object.keys(buttons)) {
      expect(seen[name], `${name} was shown`).toBeDefined()
      expect(seen[name]!.moved, `${name}, first at ${seen[name]!.first}, moved to`).toEqual([])
    }
    await context.close()
  }, 90_000)

  it('flies to the device\'s position with one tap on the locate button as soon as the map is ready', async () => {
    const context = await web.browser.newContext({ ...phoneContext, geolocation: seat, permissions: ['geolocation'] })
    const page = await context.newPage()
    await signInPage(page, web.base, 'inspector', '/')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await page.tap('[data-testid="locate"]')
    // The sheet of nearby premises opens as the map flies: making room for it must not stop the flight.
    await page.waitForSelector('[data-testid="nearby-sheet"]', { timeout: 20_000 })
    await page.waitForFunction(() => Number(document.querySelector('[data-map-state]')?.getAttribute('data-view')?.split(',')[2]) >= 15, undefined, { timeout: 20_000 })
    await page.waitForTimeout(1000)
    const [lon, lat, zoom] = (await page.getAttribute('[data-map-state]', 'data-view'))!.split(',').map(Number) as [number, number, number]
    expect(zoom).toBeGreaterThanOrEqual(15)
    // Centred above the sheet, near the device (a few hundred metres at most).
    expect(Math.abs(lon - seat.longitude)).toBeLessThan(0.01)
    expect(Math.abs(lat - seat.latitude)).toBeLessThan(0.01)
    await page.screenshot({ path: join(artifactsDir, 'map-phone-located.png') })
    await context.close()
  }, 90_000)

  it.each(['zh-CN', 'en'] as const)('keeps the folded legend clear of the scale bar (%s)', async (locale) => {
    const context = await web.browser.newContext(phoneContext)
    const page = await context.newPage()
    await page.addInitScript(l => localStorage.setItem('locale', l), locale)
    await signInPage(page, web.base, 'inspector', '/')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    // The legend's title carries the count of premises: read once the count has come.
    await page.waitForFunction(() => !document.querySelector('[data-testid="legend-toggle"]')?.textContent?.includes('…'), undefined, { timeout: 20_000 })
    const legend = (await page.locator('[data-testid="legend"]').boundingBox())!
    const scale = (await page.locator('.maplibregl-ctrl-scale').boundingBox())!
    const apart = legend.x + legend.width <= scale.x || scale.x + scale.width <= legend.x
      || legend.y + legend.height <= scale.y || scale.y + scale.height <= legend.y
    expect(apart, `legend ${JSON.stringify(legend)}, scale ${JSON.stringify(scale)}`).toBe(true)
    await page.screenshot({ path: join(artifactsDir, `map-phone-legend-${locale}.png`) })
    await context.close()
  }, 90_000)
})
