import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/** A commander submits a key area with no open hazard for acceptance through its dialog, checklist confirmed. */
let t: TestApp
let browser: Browser
let base: string
let web: WebApp
let keyArea = 0

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
  // A small listed key area of the commander's town around a spot with no premises.
  const [p] = await t.db.sql<{ lon: number; lat: number; townId: number }[]>`
    select st_x(p.geom) as lon, st_y(p.geom) as lat, p.town_id from premises p join app_user u on u.username = 'commander' and p.town_id = u.jurisdiction_town_id order by p.id limit 1`
  const [k] = await t.db.sql<{ id: number }[]>`
    insert into key_area (campaign_id, name_zh, town_id, status, listed_on, deadline, geom)
    values ((select id from campaign limit 1), '验收演示地块', ${p!.townId}, 'listed', '2020-03-01', '2020-12-31',
            st_multi(st_buffer(st_setsrid(st_makepoint(${p!.lon + 0.0004}, ${p!.lat + 0.0004}), 4326), 0.00005)))
    returning id`
  keyArea = k!.id
})
afterAll(() => web?.close())

describe('the acceptance dialog', () => {
  it('submits a key area once every point of the checklist is confirmed, and shows it submitted', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 820 } })
    await signInPage(page, base, 'commander', `/key-areas/${keyArea}`)
    await page.waitForSelector('[data-testid="acceptance"]')
    await expect(page.locator('[data-testid="acceptance"] .stage').textContent()).resolves.toBe('整治中')
    await page.click('[data-testid="acceptance-open"]')
    await expect(page.locator('[data-testid="acceptance-submit"]').isDisabled()).resolves.toBe(true)
    for (const box of await page.locator('.el-dialog [data-check]').all()) await box.click()
    await page.fill('.el-dialog [data-testid="acceptance-documents"] input, .el-dialog input[data-testid="acceptance-documents"]', '三井街道〔2020〕12号')
    await page.screenshot({ path: join(artifactsDir, 'acceptance-dialog-zh.png') })
    await page.click('[data-testid="acceptance-submit"]')
    await page.waitForSelector('[data-testid="acceptance"] .stage[data-stage="submitted"]')
    const [row] = await t.db.sql<{ documents: string[] }[]>`select documents from key_area_acceptance where key_area_id = ${keyArea}`
    expect(row!.documents).toEqual(['三井街道〔2020〕12号'])
    await page.close()
  })
})
