import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setBulkLoad } from '../../server/db/bulk-load.js'
import { wholeDistrict } from '../../server/domain/access.js'
import { pointBudget, tileBounds } from '../../server/plugins/app/tiles.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { factory } from '../helpers/factory.js'
import { decodeTile, tileBbox, tileOf } from '../helpers/tiles.js'

/**
 * A tile a phone can carry: a dense block (more premises in one zoom-14 tile than the point budget)
 * is drawn as counts per cell until the tiles are small enough, and those counts are exact.
 */
let t: TestApp
let cookie: string
/** The zoom-14 tile holding the block, and the block's centre. */
let block: [number, number, number]
let centre: [number, number]
const blockSize = pointBudget + 1500

beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'leader')
  const [p] = await t.db.sql<{ lon: number; lat: number }[]>`select st_x(geom) as lon, st_y(geom) as lat from premises order by id limit 1`
  block = tileOf(p!.lon, p!.lat, 14)
  // The middle of the tile's north-west quarter: a zoom-15 tile, the block wholly inside both.
  const [w, s, e, n] = tileBbox(15, block[1] * 2, block[2] * 2)
  // Half a step off the middle, so that no premises lies on a cell's edge, where rounding picks a side.
  centre = [(w + e) / 2 + 0.000015, (s + n) / 2 + 0.0000135]
  // A 200 x 200 m block of dormitories there, each at a place of its own, written set-wise as an
  // import writes (the row triggers off, the tiles' cells rebuilt after): the tiles only read.
  await t.db.owner.begin(async (tx) => {
    await setBulkLoad(tx, true)
    await tx`
      insert into premises (kind, address, geom, found_on)
      select 'factory_dormitory', '密集测试路' || i || '号',
             st_setsrid(st_makepoint(${centre[0]} + ((i % 71) - 35) * 0.00003, ${centre[1]} + ((i / 71) - 35) * 0.000027), 4326), '2020-01-01'
      from generate_series(0, ${blockSize - 1}) i`
    await tx`select refresh_premises_cells()`
    await tx`update data_version set version = version + 1`
    await setBulkLoad(tx, false)
  })
  await t.app.versions.refresh()
})
afterAll(() => t?.close())

const fetchTile = (z: number, x: number, y: number) => t.app.inject({ url: `/api/tiles/premises/${z}/${x}/${y}.mvt`, headers: { cookie } })

/** Premises counted per cell of a tile from their coordinates, numbered as the tiles number them. */
async function recount(z: number, x: number, y: number, side: number) {
  const b = tileBounds(z, x, y)
  // One whole cell of the tile around it (at least the points' buffer of 64 units).
  const around = Math.max(64, 4096 / side)
  const margin = (b.size * around) / 4096
  const rows = await t.db.sql<{ mx: number; my: number }[]>`
    select st_x(geom_m) as mx, st_y(geom_m) as my from premises
    where geom_m && st_makeenvelope(${b.minx - margin}, ${b.miny - margin}, ${b.maxx + margin}, ${b.maxy + margin}, 3857)`
  const cells = new Map<number, number>()
  for (const r of rows) {
    const fx = ((r.mx - b.minx) / b.size) * 4096
    const fy = ((b.maxy - r.my) / b.size) * 4096
    if (fx < -around || fx >= 4096 + around || fy < -around || fy >= 4096 + around) continue
    const cell = (Math.floor(fy / (4096 / side)) + 1) * 1000 + Math.floor(fx / (4096 / side)) + 1
    cells.set(cell, (cells.get(cell) ?? 0) + 1)
  }
  return { cells, total: [...cells.values()].reduce((a, n) => a + n, 0) }
}

describe('the densest tile of a dense block', () => {
  it('carries counts per cell instead of more points than the budget at zoom 14 and 15, within its size budget', async () => {
    for (const z of [14, 15]) {
      const [, x, y] = tileOf(...centre, z)
      const res = await fetchTile(z, x, y)
      expect(res.statusCode).toBe(200)
      const layers = decodeTile(res.rawPayload, z, x, y)
      expect(Object.keys(layers), `zoom ${z}`).toEqual(['premises_agg'])
      // About 20 bytes a cell: the budget's points would be about 70 KB.
      expect(res.rawPayload.length, `zoom ${z}`).toBeLessThan(pointBudget * 18)
    }
  })

  it('holds in each aggregated cell exactly the premises a recount finds there, 32 x 32 at zooms 14 and 15', async () => {
    for (const z of [14, 15]) {
      const [, x, y] = tileOf(...centre, z)
      // The stored cells (zoom 14's are zoom 13's), and the same grouped from the premises (a filter that keeps them all).
      for (const query of ['', '?foundFrom=1900-01-01']) {
        const res = await t.app.inject({ url: `/api/tiles/premises/${z}/${x}/${y}.mvt${query}`, headers: { cookie } })
        expect(res.statusCode).toBe(200)
        const layers = decodeTile(res.rawPayload, z, x, y)
        const { cells, total } = await recount(z, x, y, 32)
        expect(total).toBeGreaterThan(pointBudget)
        const served = new Map(layers.premises_agg!.map(f => [f.id!, f.properties.count as number]))
        expect(served, `zoom ${z}${query}`).toEqual(cells)
        for (const f of layers.premises_agg!) {
          const p = f.properties as Record<string, number>
          expect(p.count).toBe(p.none! + p.rectified! + p.open_general! + p.open_major! + p.overdue!)
        }
      }
    }
  })

  it('carries every premises as a point from zoom 16, however dense', async () => {
    const [z, x, y] = tileOf(...centre, 16)
    const layers = decodeTile((await fetchTile(z, x, y)).rawPayload, z, x, y)
    expect(Object.keys(layers)).toEqual(['premises'])
    expect(layers.premises!.length).toBe((await recount(z, x, y, 64)).total)
  })

  it('groups zooms 10 to 13 in 32 x 32 cells, exact against a recount', async () => {
    for (const z of [10, 11, 12, 13]) {
      const [, x, y] = tileOf(...centre, z)
      const req = { z, x, y, scope: wholeDistrict, filter: {}, on: '2020-12-31' }
      // The pre-grouped cells, and the same grouped from the premises (a filter that keeps them all).
      for (const filter of [{}, { foundFrom: '1900-01-01' }]) {
        const layers = decodeTile(await t.app.tiles.encodeInNode({ ...req, filter }), z, x, y)
        const served = new Map(layers.premises_agg!.map(f => [f.id!, f.properties.count as number]))
        expect(served, `zoom ${z} ${JSON.stringify(filter)}`).toEqual((await recount(z, x, y, 32)).cells)
      }
    }
  })
})

describe('a tile of the block made again after writes in it', () => {
  it('reads its changed cells from the premises and holds what the tile made afresh holds, at zooms 14 and 15', async () => {
    const tiles = [14, 15].map(z => tileOf(...centre, z))
    const ask = async ([z, x, y]: [number, number, number]) => {
      const res = await fetchTile(z, x, y)
      expect(res.statusCode).toBe(200)
      return decodeTile(res.rawPayload, z, x, y).premises_agg!.map(f => ({ id: f.id, x: f.x, y: f.y, properties: f.properties }))
        .sort((a, b) => a.id! - b.id!)
    }
    const written = async (write: () => Promise<unknown>) => {
      const v = await t.app.versions.current('data')
      await write()
      await t.app.versions.refresh()
      expect(await t.app.versions.current('data')).toBeGreaterThan(v)
    }
    const dorm = (await t.db.owner<{ id: number }[]>`select id from premises where address like '密集测试路%' order by id`).map(r => r.id)
    for (const tile of tiles) await ask(tile)
    // The first write: on PostgreSQL the tiles made by ST_AsMVT are read whole again, their cells kept.
    await written(() => t.db.owner`update premises set geom = st_translate(geom, 0.00002, 0) where id = ${dorm[0]!}`)
    for (const tile of tiles) await ask(tile)
    const before = t.app.tiles.counts()
    await written(() => t.db.owner`update premises set geom = st_translate(geom, 0.0004, -0.0003) where id = ${dorm[100]!}`)
    await written(() => t.db.owner`update premises set geom = st_translate(geom, 0.05, 0) where id = ${dorm[2000]!}`)
    await written(() => factory({ sql: t.db.owner }).hazard({ premises: { id: dorm[3000]! }, severity: 'major', item: 'FIRE-01' }))
    await written(() => t.db.owner`
      insert into premises (kind, address, geom, found_on)
      select 'factory_dormitory', '密集测试路新', st_translate(geom, 0.00001, 0.00001), '2020-01-01' from premises where id = ${dorm[4000]!}`)
    const patched = []
    for (const tile of tiles) patched.push(await ask(tile))
    expect(t.app.tiles.counts().patched - before.patched, 'tiles made from their kept cells').toBe(tiles.length)
    t.app.tiles.clearCache()
    for (const [i, tile] of tiles.entries()) expect(patched[i], `zoom ${tile[0]}`).toEqual(await ask(tile))
  })
})
