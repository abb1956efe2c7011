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
    expect(elsewhere).toEqual([])
    await context.close()
  })
})
