/**
 * Registers the service worker that keeps the app's shell for use with no network (sw.js, built
 * by vite-plugin-pwa). It waits for the page's load event so that the first load — the sign-in
 * page — is not slowed by the worker fetching every file; the Vite dev server has no worker.
 */
export function registerServiceWorker(): void {
  if (import.meta.env.DEV || !('serviceWorker' in navigator)) return
  const register = () => {
    // A browser that refuses (private mode, an insecure origin) keeps working online.
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined)
  }
  if (document.readyState === 'complete') register()
  else window.addEventListener('load', register, { once: true })
}
