import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactsDir } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/** The closing phase's checklist on a commander's dashboard, and the phase in the header. */
let web: WebApp

beforeAll(async () => {
  web = await startWebApp()
})
afterAll(() => web?.close())

describe('the closing checklist', () => {
  it('lists what the closing phase needs with progress for a commander, and the campaign\'s end in the header', async () => {
    const page = await web.browser.newPage({ viewport: { width: 1600, height: 1000 } })
    await signInPage(page, web.base, 'commander', '/dashboard')
    await page.waitForSelector('[data-testid="closing"] li[data-item="finalTables"]')
    const items = await page.$$eval('[data-testid="closing"] li', lis => lis.map(li => [li.getAttribute('data-item'), li.getAttribute('data-met')]))
    expect(items.map(i => i[0])).toEqual(['groupRentalsRegistered', 'residentsRegistered', 'majorHazardsRectified', 'keyAreasCleared', 'keyAreasDelisted', 'revisitsDone', 'finalTables'])
    // The demo campaign ended in 2020: the phase says so, and nothing was submitted for its last period.
    await expect(page.textContent('[data-testid="closing-phase"]')).resolves.toMatch(/2020-12-31/)
    await expect(page.getAttribute('[data-testid="header"] [data-testid="campaign-phase"]', 'data-phase')).resolves.toBe('over')
    expect(items.find(i => i[0] === 'finalTables')![1]).toBe('false')
    await page.locator('[data-testid="closing"]').scrollIntoViewIfNeeded()
    await page.screenshot({ path: join(artifactsDir, 'closing-checklist.png') })
    // The revisits line names each town of the commander's with its outcomes recorded of those drawn: none drawn yet.
    const town = (await web.t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`)[0]!.id
    const towns = await page.$$eval('[data-testid="closing-revisits"] [data-town]', els => els.map(e => [Number(e.getAttribute('data-town')), e.getAttribute('data-drawn'), e.getAttribute('data-recorded')]))
    expect(towns).toEqual([[town, '0', '0']])
    expect(items.find(i => i[0] === 'revisitsDone')![1]).toBe('false')
    await page.evaluate(() => localStorage.setItem('locale', 'en'))
    await page.reload()
    await page.waitForSelector('[data-testid="closing"] li[data-item="revisitsDone"]')
    await page.locator('[data-testid="closing"]').scrollIntoViewIfNeeded()
    await page.screenshot({ path: join(artifactsDir, 'closing-checklist-en.png') })
    await page.close()
  })

  it('is not shown to a leader, who sees the hazards by responsible unit and can download them for the assessment', async () => {
    const page = await web.browser.newPage({ viewport: { width: 1600, height: 1000 } })
    await signInPage(page, web.base, 'leader', '/dashboard')
    await page.waitForSelector('[data-testid="ranking"] tbody tr')
    await page.waitForSelector('[data-testid="unit-hazards"] tbody tr[data-unit="fire"]')
    expect(await page.locator('[data-testid="closing"]').count()).toBe(0)
    const cells = await page.$$eval('[data-testid="unit-hazards"] tbody tr[data-unit="fire"] td', tds => tds.map(td => td.textContent!.trim()))
    expect(Number(cells[1]!.replace(/,/g, ''))).toBeGreaterThan(0)
    await page.click('[data-testid="unit-hazards"] button:has-text("按镇（街道）")')
    expect(await page.locator('[data-testid="unit-hazards"] tbody tr').count()).toBeGreaterThan(1)
    const download = page.waitForEvent('download')
    await page.click('[data-testid="unit-hazards-xlsx"]')
    expect((await download).suggestedFilename()).toMatch(/^accountability-2020-12-31\.xlsx$/)
    await page.locator('[data-testid="unit-hazards"]').scrollIntoViewIfNeeded()
    await page.screenshot({ path: join(artifactsDir, 'unit-hazards.png') })
    await page.close()
  })
})
