import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactsDir } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

let browser: Browser
let base: string
let web: WebApp

beforeAll(async () => {
  web = await startWebApp()
  ;({ browser, base } = web)
})
afterAll(() => web?.close())

describe('the map page', () => {
  it('draws the district\'s premises (counts per cell at its zoom) and counts all 600 in the legend, with the measures in the header, from this machine only', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    const origins = new Set<string>()
    page.on('request', req => origins.add(new URL(req.url()).origin))
    await page.goto(`${base}/login`)
    await page.fill('input[name="username"]', 'leader')
    await page.fill('input[name="password"]', 'demo1234')
    await page.click('button[type="submit"]')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    const drawn = Number(await page.getAttribute('[data-map-state]', 'data-points'))
    // At the district's zoom the tiles carry counts per cell: nearly all premises are on screen.
    expect(drawn).toBeGreaterThan(550)
    // The first frame drawn with the premises' layer asked for the tiles, not a frame or two later
    // (each frame of a software renderer is a fifth of a second).
    const [asked, frame] = await page.evaluate(() => ['map-tiles-asked:premises', 'map-first-frame'].map(n => performance.getEntriesByName(n)[0]?.startTime ?? Number.NaN))
    expect(asked, 'the first premises tile asked for by the first frame with the layers').toBeLessThanOrEqual(frame!)
    await page.waitForFunction(() => document.querySelector('[data-testid="legend"] .total')?.textContent?.includes('600'))
    await page.waitForSelector('[data-measure]')
    await expect(page.locator('[data-measure]').count()).resolves.toBe(4)
    await expect(page.locator('h1').textContent()).resolves.toBe('群租房安全隐患整治监测')
    await page.screenshot({ path: join(artifactsDir, 'map-zh.png') })

    await page.click('button.lang')
    // English is loaded when asked for: its messages arrive a moment after the click.
    await page.locator('h1', { hasText: 'Group-rental safety campaign monitor' }).waitFor()
    await expect(page.locator('h1').textContent()).resolves.toBe('Group-rental safety campaign monitor')
    await expect(page.locator('[data-measure="residents_registered"] h3').textContent()).resolves.toBe('Residents registered')
    await page.screenshot({ path: join(artifactsDir, 'map-en.png') })

    // No request left the machine: no CDN, no web font, no basemap.
    expect([...origins].filter(o => o !== base && !o.startsWith('blob:') && o !== 'null')).toEqual([])
    await page.close()
  })

  it('draws its first view in two frames: the one that asks for the tiles, and the one with them all in', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } })
    const page = await context.newPage()
    // WebGL's draws and clears counted, and their count taken at the first frame's mark: that frame
    // asks for the tiles without drawing (a software renderer's frame held the page's thread). And
    // the programs linked, counted when the map has compiled its own and at the first paint.
    await page.addInitScript(() => {
      const w = window as unknown as { glDraws: number; glDrawsAtFirstFrame?: number; glLinks: number; glLinksCompiled?: number; glLinksAtFirstPaint?: number }
      w.glDraws = 0
      w.glLinks = 0
      for (const proto of [WebGLRenderingContext.prototype, WebGL2RenderingContext.prototype] as unknown as Record<string, (...a: unknown[]) => unknown>[]) {
        for (const name of ['drawElements', 'drawArrays', 'clear', 'linkProgram']) {
          const own = proto[name]!
          proto[name] = function (this: unknown, ...a: unknown[]) {
            if (name === 'linkProgram') w.glLinks++
            else w.glDraws++
            return own.apply(this, a)
          }
        }
      }
      const mark = performance.mark.bind(performance)
      performance.mark = (name: string, options?: PerformanceMarkOptions) => {
        if (name === 'map-first-frame') w.glDrawsAtFirstFrame = w.glDraws
        if (name === 'map-programs') w.glLinksCompiled = w.glLinks
        if (name === 'map-first-paint') w.glLinksAtFirstPaint = w.glLinks
        return mark(name, options)
      }
    })
    await signInPage(page, base, 'leader', '/inbox')
    // The premises' tiles come slowly; the outlines and the street map's tiles meanwhile each drew a
    // frame of their own.
    await context.route('**/api/tiles/premises/**', async (route) => {
      await new Promise(resolve => setTimeout(resolve, 300))
      await route.continue()
    })
    await page.goto(`${base}/`)
    await page.waitForSelector('[data-first-paint="true"]', { timeout: 45_000 })
    const { frames, hold } = await page.evaluate(() => (performance.getEntriesByName('map-first-paint')[0] as PerformanceMark).detail as { frames: number; hold: string })
    expect({ frames, hold }).toEqual({ frames: 2, hold: 'ready' })
    const draws = await page.evaluate(() => {
      const w = window as unknown as { glDraws: number; glDrawsAtFirstFrame?: number; glLinksCompiled?: number; glLinksAtFirstPaint?: number }
      return { glDraws: w.glDraws, glDrawsAtFirstFrame: w.glDrawsAtFirstFrame, compiled: w.glLinksCompiled, atFirstPaint: w.glLinksAtFirstPaint }
    })
    expect(draws.glDrawsAtFirstFrame).toBe(0)
    // The view itself is drawn: the background, the street map and the premises.
    expect(draws.glDraws).toBeGreaterThan(10)
    // Its programs were compiled while the tiles came: the frame that draws them compiles none.
    const programs = await page.evaluate(() => (performance.getEntriesByName('map-programs')[0] as PerformanceMark | undefined)?.detail as number | undefined)
    expect(programs).toBeGreaterThan(5)
    expect(draws.compiled).toBeGreaterThan(5)
    expect(draws.atFirstPaint).toBe(draws.compiled)
    await context.close()
  })

  it('shows the server\'s message when data cannot be loaded', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } })
    await page.route('**/api/areas**', route => route.fulfill({
      status: 400, contentType: 'application/json',
      body: JSON.stringify({ statusCode: 400, error: 'Bad Request', message: 'bbox must be four numbers' }),
    }))
    await page.goto(`${base}/login`)
    await page.fill('input[name="username"]', 'leader')
    await page.fill('input[name="password"]', 'demo1234')
    await page.click('button[type="submit"]')
    await page.waitForSelector('[data-map-state="error"]', { timeout: 30_000 })
    await expect(page.locator('[role="alert"]').first().textContent()).resolves.toMatch(/bbox must be four numbers/)
    await page.close()
  })
})
