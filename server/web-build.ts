import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { rootDir } from './config.js'

const webDir = join(rootDir, 'web')

function newest(dir: string): number {
  let t = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

/** Whether web/dist is missing or older than the web sources. */
export function webNeedsBuild(): boolean {
  let built: number
  try {
    built = statSync(join(webDir, 'dist', 'index.html')).mtimeMs
  }
  catch {
    return true
  }
  const sources = Math.max(newest(join(webDir, 'src')), statSync(join(webDir, 'index.html')).mtimeMs, statSync(join(webDir, 'vite.config.ts')).mtimeMs)
  return sources > built
}

/** Builds the web app with Vite (the same as `npm run build`). */
export async function buildWeb(): Promise<void> {
  const { build } = await import('vite')
  await build({ configFile: join(webDir, 'vite.config.ts'), root: webDir, logLevel: 'warn' })
}
