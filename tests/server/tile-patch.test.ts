import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { eventually } from '../helpers/eventually.js'
import { factory } from '../helpers/factory.js'
import { statementsDuring } from '../helpers/statements.js'
import { decodeTile, tileOf } from '../helpers/tiles.js'

/**
 * An overview tile (zooms 10-13, counts per cell) made again after a write reads again only its cells
 * over the areas the write changed and keeps the rest (server/plugins/app/tiles.ts, cellsTile):
 * the tile so made must hold exactly what the tile made afresh holds.
 */
let t: TestApp
let cookie: string
/** Premises of one zoom-15 tile, in at least two of its zoom-16 tiles (one cell of the zoom-10 tile holds both). */
let here: { id: number; lon: number; lat: number; area: number }[]
const zooms = [10, 11, 12, 13]
const filters = ['', '?kind=group_rental,rental', '?status=open_general,open_major,overdue', '?category=fire']

beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'leader')
  here = await t.db.owner<typeof here>`
    with p as (select id, st_x(geom) as lon, st_y(geom) as lat, map_area(geom_m) as area from premises),
         parent as (
           select (area / 65536) >> 1 as x15, (area % 65536) >> 1 as y15 from p
           group by 1, 2 order by count(distinct area) desc, count(*) desc limit 1)
    select p.id, p.lon, p.lat, p.area::float8 as area from p, parent
    where (p.area / 65536) >> 1 = parent.x15 and (p.area % 65536) >> 1 = parent.y15 order by p.area, p.id`
  expect(new Set(here.map(p => p.area)).size, 'zoom-16 tiles of the zoom-15 tile with premises').toBeGreaterThanOrEqual(2)
  expect(here.length).toBeGreaterThanOrEqual(3)
})
afterAll(() => t?.close())

async function ask(z: number, filter: string): Promise<{ features: unknown[]; cache: string }> {
  const [, x, y] = tileOf(here[0]!.lon, here[0]!.lat, z)
  const res = await t.app.inject({ url: `/api/tiles/premises/${z}/${x}/${y}.mvt${filter}`, headers: { cookie } })
  expect(res.statusCode, res.body).toBe(200)
  const features = (decodeTile(res.rawPayload, z, x, y).premises_agg ?? [])
    .map(f => ({ id: f.id, x: f.x, y: f.y, properties: f.properties }))
    .sort((a, b) => a.id! - b.id!)
  return { features, cache: String(res.headers['x-tile-cache']) }
}

/** Every overview tile over the premises, each filter: made or patched, as the cache has it. */
async function all(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {}
  for (const z of zooms) {
    for (const f of filters) out[`z${z}${f}`] = (await ask(z, f)).features
  }
  return out
}

async function written(write: () => Promise<unknown>) {
  const v = await t.app.versions.current('data')
  await write()
  await eventually(async () => await t.app.versions.current('data') > v)
}

describe('an overview tile made again after writes', () => {
  it('reads its changed cells only and holds what the tile made afresh holds', async () => {
    const start = await all()
    expect(Object.values(start).some(f => f.length > 0)).toBe(true)
    // A first write: on PostgreSQL the tiles made by ST_AsMVT are read whole again, their cells kept.
    const [a, b, c] = [here[0]!, here.find(p => p.area !== here[0]!.area)!, here.at(-1)!]
    await written(() => t.db.owner`update premises set geom = st_translate(geom, 0.0004, 0.0002) where id = ${a.id}`)
    await all()
    const before = t.app.tiles.counts()
    // Then a hazard found, a premises moved out of the tiles, one added, one moved back: in two
    // zoom-16 tiles of one zoom-15 tile, so in one cell at zoom 10 (read once, not twice).
    const f = factory({ sql: t.db.owner })
    await written(() => f.hazard({ premises: b, severity: 'major', item: 'FIRE-01' }))
    await written(() => t.db.owner`
      update premises set geom = (select st_translate(o.geom, 0.00001, 0) from premises o order by o.geom <-> premises.geom desc limit 1)
      where id = ${c.id}`)
    await written(() => f.premises({ at: [a.lon + 0.0003, a.lat - 0.0001], kind: 'group_rental' }))
    await written(() => t.db.owner`update premises set geom = st_translate(geom, -0.0004, -0.0002) where id = ${a.id}`)
    let patched: Record<string, unknown[]> = {}
    const sent = await statementsDuring(t.db.sql, async () => { patched = await all() })
    const after = t.app.tiles.counts()
    expect(after.patched - before.patched, 'tiles made from their kept cells').toBe(zooms.length * filters.length)
    expect(sent.filter(q => /unnest\(|where cell = any\(/.test(q)).length, 'statements reading the changed cells').toBe(zooms.length * filters.length)
    expect(patched).not.toEqual(start)

    t.app.tiles.clearCache()
    const afresh = await all()
    for (const key of Object.keys(afresh)) expect(patched[key], key).toEqual(afresh[key])
  })

  it('after a change everywhere (a bulk import bumps the version) is made afresh, not from its cells', async () => {
    await all()
    const before = t.app.tiles.counts()
    await written(() => t.db.owner`update data_version set version = version + 1`)
    await all()
    const after = t.app.tiles.counts()
    expect(after.made - before.made).toBe(zooms.length * filters.length)
    expect(after.patched).toBe(before.patched)
  })
})
