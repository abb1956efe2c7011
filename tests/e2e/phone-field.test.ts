import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir, phoneContext } from '../helpers/browser.js'
import { startWebApp, signInPage, type WebApp } from '../helpers/web-app.js'

let t: TestApp
let browser: Browser
let base: string
let web: WebApp
/** A premises of the inspector's town far from any other, and a point 40 m east of it where the phone is. */
let target: { id: number; address: string; lon: number; lat: number }
let here: { longitude: number; latitude: number; accuracy: number }

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
  const [p] = await t.db.sql<{ id: number; address: string; lon: number; lat: number; alone: number }[]>`
    select p.id, p.address, st_x(p.geom) as lon, st_y(p.geom) as lat,
           (select min(st_distance(p.geom::geography, o.geom::geography)) from premises o where o.id <> p.id) as alone
    from premises p where p.town_id = (select jurisdiction_town_id from app_user where username = 'inspector')
    order by alone desc, p.id limit 1`
  // The phone stands 40 m from it: no other premises may be within 80 m of it.
  expect(p!.alone).toBeGreaterThan(100)
  target = p!
  here = { longitude: target.lon + 40 / (111_320 * Math.cos((target.lat * Math.PI) / 180)), latitude: target.lat, accuracy: 25 }
})
afterAll(() => web?.close())

async function ready(page: Page) {
  await page.waitForFunction(() => document.querySelector('[data-map-state]')?.getAttribute('data-map-state') === 'ready', undefined, { timeout: 45_000 })
}

/** A fragment of the target's address that few premises of the town share (Chinese characters only). */
async function addressFragment(): Promise<string> {
  const chars = [...target.address]
  for (let i = 0; i + 4 <= chars.length; i++) {
    const f = chars.slice(i, i + 4).join('')
    if (!/^\p{Script=Han}+$/u.test(f)) continue
    const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from premises where strpos(address, ${f}) > 0`
    if (n!.n >= 1 && n!.n <= 8) return f
  }
  return target.address
}

describe('search in the header', () => {
  it('finds an address on a phone, and opening the result flies the map to the premises and opens its sheet', async () => {
    const context = await browser.newContext(phoneContext)
    const page = await context.newPage()
    await signInPage(page, base, 'inspector')
    await ready(page)
    await page.tap('[data-testid="search-open"]')
    const q = await addressFragment()
    await page.fill('[data-testid="search-input"]', q)
    const result = page.locator(`[data-testid="search-results"] [role="option"][data-kind="premises"][data-id="${target.id}"]`)
    await result.waitFor({ state: 'visible', timeout: 15_000 })
    const list = (await page.locator('[data-testid="search-results"]').boundingBox())!
    expect(list.x).toBeGreaterThanOrEqual(0)
    expect(list.x + list.width).toBeLessThanOrEqual(390)
    expect((await result.boundingBox())!.height).toBeGreaterThanOrEqual(44)
    await page.screenshot({ path: join(artifactsDir, 'phone-search.png') })
    await result.tap()
    await page.waitForSelector(`[data-testid="premises-sheet"] [data-testid="premises-panel"][data-premises="${target.id}"] h2`)
    await page.waitForFunction(() => document.querySelector('[data-map-state]')?.getAttribute('data-selected-status') !== '', undefined, { timeout: 30_000 })
    await expect(page.locator('[data-testid="search-results"]').count()).resolves.toBe(0)
    await page.screenshot({ path: join(artifactsDir, 'phone-search-picked.png') })
    await context.close()
  })

  it('is worked with the keyboard on a desktop: ↓/↑ move, Enter opens, Esc closes', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signInPage(page, base, 'inspector')
    await ready(page)
    const [c] = await t.db.sql<{ id: number; nameZh: string }[]>`
      select c.id, c.name_zh from admin_area c where c.id = (select community_id from premises where id = ${target.id})`
    const input = page.locator('[data-testid="search-input"]')
    // The / key opens the box, as the button does.
    await page.locator('body').press('/')
    await expect(input.evaluate(e => e === document.activeElement)).resolves.toBe(true)
    await input.fill(c!.nameZh)
    const options = page.locator('[data-testid="search-results"] [role="option"]')
    await options.first().waitFor({ state: 'visible', timeout: 15_000 })
    const n = await options.count()
    expect(n).toBeGreaterThan(1)
    // Communities rank above the premises whose address names them.
    await expect(options.first().getAttribute('data-kind')).resolves.toBe('community')
    await input.press('ArrowDown')
    await input.press('ArrowDown')
    const second = await options.nth(1).getAttribute('id')
    await expect(input.getAttribute('aria-activedescendant')).resolves.toBe(second)
    await expect(options.nth(1).getAttribute('aria-selected')).resolves.toBe('true')
    await input.press('ArrowUp')
    await expect(input.getAttribute('aria-activedescendant')).resolves.toBe(await options.nth(0).getAttribute('id'))
    await page.screenshot({ path: join(artifactsDir, 'desktop-search.png') })
    await input.press('Escape')
    await expect(page.locator('[data-testid="search-results"]').count()).resolves.toBe(0)
    await expect(input.isVisible()).resolves.toBe(true)
    // Enter opens the highlighted result: a premises opens its panel.
    await input.press('ArrowDown')
    const premisesIndex = await options.evaluateAll(els => els.findIndex(e => e.getAttribute('data-kind') === 'premises'))
    expect(premisesIndex).toBeGreaterThan(0)
    for (let i = 0; i < premisesIndex; i++) await input.press('ArrowDown')
    const id = Number(await options.nth(premisesIndex).getAttribute('data-id'))
    await input.press('Enter')
    await page.waitForSelector(`[data-testid="premises-panel"][data-premises="${id}"] h2`)
    await page.waitForURL(new RegExp(`premises=${id}`))
    await page.close()
  })

  it('finds a resident by ID number for an inspector (never in a URL), and nothing of people for a leader', async () => {
    const [r] = await t.db.sql<{ id: number; premisesId: number; cipher: Uint8Array }[]>`
      select r.id, r.premises_id, r.id_number_cipher as cipher from resident r join premises p on p.id = r.premises_id
      where p.town_id = (select jurisdiction_town_id from app_user where username = 'inspector') order by r.id limit 1`
    const { decryptIdNumber } = await import('../../server/domain/pii.js')
    const { testKeys } = await import('../helpers/keys.js')
    const idNumber = decryptIdNumber(testKeys, r!.cipher)
    for (const [user, finds] of [['inspector', true], ['leader', false]] as const) {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
      const urls: string[] = []
      page.on('request', req => urls.push(req.url()))
      await signInPage(page, base, user)
      await page.click('[data-testid="search-open"]')
      await page.fill('[data-testid="search-input"]', idNumber)
      await page.waitForSelector('[data-testid="search-results"] [role="option"], [data-testid="search-results"] .note:not(:has-text("…"))', { timeout: 15_000 })
      const resident = page.locator(`[data-testid="search-results"] [data-kind="resident"][data-id="${r!.id}"]`)
      await expect(resident.count()).resolves.toBe(finds ? 1 : 0)
      if (finds) await expect(resident.textContent()).resolves.not.toContain(idNumber)
      expect(urls.filter(u => u.includes(idNumber.slice(6, 14)))).toEqual([])
      await page.close()
    }
  })
})

describe('my location', () => {
  it('shows the phone\'s position with its accuracy and lists the premises near it, nearest first', async () => {
    const context = await browser.newContext({ ...phoneContext, geolocation: here, permissions: ['geolocation'] })
    const page = await context.newPage()
    await signInPage(page, base, 'inspector')
    await ready(page)
    await page.tap('[data-testid="locate"]')
    await page.waitForFunction(() => !!document.querySelector('[data-map-state]')?.getAttribute('data-device-position'), undefined, { timeout: 20_000 })
    const [lon, lat, accuracy] = (await page.getAttribute('[data-map-state]', 'data-device-position'))!.split(',').map(Number)
    expect(lon).toBeCloseTo(here.longitude, 5)
    expect(lat).toBeCloseTo(here.latitude, 5)
    expect(accuracy).toBe(25)
    const sheet = page.locator('[data-testid="nearby-sheet"]')
    await sheet.locator('li button').first().waitFor({ state: 'visible', timeout: 20_000 })
    await expect(sheet.locator('[data-testid="nearby-accuracy"]').textContent()).resolves.toContain('25')
    const first = sheet.locator('li button').first()
    await expect(first.getAttribute('data-premises')).resolves.toBe(String(target.id))
    const distances = await sheet.locator('[data-testid="nearby-distance"]').allTextContents()
    expect(distances[0]).toMatch(/^(39|40|41) 米$/)
    const metres = distances.map(d => (d.includes('公里') ? 1000 : 1) * Number.parseFloat(d))
    expect(metres).toEqual([...metres].sort((a, b) => a - b))
    await page.waitForTimeout(800)
    await page.screenshot({ path: join(artifactsDir, 'phone-nearby.png') })
    await first.tap()
    await page.waitForSelector(`[data-testid="premises-sheet"] [data-testid="premises-panel"][data-premises="${target.id}"] h2`)
    await context.close()
  })

  it('records new premises at the phone\'s position, its accuracy shown, after dragging the point a little', async () => {
    const context = await browser.newContext({ ...phoneContext, geolocation: here, permissions: ['geolocation'] })
    const page = await context.newPage()
    await signInPage(page, base, 'inspector')
    await ready(page)
    await page.tap('[data-testid="premises-add"]')
    const form = page.locator('[data-testid="premises-form"]')
    const dialog = page.locator('.el-dialog:has([data-testid="use-location"])')
    await dialog.waitFor({ state: 'visible' })
    const box = (await dialog.boundingBox())!
    expect(box.x).toBeGreaterThanOrEqual(0)
    expect(box.x + box.width).toBeLessThanOrEqual(390)
    await form.locator('input[name="address"]').fill('定位测试路1号')
    await page.tap('[data-testid="use-location"]')
    await expect(page.locator('[data-testid="location-accuracy"]').textContent()).resolves.toContain('25')
    await expect(form.locator('input[name="lon"]').inputValue()).resolves.toBe(here.longitude.toFixed(6))
    await expect(form.locator('input[name="lat"]').inputValue()).resolves.toBe(here.latitude.toFixed(6))
    await page.screenshot({ path: join(artifactsDir, 'phone-premises-form.png') })

    // Adjust on the map: the point starts where the phone is and is dragged 60 px east.
    await form.locator('button:has-text("在地图上选点")').tap()
    const marker = page.locator('[data-testid="pick-marker"]')
    await marker.waitFor({ state: 'visible' })
    await page.waitForTimeout(600)
    const m = (await marker.boundingBox())!
    await page.mouse.move(m.x + m.width / 2, m.y + m.height / 2)
    await page.mouse.down()
    await page.mouse.move(m.x + m.width / 2 + 60, m.y + m.height / 2, { steps: 10 })
    await page.mouse.up()
    await page.screenshot({ path: join(artifactsDir, 'phone-pick-drag.png') })
    await page.tap('[data-testid="pick-confirm"]')
    await dialog.waitFor({ state: 'visible' })
    const lon = Number(await form.locator('input[name="lon"]').inputValue())
    expect(lon).toBeGreaterThan(here.longitude + 0.00005)
    await expect(page.locator('[data-testid="location-accuracy"]').count()).resolves.toBe(0)
    await page.tap('[data-testid="premises-save"]')
    await page.waitForSelector('[data-testid="premises-panel"] >> text=定位测试路1号', { timeout: 20_000 })
    await page.screenshot({ path: join(artifactsDir, 'phone-premises-recorded.png') })
    const [row] = await t.db.sql<{ lon: number; lat: number }[]>`select st_x(geom) as lon, st_y(geom) as lat from premises where address = '定位测试路1号'`
    expect(row!.lon).toBeCloseTo(lon, 6)
    expect(Math.abs(row!.lat - here.latitude)).toBeLessThan(0.0002)
    await context.close()
  })

  it('says so in words when the browser may not tell the location', async () => {
    const context = await browser.newContext({ ...phoneContext })
    const page = await context.newPage()
    await signInPage(page, base, 'inspector')
    await ready(page)
    await page.tap('[data-testid="locate"]')
    const alert = page.locator('[data-testid="nearby-sheet"] [role="alert"]')
    await alert.waitFor({ state: 'visible', timeout: 20_000 })
    await expect(alert.textContent()).resolves.toMatch(/定位|位置/)
    await context.close()
  })
})
