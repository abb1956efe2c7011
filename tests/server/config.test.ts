import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../server/app.js'
import { loadConfig } from '../../server/lib/config.js'
import type { Database } from '../../server/db/index.js'
import { signIn } from '../helpers/app.js'
import { openTestDatabase } from '../helpers/db.js'
import { pmtilesArchive } from '../helpers/pmtiles.js'
import { testKeys } from '../helpers/keys.js'

let db: Database
beforeAll(async () => {
  db = await openTestDatabase()
})
afterAll(() => db.close())

describe('configuration', () => {
  it('configures no basemap by default, and the demo draws its own street map from this server: nothing is fetched from outside the machine', async () => {
    expect(loadConfig({}).basemap).toEqual({ type: 'none', url: null, attribution: null })
    const app = await buildApp({ db, keys: testKeys })
    const cookie = await signIn(app, 'analyst')
    const res = await app.inject({ url: '/api/config', headers: { cookie } })
    expect(res.json()).toEqual({ basemap: { type: 'streets', url: '/basemap/tiles/{z}/{x}/{y}.mvt', attribution: null, glyphs: '/basemap/fonts/{fontstack}/{range}.pbf' } })
    // The browser is told to load from this origin only.
    expect(res.headers['content-security-policy']).not.toMatch(/https?:/)
    await app.close()
  })

  it('refuses a tile URL without {z}/{x}/{y}, and a PMTiles file that is not there', () => {
    expect(() => loadConfig({ BASEMAP_TILE_URL: 'http://tiles.example/tile.png' })).toThrow(/\{z\}, \{x\} and \{y\}/)
    expect(() => loadConfig({ BASEMAP_PMTILES: 'data/nothing-here.pmtiles' })).toThrow(/no file/)
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT must be a port number/)
  })

  it('takes PUBLIC_URL as the address for links, without a trailing slash, and refuses what is not an http(s) URL', () => {
    expect(loadConfig({}).publicUrl).toBeUndefined()
    expect(loadConfig({ PUBLIC_URL: 'https://gis.example.gov.cn/grd/' }).publicUrl).toBe('https://gis.example.gov.cn/grd')
    expect(loadConfig({ PUBLIC_URL: 'http://10.1.2.3:3000' }).publicUrl).toBe('http://10.1.2.3:3000')
    expect(() => loadConfig({ PUBLIC_URL: 'gis.example.gov.cn' })).toThrow(/PUBLIC_URL must be an absolute http\(s\) URL/)
    expect(() => loadConfig({ PUBLIC_URL: 'ftp://gis.example.gov.cn' })).toThrow(/PUBLIC_URL must be an http\(s\) URL/)
    expect(() => loadConfig({ PUBLIC_URL: 'https://gis.example.gov.cn/?x=1' })).toThrow(/without query/)
  })

  it('reads the database pool size and time limits, with defaults, and refuses values that are not whole numbers', () => {
    expect(loadConfig({})).toMatchObject({ databasePoolSize: 10, databaseConnectTimeoutMs: 1500, databaseStatementTimeoutMs: 15_000 })
    expect(loadConfig({ DATABASE_POOL_SIZE: '40', DATABASE_CONNECT_TIMEOUT_MS: '3000', DATABASE_STATEMENT_TIMEOUT_MS: '0' }))
      .toMatchObject({ databasePoolSize: 40, databaseConnectTimeoutMs: 3000, databaseStatementTimeoutMs: 0 })
    for (const name of ['DATABASE_POOL_SIZE', 'DATABASE_CONNECT_TIMEOUT_MS', 'DATABASE_STATEMENT_TIMEOUT_MS']) {
      for (const value of ['15s', '1.5', '-1', 'ten']) expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(new RegExp(`${name} must be a whole number`))
    }
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '0' })).toThrow(/DATABASE_POOL_SIZE must be a whole number of at least 1/)
  })

  it('admits a configured tile server to the Content-Security-Policy, and only that one', async () => {
    const basemap = loadConfig({ BASEMAP_TILE_URL: 'http://gis.intranet.local:8080/img/{z}/{x}/{y}.png', BASEMAP_ATTRIBUTION: '天地图' }).basemap
    const app = await buildApp({ db, keys: testKeys, basemap })
    const cookie = await signIn(app, 'analyst')
    const res = await app.inject({ url: '/api/config', headers: { cookie } })
    expect(res.json().basemap).toEqual({ type: 'raster', url: 'http://gis.intranet.local:8080/img/{z}/{x}/{y}.png', attribution: '天地图', glyphs: '/basemap/fonts/{fontstack}/{range}.pbf' })
    const csp = res.headers['content-security-policy'] as string
    expect(csp).toMatch(/img-src 'self' data: blob: http:\/\/gis\.intranet\.local:8080/)
    expect(csp.match(/https?:\/\//g)).toHaveLength(2)
    await app.close()
  })

  it('serves a raster PMTiles basemap file with range requests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grd-basemap-'))
    const file = join(dir, 'basemap.pmtiles')
    const tiles = [{ z: 0, x: 0, y: 0, data: Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256)) }]
    const bytes = pmtilesArchive(tiles, { tileType: 2, bounds: [119.7, 31.8, 120.1, 32.1], metadata: {} })
    writeFileSync(file, bytes)
    const basemap = loadConfig({ BASEMAP_PMTILES: file }).basemap
    expect(basemap).toMatchObject({ type: 'pmtiles', url: '/basemap/basemap.pmtiles' })
    const app = await buildApp({ db, keys: testKeys, basemap })
    const res = await app.inject({ url: '/basemap/basemap.pmtiles', headers: { range: 'bytes=200-209' } })
    expect(res.statusCode).toBe(206)
    expect([...res.rawPayload]).toEqual([...bytes.subarray(200, 210)])
    await app.close()
  })
})
