/** How long after the page's load event the worker waits for the first screen before it starts anyway. */
const firstScreenWaitMs = 3000

let markDrawn: () => void = () => undefined
const firstScreen = new Promise<void>((resolve) => {
  markDrawn = resolve
})

/**
 * The first screen has drawn (the map calls this at its first paint with tiles): the service worker
 * may now fetch the app's shell, which it would otherwise download beside the map's own code, data
 * and tiles (every built file: several megabytes).
 */
export function firstScreenDrawn(): void {
  markDrawn()
}

/**
 * Registers the service worker that keeps the app's shell for use with no network (sw.js, built
 * by vite-plugin-pwa). It waits for the page's load event and then for the first screen to be drawn
 * (or a few seconds, on a page without a map), so that neither the sign-in page nor the map's first
 * paint is slowed by the worker fetching every file; the Vite dev server has no worker.
 */
export function registerServiceWorker(): void {
  if (import.meta.env.DEV || !('serviceWorker' in navigator)) return
  const register = () => {
    // A browser that refuses (private mode, an insecure origin) keeps working online.
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined)
  }
  const afterLoad = () => {
    void Promise.race([firstScreen, new Promise(resolve => setTimeout(resolve, firstScreenWaitMs))]).then(register)
  }
  if (document.readyState === 'complete') afterLoad()
  else window.addEventListener('load', afterLoad, { once: true })
}
