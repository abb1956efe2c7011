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
 *
 * Each browser context is a window of its own, and Debian's Chromium (156) opens in every new window
 * its address bar's suggestion popup as a page of its own (chrome://omnibox-popup.top-chrome): in a
 * trace of one load of the map, that page evaluated 560 ms of script in a renderer of its own while
 * the app loaded, on two cores (and each test's page paid it too). It is turned off unless asked for
 * (`omniboxPages: true`, which the bench uses to show the first paint in the browser as shipped too).
 * Chromium reads only the last `--disable-features`, and Playwright passes its own list first: the
 * browser is started through chromium.sh, which merges them.
 */
export async function launchChromium(opts: { serviceWorkers?: 'allow' | 'block'; omniboxPages?: boolean } = {}): Promise<Browser> {
  const executable = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
  const browser = await chromium.launch({
    // Through a script that merges our --disable-features with Playwright's (Chromium reads one).
    executablePath: opts.omniboxPages ? executable : join(rootDir, 'tests', 'helpers', 'chromium.sh'),
    env: { ...process.env, GRD_CHROMIUM: executable },
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
      ...(opts.omniboxPages ? [] : ['--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup']),
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
