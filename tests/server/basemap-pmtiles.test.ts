import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { PMTiles, type RangeResponse, TileType } from 'pmtiles'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../server/app.js'
import { tileRange } from '../../server/domain/tiles.js'
import type { Database } from '../../server/db/index.js'
import { loadConfig, pmtilesHoldsVectorTiles, rootDir } from '../../server/lib/config.js'
import { signIn } from '../helpers/app.js'
import { openTestDatabase } from '../helpers/db.js'
import { testKeys } from '../helpers/keys.js'
import { pmtilesArchive } from '../helpers/pmtiles.js'

/** A Protomaps-schema vector basemap of a corner of the district (tests/fixtures/basemap/make.ts). */
const fixture = join(rootDir, 'tests', 'fixtures', 'basemap', 'protomaps-fixture.pmtiles')

let db: Database
beforeAll(async () => {
  db = await openTestDatabase()
})
afterAll(() => db.close())

/** Reads an archive the way the browser's pmtiles library does, from a file instead of HTTP ranges. */
function archive(file: string): PMTiles {
  const bytes = readFileSync(file)
  return new PMTiles({
    getKey: () => file,
    getBytes: async (offset: number, length: number): Promise<RangeResponse> => {
      const part = bytes.subarray(offset, offset + length)
      return { data: part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength) }
    },
  })
}

describe('a vector PMTiles basemap (a Protomaps build)', () => {
  it('is told apart from a raster one by the tile type in its header', () => {
    expect(pmtilesHoldsVectorTiles(fixture)).toBe(true)
    expect(loadConfig({ BASEMAP_PMTILES: fixture }).basemap).toMatchObject({ type: 'vector-pmtiles', url: '/basemap/basemap.pmtiles', file: fixture })
    const dir = mkdtempSync(join(tmpdir(), 'grd-basemap-'))
    const raster = join(dir, 'raster.pmtiles')
    const png = Buffer.from('89504e470d0a1a0a', 'hex')
    writeFileSync(raster, pmtilesArchive([{ z: 0, x: 0, y: 0, data: png }], { tileType: 2, bounds: [119.7, 31.8, 120.1, 32.1], metadata: {} }))
    expect(loadConfig({ BASEMAP_PMTILES: raster }).basemap.type).toBe('pmtiles')
    const junk = join(dir, 'junk.pmtiles')
    writeFileSync(junk, Buffer.alloc(200, 7))
    expect(() => loadConfig({ BASEMAP_PMTILES: junk })).toThrow(/not a PMTiles version 3 file/)
  })

  it('is a valid archive whose zoom-15 tiles hold the Protomaps layers, roads with their kind and Chinese name', async () => {
    const pm = archive(fixture)
    const header = await pm.getHeader()
    expect(header.tileType).toBe(TileType.Mvt)
    expect([header.minZoom, header.maxZoom]).toEqual([12, 15])
    const { x0, y0, x1, y1 } = tileRange([header.minLon, header.minLat, header.maxLon, header.maxLat], 15)
    const layers = new Set<string>()
    const roads = new Map<string, unknown>()
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) {
        const tile = await pm.getZxy(15, x, y)
        if (!tile) continue
        // The library undoes the tiles' gzip itself, as it does in the browser.
        const vt = new VectorTile(new PbfReader(new Uint8Array(tile.data)))
        for (const name of Object.keys(vt.layers)) layers.add(name)
        const road = vt.layers.roads
        for (let i = 0; i < (road?.length ?? 0); i++) roads.set(String(road!.feature(i).properties['name:zh-Hans']), road!.feature(i).properties.kind)
      }
    }
    expect([...layers].sort()).toEqual(['earth', 'landuse', 'places', 'roads', 'water'])
    expect(Object.fromEntries(roads)).toEqual({ 太湖路: 'major_road', 通江大道: 'major_road', 锦绣路: 'minor_road' })
  })

  it('is served by our server with range requests and announced to the web app with our glyphs', async () => {
    const basemap = loadConfig({ BASEMAP_PMTILES: fixture }).basemap
    const app = await buildApp({ db, keys: testKeys, basemap })
    try {
      const res = await app.inject({ url: '/basemap/basemap.pmtiles', headers: { range: 'bytes=0-126' } })
      expect(res.statusCode).toBe(206)
      expect(res.rawPayload.subarray(0, 7).toString('latin1')).toBe('PMTiles')
      expect(res.headers['cache-control']).toBe('public, max-age=3600')
      const cookie = await signIn(app, 'analyst')
      const config = await app.inject({ url: '/api/config', headers: { cookie } })
      expect(config.json().basemap).toEqual({ type: 'vector-pmtiles', url: '/basemap/basemap.pmtiles', attribution: null, glyphs: '/basemap/fonts/{fontstack}/{range}.pbf' })
    }
    finally {
      await app.close()
    }
  })
})
