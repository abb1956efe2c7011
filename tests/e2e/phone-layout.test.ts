import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir, phoneContext } from '../helpers/browser.js'
import { startWebApp, signInPage, type WebApp } from '../helpers/web-app.js'

let t: TestApp
let browser: Browser
let base: string
let web: WebApp

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
})
afterAll(() => web?.close())

type Box = { x: number; y: number; width: number; height: number }
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height

async function ready(page: Page) {
  await page.waitForFunction(() => document.querySelector('[data-map-state]')?.getAttribute('data-map-state') === 'ready', undefined, { timeout: 45_000 })
}

/** The boxes of what lies over the map, by name (hidden ones left out). */
async function overlays(page: Page): Promise<Record<string, Box>> {
  const out: Record<string, Box> = {}
  for (const [name, selector] of Object.entries({
    legend: '[data-testid="legend"]', toolbar: '.toolbar', locate: '[data-testid="locate"]', layers: '[data-testid="layers"]',
    zoom: '.maplibregl-ctrl-top-right', scale: '.maplibregl-ctrl-bottom-right', header: '[data-testid="header"]',
  })) {
    const b = await page.locator(selector).first().boundingBox()
    if (b && b.width > 0 && b.height > 0) out[name] = b
  }
  return out
}

async function inspectorPremises(): Promise<number> {
  const [p] = await t.db.sql<{ id: number }[]>`
    select p.id from premises p where p.hazard_count > 0 and p.town_id = (select jurisdiction_town_id from app_user where username = 'inspector')
    order by p.id limit 1`
  return p!.id
}

describe('the sign-in page on a phone (390 × 844, touch)', () => {
  it('fits the screen: the form and every field and button inside it, nothing to scroll sideways, in Chinese and English', async () => {
    const context = await browser.newContext(phoneContext)
    const page = await context.newPage()
    await page.goto(`${base}/login`)
    await page.locator('[data-testid="demo-accounts"]').waitFor()
    for (const lang of ['zh', 'en']) {
      const inside = async (selector: string) => {
        for (const el of await page.locator(selector).all()) {
          const b = (await el.boundingBox())!
          expect(b.x, `${selector} (${lang})`).toBeGreaterThanOrEqual(0)
          expect(b.x + b.width, `${selector} (${lang})`).toBeLessThanOrEqual(390)
        }
      }
      await inside('form.card')
      await inside('form.card input, form.card button')
      await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(390)
      await page.screenshot({ path: join(artifactsDir, `phone-signin-${lang}.png`) })
      if (lang === 'zh') {
        await page.tap('form.card .lang')
        await page.locator('form.card .submit', { hasText: 'Sign in' }).waitFor()
      }
    }
    await context.close()
  })
})

describe('the map page on a phone (390 × 844, touch)', () => {
  let context: BrowserContext
  let page: Page
  beforeAll(async () => {
    context = await browser.newContext(phoneContext)
    page = await context.newPage()
    await signInPage(page, base, 'inspector')
    await ready(page)
  })
  afterAll(() => context?.close())

  it('lets the map fill the screen below a compact header', async () => {
    const map = (await page.locator('[data-map-state]').boundingBox())!
    expect(map.height).toBeGreaterThanOrEqual(0.7 * 844)
    expect(map.width).toBe(390)
    const header = (await page.locator('[data-testid="header"]').boundingBox())!
    expect(header.height).toBeLessThanOrEqual(60)
    // The filters are not a column beside the map any more; the legend is folded.
    await expect(page.locator('[data-testid="map-filters"]').count()).resolves.toBe(0)
    await expect(page.locator('[data-testid="legend"] ul').count()).resolves.toBe(0)
    await page.screenshot({ path: join(artifactsDir, 'phone-map.png') })
    await page.click('[data-testid="menu-open"]')
    await page.waitForSelector('#phone-menu a[data-nav="key-areas"]')
    await page.screenshot({ path: join(artifactsDir, 'phone-menu.png') })
    for (const link of await page.locator('#phone-menu a, #phone-menu button').all()) expect((await link.boundingBox())!.height).toBeGreaterThanOrEqual(44)
    await page.click('[data-testid="menu-open"]')
  })

  it('opens a premises as a bottom sheet that nothing on the map overlaps, at half and peek height, and at full height hides the map\'s controls', async () => {
    const id = await inspectorPremises()
    await page.goto(`${base}/?premises=${id}`)
    const sheet = page.locator('[data-testid="premises-sheet"]')
    await page.waitForSelector(`[data-testid="premises-panel"][data-premises="${id}"] h2`)
    await ready(page)
    await expect(sheet.getAttribute('data-sheet-state')).resolves.toBe('half')
    await page.click('[data-testid="legend-toggle"]')
    for (const state of ['half', 'peek'] as const) {
      if (state === 'peek') {
        // A tap on the handle steps half → full → peek.
        await page.tap('[data-testid="sheet-handle"]')
        await page.tap('[data-testid="sheet-handle"]')
        await expect(sheet.getAttribute('data-sheet-state')).resolves.toBe('peek')
      }
      await page.waitForTimeout(400)
      const panel = (await sheet.boundingBox())!
      expect(panel.y + panel.height).toBeCloseTo(844, 0)
      const others = await overlays(page)
      expect(Object.keys(others)).toEqual(expect.arrayContaining(['legend', 'toolbar', 'locate', 'zoom', 'header']))
      for (const [name, b] of Object.entries(others)) expect(overlaps(b, panel), `${name} overlaps the panel at ${state}`).toBe(false)
      await page.screenshot({ path: join(artifactsDir, `phone-panel-${state}.png`) })
    }
    // Dragging the handle up makes it fill the space below the header.
    const handle = (await page.locator('[data-testid="sheet-handle"]').boundingBox())!
    await page.mouse.move(handle.x + handle.width / 2, handle.y + 10)
    await page.mouse.down()
    await page.mouse.move(handle.x + handle.width / 2, 120, { steps: 8 })
    await page.mouse.up()
    await expect(sheet.getAttribute('data-sheet-state')).resolves.toBe('full')
    await page.waitForTimeout(400)
    const full = (await sheet.boundingBox())!
    const header = (await page.locator('[data-testid="header"]').boundingBox())!
    expect(full.y).toBeCloseTo(header.y + header.height, 0)
    const shown = await overlays(page)
    for (const name of ['legend', 'toolbar', 'locate']) expect(shown[name], `${name} shown over a full sheet`).toBeUndefined()
    await page.screenshot({ path: join(artifactsDir, 'phone-panel-full.png') })
  })

  it('opens the hazard dialog full-screen inside the viewport, in one column with touch targets of 44 px or more', async () => {
    await page.click('[data-testid="hazard-add"]')
    const dialog = page.locator('.el-dialog:has([data-testid="hazard-category"])')
    await dialog.waitFor({ state: 'visible' })
    await page.waitForTimeout(400)
    const box = (await dialog.boundingBox())!
    expect(box.x).toBeGreaterThanOrEqual(0)
    expect(box.y).toBeGreaterThanOrEqual(0)
    expect(box.x + box.width).toBeLessThanOrEqual(390)
    expect(box.y + box.height).toBeLessThanOrEqual(844)
    const items = await dialog.locator('.el-form-item').all()
    const xs = new Set<number>()
    for (const item of items) xs.add(Math.round((await item.boundingBox())!.x))
    expect([...xs]).toHaveLength(1)
    for (const target of await dialog.locator('.el-select__wrapper, .el-input__wrapper, .el-radio-button__inner, .el-dialog__footer .el-button').all()) {
      const b = (await target.boundingBox())!
      expect(b.height, await target.evaluate(e => e.outerHTML.slice(0, 80))).toBeGreaterThanOrEqual(44)
    }
    await page.screenshot({ path: join(artifactsDir, 'phone-hazard-dialog.png') })
    // Its choices open inside the screen too, and a hazard is recorded from it.
    await page.click('[data-testid="hazard-category"]')
    const option = page.locator('.el-select-dropdown__item:visible:has-text("消防隐患")')
    const o = (await option.boundingBox())!
    expect(o.x + o.width).toBeLessThanOrEqual(390)
    await option.click()
    await page.click('[data-testid="hazard-item"]')
    const item = page.locator('.hazard-item-popper .el-select-dropdown__item:has-text("FIRE-06")')
    const ib = (await item.boundingBox())!
    expect(ib.x + ib.width, 'a dictionary item reaches past the screen').toBeLessThanOrEqual(390)
    await item.click()
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>('.hazard-item-popper')].every(e => e.offsetParent === null || getComputedStyle(e).display === 'none'))
    // Nothing made the page wider than the phone (it would scroll sideways under the dialog).
    expect(await page.evaluate(() => [document.documentElement.scrollWidth, window.scrollX])).toEqual([390, 0])
    await page.screenshot({ path: join(artifactsDir, 'phone-hazard-dialog-filled.png') })
    const before = (await t.db.sql<{ n: number }[]>`select count(*)::int as n from hazard`)[0]!.n
    await page.click('[data-testid="hazard-save"]')
    await dialog.waitFor({ state: 'hidden' })
    await expect.poll(async () => (await t.db.sql<{ n: number }[]>`select count(*)::int as n from hazard`)[0]!.n).toBe(before + 1)
  })

  it('shows the filters as a bottom sheet whose date fields fit the screen', async () => {
    await page.goto(`${base}/`)
    await ready(page)
    await page.tap('[data-testid="filters-open"]')
    const sheet = page.locator('[data-testid="filters-sheet"]')
    await sheet.waitFor({ state: 'visible' })
    await page.waitForSelector('[data-testid="filters-sheet"] [data-testid="map-filters"]')
    await page.waitForTimeout(400)
    for (const field of await sheet.locator('.el-select__wrapper, .el-input__wrapper').all()) {
      const b = (await field.boundingBox())!
      expect(b.x + b.width).toBeLessThanOrEqual(390)
      expect(b.height).toBeGreaterThanOrEqual(44)
    }
    await page.screenshot({ path: join(artifactsDir, 'phone-filters.png') })
    await page.click('[data-testid="filter-overdue"]')
    await page.waitForURL(/overdue=true/)
    await expect(page.locator('[data-testid="filters-open"]').textContent()).resolves.toMatch(/1/)
  })
})

describe('the map\'s layer box on a phone (390 × 844)', () => {
  it('overlaps none of the map\'s buttons (add, filters, drawn area, zoom, locate), folded or unfolded, in Chinese and English', async () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const context = await browser.newContext(phoneContext)
      const page = await context.newPage()
      await page.addInitScript(l => localStorage.setItem('locale', l), locale)
      await signInPage(page, base, 'inspector', '/')
      await ready(page)
      const controls = {
        add: '[data-testid="premises-add"]', filters: '[data-testid="filters-open"]', shape: '[data-testid="shape-draw"]',
        zoom: '.maplibregl-ctrl-top-right', locate: '[data-testid="locate"]', header: '[data-testid="header"]',
      }
      for (const state of ['folded', 'unfolded'] as const) {
        if (state === 'unfolded') {
          await page.tap('[data-testid="layers"] button.fold')
          await page.waitForSelector('[data-testid="layers"] input[data-layer="pois"]')
        }
        const layers = (await page.locator('[data-testid="layers"]').boundingBox())!
        expect(layers.x + layers.width).toBeLessThanOrEqual(390)
        for (const [name, selector] of Object.entries(controls)) {
          const b = await page.locator(selector).first().boundingBox()
          expect(b, `${name} is on the screen`).not.toBeNull()
          expect(overlaps(b!, layers), `the ${state} layer box overlaps ${name} (${locale})`).toBe(false)
        }
      }
      await page.screenshot({ path: join(artifactsDir, `phone-layers-${locale}.png`) })
      await context.close()
    }
  })
})

describe('the map page on a desktop', () => {
  it('keeps its layout: filters beside the map, the panel on the right, the legend unfolded', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signInPage(page, base, 'inspector')
    await ready(page)
    // 250 px of filters, 12 px of padding each side and the border, as before.
    const side = (await page.locator('aside.side').boundingBox())!
    expect(side.width).toBeCloseTo(275, 0)
    await expect(page.locator('[data-testid="legend"] ul li').count()).resolves.toBe(6)
    await page.screenshot({ path: join(artifactsDir, 'desktop-map.png') })
    const id = await inspectorPremises()
    await page.goto(`${base}/?premises=${id}`)
    await page.waitForSelector(`[data-testid="premises-panel"][data-premises="${id}"] h2`)
    await ready(page)
    const panel = (await page.locator('[data-testid="premises-panel"]').boundingBox())!
    expect(panel.width).toBeCloseTo(409, 0)
    expect(panel.x + panel.width).toBeCloseTo(1440, 0)
    await expect(page.locator('[data-testid="premises-sheet"]').count()).resolves.toBe(0)
    await page.screenshot({ path: join(artifactsDir, 'desktop-panel.png') })
    await page.click('[data-testid="hazard-add"]')
    const dialog = page.locator('.el-dialog:has([data-testid="hazard-category"])')
    await dialog.waitFor({ state: 'visible' })
    expect((await dialog.boundingBox())!.width).toBeCloseTo(520, 0)
    await page.close()
  })
})
