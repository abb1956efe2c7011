import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon'
import { point as turfPoint } from '@turf/helpers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

let t: TestApp
let commander: string
let leader: string
/** The commander's town: a point well inside it, and a point in another town. */
const at = { inside: [0, 0] as [number, number], other: [0, 0] as [number, number], townId: 0 }

beforeAll(async () => {
  t = await buildTestApp()
  commander = await signIn(t.app, 'commander')
  leader = await signIn(t.app, 'leader')
  const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
  at.townId = town!.id
  // The densest spot of the town, so that the boundaries drawn there hold premises.
  const [dense] = await t.db.sql<{ lon: number; lat: number }[]>`
    select st_x(p.geom) as lon, st_y(p.geom) as lat from premises p
    where p.town_id = ${town!.id} and st_contains(st_buffer((select geom from admin_area where id = ${town!.id}), -0.006), p.geom)
    order by (select count(*) from premises q where st_dwithin(q.geom::geography, p.geom::geography, 300)) desc, p.id limit 1`
  const [other] = await t.db.sql<{ lon: number; lat: number }[]>`
    select st_x(p) as lon, st_y(p) as lat from (select st_pointonsurface(geom) as p from admin_area where level = 'town' and id <> ${town!.id} order by id limit 1) s`
  at.inside = [dense!.lon, dense!.lat]
  at.other = [other!.lon, other!.lat]
})
afterAll(() => t.close())

/** A square of the given half-size in metres around a point, as GeoJSON coordinates. */
function square([x, y]: [number, number], half: number): number[][][] {
  const dx = half / 94_500
  const dy = half / 110_900
  return [[[x - dx, y - dy], [x + dx, y - dy], [x + dx, y + dy], [x - dx, y + dy], [x - dx, y - dy]]]
}

const feature = (coordinates: unknown, properties: Record<string, unknown> = {}, type = 'Polygon') => ({
  type: 'Feature', geometry: { type, coordinates }, properties: { nameZh: '测试重点地区', listedOn: '2020-03-01', deadline: '2020-09-30', ...properties },
})

const send = (method: 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}, cookie = commander) =>
  t.app.inject({ method, url, payload: payload as Record<string, unknown>, headers: { cookie, ...headers } })

describe('key area boundaries', () => {
  const bad: [string, unknown, string, RegExp][] = [
    ['a self-intersecting polygon (a bow tie)', () => {
      const [x, y] = at.inside
      return [[[x, y], [x + 0.005, y + 0.005], [x + 0.005, y], [x, y + 0.005], [x, y]]]
    }, 'Polygon', /crosses itself at 1\d\d\.\d+, 3\d\.\d+/],
    ['an unclosed ring', () => square(at.inside, 200).map(r => r.slice(0, -1)), 'Polygon', /not closed/],
    ['too few points', () => [[at.inside, [at.inside[0] + 0.001, at.inside[1]], at.inside]], 'Polygon', /needs at least 3/],
    ['coordinates that are not numbers', () => [[[null, 31.9], [119.9, 31.9], [119.9, 31.91], [null, 31.9]]], 'Polygon', /not numbers/],
    ['coordinates out of range', () => [[[190, 31.9], [191, 31.9], [191, 32], [190, 31.9]]], 'Polygon', /outside -180\.\.180/],
    ['a hole outside the shell', () => [square(at.inside, 200)[0], square([at.inside[0] + 0.02, at.inside[1]], 50)[0]], 'Polygon', /hole lies outside the outer ring/],
    ['a huge number of vertices', () => {
      const ring = Array.from({ length: 2500 }, (_, i) => [at.inside[0] + 0.003 * Math.cos((2 * Math.PI * i) / 2500), at.inside[1] + 0.003 * Math.sin((2 * Math.PI * i) / 2500)])
      return [[...ring, ring[0]]]
    }, 'Polygon', /at most 2000/],
    ['a point instead of a polygon', () => at.inside, 'Point', /Polygon or MultiPolygon, not a Point/],
    ['points with a height (Z)', () => square(at.inside, 200).map(r => r.map(([x, y]) => [x, y, 8])), 'Polygon', /point 1 has 3 values: coordinates must be \[longitude, latitude\]/],
    ['an area far too large', () => square(at.inside, 4000), 'Polygon', /at most 30 km²|outside your jurisdiction/],
    ['a speck', () => square(at.inside, 5), 'Polygon', /draw the whole key area/],
  ]

  /** The code each refusal above carries: what programs key on, whatever the wording. */
  const codes: Record<string, string> = {
    'a self-intersecting polygon (a bow tie)': 'invalid-geometry',
    'an unclosed ring': 'malformed',
    'too few points': 'malformed',
    'coordinates that are not numbers': 'malformed',
    'coordinates out of range': 'malformed',
    'a hole outside the shell': 'invalid-geometry',
    'a huge number of vertices': 'malformed',
    'a point instead of a polygon': 'malformed',
    'points with a height (Z)': 'malformed',
    'a speck': 'too-small',
  }
  it.each(bad.filter(([name]) => name in codes))('gives %s in the preview a problem with its code', async (name, coords, type) => {
    const preview = await send('POST', '/api/key-areas/preview', { geometry: { type, coordinates: (coords as () => unknown)() } })
    expect(preview.json<{ problems: { code: string }[] }>().problems[0]?.code).toBe(codes[name])
  })

  it.each(bad)('refuses %s with 400 and says why, in the preview too, and lists no key area', async (_, coords, type, message) => {
    const [before] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from key_area`
    const res = await send('POST', '/api/key-areas', feature((coords as () => unknown)(), {}, type))
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json().message).toMatch(message)
    const preview = await send('POST', '/api/key-areas/preview', { geometry: { type, coordinates: (coords as () => unknown)() } })
    expect(preview.statusCode).toBe(200)
    expect(preview.json().valid).toBe(false)
    expect(preview.json().problems[0].message).toMatch(message)
    // The Chinese screen gets the same refusal in Chinese, from the save and from the preview alike.
    expect(res.json().messageZh).toMatch(/[\u4E00-\u9FFF]/)
    expect(preview.json().problems[0].messageZh).toBe(res.json().messageZh)
    const [after] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from key_area`
    expect(after!.n).toBe(before!.n)
  })

  it('counts inside a boundary what an independent recount finds', async () => {
    const coords = square(at.inside, 400)
    const res = await send('POST', '/api/key-areas/preview', { geometry: { type: 'Polygon', coordinates: coords } })
    expect(res.statusCode).toBe(200)
    const p = res.json()
    expect(p.valid).toBe(true)
    expect(p.suggested.townId).toBe(at.townId)
    const poly = { type: 'Polygon' as const, coordinates: coords }
    const premises = await t.db.sql<{ id: number; lon: number; lat: number; kind: string; meetsRule: boolean; foundOn: string; deregisteredOn: string | null; openCount: number }[]>`
      select id, st_x(geom) as lon, st_y(geom) as lat, kind, meets_rule, found_on, deregistered_on, open_count from premises where town_id = ${at.townId}`
    const inside = premises.filter(x => booleanPointInPolygon(turfPoint([x.lon, x.lat]), poly))
    expect(inside.length).toBeGreaterThan(3)
    const groupRentals = inside.filter(x => (x.kind === 'group_rental' || (x.kind === 'rental' && x.meetsRule)) && x.foundOn <= '2020-12-31' && !x.deregisteredOn)
    expect(p.counts.houses).toBe(inside.length)
    expect(p.counts.rentalHouses).toBe(inside.filter(x => x.kind === 'rental' || x.kind === 'group_rental').length)
    expect(p.counts.groupRentals).toBe(groupRentals.length)
    expect(p.counts.groupRentalsWithHazards).toBe(groupRentals.filter(x => x.openCount > 0).length)
    expect(p.counts.openHazards.total).toBe(inside.reduce((a, x) => a + x.openCount, 0))
    const ids = inside.map(x => x.id)
    const [r] = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from resident where premises_id in ${t.db.sql(ids)} and moved_out_on is null and registered_on is not null`
    expect(p.counts.residentsRegistered).toBe(r!.n)
  })

  it('refuses a boundary outside the commander\'s jurisdiction, or keeps only the inside part when asked', async () => {
    const outside = await send('POST', '/api/key-areas', feature(square(at.other, 300)))
    expect(outside.statusCode).toBe(400)
    expect(outside.json().message).toMatch(/entirely outside your jurisdiction/)
    expect(outside.json().messageZh).toBe('该区域完全在您的辖区之外')
    // A boundary across the town's edge: refused, then clipped on request.
    const [edge] = await t.db.sql<{ lon: number; lat: number }[]>`
      select st_x(p) as lon, st_y(p) as lat from (select st_pointn(st_exteriorring((st_dump(geom)).geom), 1) as p from admin_area where id = ${at.townId}) s limit 1`
    const across = feature(square([edge!.lon, edge!.lat], 300), { nameZh: '跨界区域' })
    const refused = await send('POST', '/api/key-areas', across)
    expect(refused.statusCode).toBe(400)
    expect(refused.json().message).toMatch(/% of the area lies outside your jurisdiction/)
    expect(refused.json().messageZh).toMatch(/^该区域有 \d+\.\d% 在您的辖区之外/)
    const clipped = await send('POST', '/api/key-areas?clip=true', across)
    expect(clipped.statusCode, clipped.body).toBe(201)
    const [inside] = await t.db.sql<{ ok: boolean }[]>`
      select st_covers(st_buffer(t.geom, 0.00001), k.geom) as ok from key_area k, admin_area t where k.id = ${clipped.json().id} and t.id = ${at.townId}`
    expect(inside!.ok).toBe(true)
  })
})

describe('key areas', () => {
  it('are listed with a 201, an ETag and a first version, and read by leaders', async () => {
    const res = await send('POST', '/api/key-areas', feature(square(at.inside, 350), { nameZh: '汤庄城中村' }))
    expect(res.statusCode, res.body).toBe(201)
    expect(res.headers.etag).toBe('"1"')
    const k = res.json()
    expect(k.properties).toMatchObject({ nameZh: '汤庄城中村', townId: at.townId, version: 1, status: 'listed' })
    expect(k.properties.policeStationId).not.toBeNull()
    expect(k.counts.houses).toBeGreaterThan(0)
    expect(k.trend.length).toBeGreaterThan(10)
    const list = (await t.app.inject({ url: '/api/key-areas', headers: { cookie: leader } })).json()
    expect(list.features.map((f: { id: number }) => f.id)).toContain(k.id)
    const versions = (await t.app.inject({ url: `/api/key-areas/${k.id}/versions`, headers: { cookie: leader } })).json()
    expect(versions.map((v: { version: number }) => v.version)).toEqual([1])
    expect((await send('POST', '/api/key-areas', feature(square(at.inside, 100)), {}, leader)).statusCode).toBe(403)
  })

  it('warn when a boundary overlaps another key area', async () => {
    await send('POST', '/api/key-areas', feature(square(at.inside, 250), { nameZh: '甲区' }))
    const p = (await send('POST', '/api/key-areas/preview', { geometry: { type: 'Polygon', coordinates: square([at.inside[0] + 0.002, at.inside[1]], 250) } })).json()
    expect(p.valid).toBe(true)
    expect(p.warnings.map((w: { message: string }) => w.message).join()).toMatch(/overlaps key area "甲区"/)
  })

  it('name in their warnings only the key areas the user may see; others are one warning without id or name', async () => {
    // A key area of a neighbouring town that reaches across the shared border into the commander's town.
    const [b] = await t.db.sql<{ lon: number; lat: number; neighbour: number }[]>`
      with t as (select geom from admin_area where id = ${at.townId}),
           shared as (select n.id, st_intersection(st_boundary(t.geom), st_boundary(n.geom)) as line
                      from t, admin_area n where n.level = 'town' and n.id <> ${at.townId} and n.valid_to is null and st_touches(t.geom, n.geom)
                      order by st_length(st_intersection(st_boundary(t.geom), st_boundary(n.geom))) desc limit 1)
      select st_x(p) as lon, st_y(p) as lat, id as neighbour from (select id, st_pointonsurface(st_collectionextract(line, 2)) as p from shared) s`
    const [secret] = await t.db.sql<{ id: number }[]>`
      insert into key_area (campaign_id, name_zh, town_id, status, listed_on, geom)
      select (select id from campaign limit 1), '邻镇保密区', ${b!.neighbour}, 'listed', '2020-03-01',
             st_multi(st_buffer(st_setsrid(st_makepoint(${b!.lon}, ${b!.lat}), 4326), 0.003))
      returning id`
    const across = { type: 'Polygon', coordinates: square([b!.lon, b!.lat], 300) }
    const p = (await send('POST', '/api/key-areas/preview', { geometry: across })).json()
    const text = JSON.stringify(p.warnings)
    expect(text).not.toContain('邻镇保密区')
    expect(text).not.toContain(`#${secret!.id}`)
    expect(p.warnings).toContainEqual({
      code: 'overlap-hidden',
      message: expect.stringMatching(/^\d+\.\d% of this area overlaps key areas outside your jurisdiction$/),
      messageZh: expect.stringMatching(/^本区域有 \d+\.\d% 与您辖区之外的重点地区重叠$/),
    })
    // Listed inside the town (clipped), it still overlaps the neighbour's area on this side of the border.
    const k = await send('POST', '/api/key-areas?clip=true', feature(across.coordinates, { nameZh: '边界测试区' }))
    expect(k.statusCode, k.body).toBe(201)
    expect(JSON.stringify(k.json().warnings)).not.toContain('邻镇保密区')
    expect(k.json().warnings.map((w: { message: string }) => w.message).join()).toMatch(/overlaps key areas outside your jurisdiction/)
    // The leader sees the whole district, so the same warning names the area.
    const forLeader = (await t.app.inject({ url: `/api/key-areas/${k.json().id}`, headers: { cookie: leader } })).json()
    expect(forLeader.warnings.map((w: { message: string }) => w.message).join()).toMatch(new RegExp(`overlaps key area "邻镇保密区" \\(#${secret!.id}\\)`))
  })

  it('keep both edits apart: the second writer of a version gets 412 and loses nothing of the first', async () => {
    const k = (await send('POST', '/api/key-areas', feature(square(at.inside, 300), { nameZh: '并发测试' }))).json()
    const first = await send('PUT', `/api/key-areas/${k.id}`, feature(square(at.inside, 320), { nameZh: '并发测试（甲）' }), { 'if-match': '"1"' })
    expect(first.statusCode, first.body).toBe(200)
    expect(first.headers.etag).toBe('"2"')
    const second = await send('PUT', `/api/key-areas/${k.id}`, feature(square(at.inside, 280), { nameZh: '并发测试（乙）' }), { 'if-match': '"1"' })
    expect(second.statusCode).toBe(412)
    expect(second.json().message).toMatch(/changed by commander .* \(now version 2; you edited version 1\)\. Reload it/)
    const now = (await t.app.inject({ url: `/api/key-areas/${k.id}`, headers: { cookie: commander } })).json()
    expect(now.properties).toMatchObject({ nameZh: '并发测试（甲）', version: 2 })
    expect((await send('PUT', `/api/key-areas/${k.id}`, feature(square(at.inside, 280)))).statusCode).toBe(428)
    const versions = (await t.app.inject({ url: `/api/key-areas/${k.id}/versions`, headers: { cookie: commander } })).json()
    expect(versions.map((v: { version: number; attributes: { nameZh: string } }) => [v.version, v.attributes.nameZh])).toEqual([[2, '并发测试（甲）'], [1, '并发测试']])
  })

  it('answer 412 to an If-Match that names no version, 400 to one that is not entity tags, 428 to "*"', async () => {
    const k = (await send('POST', '/api/key-areas', feature(square(at.inside, 210), { nameZh: '版本测试' }))).json()
    const put = (ifMatch: string) => send('PUT', `/api/key-areas/${k.id}`, feature(square(at.inside, 220), { nameZh: '版本测试' }), { 'if-match': ifMatch })
    for (const tag of ['"abc"', '"0"', 'W/"x"', '"99999999999999999999"', '""', '"2", "3"']) {
      const res = await put(tag)
      expect(res.statusCode, tag).toBe(412)
      expect(res.json()).toMatchObject({ reason: 'version-conflict', messageZh: expect.any(String) })
    }
    expect((await put('abc')).statusCode).toBe(400)
    expect((await put('"1" "2"')).statusCode).toBe(400)
    expect((await put('*')).statusCode).toBe(428)
    // A list matches when one of its tags is the current version; a bare number is still read as one.
    expect((await put('"7", "1"')).statusCode).toBe(200)
    expect((await put('2')).statusCode).toBe(200)
    expect((await send('DELETE', `/api/key-areas/${k.id}`, undefined, { 'if-match': '"abc"' })).statusCode).toBe(412)
    expect((await send('DELETE', '/api/key-areas/2147483647', undefined, { 'if-match': '"abc"' })).statusCode).toBe(404)
    const versions = (await t.app.inject({ url: `/api/key-areas/${k.id}/versions`, headers: { cookie: commander } })).json()
    expect(versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1])
  })

  it('refuse dates out of order and a listing without its date', async () => {
    const late = await send('POST', '/api/key-areas', feature(square(at.inside, 200), { listedOn: '2020-06-01', deadline: '2020-05-01' }))
    expect(late.statusCode).toBe(400)
    expect(late.json().message).toMatch(/before the listing date/)
    const undated = await send('POST', '/api/key-areas', feature(square(at.inside, 200), { listedOn: null }))
    expect(undated.json().message).toMatch(/needs its listing date/)
    const draft = await send('POST', '/api/key-areas', feature(square(at.inside, 200), { listedOn: null, status: 'draft' }))
    expect(draft.statusCode).toBe(201)
  })

  it('cannot be edited outside the commander\'s jurisdiction (it does not exist there)', async () => {
    const [other] = await t.db.sql<{ id: number; version: number }[]>`select id, version from key_area where town_id <> ${at.townId} and deleted_at is null order by id limit 1`
    const res = await send('PUT', `/api/key-areas/${other!.id}`, feature(square(at.other, 300)), { 'if-match': `"${other!.version}"` })
    expect(res.statusCode).toBe(404)
    expect((await t.app.inject({ url: `/api/key-areas/${other!.id}`, headers: { cookie: commander } })).statusCode).toBe(404)
    expect((await t.app.inject({ url: `/api/key-areas/${other!.id}`, headers: { cookie: leader } })).statusCode).toBe(200)
  })

  it('are removed with If-Match, their versions kept, and every write audited', async () => {
    const k = (await send('POST', '/api/key-areas', feature(square(at.inside, 150), { nameZh: '待撤销' }))).json()
    expect((await send('DELETE', `/api/key-areas/${k.id}`, undefined, { 'if-match': '"1"' })).statusCode).toBe(204)
    expect((await t.app.inject({ url: `/api/key-areas/${k.id}`, headers: { cookie: commander } })).statusCode).toBe(404)
    const versions = (await t.app.inject({ url: `/api/key-areas/${k.id}/versions`, headers: { cookie: commander } })).json()
    expect(versions[0]).toMatchObject({ version: 2, attributes: { deleted: true } })
    const audit = await t.db.sql<{ action: string }[]>`select action from audit_log where entity = 'key_area' and entity_id = ${String(k.id)} order by id`
    expect(audit.map(a => a.action)).toEqual(['key-area.create', 'key-area.delete'])
  })
})
