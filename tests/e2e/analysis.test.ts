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

describe('the analysis page', () => {
  it.each(['zh-CN', 'en'] as const)('runs a cluster analysis and a ring analysis, draws them, and shows the heat map (%s)', async (locale) => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await page.addInitScript(l => localStorage.setItem('locale', l), locale)
    await signInPage(page, base, 'analyst', '/analysis')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await page.click('[data-testid="run-analysis"]')
    await page.waitForSelector('[data-testid="cluster-results"] tbody tr')
    const rows = await page.locator('[data-testid="cluster-results"] tbody tr').count()
    expect(rows).toBeGreaterThan(2)
    await page.locator('[data-testid="cluster-results"] tbody tr').first().click()
    await page.waitForTimeout(1200)
    await page.click('[data-testid="heatmap"]')
    await page.waitForTimeout(800)
    await page.screenshot({ path: join(artifactsDir, `analysis-clusters-${locale}.png`) })

    await page.click(locale === 'en' ? 'text=Rings around places' : 'text=重点部位周边')
    await page.click('[data-testid="run-analysis"]')
    await page.waitForSelector('[data-testid="ring-results"] tbody tr')
    expect(await page.locator('[data-testid="ring-results"] tbody tr').count()).toBeGreaterThan(5)
    await page.screenshot({ path: join(artifactsDir, `analysis-rings-${locale}.png`) })
    await page.close()
  })

  it.each(['zh-CN', 'en'] as const)('highlights the cluster picked and labels it on the map with its counts (%s)', async (locale) => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await page.addInitScript(l => localStorage.setItem('locale', l), locale)
    await signInPage(page, base, 'analyst', '/analysis')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await page.click('[data-testid="run-analysis"]')
    await page.waitForSelector('[data-testid="cluster-results"] tbody tr')
    const row = page.locator('[data-testid="cluster-results"] tbody tr').nth(1)
    const cluster = await row.getAttribute('data-cluster')
    await row.click()
    await page.waitForSelector(`main.analysis[data-selected-cluster="${cluster}"]`)
    const label = await page.getAttribute('main.analysis', 'data-cluster-label')
    const cells = await row.locator('td').allTextContents()
    // The label names the cluster and its points, as the table's row does.
    expect(label).toContain(cluster!)
    expect(label).toContain(cells[1]!.trim())
    await page.waitForFunction(() => Number(document.querySelector('main.analysis')?.getAttribute('data-cluster-labels-drawn')) > 0, undefined, { timeout: 30_000 })
    await page.screenshot({ path: join(artifactsDir, `analysis-cluster-picked-${locale}.png`) })
    await page.close()
  })

  it('marks a proposed cluster as proposed, and shows the same cluster proposed again as already proposed', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signInPage(page, base, 'analyst', '/analysis')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await page.click('[data-testid="run-analysis"]')
    const row = page.locator('[data-testid="cluster-results"] tbody tr').first()
    await row.waitFor()
    await row.locator('[data-action="propose"]').click()
    await row.locator('[data-proposed]').waitFor()
    // Run again: the results are new, the server remembers the draft.
    await page.reload()
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await page.click('[data-testid="run-analysis"]')
    await row.waitFor()
    await expect(row.locator('[data-proposed]').count()).resolves.toBe(0)
    await row.locator('[data-action="propose"]').click()
    await row.locator('[data-proposed]').waitFor()
    await expect(row.locator('[data-proposed]').getAttribute('title')).resolves.toMatch(/#\d+/)
    await page.close()
  })
})
