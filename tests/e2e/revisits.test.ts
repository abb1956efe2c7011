import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/**
 * The revisits page (明察暗访): a commander draws a sample of the town's rectified hazards, draws it
 * again with the same seed and is shown the same records; on a phone (390 × 844, touch) records a
 * relapse, which reopens the hazard, and reads the town's relapse rate; in Chinese and in English.
 */
let t: TestApp
let browser: Browser
let base: string
let web: WebApp
let town = 0

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
  town = (await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`)[0]!.id
})
afterAll(() => web?.close())

const shot = (page: Page, name: string) => page.screenshot({ path: join(artifactsDir, `${name}.png`) })
const shownRecords = (page: Page) => page.locator('[data-testid="revisit-sample"] [data-revisit] .address').evaluateAll(els => els.map(e => e.textContent))

describe('the revisits page', () => {
  it('draws a sample of the town\'s rectified hazards, and the same records again with the same seed', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } })
    await signInPage(page, base, 'commander', '/revisits')
    await page.waitForSelector('[data-testid="revisit-draw"]')
    await page.click('[data-testid="revisit-draw"] label:has-text("按数量")')
    await page.fill('[data-testid="revisit-size"] input', '3')
    await page.fill('[data-testid="revisit-seed"]', 'e2e-spring')
    await page.click('[data-testid="revisit-draw-confirm"]')
    const first = page.locator('[data-testid="revisit-sample"]')
    await first.locator('[data-revisit]').nth(2).waitFor()
    const firstId = Number(await first.getAttribute('data-sample'))
    const records = await shownRecords(page)
    expect(records).toHaveLength(3)
    await expect(page.textContent('[data-testid="revisit-reproducible"]')).resolves.toContain('e2e-spring')

    await page.click('[data-testid="revisit-again"]')
    await page.click('[data-testid="revisit-draw-confirm"]')
    await page.waitForSelector(`[data-testid="revisit-sample"]:not([data-sample="${firstId}"])`)
    await expect(page.textContent('[data-testid="revisit-same"]')).resolves.toContain(`#${firstId}`)
    await expect(page.getAttribute('[data-testid="revisit-same"]', 'class')).resolves.not.toContain('differs')
    expect(await shownRecords(page)).toEqual(records)
    await shot(page, 'revisits-zh')
    await page.close()
  })

  it('records a relapse on a phone (390 × 844, touch): the hazard is reopened and the town\'s relapse rate shown', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })
    const page = await context.newPage()
    await signInPage(page, base, 'commander', '/revisits')
    // The latest sample opens by itself.
    const item = page.locator('[data-testid="revisit-sample"] [data-revisit]').first()
    await item.waitFor()
    const itemId = Number(await item.getAttribute('data-revisit'))
    const [row] = await t.db.sql<{ hazardId: number }[]>`select hazard_id from revisit_item where id = ${itemId}`
    await item.locator('[data-outcome-choice="relapsed"]').tap()
    await item.locator('[data-testid="revisit-note"]').fill('隔断又搭起来了')
    await shot(page, 'revisits-outcome-phone-zh')
    await item.locator('[data-testid="revisit-confirm"]').tap()
    await page.waitForSelector(`[data-revisit="${itemId}"][data-outcome="relapsed"]`)
    const [h] = await t.db.sql<{ status: string; rectifiedAt: Date | null }[]>`select status, rectified_at from hazard where id = ${row!.hazardId}`
    expect(['found', 'referred']).toContain(h!.status)
    expect(h!.rectifiedAt).toBeNull()
    // One relapse over the one revisit recorded in the town: 100 %.
    const rate = `[data-testid="rates-towns"] tr[data-unit="${town}"] .rate`
    await page.waitForFunction(sel => /100/.test(document.querySelector(sel)?.textContent ?? ''), rate)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await shot(page, 'revisits-phone-zh')

    await page.evaluate(() => localStorage.setItem('locale', 'en'))
    await page.reload()
    await page.locator('[data-testid="revisit-sample"] [data-revisit]').first().waitFor()
    await expect(page.textContent(`[data-revisit="${itemId}"]`)).resolves.toContain('Relapsed')
    await shot(page, 'revisits-phone-en')

    // The premises' hazard card shows it open again.
    await page.locator(`[data-revisit="${itemId}"] .address`).tap()
    await page.waitForSelector(`[data-testid="premises-panel"] [data-hazard="${row!.hazardId}"][data-status="${h!.status}"]`, { state: 'attached' })
    await context.close()
  })
})
