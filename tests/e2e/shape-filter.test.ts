import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactsDir } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/**
 * A shape drawn on the main map filters everything (issue 17 §2): the legend's counts and the
 * dashboard's figures follow it, it is kept in the address, and it is cleared again.
 */
let web: WebApp
beforeAll(async () => {
  web = await startWebApp()
  mkdirSync(artifactsDir, { recursive: true })
})
afterAll(() => web?.close())

const cookieOf = async (page: Page) => `grd_session=${(await page.context().cookies()).find(c => c.name === 'grd_session')!.value}`
const legendTotal = (page: Page) => page.locator('[data-testid="legend"] .total').textContent().then(s => Number((s ?? '').replace(/\D/g, '')))

describe('a shape drawn on the main map', () => {
  it('limits the legend\'s counts and the dashboard\'s figures to it, is kept in the address, and is cleared', async () => {
    const page = await web.browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signInPage(page, web.base, 'leader', '/')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await page.waitForFunction(() => document.querySelector('[data-testid="legend"] .total')?.textContent?.includes('600'))
    const box = (await page.locator('[data-map-state] .map').boundingBox())!
    const cx = box.x + box.width / 2
    const cy = box.y + box.height / 2
    await page.click('[data-testid="shape-draw"]')
    await page.waitForSelector('[data-testid="shape-filter"][data-drawing]')
    // A diamond around the middle of the district, closed on its first corner.
    const corners = [[cx, cy - 150], [cx + 170, cy], [cx, cy + 150], [cx - 170, cy], [cx, cy - 150]] as const
    for (const [x, y] of corners) {
      await page.mouse.move(x, y)
      await page.waitForTimeout(150)
      await page.mouse.click(x, y)
      await page.waitForTimeout(150)
    }
    await page.waitForURL(/within=/, { timeout: 10_000 })
    // The shape stays on the map as an outline once drawn.
    await page.waitForSelector('[data-testid="shape-filter"]:not([data-drawing])[data-corners="4"][data-outline-drawn]', { timeout: 15_000 })
    const within = new URL(page.url()).searchParams.get('within')!
    expect(within.split(',')).toHaveLength(8)
    const cookie = await cookieOf(page)
    const counts = (await web.t.app.inject({ url: `/api/premises/counts?within=${within}`, headers: { cookie } })).json() as { total: number }
    expect(counts.total).toBeGreaterThan(0)
    expect(counts.total).toBeLessThan(600)
    await expect.poll(() => legendTotal(page), { timeout: 15_000 }).toBe(counts.total)
    for (const locale of ['zh-CN', 'en'] as const) {
      if (locale === 'en') await page.click('button.lang')
      await page.waitForTimeout(300)
      await page.screenshot({ path: join(artifactsDir, `shape-filter-map-${locale}.png`) })
    }

    // The address alone brings the shape back, on the dashboard too, whose figures follow it.
    await page.goto(`${web.base}/dashboard?within=${within}`)
    await page.waitForSelector('[data-testid="dashboard"] [data-map-state="ready"]', { timeout: 45_000 })
    await page.waitForSelector('[data-testid="shape-filter"][data-corners="4"]')
    const summary = (await web.t.app.inject({ url: `/api/stats/summary?within=${within}`, headers: { cookie } })).json() as { district: { measures: { key: string; rate: number }[] } }
    const rate = summary.district.measures.find(m => m.key === 'residents_registered')!.rate
    await page.waitForFunction(v => document.querySelector('[data-testid="dashboard"] [data-measure="residents_registered"] .rate')?.textContent === v,
      `${(rate * 100).toFixed(1)}%`, { timeout: 15_000 })
    await page.screenshot({ path: join(artifactsDir, 'shape-filter-dashboard-en.png') })

    await page.goto(`${web.base}/?within=${within}`)
    await page.waitForSelector('[data-testid="shape-filter"][data-corners="4"]', { timeout: 45_000 })
    await expect.poll(() => legendTotal(page), { timeout: 15_000 }).toBe(counts.total)
    await page.click('[data-testid="shape-clear"]')
    await page.waitForFunction(() => !location.search.includes('within='))
    await page.waitForSelector('[data-testid="shape-filter"]:not([data-outline-drawn])', { timeout: 15_000 })
    await expect.poll(() => legendTotal(page), { timeout: 15_000 }).toBe(600)
    await page.close()
  })
})
