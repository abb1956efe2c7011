import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { startWebApp, type WebApp } from '../helpers/web-app.js'

/**
 * The dashboard in a meeting (issue 17 §2): dark at 1920 × 1080 with no light panel left, the
 * arrow keys in the ranking's order, the time slider's playback, printing and the screen after it.
 */
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

const cookieOf = async (page: Page) => `grd_session=${(await page.context().cookies()).find(c => c.name === 'grd_session')!.value}`

describe('meeting mode', () => {
  it.each(['zh-CN', 'en'] as const)('darkens every panel at 1920 × 1080 (no element keeps a light background), with larger chart text (%s)', async (locale) => {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } })
    await page.addInitScript(l => localStorage.setItem('locale', l), locale)
    await openDashboard(page, '?meeting=1')
    await page.click('[data-testid="dark"]')
    await page.waitForSelector('[data-testid="dashboard"].dark')
    expect(Number(await page.getAttribute('[data-testid="dashboard"]', 'data-chart-scale'))).toBeGreaterThan(1.5)
    await page.waitForTimeout(600)
    await page.screenshot({ path: join(artifactsDir, `meeting-dark-1920-${locale}.png`) })
    // Every panel of the dashboard, each with its own computed background: a light one is a
    // white-on-white panel left behind (the layer box was one).
    const light = await page.evaluate(() => {
      const luminance = (c: string) => {
        const m = c.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/)
        if (!m || (m[4] !== undefined && Number(m[4]) < 0.2)) return null
        const [r, g, b] = [m[1], m[2], m[3]].map(v => Number(v) / 255).map(v => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
      }
      const found: string[] = []
      const all = document.querySelectorAll('[data-testid="dashboard"] *')
      for (const el of all) {
        const box = el.getBoundingClientRect()
        // A panel: a box a label fits in (a switch's knob or a slider's track is not one).
        if (box.width < 24 || box.height < 24 || getComputedStyle(el).visibility === 'hidden') continue
        const l = luminance(getComputedStyle(el).backgroundColor)
        if (l !== null && l > 0.3) found.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ${getComputedStyle(el).backgroundColor}`)
      }
      return { found, checked: all.length }
    })
    expect(light.checked).toBeGreaterThan(100)
    expect(light.found).toEqual([])
    // The map's own picture is dark too (its dark style): the mean brightness of what it drew.
    await page.waitForFunction(() => document.querySelector('[data-testid="dashboard"] .map-wrap')?.classList.contains('dark'))
    await page.waitForTimeout(500)
    const brightness = await page.locator('[data-testid="dashboard"] .maplibregl-canvas').evaluate(async (c: HTMLCanvasElement) => {
      const img = new Image()
      img.src = c.toDataURL()
      await img.decode()
      const copy = document.createElement('canvas')
      copy.width = img.width
      copy.height = img.height
      const ctx = copy.getContext('2d')!
      ctx.drawImage(img, 0, 0)
      const px = ctx.getImageData(0, 0, copy.width, copy.height).data
      let sum = 0
      for (let i = 0; i < px.length; i += 4) sum += 0.2126 * px[i]! + 0.7152 * px[i + 1]! + 0.0722 * px[i + 2]!
      return sum / (px.length / 4)
    })
    expect(brightness).toBeLessThan(90)
    await page.close()
  })

  it('steps through the towns with → and ← in the ranking\'s order, also when sorted by another column', async () => {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } })
    await openDashboard(page, '?meeting=1')
    const order = async () => page.locator('[data-testid="ranking"] tbody tr').evaluateAll(rows => rows.map(r => r.getAttribute('data-town')))
    const ranked = await order()
    expect(ranked.length).toBeGreaterThan(2)
    await page.keyboard.press('ArrowRight')
    await page.waitForURL(new RegExp(`town=${ranked[0]}(&|$)`))
    await page.keyboard.press('ArrowRight')
    await page.waitForURL(new RegExp(`town=${ranked[1]}(&|$)`))
    await page.keyboard.press('ArrowLeft')
    await page.waitForURL(new RegExp(`town=${ranked[0]}(&|$)`))
    // Sorted by the residents' measure, the keys follow the new order.
    await page.keyboard.press('Home')
    await page.waitForURL(u => !u.searchParams.has('town'))
    await page.locator('[data-testid="ranking"] thead th').nth(3).locator('button').click()
    const byResidents = await order()
    await page.keyboard.press('ArrowRight')
    await page.waitForURL(new RegExp(`town=${byResidents[0]}(&|$)`))
    await page.keyboard.press('ArrowLeft')
    await page.keyboard.press('ArrowLeft')
    await page.waitForURL(new RegExp(`town=${byResidents.at(-1)}(&|$)`))
    await page.close()
  })
})

describe('English', () => {
  it('prints no town name over another, and keeps the shortcuts footer below the ranking\'s last row', async () => {
    for (const viewport of [{ width: 1920, height: 1080 }, { width: 1366, height: 768 }]) {
      const page = await browser.newPage({ viewport })
      await page.addInitScript(() => localStorage.setItem('locale', 'en'))
      await openDashboard(page)
      await page.waitForTimeout(500)
      const layout = await page.evaluate(() => {
        const shown = [...document.querySelectorAll<HTMLElement>('[data-testid="dashboard"] .town-label')]
          .filter(e => getComputedStyle(e).visibility !== 'hidden' && getComputedStyle(e).display !== 'none').map(e => e.getBoundingClientRect())
        let overlaps = 0
        for (let i = 0; i < shown.length; i++) {
          for (let j = i + 1; j < shown.length; j++) {
            const [a, b] = [shown[i]!, shown[j]!]
            if (a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top) overlaps++
          }
        }
        const rows = [...document.querySelectorAll('[data-testid="ranking"] tbody tr')]
        const last = rows.at(-1)!.getBoundingClientRect()
        const keys = document.querySelector('[data-testid="dashboard"] .keys')!.getBoundingClientRect()
        return { shown: shown.length, overlaps, rows: rows.length, lastBottom: last.bottom, keysTop: keys.top }
      })
      expect(layout.shown).toBeGreaterThan(3)
      expect(layout.overlaps, `${viewport.width}`).toBe(0)
      expect(layout.rows).toBe(10)
      expect(layout.keysTop, `${viewport.width}`).toBeGreaterThanOrEqual(layout.lastBottom)
      await page.close()
    }
  })
})

describe('the time slider', () => {
  it('plays the report days: the day, the figures and the trend\'s marker follow each step', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
    await openDashboard(page)
    const cookie = await cookieOf(page)
    const campaign = (await t.app.inject({ url: '/api/campaign', headers: { cookie } })).json() as { reportDates: string[] }
    const figure = async (day: string) => {
      const s = (await t.app.inject({ url: `/api/stats/summary?asOf=${day}`, headers: { cookie } })).json()
      const rate = s.district.measures.find((m: { key: string }) => m.key === 'hazards_rectified').rate
      return rate === null ? '—' : `${(rate * 100).toFixed(1)}%`
    }
    const [first, second] = campaign.reportDates
    const expected = [await figure(first!), await figure(second!)]
    const last = await figure(campaign.reportDates.at(-1)!)
    expect(new Set([...expected, last]).size, 'the demo campaign moves between these days').toBeGreaterThan(1)

    await page.click('[data-testid="timeline-play"]')
    await page.waitForURL(new RegExp(`asOf=${first}`))
    await page.waitForFunction(v => document.querySelector('[data-measure="hazards_rectified"] .rate')?.textContent === v, expected[0], { timeout: 20_000 })
    await expect(page.locator('[data-testid="timeline-day"]').textContent()).resolves.toBe(first)
    await page.waitForURL(new RegExp(`asOf=${second}`), { timeout: 20_000 })
    await page.waitForFunction(v => document.querySelector('[data-measure="hazards_rectified"] .rate')?.textContent === v, expected[1], { timeout: 20_000 })
    await page.waitForSelector('[data-testid="dashboard"] [data-map-state="ready"]', { timeout: 20_000 })
    await page.screenshot({ path: join(artifactsDir, 'meeting-time-slider.png') })
    await page.click('[data-testid="timeline-play"]')
    await expect(page.getAttribute('[data-testid="timeline"]', 'data-playing')).resolves.toBe('false')
    await page.close()
  })

  it('picks the report day clicked in the trend chart', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
    await openDashboard(page)
    const cookie = await cookieOf(page)
    const { reportDates } = (await t.app.inject({ url: '/api/campaign', headers: { cookie } })).json() as { reportDates: string[] }
    await page.waitForSelector('[data-chart="trend"] canvas')
    // The first report day sits at the left end of the plot (the grid starts 44 px in).
    const box = (await page.locator('[data-chart="trend"]').boundingBox())!
    const step = (box.width - 44 - 16) / reportDates.length
    await page.mouse.click(box.x + 44 + step / 2, box.y + box.height / 2)
    await page.waitForURL(new RegExp(`asOf=${reportDates[0]}`))
    await page.close()
  })
})

describe('print', () => {
  it('prints on one A4 landscape page and leaves the screen as it was', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
    await openDashboard(page)
    const sizes = () => page.locator('[data-testid="dashboard"] [data-chart] canvas').evaluateAll(cs => cs.map(c => `${c.clientWidth}x${c.clientHeight}`))
    const mapSize = () => page.locator('[data-testid="dashboard"] .maplibregl-canvas').evaluate(c => `${c.clientWidth}x${c.clientHeight}`)
    const before = { charts: await sizes(), map: await mapSize() }
    await page.emulateMedia({ media: 'print' })
    await page.waitForTimeout(400)
    // On paper the map keeps its proportions (not squashed) and no chart runs out of its box.
    const paper = await page.evaluate(() => {
      const map = document.querySelector('[data-testid="dashboard"] .maplibregl-canvas')!.getBoundingClientRect()
      const cropped = [...document.querySelectorAll('[data-testid="dashboard"] .card.chart')].filter((card) => {
        const box = card.getBoundingClientRect()
        const c = card.querySelector('canvas')?.getBoundingClientRect()
        return c && (c.right > box.right + 1 || c.bottom > box.bottom + 1)
      }).length
      return { aspect: map.width / map.height, cropped }
    })
    expect(paper.cropped).toBe(0)
    await page.screenshot({ path: join(artifactsDir, 'meeting-print.png'), fullPage: true })
    const pdf = (await page.pdf({ format: 'A4', landscape: true, printBackground: true })).toString('latin1')
    expect(pdf.match(/\/Type\s*\/Page(?!s)/g)).toHaveLength(1)
    await page.emulateMedia({ media: 'screen' })
    await page.evaluate(() => window.dispatchEvent(new Event('afterprint')))
    await page.waitForTimeout(600)
    // Back on the screen, every chart and the map fill their boxes again, as before printing.
    const fit = () => page.evaluate(() => [...document.querySelectorAll('[data-testid="dashboard"] [data-chart], [data-testid="dashboard"] .left > .map')].map((box) => {
      const canvas = box.querySelector('canvas')!.getBoundingClientRect()
      const b = box.getBoundingClientRect()
      return Math.abs(canvas.width - b.width) <= 2 && Math.abs(canvas.height - b.height) <= 2
    }))
    expect(before.charts).toHaveLength(4)
    await expect(fit()).resolves.toEqual([true, true, true, true, true])
    expect(await mapSize()).toBe(before.map)
    expect(paper.aspect).toBeGreaterThan(0.5)
    await page.close()
  })
})

describe('the page address', () => {
  it('keeps the filters and the map position, so that a copied link opens the same view', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
    await openDashboard(page, '?category=fire&at=119.95000,31.90000,13.25')
    await page.waitForFunction(() => document.querySelector('[data-testid="dashboard"]')?.getAttribute('data-map-at') === '119.95000,31.90000,13.25')
    const cookie = await cookieOf(page)
    const fire = (await t.app.inject({ url: '/api/stats/summary?category=fire', headers: { cookie } })).json()
    const rate = fire.district.measures.find((m: { key: string }) => m.key === 'hazards_rectified').rate
    await page.waitForFunction(v => document.querySelector('[data-measure="hazards_rectified"] .rate')?.textContent === v, `${(rate * 100).toFixed(1)}%`)

    // Moving the map writes where it came to rest; that address opens the same place elsewhere.
    const map = (await page.locator('[data-testid="dashboard"] .maplibregl-canvas').boundingBox())!
    await page.mouse.move(map.x + map.width / 2, map.y + map.height / 2)
    await page.mouse.down()
    await page.mouse.move(map.x + map.width / 2 - 120, map.y + map.height / 2 + 60, { steps: 8 })
    await page.mouse.up()
    await page.waitForURL(u => u.searchParams.get('at') !== '119.95000,31.90000,13.25' && u.searchParams.get('category') === 'fire')
    const moved = new URL(page.url())
    const at = moved.searchParams.get('at')!
    const other = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
    await openDashboard(other, moved.search)
    await other.waitForFunction(v => document.querySelector('[data-testid="dashboard"]')?.getAttribute('data-map-at') === v, at)
    await other.waitForFunction(v => document.querySelector('[data-measure="hazards_rectified"] .rate')?.textContent === v, `${(rate * 100).toFixed(1)}%`)
    await other.close()
    await page.close()
  })

  it('filters the map and the other charts by the category clicked in the hazards chart', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
    await openDashboard(page)
    const box = (await page.locator('[data-chart="hazards"]').boundingBox())!
    const cookie = await cookieOf(page)
    const stats = (await t.app.inject({ url: '/api/stats/hazards', headers: { cookie } })).json() as { byCategory: { category: string; found: number }[] }
    // The first category's bars: the plot starts 52 px in; its found bar is the highest of the three.
    const n = stats.byCategory.length
    const x = box.x + 52 + (box.width - 52 - 16) / n * 0.3
    const top = Math.max(...stats.byCategory.map(c => c.found))
    const y = box.y + box.height - 28 - 2 - Math.min(1, stats.byCategory[0]!.found / top) * 10
    await page.mouse.click(x, y)
    await page.waitForURL(new RegExp(`category=${stats.byCategory[0]!.category}`))
    await page.waitForSelector('[data-testid="dashboard"] [data-map-state="ready"]')
    await page.screenshot({ path: join(artifactsDir, `dashboard-category-${stats.byCategory[0]!.category}.png`) })
    await page.close()
  })

  it('filters the map, its counts and the measures by the status clicked in the legend, and again shows all', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await page.goto(`${base}/login`)
    await page.fill('input[name="username"]', 'leader')
    await page.fill('input[name="password"]', 'demo1234')
    await page.click('button[type="submit"]')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    const cookie = await cookieOf(page)
    const counts = (await t.app.inject({ url: '/api/premises/counts?status=overdue', headers: { cookie } })).json() as { total: number }
    expect(counts.total).toBeGreaterThan(0)
    await page.click('[data-testid="legend"] li[data-status="overdue"]')
    await page.waitForURL(/status=overdue/)
    await page.waitForFunction(n => document.querySelector('[data-testid="legend"] .total')?.textContent?.replace(/\D/g, '') === String(n), counts.total)
    await page.click('[data-testid="legend"] li[data-status="overdue"]')
    await page.waitForURL(u => !u.searchParams.has('status'))
    await page.close()
  })

  it('saves a view under a name and opens it again from the list', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
    await openDashboard(page, '?overdue=true&at=119.90000,31.92000,12.00')
    await page.click('[data-testid="views-save"]')
    await page.fill('[data-testid="views-name"]', '逾期会商')
    await page.click('[data-testid="views-confirm"]')
    await page.waitForSelector('.el-message--success')
    await page.goto(`${base}/dashboard`)
    await page.waitForSelector('[data-testid="dashboard"] [data-map-state="ready"]', { timeout: 45_000 })
    await page.click('[data-testid="views-select"]')
    await page.click('[data-testid="views"] .el-select-dropdown__item:has-text("逾期会商")')
    await page.waitForURL(u => u.searchParams.get('overdue') === 'true' && u.searchParams.get('at') === '119.90000,31.92000,12.00')
    await page.waitForFunction(() => document.querySelector('[data-testid="dashboard"]')?.getAttribute('data-map-at') === '119.90000,31.92000,12.00')
    await page.close()
  })
})
