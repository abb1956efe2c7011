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
  // The map's panels load after it: a tap while they arrive can land where the button was a moment
  // before (seen offline on the phone, the view left at the district's zoom), so it is tapped again
  // until the map flies in.
  const zoom = async () => Number((await page.getAttribute('[data-map-state]', 'data-view'))?.split(',')[2] ?? 0)
  for (let attempt = 0; attempt < 3 && (await zoom()) < 15; attempt++) {
    await (tap ? page.tap('[data-testid="locate"]') : page.click('[data-testid="locate"]'))
    await page.waitForFunction(() => Number(document.querySelector('[data-map-state]')?.getAttribute('data-view')?.split(',')[2]) >= 15, undefined, { timeout: 10_000 }).catch(() => undefined)
  }
  await page.waitForFunction(() => (document.querySelector('[data-map-state]')?.getAttribute('data-basemap-labels') ?? '').split('|').filter(Boolean).length >= 3, undefined, { timeout: 50_000 })
}
