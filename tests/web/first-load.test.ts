import { describe, expect, it } from 'vitest'
import { firstLoadBudget, firstLoadFiles, gzippedBytes, mapChunkFiles, readManifest } from '../helpers/web-dist.js'

// Reads what `npm run build` wrote (npm test builds first): the files index.html and the sign-in
// view load eagerly, as Vite's manifest lists them.
describe('the first load of the web app', () => {
  it('keeps the sign-in page\'s JS and CSS within 100 kB gzipped', () => {
    const manifest = readManifest()
    const sizes = [...firstLoadFiles(manifest)].map(file => ({ file, bytes: gzippedBytes(file) }))
    const total = sizes.reduce((sum, f) => sum + f.bytes, 0)
    // The files and their sizes in the failure message say what grew.
    expect(total, sizes.map(f => `${f.file} ${f.bytes}`).join(', ')).toBeLessThanOrEqual(firstLoadBudget)
  })

  it('leaves MapLibre out of the sign-in page', () => {
    const manifest = readManifest()
    const first = firstLoadFiles(manifest)
    const map = mapChunkFiles(manifest)
    expect(map.length).toBeGreaterThan(0)
    expect(map.filter(file => first.has(file))).toEqual([])
  })
})
