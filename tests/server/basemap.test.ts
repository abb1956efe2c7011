import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Random } from '../../server/domain/random.js'
import { buildGeography, townSpecs } from '../../server/seed/geography.js'
import { streetTiles } from '../../server/seed/street-tiles.js'
import { buildStreets } from '../../server/seed/streets.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { testSeed } from '../helpers/keys.js'
import { tileBbox, tileOf } from '../helpers/tiles.js'

let t: TestApp
let leader: string
beforeAll(async () => {
  t = await buildTestApp()
  leader = await signIn(t.app, 'leader')
})
afterAll(() => t.close())

/** The zoom-16 tile at the seat of the most urban town (三井街道), where the street grid is densest. */
const centre = tileOf(...townSpecs[0]!.at, 16)
const tileUrl = ([z, x, y]: number[]) => `/basemap/tiles/${z}/${x}/${y}.mvt`

function layersOf(data: Uint8Array): Record<string, { class: unknown; name: unknown }[]> {
  const vt = new VectorTile(new PbfReader(data))
  return Object.fromEntries(Object.entries(vt.layers).map(([name, layer]) => [name, Array.from({ length: layer.length }, (_, i) => {
    const p = layer.feature(i).properties
    return { class: p.class, name: p.name }
  })]))
}

describe('the demo street map', () => {
  it('serves a zoom-16 tile of a town centre gzip-encoded as a vector tile with named roads of several classes and blocks', async () => {
    const res = await t.app.inject({ url: tileUrl(centre), headers: { 'accept-encoding': 'gzip, deflate' } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/vnd.mapbox-vector-tile')
    expect(res.headers['content-encoding']).toBe('gzip')
    const layers = layersOf(gunzipSync(res.rawPayload))
    const roads = layers.roads!
    expect(new Set(roads.map(r => r.class)).size).toBeGreaterThanOrEqual(2)
    expect(roads.filter(r => typeof r.name === 'string' && /[\u4E00-\u9FFF]+([路街巷]|大道|大街)$/.test(r.name)).length).toBeGreaterThan(3)
    expect(layers.landuse!.filter(l => l.class === 'block').length).toBeGreaterThan(3)
  })

  it('sends the tile uncompressed to a client that does not accept gzip', async () => {
    const res = await t.app.inject({ url: tileUrl(centre), headers: { 'accept-encoding': 'identity' } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-encoding']).toBeUndefined()
    expect(Object.keys(layersOf(res.rawPayload))).toContain('roads')
  })

  it('lets anyone, signed in or not, cache a tile for an hour and revalidate it by its ETag (304)', async () => {
    for (const cookie of [undefined, leader]) {
      const res = await t.app.inject({ url: tileUrl(centre), headers: cookie ? { cookie } : {} })
      expect(res.statusCode).toBe(200)
      expect(res.headers['cache-control']).toBe('public, max-age=3600')
      expect(res.headers.vary).toContain('Accept-Encoding')
      const again = await t.app.inject({ url: tileUrl(centre), headers: { 'if-none-match': String(res.headers.etag) } })
      expect(again.statusCode).toBe(304)
      expect(again.rawPayload.byteLength).toBe(0)
    }
  })

  it('answers 204 for an empty tile inside the zoom range and 404 with a reason outside it', async () => {
    const empty = await t.app.inject({ url: tileUrl(tileOf(100, 45, 14)) })
    expect(empty.statusCode).toBe(204)
    expect(empty.rawPayload.byteLength).toBe(0)
    for (const z of [9, 17]) {
      const res = await t.app.inject({ url: tileUrl(tileOf(...townSpecs[0]!.at, z)) })
      expect(res.statusCode, `z${z}`).toBe(404)
      expect(res.json().reason).toBe('tile-out-of-range')
      expect(res.json().messageZh).toBeTruthy()
    }
  })

  it('draws the arterial roads and the water from zoom 10 and keeps blocks and small streets for zoom 14 and deeper', async () => {
    const low = await t.app.inject({ url: tileUrl(tileOf(...townSpecs[0]!.at, 11)), headers: { 'accept-encoding': 'identity' } })
    const layers = layersOf(low.rawPayload)
    expect(layers.roads!.map(r => r.class).filter(c => c === 'primary' || c === 'trunk').length).toBeGreaterThan(0)
    expect(layers.roads!.filter(r => r.class === 'residential' || r.class === 'path')).toEqual([])
    expect((layers.landuse ?? []).filter(l => l.class === 'block')).toEqual([])
    expect(layers.water!.length).toBeGreaterThan(0)
  })

  it('stores exactly the tiles the generator makes for the seed (the street map is deterministic)', async () => {
    const streets = buildStreets(testSeed.seed, buildGeography(new Random(testSeed.seed)))
    const made = streetTiles(streets.features)
    const stored = await t.db.sql<{ z: number; x: number; y: number; md5: string }[]>`select z, x, y, md5(data) as md5 from basemap_tile order by z, x, y`
    const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex')
    expect(stored.map(s => `${s.z}/${s.x}/${s.y} ${s.md5}`)).toEqual(made.sort((a, b) => a.z - b.z || a.x - b.x || a.y - b.y).map(m => `${m.z}/${m.x}/${m.y} ${md5(m.data)}`))
  })

  it('places every premises off the roads and out of the water the street map draws', async () => {
    const streets = buildStreets(testSeed.seed, buildGeography(new Random(testSeed.seed)))
    const premises = await t.db.sql<{ id: number; lon: number; lat: number }[]>`select id, st_x(geom) as lon, st_y(geom) as lat from premises order by id`
    expect(premises.length).toBe(testSeed.premises)
    const moved = premises.filter((p) => {
      const [lon, lat] = streets.settle([p.lon, p.lat])
      return Math.abs(lon - p.lon) > 2e-6 || Math.abs(lat - p.lat) > 2e-6
    })
    expect(moved.map(p => p.id)).toEqual([])
  })
})

describe('the basemap configuration', () => {
  it('tells the web app to draw the street map, with our glyphs, when the database holds one', async () => {
    const res = await t.app.inject({ url: '/api/config', headers: { cookie: leader } })
    expect(res.json().basemap).toEqual({ type: 'streets', url: '/basemap/tiles/{z}/{x}/{y}.mvt', attribution: null, glyphs: '/basemap/fonts/{fontstack}/{range}.pbf' })
  })

})

describe('the map glyphs', () => {
  it('serves Latin glyphs for any font stack, cacheable for a week, and refuses ranges it does not have (CJK is drawn locally)', async () => {
    for (const stack of ['Noto Sans Regular', 'Noto Sans Medium,Noto Sans Regular']) {
      const res = await t.app.inject({ url: `/basemap/fonts/${encodeURIComponent(stack)}/0-255.pbf` })
      expect(res.statusCode, stack).toBe(200)
      expect(res.headers['content-type']).toBe('application/x-protobuf')
      expect(res.headers['cache-control']).toBe('public, max-age=604800')
      expect(res.rawPayload.byteLength).toBeGreaterThan(10_000)
    }
    const cjk = await t.app.inject({ url: '/basemap/fonts/Noto%20Sans%20Regular/19968-20223.pbf' })
    expect(cjk.statusCode).toBe(404)
    expect(cjk.json().reason).toBe('glyphs-not-served')
  })
})

describe('the street map on a phone without network', () => {
  it('lists the tiles over the inspector\'s town at zooms 12 to 16 with their total size, each touching the town', async () => {
    const inspector = await signIn(t.app, 'inspector')
    const res = await t.app.inject({ url: '/api/offline/basemap', headers: { cookie: inspector } })
    expect(res.statusCode).toBe(200)
    const body = res.json() as { minZoom: number; maxZoom: number; tiles: [number, number, number][]; bytes: number }
    expect([body.minZoom, body.maxZoom]).toEqual([12, 16])
    expect(body.tiles.map(tile => tile.join('/'))).toContain(centre.join('/'))
    const [town] = await t.db.sql<{ w: number; s: number; e: number; n: number }[]>`
      select st_xmin(b) as w, st_ymin(b) as s, st_xmax(b) as e, st_ymax(b) as n
      from (select st_extent(a.geom) as b from admin_area a join app_user u on u.jurisdiction_town_id = a.id where u.username = 'inspector') x`
    for (const [z, x, y] of body.tiles) {
      expect(z).toBeGreaterThanOrEqual(12)
      const [w, s, e, n] = tileBbox(z, x, y)
      expect(w <= town!.e && e >= town!.w && s <= town!.n && n >= town!.s, `${z}/${x}/${y}`).toBe(true)
    }
    const sizes = new Map((await t.db.sql<{ z: number; x: number; y: number; bytes: number }[]>`
      select z, x, y, octet_length(data) as bytes from basemap_tile`).map(r => [`${r.z}/${r.x}/${r.y}`, r.bytes]))
    expect(body.tiles.filter(tile => !sizes.has(tile.join('/')))).toEqual([])
    expect(body.bytes).toBe(body.tiles.reduce((a, tile) => a + sizes.get(tile.join('/'))!, 0))
    const all = await t.db.sql<{ n: number }[]>`select count(*)::int as n from basemap_tile where z between 12 and 16`
    expect(body.tiles.length).toBeLessThan(all[0]!.n)
  })
})

// Last: it empties this file's copy of the street map.
describe('the basemap configuration without a street map', () => {
  it('tells the web app to draw no basemap when the database holds no street map (a real deployment without a basemap)', async () => {
    await t.db.sql`delete from basemap_tile`
    const res = await t.app.inject({ url: '/api/config', headers: { cookie: leader } })
    expect(res.json().basemap).toEqual({ type: 'none', url: null, attribution: null, glyphs: '/basemap/fonts/{fontstack}/{range}.pbf' })
  })
})
