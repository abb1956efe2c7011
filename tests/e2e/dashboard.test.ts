import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { startWebApp, type WebApp } from '../helpers/web-app.js'

let t: TestApp
let browser: Browser
let base: string
let web: WebApp

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
})
afterAll(() => web?.close())

async function openDashboard(page: Page, query = '') {
  await page.goto(`${base}/login?next=${encodeURIComponent(`/dashboard${query}`)}`)
  await page.fill('input[name="username"]', 'leader')
  await page.fill('input[name="password"]', 'demo1234')
  await page.click('button[type="submit"]')
  await page.waitForSelector('[data-testid="dashboard"] [data-map-state="ready"]', { timeout: 45_000 })
  await page.waitForSelector('[data-testid="ranking"] tbody tr')
  await page.waitForSelector('[data-chart="overdue"] canvas')
}

const indicator = (page: Page, key: string) => page.locator(`[data-testid="dashboard"] [data-measure="${key}"] .rate`).textContent()

describe('the meeting dashboard', () => {
  it('shows the four measures against their targets with the change since the last report day', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
    await openDashboard(page)
    const s = (await t.app.inject({ url: '/api/stats/summary', headers: { cookie: `grd_session=${(await page.context().cookies()).find(c => c.name === 'grd_session')!.value}` } })).json()
    const rate = s.district.measures.find((m: { key: string }) => m.key === 'residents_registered').rate
    await expect(indicator(page, 'residents_registered')).resolves.toBe(`${(rate * 100).toFixed(1)}%`)
    await expect(page.locator('[data-testid="dashboard"] [data-measure="hazards_rectified"] [data-testid="change"]').textContent()).resolves.toMatch(/2020-12-29/)
    for (const chart of ['town-rates', 'trend', 'hazards', 'overdue']) await expect(page.locator(`[data-chart="${chart}"] canvas`).count()).resolves.toBeGreaterThan(0)
    await page.close()
  })

  it('filters the map and flies to a town picked in the ranking, and shows a past report day', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
    await openDashboard(page)
    const district = await indicator(page, 'group_rentals_registered')
    const row = page.locator('[data-testid="ranking"] tbody tr').first()
    const townId = await row.getAttribute('data-town')
    await row.click()
    await page.waitForURL(new RegExp(`town=${townId}`))
    await page.waitForFunction(() => document.querySelector('[data-testid="dashboard"] [data-map-state]')?.getAttribute('data-map-state') === 'ready')
    const [town] = await t.db.sql<{ nameZh: string }[]>`select name_zh from admin_area where id = ${Number(townId)}`
    await expect(page.locator('[data-testid="dashboard"] h2').textContent()).resolves.toContain(town!.nameZh)
    await page.waitForFunction(d => document.querySelector('[data-measure="group_rentals_registered"] .rate')?.textContent !== d, district)

    await page.goto(`${base}/dashboard?asOf=2020-03-14`)
    await page.waitForSelector('[data-testid="ranking"] tbody tr')
    const then = (await t.app.inject({ url: '/api/stats/summary?asOf=2020-03-14', headers: { cookie: `grd_session=${(await page.context().cookies()).find(c => c.name === 'grd_session')!.value}` } })).json()
    const major = then.district.measures.find((m: { key: string }) => m.key === 'major_hazards_rectified').rate
    await page.waitForFunction(v => document.querySelector('[data-measure="major_hazards_rectified"] .rate')?.textContent === v, `${(major * 100).toFixed(1)}%`)
    await page.close()
  })

  it('prints on one A4 landscape page', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await openDashboard(page)
    await page.emulateMedia({ media: 'print' })
    await page.waitForTimeout(300)
    const pdf = (await page.pdf({ format: 'A4', landscape: true, printBackground: true })).toString('latin1')
    expect(pdf.match(/\/Type\s*\/Page(?!s)/g)).toHaveLength(1)
    await page.close()
  })

  it.each(['zh-CN', 'en'] as const)('goes into meeting mode with large type, steps through towns with the keys, and exports a PNG of the screen (%s)', async (locale) => {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 }, acceptDownloads: true })
    await page.addInitScript(l => localStorage.setItem('locale', l), locale)
    await openDashboard(page)
    const small = await page.locator('[data-measure="group_rentals_registered"] .rate').evaluate(e => Number.parseFloat(getComputedStyle(e).fontSize))
    await page.click('[data-testid="meeting"]')
    await page.waitForURL(/meeting=1/)
    const large = await page.locator('[data-measure="group_rentals_registered"] .rate').evaluate(e => Number.parseFloat(getComputedStyle(e).fontSize))
    expect(large).toBeGreaterThan(small * 1.5)
    await page.keyboard.press('ArrowRight')
    await page.waitForURL(/town=\d+/)
    await page.waitForFunction(() => document.querySelector('[data-testid="dashboard"] [data-map-state]')?.getAttribute('data-map-state') === 'ready')
    await page.waitForTimeout(500)
    await page.screenshot({ path: join(artifactsDir, `dashboard-meeting-${locale}.png`) })
    if (locale === 'en') {
      await page.click('[data-testid="dark"]')
      await page.waitForTimeout(500)
      await page.screenshot({ path: join(artifactsDir, 'dashboard-meeting-dark-en.png') })
    }

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-png"]')])
    const file = join(artifactsDir, `dashboard-export-${locale}.png`)
    await download.saveAs(file)
    const png = readFileSync(file)
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))).toBe(true)
    const width = png.readUInt32BE(16)
    const height = png.readUInt32BE(20)
    expect(width).toBeGreaterThan(1500)
    expect(height).toBeGreaterThan(800)
    // A real picture of the screen: the map and the charts give it many different colours.
    const distinct = await page.evaluate(async (src) => {
      const img = new Image()
      img.src = src
      await img.decode()
      const c = document.createElement('canvas')
      c.width = img.width
      c.height = img.height
      const g = c.getContext('2d')!
      g.drawImage(img, 0, 0)
      const data = g.getImageData(0, 0, c.width, c.height).data
      const colours = new Set<number>()
      for (let i = 0; i < data.length; i += 4 * 97) colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!)
      // And the map's own pixels are there (a WebGL canvas would come out blank without them).
      const map = document.querySelector('[data-testid="dashboard"] .map')!.getBoundingClientRect()
      const dash = document.querySelector('[data-testid="dashboard"]')!.getBoundingClientRect()
      const m = g.getImageData(map.left - dash.left + 10, map.top - dash.top + 10, map.width - 20, map.height - 20).data
      const mapColours = new Set<number>()
      for (let i = 0; i < m.length; i += 4 * 13) mapColours.add((m[i]! << 16) | (m[i + 1]! << 8) | m[i + 2]!)
      return { all: colours.size, map: mapColours.size }
    }, `data:image/png;base64,${png.toString('base64')}`)
    expect(distinct.all).toBeGreaterThan(50)
    expect(distinct.map).toBeGreaterThan(10)
    await page.close()
  })
})
