import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, rootDir } from '../../server/lib/config.js'
import { artifactsDir } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

let web: WebApp
beforeAll(async () => {
  // A real deployment's vector basemap: the Protomaps-schema fixture stands in for a build of the district.
  web = await startWebApp({ basemap: loadConfig({ BASEMAP_PMTILES: join(rootDir, 'tests', 'fixtures', 'basemap', 'protomaps-fixture.pmtiles') }).basemap })
})
afterAll(() => web?.close())

describe('a vector PMTiles basemap', () => {
  it('draws the file\'s roads and their Chinese names in the Protomaps style, reading the file from our server only', async () => {
    const context = await web.browser.newContext({
      viewport: { width: 1200, height: 800 }, geolocation: { longitude: 119.969, latitude: 31.8352, accuracy: 20 }, permissions: ['geolocation'],
    })
    const elsewhere: string[] = []
    await context.route('**/*', (route) => {
      const url = route.request().url()
      if (url.startsWith(web.base) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue()
      elsewhere.push(url)
      return route.abort()
    })
    const ranges: string[] = []
    const page = await context.newPage()
    page.on('request', (req) => {
      if (req.url().endsWith('/basemap/basemap.pmtiles')) ranges.push(req.headers().range ?? '')
    })
    await signInPage(page, web.base, 'commander')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await expect(page.getAttribute('[data-map-state]', 'data-basemap')).resolves.toBe('vector-pmtiles')
    await page.click('[data-testid="locate"]')
    await page.waitForFunction(() => (document.querySelector('[data-map-state]')?.getAttribute('data-basemap-labels') ?? '').includes('太湖路'), undefined, { timeout: 30_000 })
    expect(Number(await page.getAttribute('[data-map-state]', 'data-basemap-roads'))).toBeGreaterThan(0)
    expect(ranges.length).toBeGreaterThan(0)
    expect(ranges.every(r => /^bytes=\d+-\d+$/.test(r))).toBe(true)
    await page.screenshot({ path: join(artifactsDir, 'basemap-protomaps-zh.png') })
    expect(elsewhere).toEqual([])
    await context.close()
  })
})
