import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import { rootDir } from '../../server/lib/config.js'

/** Screenshots land here; CI keeps them as artefacts. */
export const artifactsDir = join(rootDir, 'tests', '.artifacts')
mkdirSync(artifactsDir, { recursive: true })

/**
 * Debian's Chromium, headless. The background-networking flags stop it from calling the internet,
 * which this machine (and our users' intranets) cannot reach.
 *
 * Service workers are blocked unless asked for: once a page's first screen has drawn, the app's
 * worker downloads every built file into its cache (151 files, 3.9 MB), and each page a test opens is
 * a fresh browser context, so every page downloaded the whole app again beside the test's own work.
 * The tests of working offline allow them (`serviceWorkers: 'allow'`).
 */
export async function launchChromium(opts: { serviceWorkers?: 'allow' | 'block' } = {}): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
    ],
  })
  const serviceWorkers = opts.serviceWorkers ?? 'block'
  // browser.newPage() opens its context through newContext(), so this default reaches both.
  const newContext = browser.newContext.bind(browser)
  browser.newContext = (options = {}) => newContext({ serviceWorkers, ...options })
  return browser
}

/** A phone as the field-work issue describes it: 390 × 844 CSS pixels, touch, a mobile browser. */
export const phoneContext = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true }
