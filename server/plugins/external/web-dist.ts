import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { rootDir } from '../../lib/config.js'

const webDir = join(rootDir, 'web')

function newest(dir: string): number {
  let t = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

/**
 * Whether the built web app in `dist` is there, and whether the web sources beside it changed
 * after it was built ('stale'). `npm install` builds it (scripts/build-web.ts); the server only
 * serves it and never builds, so that it needs no build tools.
 */
export function webDistState(dist: string): 'missing' | 'stale' | 'built' {
  if (!existsSync(join(dist, 'index.html'))) return 'missing'
  // A deployment may ship web/dist without the sources.
  if (!existsSync(join(webDir, 'src'))) return 'built'
  const built = statSync(join(dist, 'index.html')).mtimeMs
  const sources = Math.max(newest(join(webDir, 'src')), statSync(join(webDir, 'index.html')).mtimeMs, statSync(join(webDir, 'vite.config.ts')).mtimeMs)
  return sources > built ? 'stale' : 'built'
}
