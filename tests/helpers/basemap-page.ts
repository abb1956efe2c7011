import type { BrowserContext, BrowserContextOptions, Page } from 'playwright-core'
import { townSpecs } from '../../server/seed/geography.js'
import type { WebApp } from './web-app.js'

/** The seat of 三井街道, the commander's and the inspector's town: the densest street grid. */
export const seat = { longitude: townSpecs[0]!.at[0], latitude: townSpecs[0]!.at[1], accuracy: 20 }

/**
 * A browser context that lets requests reach our server only: anything for another origin is
 * aborted and remembered, so a test sees the map draw with no internet at all.
 */
export async function ownOriginOnly(web: WebApp, options: BrowserContextOptions): Promise<{ context: BrowserContext; page: Page; elsewhere: string[] }> {
  const context = await web.browser.newContext({ ...options, geolocation: seat, permissions: ['geolocation'] })
  const elsewhere: string[] = []
  await context.route('**/*', (route) => {
    const url = route.request().url()
    if (url.startsWith(web.base) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue()
    elsewhere.push(url)
    return route.abort()
  })
  return { context, page: await context.newPage(), elsewhere }
}

/** An attribute of the map (TheMap reports what it draws on its element). */
export const mapAttr = (page: Page, name: string) => page.getAttribute('[data-map-state]', name)

/** Flies to the device's position (zoom 16) and waits until the street map's labels are drawn there. */
export async function locateAndWaitForStreets(page: Page, tap: boolean): Promise<void> {
  await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
  await (tap ? page.tap('[data-testid="locate"]') : page.click('[data-testid="locate"]'))
  await page.waitForFunction(() => Number(document.querySelector('[data-map-state]')?.getAttribute('data-view')?.split(',')[2]) >= 15, undefined, { timeout: 30_000 })
  await page.waitForFunction(() => (document.querySelector('[data-map-state]')?.getAttribute('data-basemap-labels') ?? '').split('|').filter(Boolean).length >= 3, undefined, { timeout: 50_000 })
}
