import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { drawPolygon } from '../helpers/ledger-page.js'
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

const formAttr = (page: Page, name: string) => page.getAttribute('[data-testid="key-area-form"]', name)


describe('drawing a key area', () => {
  it('draws a polygon with the mouse, shows the live counts, saves it and finds it in the list', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signInPage(page, base, 'commander', '/key-areas/new')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await drawPolygon(page, [[-70, -55], [75, -50], [70, 60], [-65, 65]])
    // The server's counts arrive a moment after the polygon closes (debounced, well within 300 ms of the last change).
    await page.waitForFunction(() => document.querySelector('[data-testid="key-area-form"]')?.getAttribute('data-preview-state') === 'ok', undefined, { timeout: 10_000 })
    const houses = Number(await formAttr(page, 'data-houses'))
    expect(houses).toBeGreaterThan(0)
    await expect(page.locator('[data-testid="live-counts"] [data-count="groupRentals"]').textContent()).resolves.toMatch(/^\d+$/)
    await page.screenshot({ path: join(artifactsDir, 'key-area-draw-zh.png') })

    // Undo takes the polygon away; drawing again brings the counts back.
    await page.click('[data-tool="delete"]')
    await page.waitForFunction(() => document.querySelector('[data-testid="key-area-form"]')?.getAttribute('data-preview-state') === 'idle')
    await page.click('[data-tool="undo"]')
    await page.waitForFunction(() => document.querySelector('[data-testid="key-area-form"]')?.getAttribute('data-preview-state') === 'ok', undefined, { timeout: 10_000 })
    expect(Number(await formAttr(page, 'data-houses'))).toBe(houses)

    await page.fill('input[name="nameZh"]', '浏览器绘制片区')
    // The campaign's last day: a new key area is listed on the campaign's day, which the demo's is.
    await page.fill('input[name="deadline"]', '2020-12-31')
    await page.keyboard.press('Enter')
    await page.click('[data-testid="key-area-save"]')
    await page.waitForURL(/\/key-areas\/\d+$/)
    await page.waitForSelector('[data-testid="attachment-3"]')
    const id = Number(page.url().split('/').pop())
    const [row] = await t.db.sql<{ nameZh: string; townId: number; houses: number }[]>`
      select k.name_zh, k.town_id, (select count(*)::int from premises p where st_intersects(k.geom, p.geom) and p.town_id = k.town_id) as houses
      from key_area k where k.id = ${id}`
    expect(row).toMatchObject({ nameZh: '浏览器绘制片区', houses })
    await page.screenshot({ path: join(artifactsDir, 'key-area-detail-zh.png') })

    await page.click('[data-nav="key-areas"]')
    await page.waitForSelector(`[data-testid="key-area-list"] [data-key-area="${id}"]`)
    await page.screenshot({ path: join(artifactsDir, 'key-area-list-zh.png') })
    await page.close()
  })

  it('refuses a boundary reaching outside the commander\'s town with the reason, and keeps the inside part on request (English)', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await page.addInitScript(() => localStorage.setItem('locale', 'en'))
    await signInPage(page, base, 'commander', '/key-areas/new')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    // The map opens on the town's bounding box: its corners lie outside the town.
    const box = (await page.locator('.map-area').boundingBox())!
    // The lower right of the view: part of the town, part of its neighbours (clear of the scale bar).
    const [x0, x1] = [box.width * 0.15, box.width / 2 - 20]
    const [y0, y1] = [box.height * 0.1, box.height / 2 - 45]
    await drawPolygon(page, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    await page.waitForFunction(() => document.querySelector('[data-testid="key-area-form"]')?.getAttribute('data-preview-state') === 'invalid', undefined, { timeout: 10_000 })
    await expect(page.locator('[data-testid="problems"]').textContent()).resolves.toMatch(/% of the area lies outside your jurisdiction/)
    await page.screenshot({ path: join(artifactsDir, 'key-area-outside-en.png') })
    await page.fill('input[name="nameZh"]', '裁剪片区')
    // The campaign's last day: a new key area is listed on the campaign's day, which the demo's is.
    await page.fill('input[name="deadline"]', '2020-12-31')
    await page.keyboard.press('Enter')
    await page.click('[data-testid="key-area-save"]')
    await page.click('.el-message-box .el-button--primary')
    await page.waitForURL(/\/key-areas\/\d+$/)
    const id = Number(page.url().split('/').pop())
    const [inside] = await t.db.sql<{ ok: boolean }[]>`
      select st_covers(st_buffer(t.geom, 0.00001), k.geom) as ok from key_area k join admin_area t on t.id = k.town_id where k.id = ${id}`
    expect(inside!.ok).toBe(true)
    await page.close()
  })
})

describe('the key-area list', () => {
  it('shows each key area\'s acceptance stage and days to its deadline, and sorts by them, in Chinese and in English', async () => {
    const sql = t.db.sql
    const areas = await sql<{ id: number }[]>`
      select k.id from key_area k where k.status = 'listed' and k.deleted_at is null and k.town_id = (select jurisdiction_town_id from app_user where username = 'commander')
      order by k.id limit 2`
    expect(areas).toHaveLength(2)
    const [submitted, returned] = areas.map(a => a.id)
    await sql`insert into key_area_acceptance (key_area_id, submitted_by, open_hazards, checklist) values (${submitted!}, (select id from app_user where username = 'commander'), 0, '{}')`
    await sql`
      insert into key_area_acceptance (key_area_id, submitted_by, open_hazards, checklist, decision, reasons, decided_by, decided_at)
      values (${returned!}, (select id from app_user where username = 'commander'), 0, '{}', 'returned', '台账不全', (select id from app_user where username = 'bureau'), now())`
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } })
    await signInPage(page, base, 'commander', '/key-areas')
    const list = '[data-testid="key-area-list"]'
    await page.waitForSelector(`${list} [data-key-area="${submitted}"]`)
    await expect(page.getAttribute(`${list} [data-key-area="${submitted}"]`, 'data-stage')).resolves.toBe('submitted')
    await expect(page.textContent(`${list} [data-key-area="${submitted}"] [data-testid="key-area-stage"]`)).resolves.toBe('已申请验收')
    await expect(page.getAttribute(`${list} [data-key-area="${returned}"]`, 'data-stage')).resolves.toBe('returned')

    const days = () => page.locator(`${list} tbody tr`).evaluateAll(rows => rows.map(r => r.getAttribute('data-days-left')).filter(d => d !== null).map(Number))
    const ascending = await days()
    expect(ascending.length).toBeGreaterThan(1)
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b))
    await page.click(`${list} [data-sort="daysLeft"]`)
    const descending = await days()
    expect(descending).toEqual([...ascending].reverse())
    // By stage: what awaits a decision first, then what was returned.
    await page.click(`${list} [data-sort="stage"]`)
    const stages = await page.locator(`${list} tbody tr`).evaluateAll(rows => rows.map(r => r.getAttribute('data-stage')))
    expect(stages.slice(0, 2)).toEqual(['submitted', 'returned'])
    await page.screenshot({ path: join(artifactsDir, 'key-area-stages-zh.png') })
    await page.evaluate(() => localStorage.setItem('locale', 'en'))
    await page.reload()
    await page.waitForSelector(`${list} [data-key-area="${submitted}"]`)
    await expect(page.textContent(`${list} [data-key-area="${returned}"] [data-testid="key-area-stage"]`)).resolves.toBe('Returned')
    await page.screenshot({ path: join(artifactsDir, 'key-area-stages-en.png') })
    await page.close()
  })
})
