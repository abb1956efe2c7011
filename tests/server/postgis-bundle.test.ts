import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { inLeanBundle, keepEntries } from '../../server/db/postgis-bundle.js'

/**
 * The embedded PostGIS is loaded from a lean copy of pglite-postgis's bundle (server/db/postgis-bundle.ts):
 * what it keeps and drops is checked here with GNU tar reading the result; that PostGIS works from
 * it, by every embedded test.
 */
const dir = mkdtempSync(join(tmpdir(), 'grd-tar-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const names = (tar: Buffer) => {
  const file = join(dir, `t-${Math.random().toString(36).slice(2)}.tar`)
  writeFileSync(file, tar)
  return execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()
}

describe('the lean PostGIS bundle', () => {
  it('keeps the postgis extension whole and drops raster, topology, the geocoder and contrib/', () => {
    const bundle = join(dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite-postgis')), 'postgis.tar.gz')
    const full = gunzipSync(readFileSync(bundle))
    const before = names(full)
    const after = names(keepEntries(full, inLeanBundle))
    for (const kept of ['lib/postgresql/postgis-3.so', 'share/postgresql/extension/postgis.control', 'share/proj/proj.db'])
      expect(after.map(n => n.replace(/^\.\//, ''))).toContain(kept)
    expect(after.some(n => /postgis--\d+\.\d+\.\d+\.sql$/.test(n))).toBe(true)
    expect(after.filter(n => /raster|topology|tiger|contrib/.test(n))).toEqual([])
    // Everything else is there, in the same order of names.
    expect(after).toEqual(before.filter(n => !/postgis_raster|postgis_topology|postgis_tiger_geocoder|\/contrib\//.test(n)))
  })

  it.each(['gnu', 'pax', 'ustar'])('reads long names and keeps each entry with its own headers (%s archive)', (format) => {
    const src = join(dir, `src-${format}`)
    const deep = join('a'.repeat(60), 'b'.repeat(60))
    mkdirSync(join(src, deep), { recursive: true })
    writeFileSync(join(src, deep, 'keep-me.txt'), 'kept\n'.repeat(300))
    writeFileSync(join(src, deep, 'drop-me.txt'), 'dropped\n')
    writeFileSync(join(src, 'short.txt'), 'short\n')
    const file = join(dir, `${format}.tar`)
    execFileSync('tar', [`--format=${format}`, '-cf', file, '-C', src, '.'])
    const kept = keepEntries(readFileSync(file), name => !name.endsWith('drop-me.txt'))
    expect(names(kept)).toEqual(names(readFileSync(file)).filter(n => !n.endsWith('drop-me.txt')))
    const out = join(dir, `out-${format}`)
    mkdirSync(out)
    writeFileSync(`${out}.tar`, kept)
    execFileSync('tar', ['-xf', `${out}.tar`, '-C', out])
    expect(readFileSync(join(out, deep, 'keep-me.txt'), 'utf8')).toBe('kept\n'.repeat(300))
  })
})
