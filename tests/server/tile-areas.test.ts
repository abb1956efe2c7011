import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dataVersions } from '../../server/plugins/app/versions.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { eventually } from '../helpers/eventually.js'
import { factory } from '../helpers/factory.js'
import { statementsDuring } from '../helpers/statements.js'
import { tileOf } from '../helpers/tiles.js'

/**
 * Tiles are cached per version of the area they cover (server/plugins/app/versions.ts, data_change):
 * a write changes the tiles over the premises it wrote, and every other tile of the district stays
 * cached, under the same ETag.
 */
let t: TestApp
let cookie: string
let near: { id: number; lon: number; lat: number }
let far: { id: number; lon: number; lat: number }
beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'leader')
  // Two premises of the district far apart: their tiles of zoom 12 are not neighbours.
  near = (await t.db.owner<typeof near[]>`select id, st_x(geom) as lon, st_y(geom) as lat from premises order by id limit 1`)[0]!
  far = (await t.db.owner<typeof far[]>`
    select id, st_x(geom) as lon, st_y(geom) as lat from premises order by geom <-> st_setsrid(st_point(${near.lon}, ${near.lat}), 4326) desc limit 1`)[0]!
  const [, nx, ny] = tileOf(near.lon, near.lat, 12)
  const [, fx, fy] = tileOf(far.lon, far.lat, 12)
  expect(Math.max(Math.abs(nx - fx), Math.abs(ny - fy)), 'zoom-12 tiles apart').toBeGreaterThanOrEqual(2)
})
afterAll(() => t?.close())

interface Answer { etag: string; cache: string }
async function tile(at: { lon: number; lat: number }, z: number): Promise<Answer> {
  const [, x, y] = tileOf(at.lon, at.lat, z)
  const res = await t.app.inject({ url: `/api/tiles/premises/${z}/${x}/${y}.mvt`, headers: { cookie } })
  expect(res.statusCode, res.body).toBe(200)
  return { etag: String(res.headers.etag), cache: String(res.headers['x-tile-cache']) }
}

/** The tiles of both premises at zooms 12-16 and the district's overview tile at zoom 10, each asked twice (made, then cached). */
async function both() {
  const out: Record<string, Answer> = {}
  for (const z of [12, 14, 16]) {
    for (const [name, at] of [['near', near], ['far', far]] as const) {
      await tile(at, z)
      out[`${name} z${z}`] = await tile(at, z)
    }
  }
  await tile(near, 10)
  out['overview z10'] = await tile(near, 10)
  return out
}

const version = async () => Number((await t.db.owner<{ version: string }[]>`select version from data_version`)[0]!.version)

describe('a write through another connection', () => {
  it('changes the tiles over the premises it wrote and leaves the rest cached under the same ETag, not made again', async () => {
    const before = await both()
    expect(Object.values(before).every(a => a.cache === 'hit')).toBe(true)
    const v = await version()
    await t.db.owner`update premises set kind = case when kind = 'rental' then 'homestay' else 'rental' end where id = ${near.id}`
    await eventually(async () => await t.app.versions.current('data') > v)
    const sent = await statementsDuring(t.db.sql, async () => {
      for (const z of [12, 14, 16]) expect(await tile(far, z)).toEqual(before[`far z${z}`])
    })
    // Not a statement: the campaign too is kept through a write to premises (figures_change).
    expect(sent).toEqual([])
    for (const z of [12, 14, 16]) {
      const after = await tile(near, z)
      expect(after.etag, `near z${z}`).not.toBe(before[`near z${z}`]!.etag)
      expect(after.cache).toBe('miss')
    }
    expect((await tile(near, 10)).etag).not.toBe(before['overview z10']!.etag)
  })

  it('that moves a premises changes the tiles of the place it left and of the place it reached', async () => {
    const before = await both()
    const v = await version()
    await t.db.owner`update premises set geom = st_setsrid(st_point(${far.lon + 0.0002}, ${far.lat}), 4326) where id = ${near.id}`
    await eventually(async () => await t.app.versions.current('data') > v)
    for (const z of [14, 16]) {
      expect((await tile(near, z)).etag, `near z${z}`).not.toBe(before[`near z${z}`]!.etag)
      expect((await tile(far, z)).etag, `far z${z}`).not.toBe(before[`far z${z}`]!.etag)
    }
    await t.db.owner`update premises set geom = st_setsrid(st_point(${near.lon}, ${near.lat}), 4326) where id = ${near.id}`
  })

  it('to a hazard changes the tiles over its premises only', async () => {
    const before = await both()
    const v = await version()
    const h = await factory({ sql: t.db.owner }).hazard({ premises: far })
    await eventually(async () => await t.app.versions.current('data') > v)
    expect((await tile(far, 16)).etag).not.toBe(before['far z16']!.etag)
    expect(await tile(near, 16)).toEqual(before['near z16'])
    await t.db.owner`delete from hazard where id = ${h.id}`
  })

  it('that bumps the version by hand (a bulk import) changes every tile', async () => {
    const before = await both()
    const v = await version()
    await t.db.owner`update data_version set version = version + 1`
    await eventually(async () => await t.app.versions.current('data') > v)
    for (const z of [12, 14, 16]) expect((await tile(far, z)).etag).not.toBe(before[`far z${z}`]!.etag)
  })

  it('to the hazard dictionary (the category filter reads it) changes every tile', async () => {
    const before = await both()
    const v = await version()
    await t.db.owner`update hazard_item set name_en = name_en where code = (select min(code) from hazard_item)`
    await eventually(async () => await t.app.versions.current('data') > v)
    for (const z of [12, 14, 16]) expect((await tile(far, z)).etag).not.toBe(before[`far z${z}`]!.etag)
  })

  it('that writes no row makes no new version', async () => {
    const v = await version()
    await t.db.owner`update premises set kind = kind where id = -1`
    await t.db.owner`delete from hazard where id = -1`
    expect(await version()).toBe(v)
  })

  it('that changes nothing the map shows (the facts, a hazard referred, a summary written again) makes no new version and keeps every tile', async () => {
    const v0 = await version()
    const h = await factory({ sql: t.db.owner }).hazard({ premises: near })
    // The hazard's own version seen by the app first, so that both() asks each tile at one version.
    await eventually(async () => await t.app.versions.current('data') > v0)
    const before = await both()
    const v = await version()
    // Below the rule's ten either way: whether it meets the rule (shown) stays as it was.
    await t.db.owner`update premises set address = address || '（补）', owner_phone = '13800000000',
      rooms_let = case when rooms_let = 0 then 1 when rooms_let < 10 then rooms_let - 1 else rooms_let + 1 end where id = ${near.id}`
    // Referred to a department: still open, its premises' summary written again unchanged.
    await t.db.owner`update hazard set status = 'referred', referred_at = found_at + interval '1 hour' where id = ${h.id}`
    await t.db.owner`select refresh_hazard_summaries(array[${near.id}]::bigint[])`
    expect(await version()).toBe(v)
    for (const [name, answer] of Object.entries(before)) {
      const [where, z] = name.split(' z') as ['near' | 'far' | 'overview', string]
      expect(await tile(where === 'far' ? far : near, Number(z)), name).toEqual(answer)
    }
    await t.db.owner`delete from hazard where id = ${h.id}`
  })

  it.each([
    ['the day it was found', sql => sql`update premises set found_on = found_on - 1 where id = ${near.id}`],
    ['whether it meets the rule', sql => sql`update premises set rooms_let = case when meets_rule then 0 else 10 end, beds_let = 0, occupants = 0 where id = ${near.id}`],
    ['the day it was registered', sql => sql`update premises set registered_on = coalesce(registered_on + 1, found_on + 1), deregistered_on = null where id = ${near.id}`],
    ['its community', sql => sql`update premises set community_id = (select min(id) from admin_area where level = 'community' and id is distinct from premises.community_id) where id = ${near.id}`],
    ['the day its first fire hazard was found', sql => sql`update premises set first_fire_found_on = coalesce(first_fire_found_on - 1, found_on) where id = ${near.id}`],
  ] as [string, (sql: TestApp['db']['owner']) => Promise<unknown>][])('that changes %s (the map shows it, or a filter reads it) changes its tiles', async (_, write) => {
    const before = await both()
    const v = await version()
    await write(t.db.owner)
    await eventually(async () => await t.app.versions.current('data') > v)
    expect((await tile(near, 16)).etag).not.toBe(before['near z16']!.etag)
    expect(await tile(far, 16)).toEqual(before['far z16'])
  })
})

describe('a write near no edge', () => {
  it('changes its tile of zoom 12 and not the neighbour on the side it is far from', async () => {
    const xf = ((near.lon + 180) / 360) * 2 ** 12
    const [, x, y] = tileOf(near.lon, near.lat, 12)
    // The neighbour whose shared edge is more than a quarter of the tile away.
    const neighbour = xf - x >= 0.25 ? x - 1 : x + 1
    expect(Math.abs(xf - (neighbour < x ? x : x + 1))).toBeGreaterThanOrEqual(0.25)
    const [mine, theirs] = [await t.app.versions.tileVersion(12, x, y), await t.app.versions.tileVersion(12, neighbour, y)]
    const v = await version()
    await t.db.owner`update premises set kind = case when kind = 'rental' then 'homestay' else 'rental' end where id = ${near.id}`
    await eventually(async () => await t.app.versions.current('data') > v)
    expect(await t.app.versions.tileVersion(12, x, y)).toBeGreaterThan(mine)
    expect(await t.app.versions.tileVersion(12, neighbour, y)).toBe(theirs)
  })
})

describe('a box of points', () => {
  it('is kept through a write outside it, as the tiles over it are, and answered anew after a write inside', async () => {
    const box = (at: { lon: number; lat: number }) => [at.lon - 0.01, at.lat - 0.01, at.lon + 0.01, at.lat + 0.01].join(',')
    const points = async () => {
      const res = await t.app.inject({ url: `/api/premises?bbox=${box(far)}`, headers: { cookie } })
      expect(res.statusCode, res.body).toBe(200)
      return res.json() as { features: { id: number; properties: { kind: string } }[] }
    }
    await points()
    const before = await points()
    expect(before.features.some(f => f.id === far.id)).toBe(true)
    let v = await version()
    await t.db.owner`update premises set kind = case when kind = 'rental' then 'homestay' else 'rental' end where id = ${near.id}`
    await eventually(async () => await t.app.versions.current('data') > v)
    await t.app.campaign.current()
    const sent = await statementsDuring(t.db.sql, async () => expect(await points()).toEqual(before))
    expect(sent).toEqual([])
    v = await version()
    await t.db.owner`update premises set kind = case when kind = 'rental' then 'homestay' else 'rental' end where id = ${far.id}`
    await eventually(async () => await t.app.versions.current('data') > v)
    const after = await points()
    expect(after.features.find(f => f.id === far.id)!.properties.kind).not.toBe(before.features.find(f => f.id === far.id)!.properties.kind)
  })
})

describe('the app\'s own write', () => {
  it('changes the tiles over it at once, before its announcement, and no other', async () => {
    const commander = await signIn(t.app, 'commander')
    const [inTown] = await t.db.owner<typeof near[]>`
      select p.id, st_x(p.geom) as lon, st_y(p.geom) as lat from premises p
      where p.town_id = (select jurisdiction_town_id from app_user where username = 'commander') order by p.id limit 1`
    const [away] = await t.db.owner<typeof near[]>`
      select id, st_x(geom) as lon, st_y(geom) as lat from premises
      where st_distance(geom::geography, st_setsrid(st_point(${inTown!.lon}, ${inTown!.lat}), 4326)::geography) > 4000 order by id limit 1`
    await tile(inTown!, 16)
    await tile(away!, 16)
    const [was, wasAway] = [await tile(inTown!, 16), await tile(away!, 16)]
    const res = await t.app.inject({
      method: 'POST', url: '/api/premises', headers: { cookie: commander },
      payload: { kind: 'homestay', address: '瓦片区域测试路1号', location: { lon: inTown!.lon + 0.00005, lat: inTown!.lat, crs: 'wgs84' }, foundOn: '2020-05-01' },
    })
    expect(res.statusCode, res.body).toBe(201)
    expect((await tile(inTown!, 16)).etag).not.toBe(was.etag)
    expect(await tile(away!, 16)).toEqual(wasAway)
  })
})

describe('announcements missed', () => {
  it('are caught up from the changes kept, area by area', async () => {
    const versions = dataVersions(t.app.db)
    try {
      const [, nx, ny] = tileOf(near.lon, near.lat, 16)
      const [, fx, fy] = tileOf(far.lon, far.lat, 16)
      const nearAt = await versions.tileVersion(16, nx, ny)
      const farAt = await versions.tileVersion(16, fx, fy)
      // Not listening any more: every question reads the counters, and the changes since the last known.
      versions.close()
      await t.db.owner`update premises set kind = case when kind = 'rental' then 'homestay' else 'rental' end where id = ${near.id}`
      await t.db.owner`update premises set kind = case when kind = 'rental' then 'homestay' else 'rental' end where id = ${near.id}`
      expect(await versions.tileVersion(16, nx, ny)).toBe(await version())
      expect(await version()).toBe(nearAt + 2)
      expect(await versions.tileVersion(16, fx, fy)).toBe(farAt)
      await t.db.owner`update data_version set version = version + 1`
      expect(await versions.tileVersion(16, fx, fy)).toBe(await version())
    }
    finally {
      versions.close()
    }
  })
})
