import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactsDir, phoneContext } from '../helpers/browser.js'
import { locateAndWaitForStreets, mapAttr, ownOriginOnly } from '../helpers/basemap-page.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

let web: WebApp
beforeAll(async () => {
  web = await startWebApp()
})
afterAll(() => web?.close())

describe('the street basemap', () => {
  it('draws the key areas and, at zoom 16, the demo street map under the premises with Chinese road names, then pinyin names in English, asking no other origin', async () => {
    const { context, page, elsewhere } = await ownOriginOnly(web, { viewport: { width: 1440, height: 900 } })
    const tiles: string[] = []
    page.on('response', (res) => {
      if (res.url().includes('/basemap/tiles/') && res.status() === 200) tiles.push(res.url())
    })
    await signInPage(page, web.base, 'commander')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    // The town's key areas are a layer of the map, drawn over the street map.
    expect(Number(await mapAttr(page, 'data-key-areas'))).toBeGreaterThan(0)
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
    const { context, page, elsewhere } = await ownOriginOnly(web, phoneContext)
    await signInPage(page, web.base, 'inspector')
    await locateAndWaitForStreets(page, true)
    expect(Number(await mapAttr(page, 'data-basemap-roads'))).toBeGreaterThan(5)
    await page.waitForTimeout(500)
    await page.screenshot({ path: join(artifactsDir, 'basemap-z16-phone.png') })
    expect(elsewhere).toEqual([])
    await context.close()
  })

  it('darkens the street map with the dashboard\'s dark theme', async () => {
    const { context, page, elsewhere } = await ownOriginOnly(web, { viewport: { width: 1440, height: 900 } })
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
})
