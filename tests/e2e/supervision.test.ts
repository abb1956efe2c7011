import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { insertPhoto } from '../helpers/photos.js'
import { dayFromToday } from '../helpers/tasks.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/**
 * The supervision board in the browser: a commander sees the town's items on the map and in the
 * list, the most overdue first with its escalation level, and closes one with a note and a photo;
 * on a desktop and on a phone (390 × 844, touch), in Chinese and in English.
 */
let t: TestApp
let browser: Browser
let base: string
let web: WebApp
const ids = { overdue: 0, fresh: 0, closable: 0, photo: 0 }

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
  const sql = t.db.sql
  const [town] = await sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
  const premises = (await sql<{ id: number }[]>`select id from premises where town_id = ${town!.id} order by id limit 3`).map(r => r.id)
  const item = async (premisesId: number, o: { rectified?: boolean; deadline: string; listedOn: string }) => {
    const [h] = await sql<{ id: number }[]>`
      insert into hazard (premises_id, item_code, severity, status, department_code, found_at, rectified_at, deadline)
      values (${premisesId}, 'FIRE-06', 'major', ${o.rectified ? 'rectified' : 'found'}, 'fire', now() - interval '40 days', ${o.rectified ? sql`now()` : null}, current_date + 10)
      returning id`
    const [s] = await sql<{ id: number }[]>`
      insert into supervision_item (campaign_id, kind, hazard_id, premises_id, town_id, police_station_id, unit_kind, unit_department, responsible_person, reason, deadline, listed_on, listed_by)
      select (select id from campaign limit 1), 'hazard', ${h!.id}, p.id, p.town_id, p.police_station_id, 'department', 'fire', '消防大队 王科长', '重大火灾隐患', ${o.deadline}::date, ${o.listedOn}::date,
             (select id from app_user where username = 'commander')
      from premises p where p.id = ${premisesId}
      returning id`
    return { item: s!.id, hazard: h!.id }
  }
  const d = { past: dayFromToday(-9), later: dayFromToday(20), longAgo: dayFromToday(-30) }
  ids.overdue = (await item(premises[0]!, { deadline: d.past, listedOn: d.longAgo })).item
  await t.app.supervision.escalate(dayFromToday(0))
  ids.fresh = (await item(premises[1]!, { deadline: d.later, listedOn: d.longAgo })).item
  const closable = await item(premises[2]!, { deadline: d.later, listedOn: d.longAgo, rectified: true })
  ids.closable = closable.item
  ids.photo = await insertPhoto(sql, { hazardId: closable.hazard, stage: 'rectified' })
})
afterAll(() => web?.close())

const shot = (page: Page, name: string) => page.screenshot({ path: join(artifactsDir, `${name}.png`) })

async function board(page: Page) {
  await signInPage(page, base, 'commander', '/supervision')
  await page.waitForSelector(`[data-item="${ids.overdue}"]`)
  await page.waitForFunction(() => document.querySelector('[data-map-state]')?.getAttribute('data-map-state') === 'ready', undefined, { timeout: 45_000 })
}

describe('the supervision board', () => {
  it('lists the town\'s items with the most overdue first, its days late and its level (9 days: level 2), and offers the 督办通报', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 820 } })
    await board(page)
    const order = await page.locator('[data-item]').evaluateAll(els => els.map(e => Number(e.getAttribute('data-item'))))
    expect(order[0]).toBe(ids.overdue)
    expect(order).toContain(ids.fresh)
    const first = page.locator(`[data-item="${ids.overdue}"]`)
    await expect(first.locator('[data-testid="days-overdue"]').textContent()).resolves.toContain('超期 9 天')
    await expect(first.locator('.level').textContent()).resolves.toContain('二级升级')
    const href = await page.locator('[data-testid="supervision-xlsx"]').getAttribute('href')
    const xlsx = await page.request.get(`${base}${href}`)
    expect(xlsx.status()).toBe(200)
    expect(xlsx.headers()['content-type']).toContain('spreadsheetml')
    await shot(page, 'supervision-board-zh')
    await page.close()
  })

  it('closes an item with a note and its photo through the dialog: it leaves the open list, closed with that photo', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 820 } })
    await board(page)
    await page.click(`[data-item="${ids.closable}"] [data-testid="supervision-close"]`)
    await page.fill('.el-dialog textarea', '已拆除违规隔断，复查合格')
    await page.click('.photos button')
    await shot(page, 'supervision-close-dialog-zh')
    await page.click('[data-testid="close-confirm"]')
    await page.waitForSelector(`[data-item="${ids.closable}"]`, { state: 'detached' })
    const [row] = await t.db.sql<{ state: string; closingPhotoIds: string[] }[]>`select state, closing_photo_ids from supervision_item where id = ${ids.closable}`
    expect(row!.state).toBe('closed')
    expect(row!.closingPhotoIds.map(Number)).toEqual([ids.photo])
    await page.close()
  })

  it('works on a phone at 390 × 844 with touch, in Chinese and in English', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })
    const page = await context.newPage()
    await board(page)
    await page.locator(`[data-item="${ids.overdue}"]`).tap()
    await expect(page.locator(`[data-item="${ids.overdue}"]`).getAttribute('class')).resolves.toContain('selected')
    // The list is not wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await shot(page, 'supervision-board-phone-zh')
    await page.evaluate(() => localStorage.setItem('locale', 'en'))
    await page.reload()
    await page.waitForSelector(`[data-item="${ids.overdue}"]`)
    await shot(page, 'supervision-board-phone-en')
    await context.close()
  })

  it('shows the units\' accountability under the towns\' ranking on the dashboard, with the fire brigade\'s overdue item, and the campaign\'s phase in the header', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } })
    await signInPage(page, base, 'leader', '/dashboard')
    await page.waitForSelector('[data-testid="accountability"] [data-unit="department:fire"]')
    const row = page.locator('[data-testid="accountability"] [data-unit="department:fire"] td')
    await expect(row.nth(2).textContent()).resolves.toBe('1')
    // The header names the campaign's phase today (the demo campaign's dates: 2019-12-15 to 2020-12-31).
    const phase = dayFromToday(0) > '2020-12-31' ? 'over' : dayFromToday(0) < '2019-12-15' ? 'before' : null
    if (phase) await expect(page.locator('[data-testid="campaign-phase"]').getAttribute('data-phase')).resolves.toBe(phase)
    else await expect(page.locator('[data-testid="campaign-phase"]').textContent()).resolves.toMatch(/还剩 \d+ 天/)
    await page.locator('[data-testid="accountability"]').scrollIntoViewIfNeeded()
    await shot(page, 'accountability-panel-zh')
    await page.close()
  })
})
