import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { recordMajorFireHazard, startWebApp, type WebApp } from '../helpers/web-app.js'

let t: TestApp
let browser: Browser
let base: string
let web: WebApp

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
})
afterAll(() => web?.close())

async function signIn(page: Page, username: string, path = '/') {
  await page.goto(`${base}/login?next=${encodeURIComponent(path)}`)
  await page.fill('input[name="username"]', username)
  await page.fill('input[name="password"]', 'demo1234')
  await page.click('button[type="submit"]')
  await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
}

const attr = (page: Page, name: string) => page.getAttribute('[data-map-state]', name)

async function ready(page: Page) {
  await page.waitForFunction(() => document.querySelector('[data-map-state]')?.getAttribute('data-map-state') === 'ready', undefined, { timeout: 45_000 })
}

describe('the map as a working tool', () => {
  it('draws fewer points when a filter is set, and the legend counts what the filter selects', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signIn(page, 'leader')
    const before = Number(await attr(page, 'data-points'))
    await page.click('[data-testid="filter-overdue"]')
    await page.waitForURL(/overdue=true/)
    await ready(page)
    await page.waitForFunction(() => !document.querySelector('[data-testid="legend"] .total')?.textContent?.includes('600'))
    const after = Number(await attr(page, 'data-points'))
    expect(after).toBeGreaterThan(0)
    expect(after).toBeLessThan(before)
    const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from premises where open_min_deadline < '2020-12-31'`
    await expect(page.locator('[data-testid="legend"] .total').textContent()).resolves.toContain(String(n!.n))
    await page.screenshot({ path: join(artifactsDir, 'map-filter-overdue-zh.png') })

    // The filter lives in the address: opening the same link shows the same view.
    const link = page.url()
    const other = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await other.context().addCookies(await page.context().cookies())
    await other.goto(link)
    await ready(other)
    await expect(other.locator('[data-testid="legend"] .total').textContent()).resolves.toContain(String(n!.n))
    await other.close()
    await page.close()
  })

  it('records a hazard on a premises from the panel, and the point changes colour without a reload', async () => {
    const [target] = await t.db.sql<{ id: number }[]>`
      select p.id from premises p where p.hazard_count = 0 and p.town_id = (select jurisdiction_town_id from app_user where username = 'inspector')
      order by p.id limit 1`
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signIn(page, 'inspector', `/?premises=${target!.id}`)
    await page.waitForSelector(`[data-testid="premises-panel"][data-premises="${target!.id}"] h2`)
    await page.waitForFunction(() => document.querySelector('[data-map-state]')?.getAttribute('data-selected-status') === 'none', undefined, { timeout: 30_000 })

    await recordMajorFireHazard(page)
    await page.waitForFunction(() => document.querySelector('[data-map-state]')?.getAttribute('data-selected-status') === 'open_major', undefined, { timeout: 30_000 })
    await page.screenshot({ path: join(artifactsDir, 'inspection-hazard-zh.png') })

    // Rectify it from the panel: the point turns to "all rectified".
    await page.click('[data-testid="premises-panel"] [data-action="rectify"]')
    await page.click('[data-testid="premises-panel"] [data-action="confirm"]')
    await page.waitForSelector('[data-testid="premises-panel"] [data-hazard][data-status="rectified"]')
    await page.waitForFunction(() => document.querySelector('[data-map-state]')?.getAttribute('data-selected-status') === 'rectified', undefined, { timeout: 30_000 })

    await page.click('button.lang')
    await page.waitForSelector('text=Record hazard')
    await page.screenshot({ path: join(artifactsDir, 'inspection-hazard-en.png') })
    const [row] = await t.db.sql<{ status: string }[]>`select status from hazard where premises_id = ${target!.id}`
    expect(row!.status).toBe('rectified')
    await page.close()
  })

  it('offers the district\'s day as the day found when the form is opened between midnight and 08:00 there, not the UTC date', async () => {
    // 23:30 UTC is 07:30 the next day in the district (the latest such instant before now).
    const now = Date.now()
    let at = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate(), 23, 30)
    if (at > now) at -= 86_400_000
    const districtDay = new Date(at + 86_400_000).toISOString().slice(0, 10)
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await page.addInitScript(() => localStorage.setItem('locale', 'en'))
    await signIn(page, 'inspector')
    await page.clock.setFixedTime(at)
    await page.click('[data-testid="premises-add"]')
    const form = page.locator('[data-testid="premises-form"]')
    const foundOn = form.locator('.el-form-item', { has: page.locator('label', { hasText: /^Found on$/ }) }).locator('input')
    await expect(foundOn.inputValue()).resolves.toBe(districtDay)
    await page.close()
  })

  it('adds premises by clicking the map, and refuses a location outside the jurisdiction with the server\'s message', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await page.addInitScript(() => localStorage.setItem('locale', 'en'))
    await signIn(page, 'inspector')
    await page.click('[data-testid="premises-add"]')
    const form = page.locator('[data-testid="premises-form"]')
    await form.locator('input[name="address"]').fill('E2E Road 1')
    await form.locator('button:has-text("Pick on map")').click()
    await page.waitForSelector('.picking[role="status"]')
    await form.waitFor({ state: 'hidden' })
    // The map opens on the inspector's town: its centre lies inside it.
    const box = (await page.locator('.map-area').boundingBox())!
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2)
    await form.waitFor({ state: 'visible' })
    await expect(form.locator('input[name="lon"]').inputValue()).resolves.not.toBe('0.000000')
    await expect(form.locator('input[name="address"]').inputValue()).resolves.toBe('E2E Road 1')
    await form.locator('input[name="occupants"]').fill('11')
    await form.locator('input[name="occupants"]').press('Tab')
    await page.screenshot({ path: join(artifactsDir, 'inspection-add-form-en.png') })
    await page.click('[data-testid="premises-save"]')
    await page.waitForSelector('[data-testid="premises-panel"] >> text=E2E Road 1')
    await page.screenshot({ path: join(artifactsDir, 'inspection-add-en.png') })
    const [p] = await t.db.sql<{ id: number; occupants: number; meetsRule: boolean }[]>`select id, occupants, meets_rule from premises where address = 'E2E Road 1'`
    expect(p).toMatchObject({ occupants: 11, meetsRule: true })

    await page.click('[data-testid="premises-add"]')
    await form.locator('input[name="address"]').fill('Far away')
    await form.locator('input[name="lon"]').fill('116.4')
    await form.locator('input[name="lat"]').fill('39.9')
    await page.click('[data-testid="premises-save"]')
    await expect(form.locator('.error').textContent()).resolves.toMatch(/outside every town or street of the district/)
    // On the Chinese screen the server's refusal reads in Chinese.
    await page.evaluate(() => document.querySelector<HTMLButtonElement>('header button.lang')!.click())
    await page.click('[data-testid="premises-save"]')
    await expect(form.locator('.error').textContent()).resolves.toMatch(/^位置（116\.400000, 39\.900000）不在本区任何镇（街道）内$/)
    await page.close()
  })
})
