import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/**
 * The leads as a layer of the main map (issue 16): offered in the layer box to the roles that may
 * read leads, off until switched on, drawn with their legend, a tap showing the lead's popup.
 */

let t: TestApp
let browser: Browser
let base: string
let web: WebApp
/** Leads of the commander's town, one per band A-C, highest score first. */
let leads: { premisesId: number; address: string }[] = []

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
  const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
  leads = [...await t.db.owner<{ premisesId: number; address: string }[]>`
    with picked as (
      select p.id, p.address, p.geom, p.town_id, p.community_id, p.police_station_id, row_number() over (order by p.id) as n
      from premises p where p.town_id = ${town!.id} and p.kind = 'rental' and p.deregistered_on is null
      order by p.id limit 3
    )
    insert into lead (premises_id, address, geom, town_id, community_id, police_station_id, score, band, candidate, status)
    select id, address, geom, town_id, community_id, police_station_id, 1.0 - n * 0.2, (array['A', 'B', 'C'])[n], true, 'new' from picked
    on conflict (premises_id) do update set score = excluded.score, band = excluded.band, candidate = true, status = 'new'
    returning premises_id, address`]
  expect(leads).toHaveLength(3)
})
afterAll(() => web?.close())

const drawnLeads = (page: Page) => page.getAttribute('[data-map-state]', 'data-leads').then(Number)

/** Waits until the map is idle at about zoom 16 (a premises opened from the address flies there). */
async function atStreetLevel(page: Page) {
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-map-state="ready"]')
    return Number(el?.getAttribute('data-view')?.split(',')[2]) > 15.9
  }, undefined, { timeout: 45_000 })
}

describe('the leads layer of the main map', () => {
  it('is offered to a commander switched off, then draws the town\'s leads with their legend and a popup naming the lead\'s address', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    const lead = leads[0]!
    await signInPage(page, base, 'commander', `/?premises=${lead.premisesId}`)
    await atStreetLevel(page)
    const box = page.locator('[data-testid="layers"] input[data-layer="leads"]')
    await expect(box.count()).resolves.toBe(1)
    await expect(box.isChecked()).resolves.toBe(false)
    await expect(drawnLeads(page)).resolves.toBe(0)
    await expect(page.locator('[data-testid="lead-legend"]').count()).resolves.toBe(0)

    await box.check()
    await page.waitForFunction(() => Number(document.querySelector('[data-map-state="ready"]')?.getAttribute('data-leads')) > 0, undefined, { timeout: 30_000 })
    await expect(page.locator('[data-testid="lead-legend"]').textContent()).resolves.toMatch(/A[^\n\rB\u2028\u2029]*B[^\n\rC\u2028\u2029]*C.*D/)

    // The lead lies where the premises was opened: the middle of the map.
    const canvas = (await page.locator('.maplibregl-canvas').boundingBox())!
    await page.mouse.click(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2)
    const popup = page.locator('.place-popup[data-place="leads"]')
    await popup.getByText(lead.address).waitFor({ timeout: 15_000 })
    await expect(popup.textContent()).resolves.toContain('等级 A')
    await page.screenshot({ path: join(artifactsDir, 'map-leads-zh.png') })

    await page.click('.place-popup[data-place="leads"] >> xpath=ancestor::div[contains(@class, "maplibregl-popup")]//button[contains(@class, "maplibregl-popup-close-button")]')
    await page.click('button.lang')
    await page.locator('[data-testid="lead-legend"]').getByText('Visited').waitFor()
    // The English header may be taller: the map (and the lead at its middle) moves with it.
    await page.waitForSelector('[data-map-state="ready"]')
    const moved = (await page.locator('.maplibregl-canvas').boundingBox())!
    await page.mouse.click(moved.x + moved.width / 2, moved.y + moved.height / 2)
    await page.locator('.place-popup[data-place="leads"]').getByText('Open in the list of leads').first().waitFor({ timeout: 15_000 })
    await page.screenshot({ path: join(artifactsDir, 'map-leads-en.png') })

    await box.uncheck()
    await page.waitForFunction(() => document.querySelector('[data-map-state="ready"]')?.getAttribute('data-leads') === '0', undefined, { timeout: 30_000 })
    await page.close()
  })

  it('is not offered to a leader, whose role may not read leads', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signInPage(page, base, 'leader')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await expect(page.locator('[data-testid="layers"] input[data-layer="pois"]').count()).resolves.toBe(1)
    await expect(page.locator('[data-testid="layers"] input[data-layer="leads"]').count()).resolves.toBe(0)
    await page.close()
  })
})
