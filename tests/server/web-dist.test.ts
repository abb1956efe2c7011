import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { webDistState } from '../../server/plugins/external/web-dist.js'

const dist = mkdtempSync(join(tmpdir(), 'grd-web-dist-'))
afterAll(() => rmSync(dist, { recursive: true, force: true }))

describe('the built web app at start', () => {
  it('is missing without an index.html, so the server refuses to start', () => {
    expect(webDistState(dist)).toBe('missing')
  })

  it('is stale when the web sources changed after the build, and built otherwise', () => {
    const index = join(dist, 'index.html')
    writeFileSync(index, '<!doctype html>')
    utimesSync(index, new Date('2000-01-01'), new Date('2000-01-01'))
    expect(webDistState(dist)).toBe('stale')
    const later = new Date(Date.now() + 86_400_000)
    utimesSync(index, later, later)
    expect(webDistState(dist)).toBe('built')
  })
})
