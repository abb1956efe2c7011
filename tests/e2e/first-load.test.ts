import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { firstLoadFiles, readManifest } from '../helpers/web-dist.js'
import { startWebApp, type WebApp } from '../helpers/web-app.js'

let browser: Browser
let base: string
let web: WebApp

beforeAll(async () => {
  web = await startWebApp()
  ;({ browser, base } = web)
})
afterAll(() => web?.close())

describe('the first page a user lands on', () => {
  // tests/web/first-load.test.ts holds these files to the budget; this checks that a browser
  // loads those files and no others.
  it('loads exactly the JS and CSS the build manifest lists for the sign-in page', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    const loaded = new Set<string>()
    page.on('response', (res) => {
      const type = res.request().resourceType()
      if (type === 'script' || type === 'stylesheet') loaded.add(new URL(res.url()).pathname.slice(1))
    })
    await page.goto(`${base}/`)
    await page.waitForURL(/\/login/)
    await page.waitForSelector('[data-testid="demo-accounts"] li')
    await page.waitForLoadState('networkidle')
    expect([...loaded].sort()).toEqual([...firstLoadFiles(readManifest())].sort())
    await page.close()
  })
})
