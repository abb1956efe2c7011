import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactsDir } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

let browser: Browser
let base: string
let web: WebApp

beforeAll(async () => {
  web = await startWebApp()
  ;({ browser, base } = web)
})
afterAll(() => web?.close())

describe('the map\'s export menu', () => {
  it('downloads what the map\'s filters select', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, acceptDownloads: true })
    await signInPage(page, base, 'analyst', '/?kind=care_home')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await page.click('[data-testid="export"] button')
    await page.waitForSelector('.el-dropdown-menu__item')
    expect(await page.locator('.el-dropdown-menu__item').count()).toBe(6)
    await page.screenshot({ path: join(artifactsDir, 'map-export-menu-zh-CN.png') })
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('.el-dropdown-menu__item', { hasText: 'CSV' }).first().click()])
    const file = join(artifactsDir, 'export-premises.csv')
    await download.saveAs(file)
    const lines = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '').trim().split('\r\n')
    const [{ n }] = await web.t.db.sql<{ n: number }[]>`select count(*)::int as n from premises where kind = 'care_home'` as unknown as [{ n: number }]
    expect(lines.length - 1).toBe(n)
    expect(lines.slice(1).every(l => l.split(',')[1] === '养老院/福利院')).toBe(true)
    await page.close()
  })
})
