/**
 * Builds the web app into web/dist at install time: npm runs this as `prepare` after `npm install`
 * and `npm ci`, so that `npm start` only serves web/dist and a server needs no build tools. Vite is
 * a dev dependency: an install without them (`npm ci --omit=dev`) skips the build and says so, and
 * such a deployment brings a web/dist built where they are installed.
 */
import { fileURLToPath } from 'node:url'

// CI installs and then runs `npm test`, which builds the web app itself: once is enough.
if (process.env.SKIP_WEB_BUILD === '1') {
  console.log('Not building the web app at install (SKIP_WEB_BUILD=1).')
  process.exit(0)
}

let vite: typeof import('vite')
try {
  vite = await import('vite')
}
catch (e) {
  if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e
  console.log('Not building the web app: the dev dependencies (Vite) are not installed. Build web/dist with `npm run build` where they are, and bring it along.')
  process.exit(0)
}
console.log('Building the web app into web/dist…')
await vite.build({ configFile: fileURLToPath(new URL('../web/vite.config.ts', import.meta.url)), logLevel: 'warn' })
