import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

let t: TestApp
let browser: Browser
let base: string
let web: WebApp

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
})
afterAll(() => web?.close())

/** The heat map's state as the page reads it from the map. */
const heat = (page: Page, key: 'heatSubject' | 'heatPosition' | 'heatWeight') =>
  page.locator('[data-testid="heat"]').evaluate((e, k) => (e as HTMLElement).dataset[k] ?? '', key)

describe('the analysis map', () => {
  // One locale per test: on a busy machine the embedded database serves the heat map's tiles slowly,
  // and each change is read back only once the map is idle again.
  it.each(['zh-CN', 'en'] as const)('draws the heat map of the chosen subject with its own legend, and over or under the points as chosen (%s)', async (locale) => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await page.addInitScript(l => localStorage.setItem('locale', l), locale)
    const tiles: string[] = []
    page.on('request', (r) => {
      if (r.url().includes('/api/tiles/premises/')) tiles.push(decodeURIComponent(r.url()))
    })
    await signInPage(page, base, 'analyst', '/analysis')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await expect(page.locator('[data-testid="heat-legend"]').count()).resolves.toBe(0)
    await page.click('[data-testid="heatmap"]')
    const legend = page.locator('[data-testid="heat-legend"]')
    await legend.waitFor()
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('[data-testid="heat"]')?.dataset.heatWeight) > 0, undefined, { timeout: 40_000 })
    const groupRentals = Number(await heat(page, 'heatWeight'))
    expect(await heat(page, 'heatSubject')).toBe('group-rentals')
    expect(tiles.some(u => u.includes('kind=group_rental'))).toBe(true)
    expect(await legend.textContent()).toContain(locale === 'en' ? 'Density of group rentals' : '群租房分布密度')
    expect(await heat(page, 'heatPosition')).toBe('under')

    // The subject of the clusters is the heat map's: its tiles ask for premises with open hazards.
    await page.locator('.params .el-radio-button').nth(1).click()
    await page.waitForFunction(w => {
      const d = document.querySelector<HTMLElement>('[data-testid="heat"]')?.dataset
      return d?.heatSubject === 'open-hazards' && Number(d.heatWeight) > 0 && Number(d.heatWeight) !== w
    }, groupRentals, { timeout: 40_000 })
    expect(tiles.some(u => u.includes('status=open_general,open_major,overdue'))).toBe(true)
    expect(await legend.textContent()).toContain(locale === 'en' ? 'Density of premises with open hazards' : '有未整改隐患的场所分布密度')

    await page.locator('[data-testid="heat-order"] .el-radio-button').nth(1).click()
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="heat"]')?.dataset.heatPosition === 'over', undefined, { timeout: 40_000 })
    await page.screenshot({ path: join(artifactsDir, `analysis-heat-over-${locale}.png`) })
    await page.locator('[data-testid="heat-order"] .el-radio-button').nth(0).click()
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="heat"]')?.dataset.heatPosition === 'under', undefined, { timeout: 40_000 })
    await page.close()
  })

  it('names the points of interest only once their switch is on', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signInPage(page, base, 'analyst', '/analysis')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await page.waitForSelector('main.analysis[data-place-names-drawn="0"]', { timeout: 15_000 })
    await page.click('[data-testid="place-names"]')
    await page.waitForFunction(() => Number(document.querySelector('main.analysis')?.getAttribute('data-place-names-drawn')) > 0, undefined, { timeout: 15_000 })
    await page.screenshot({ path: join(artifactsDir, 'analysis-place-names.png') })
    await page.click('[data-testid="place-names"]')
    await page.waitForSelector('main.analysis[data-place-names-drawn="0"]', { timeout: 15_000 })
    await page.close()
  })

  it('names a key area once, at a point inside it, with the map zoomed into it', async () => {
    // A premises inside the largest key area: the map opens on it at zoom 16, where the area spans several tiles.
    const [p] = await t.db.sql<{ id: number; keyArea: number }[]>`
      select p.id, k.id as key_area from key_area k join premises p on st_intersects(k.geom, p.geom)
      where k.deleted_at is null order by st_area(k.geom) desc, st_distance(p.geom, st_pointonsurface(k.geom)), p.id limit 1`
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signInPage(page, base, 'analyst', `/?premises=${p!.id}`)
    await page.waitForFunction(() => (document.querySelector('[data-key-area-labels]')?.getAttribute('data-key-area-labels') ?? '') !== '', undefined, { timeout: 45_000 })
    const ids = (await page.getAttribute('[data-key-area-labels]', 'data-key-area-labels'))!.split(',')
    expect(ids).toContain(String(p!.keyArea))
    expect(ids.length).toBe(new Set(ids).size)
    await page.close()
  })
})
