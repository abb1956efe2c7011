import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { rootDir } from '../../server/lib/config.js'

/** The built web app (`npm run build`). */
export const webDist = join(rootDir, 'web', 'dist')

/** One entry of Vite's build manifest (`build.manifest: true`), keyed by source path or chunk name. */
export interface ManifestChunk {
  file: string
  name?: string
  src?: string
  isEntry?: boolean
  imports?: string[]
  dynamicImports?: string[]
  css?: string[]
}
export type Manifest = Record<string, ManifestChunk>

/** Reads web/dist/.vite/manifest.json, failing with what to do when the app is not built. */
export function readManifest(): Manifest {
  const file = join(webDist, '.vite', 'manifest.json')
  if (!existsSync(file)) throw new Error('web/dist/.vite/manifest.json is missing: `npm test` builds the web app first (npm run build)')
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest
}

/**
 * The JS and CSS files a chunk needs before it runs: its own file, its CSS, and the same for every
 * chunk it imports statically, transitively. Dynamic imports are left out: they load on demand.
 */
export function eagerFiles(manifest: Manifest, key: string, into = new Set<string>()): Set<string> {
  const chunk = manifest[key]
  if (!chunk) throw new Error(`${key} is not in the build manifest`)
  if (into.has(chunk.file)) return into
  into.add(chunk.file)
  for (const css of chunk.css ?? []) into.add(css)
  for (const imported of chunk.imports ?? []) eagerFiles(manifest, imported, into)
  return into
}

/** A built file's size gzipped (zlib's default level, as Vite reports it), in bytes. */
export function gzippedBytes(file: string): number {
  return gzipSync(readFileSync(join(webDist, file))).length
}

/** The manifest key of the one chunk that passes the test. */
export function chunkOf(manifest: Manifest, test: (key: string) => boolean): string {
  const keys = Object.keys(manifest).filter(test)
  if (keys.length !== 1) throw new Error(`expected one chunk in the build manifest, found ${keys.length}: ${keys.join(', ')}`)
  return keys[0]!
}

/** Gzipped budget of the first page a user lands on (the sign-in page), JS and CSS together. */
export const firstLoadBudget = 100_000

/**
 * The JS and CSS the first page a user lands on needs: index.html's eager files and the sign-in
 * view's. Every address leads to the sign-in page until the user has signed in.
 */
export function firstLoadFiles(manifest: Manifest): Set<string> {
  return eagerFiles(manifest, 'src/views/SignInView.vue', eagerFiles(manifest, 'index.html'))
}

/** The files of the MapLibre chunk (web/vite.config.ts names it), the heaviest one by far. */
export function mapChunkFiles(manifest: Manifest): string[] {
  const chunk = manifest[chunkOf(manifest, key => manifest[key]!.name === 'maplibre')]!
  return [chunk.file, ...(chunk.css ?? [])]
}
