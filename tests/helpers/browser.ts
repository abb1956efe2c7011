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
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
    ],
  })
}

/** A phone as the field-work issue describes it: 390 × 844 CSS pixels, touch, a mobile browser. */
export const phoneContext = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true }
