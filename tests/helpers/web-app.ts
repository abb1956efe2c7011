import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { type Basemap, rootDir } from '../../server/lib/config.js'
import { buildTestApp, type TestApp } from './app.js'
import { launchChromium } from './browser.js'

export interface WebApp {
  t: TestApp
  browser: Browser
  /** http://127.0.0.1:PORT */
  base: string
  close: () => Promise<void>
}

/**
 * The application with the built web app on a free port, and a headless Chromium to drive it
 * (optionally with a configured basemap; service workers only for the tests of working offline).
 */
export async function startWebApp(opts: { basemap?: Basemap, serviceWorkers?: 'allow' | 'block' } = {}): Promise<WebApp> {
  const webRoot = join(rootDir, 'web', 'dist')
  if (!existsSync(join(webRoot, 'index.html'))) throw new Error('web/dist is missing: `npm test` builds it first (npm run build)')
  const t = await buildTestApp({ webRoot, basemap: opts.basemap })
  await t.app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`
  const browser = await launchChromium({ serviceWorkers: opts.serviceWorkers })
  return {
    t,
    browser,
    base,
    close: async () => {
      await browser.close()
      await t.close()
    },
  }
}

/** Signs in on the sign-in page and waits for the page it leads to (the map by default). */
export async function signInPage(page: Page, base: string, username: string, next = '/', password = 'demo1234'): Promise<void> {
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`)
  await page.fill('input[name="username"]', username)
  await page.fill('input[name="password"]', password)
  await page.click('button[type="submit"]')
  await page.waitForSelector('[data-testid="who"]')
}

/** Records a major fire hazard (FIRE-06) on the premises open in the map's panel, in Chinese, and waits until the panel lists it. */
export async function recordMajorFireHazard(page: Page): Promise<void> {
  await page.click('[data-testid="hazard-add"]')
  await page.click('[data-testid="hazard-category"]')
  await page.click('.el-select-dropdown__item:has-text("消防隐患")')
  await page.click('[data-testid="hazard-item"]')
  await page.click('.hazard-item-popper .el-select-dropdown__item:has-text("FIRE-06")')
  await page.click('[data-testid="hazard-severity"] >> text=重大隐患')
  await page.click('[data-testid="hazard-save"]')
  await page.waitForSelector('[data-testid="premises-panel"] [data-hazard][data-status="found"]')
}
