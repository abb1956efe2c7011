import { createHash } from 'node:crypto'
import { circle } from '@turf/circle'
import { distance } from '@turf/distance'
import { point } from '@turf/helpers'
import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analysisRepository } from '../../server/plugins/app/analysis.js'
import type { Database } from '../../server/db/index.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { openTestDatabase } from '../helpers/db.js'

let t: TestApp
let analyst: string
let commander: string

beforeAll(async () => {
  t = await buildTestApp()
  analyst = await signIn(t.app, 'analyst')
  commander = await signIn(t.app, 'commander')
})
afterAll(() => t.close())

const get = (url: string, cookie = analyst) => t.app.inject({ url, headers: { cookie } })

describe('clusters', () => {
  let db: Database
  beforeAll(async () => {
    // A fixture of its own: one town, three groups of group rentals and a few strays.
    db = await openTestDatabase('migrated')
    const square = 'POLYGON((119.85 31.85, 119.99 31.85, 119.99 31.99, 119.85 31.99, 119.85 31.85))'
    const [d] = await db.sql<{ id: number }[]>`insert into admin_area (level, code, name_zh, name_en, geom) values ('district', 'D', '区', 'D', st_multi(st_geomfromtext(${square}, 4326))) returning id`
    await db.sql`insert into admin_area (level, code, parent_id, name_zh, name_en, geom) values ('town', 'T', ${d!.id}, '镇', 'T', st_multi(st_geomfromtext(${square}, 4326)))`
    await db.sql`insert into poi (kind, name_zh, name_en, geom) values ('factory', '工厂', 'Factory', st_setsrid(st_makepoint(119.921, 31.90), 4326)),
                                                                          ('campus', '学院', 'College', st_setsrid(st_makepoint(119.95, 31.97), 4326))`
    const groups: [number, number, number][] = [[119.90, 31.90, 12], [119.92, 31.90, 8], [119.90, 31.93, 6]]
    const rows: [number, number][] = []
    for (const [x, y, n] of groups) {
      for (let i = 0; i < n; i++) rows.push([x + (30 * Math.cos(i)) / 94_500 * (i % 2 ? 1 : 0.5), y + (30 * Math.sin(i)) / 110_900 * (i % 2 ? 1 : 0.5)])
    }
    rows.push([119.96, 31.96], [119.87, 31.87], [119.91, 31.975])
    for (const [x, y] of rows) {
      await db.sql`insert into premises (kind, address, geom, occupants, found_on) values ('group_rental', 'x', st_setsrid(st_makepoint(${x}, ${y}), 4326), 12, '2020-01-10')`
    }
  })
  afterAll(() => db.close())

  it('finds exactly the clusters of a fixture, with their counts and nearest place', async () => {
    const fc = await analysisRepository(db.sql).clusters({ kind: 'district', id: null }, {}, '2020-12-31', 'group-rentals', 100, 5)
    expect(fc.features.map(f => f.properties.points)).toEqual([12, 8, 6])
    expect(fc.parameters).toMatchObject({ points: 29, noise: 3 })
    const [a, b] = fc.features
    expect(a!.properties).toMatchObject({ groupRentals: 12, people: 144, nearestNameEn: 'Factory' })
    expect(b!.properties.nearestNameEn).toBe('Factory')
    // The second group lies about 100 m from the factory.
    expect(b!.properties.nearestMetres).toBeGreaterThan(50)
    expect(b!.properties.nearestMetres).toBeLessThan(200)
    expect(a!.geometry.type).toBe('Polygon')
    // A stricter minimum leaves only the big group; a tiny distance leaves none.
    expect((await analysisRepository(db.sql).clusters({ kind: 'district', id: null }, {}, '2020-12-31', 'group-rentals', 100, 10)).features).toHaveLength(1)
    expect((await analysisRepository(db.sql).clusters({ kind: 'district', id: null }, {}, '2020-12-31', 'group-rentals', 10, 5)).features).toHaveLength(0)
  })

  it('puts premises a few decimetres either side of a ring\'s edge on their own side', async () => {
    // Around a place of its own: premises 0.3 m, 2 m and 6 m inside and outside rings of 300 m and
    // 2,000 m, in eight directions (north-south, where the map's scale changes most, included).
    const place = [119.92, 31.92] as [number, number]
    const [poi] = await db.sql<{ id: number }[]>`insert into poi (kind, name_zh, name_en, geom) values ('urban_village', '村', 'Edge village', st_setsrid(st_makepoint(${place[0]}, ${place[1]}), 4326)) returning id`
    const want = new Map<number, number>([[300, 0], [2000, 0]])
    for (const radius of [300, 2000]) {
      for (const off of [-6, -2, -0.3, 0.3, 2, 6]) {
        // A circle of eight corners: points at that distance every 45 degrees.
        for (const [x, y] of circle(place, radius + off, { steps: 8, units: 'meters' }).geometry.coordinates[0]!.slice(0, 8) as [number, number][]) {
          await db.sql`insert into premises (kind, address, geom, occupants, found_on) values ('rental', 'edge', st_setsrid(st_makepoint(${x}, ${y}), 4326), 1, '2020-01-10')`
        }
      }
    }
    const all = await db.sql<{ lon: number; lat: number; address: string }[]>`select st_x(geom) as lon, st_y(geom) as lat, address from premises`
    const inside = (radius: number) => all.filter(p => distance(place, [p.lon, p.lat], { units: 'meters' }) <= radius)
    for (const radius of want.keys()) want.set(radius, inside(radius).length)
    const fc = await analysisRepository(db.sql).rings({ kind: 'district', id: null }, {}, '2020-12-31', ['urban_village'], [300, 2000])
    const got = new Map(fc.features.filter(f => f.properties.poiId === poi!.id).map(f => [f.properties.radius, f.properties.premises]))
    expect(got).toEqual(want)
    // 24 premises inside 300 m (8 directions x 3 offsets inside), 48 more inside 2,000 m.
    expect(inside(300).filter(p => p.address === 'edge')).toHaveLength(24)
    expect(inside(2000).filter(p => p.address === 'edge')).toHaveLength(24 + 24 + 24)
  })
})

describe('the analysis API', () => {
  it('counts within rings what an independent count with turf finds', async () => {
    const res = await get('/api/analysis/rings?kinds=urban_village,campus&radii=300,1000')
    expect(res.statusCode).toBe(200)
    const fc = res.json()
    const premises = await t.db.sql<{ lon: number; lat: number; groupRental: boolean; openCount: number; openMajorCount: number; occupants: number }[]>`
      select st_x(geom) as lon, st_y(geom) as lat, is_group_rental_candidate(kind, meets_rule) and deregistered_on is null as group_rental,
             open_count, open_major_count, occupants from premises`
    const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from poi where kind in ('urban_village', 'campus')`
    expect(fc.features).toHaveLength(n!.n * 2)
    for (const f of fc.features.slice(0, 12)) {
      const p = f.properties
      // Points within a few centimetres of the ring's edge could go either way; there are none in practice.
      const inside = premises.filter(x => distance(point([p.lon, p.lat]), point([x.lon, x.lat]), { units: 'meters' }) <= p.radius)
      expect(p.premises, `${p.nameEn} ${p.radius}`).toBe(inside.length)
      expect(p.groupRentals).toBe(inside.filter(x => x.groupRental).length)
      expect(p.openHazards).toBe(inside.reduce((a, x) => a + x.openCount, 0))
      expect(p.openMajor).toBe(inside.reduce((a, x) => a + x.openMajorCount, 0))
      expect(p.people).toBe(inside.reduce((a, x) => a + x.occupants, 0))
    }
    // Ranked within each radius, the radii in order: group rentals first, then open major hazards;
    // each radius's ranks run 1, 2, 3…
    const rows = fc.features.map((f: { properties: { radius: number; rank: number; groupRentals: number } }) => f.properties)
    const radii = [...new Set(rows.map((r: { radius: number }) => r.radius))] as number[]
    expect(radii).toEqual([...radii].sort((a, b) => a - b))
    expect(radii.length).toBeGreaterThan(1)
    for (const radius of radii) {
      const ring = rows.filter((r: { radius: number }) => r.radius === radius)
      expect(ring.map((r: { rank: number }) => r.rank)).toEqual(ring.map((_: unknown, i: number) => i + 1))
      const ranked = ring.map((r: { groupRentals: number }) => r.groupRentals)
      expect(ranked).toEqual([...ranked].sort((a, b) => b - a))
    }
  })

  it('gives the same clusters on both backends (the result is pinned)', async () => {
    const fc = (await get('/api/analysis/clusters?of=group-rentals&eps=300&minPoints=5')).json()
    const pin = fc.features.map((f: { properties: Record<string, unknown>; geometry: { coordinates: number[][][] } }) =>
      [f.properties.points, f.properties.groupRentals, f.properties.openHazards, f.properties.people, f.properties.nearestId, f.properties.nearestMetres,
        f.geometry.coordinates[0]!.map(c => c.map(v => v.toFixed(6)).join(' ')).join(',')].join('|')).join('\n')
    expect(fc.features.length).toBeGreaterThan(3)
    expect(createHash('sha1').update(pin).digest('hex')).toMatchSnapshot()
    // 800 m: with follow-up hazards no longer piled open on the campaign's last day, the small
    // demo's open hazards lie too far apart for clusters of 4 within 300 m.
    const hazards = (await get('/api/analysis/clusters?of=open-hazards&eps=800&minPoints=4')).json()
    expect(hazards.features.length).toBeGreaterThan(0)
    expect(hazards.features.map((f: { properties: { points: number } }) => f.properties.points)).toMatchSnapshot()
    // Every figure of every cluster, pinned as the code of the seventh session gave them (a premises
    // counted once however many of its hazards are in a cluster; the town most points are in).
    const figures = (c: { features: { properties: Record<string, unknown> }[] }) => c.features.map(f =>
      ['cluster', 'points', 'premises', 'groupRentals', 'openHazards', 'openMajor', 'people', 'townId', 'nearestId', 'nearestMetres']
        .map(k => f.properties[k]).join(' '))
    expect(figures(fc)).toMatchSnapshot()
    expect(figures(hazards)).toMatchSnapshot()
  })

  it('applies the map\'s filters and the user\'s jurisdiction', async () => {
    const all = (await get('/api/analysis/clusters?of=group-rentals&eps=300&minPoints=5')).json()
    const mine = (await get('/api/analysis/clusters?of=group-rentals&eps=300&minPoints=5', commander)).json()
    const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
    for (const f of mine.features) expect(f.properties.townId).toBe(town!.id)
    expect(mine.parameters.points).toBeLessThan(all.parameters.points)
    const filtered = (await get(`/api/analysis/clusters?of=group-rentals&eps=300&minPoints=5&town=${town!.id}`)).json()
    expect(filtered.parameters.points).toBe(mine.parameters.points)
  })

  it('finds open hazards the same way within a drawn shape (from the premises there) as across the district (from the hazards)', async () => {
    const url = '/api/analysis/clusters?of=open-hazards&eps=800&minPoints=4'
    const all = (await get(url)).json()
    const [e] = await t.db.sql<{ x0: number; y0: number; x1: number; y1: number }[]>`
      select st_xmin(b) - 0.01 as x0, st_ymin(b) - 0.01 as y0, st_xmax(b) + 0.01 as x1, st_ymax(b) + 0.01 as y1 from (select st_extent(geom) as b from premises) e`
    const box = (x0: number, y0: number, x1: number, y1: number) => `within=${[x0, y0, x1, y0, x1, y1, x0, y1].join(',')}`
    const boxed = (await get(`${url}&${box(e!.x0, e!.y0, e!.x1, e!.y1)}`)).json()
    expect(all.features.length).toBeGreaterThan(0)
    expect(boxed).toEqual(all)
    // Half the district: as many points as open hazards at premises there, counted here.
    const mid = (e!.x0 + e!.x1) / 2
    const west = (await get(`${url}&${box(e!.x0, e!.y0, mid, e!.y1)}`)).json()
    const [open] = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from hazard h join premises p on p.id = h.premises_id
      where h.found_at < end_of_local_day(${all.parameters.asOf}::date)
        and (h.rectified_at is null or h.rectified_at >= end_of_local_day(${all.parameters.asOf}::date))
        and st_x(p.geom) <= ${mid}`
    expect(open!.n).toBeGreaterThan(0)
    expect(open!.n).toBeLessThan(all.parameters.points)
    expect(west.parameters.points).toBe(open!.n)
  })

  it('exports results as CSV and XLSX with the same rows', async () => {
    const geo = (await get('/api/analysis/rings?kinds=factory&radii=500')).json()
    const csv = await get('/api/analysis/rings?kinds=factory&radii=500&format=csv')
    expect(csv.headers['content-type']).toMatch(/text\/csv/)
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename="rings.csv"/)
    expect(csv.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xEF, 0xBB, 0xBF]))
    const lines = csv.rawPayload.toString('utf8').slice(1).trim().split('\r\n')
    expect(lines[0]).toMatch(/^排名 rank,重点部位,place/)
    expect(lines).toHaveLength(geo.features.length + 1)
    const xlsx = await get('/api/analysis/clusters?of=group-rentals&eps=300&minPoints=5&format=xlsx')
    expect(xlsx.headers['content-type']).toMatch(/spreadsheetml/)
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer)
    const ws = wb.worksheets[0]!
    expect(ws.getRow(1).getCell(1).value).toBe('聚集区分析 Clusters')
    expect(ws.getRow(3).getCell(1).value).toBe('聚集区 cluster')
    const clusters = (await get('/api/analysis/clusters?of=group-rentals&eps=300&minPoints=5')).json()
    expect(ws.rowCount).toBe(3 + clusters.features.length)
  })

  it.each([
    ['/api/analysis/rings?radii=20', /outside 50 to 5000 m/],
    ['/api/analysis/rings?kinds=castle', /kinds has the wrong form/],
    ['/api/analysis/clusters?eps=5', /eps must be >= 10/],
    ['/api/analysis/clusters?of=people', /of/],
    ['/api/analysis/clusters?minPoints=1', /minPoints must be >= 2/],
  ])('refuses %s with 400', async (url, message) => {
    const res = await get(url)
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(message)
  })

  it('turns a cluster into a draft key area for the commander of its town, with the parameters recorded', async () => {
    const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
    const fc = (await get(`/api/analysis/clusters?of=group-rentals&eps=300&minPoints=4&town=${town!.id}`)).json()
    const cluster = fc.features[0]
    const res = await t.app.inject({
      method: 'POST', url: '/api/analysis/proposals', headers: { cookie: analyst },
      payload: { geometry: cluster.geometry, parameters: { ...fc.parameters, cluster: cluster.properties.cluster } },
    })
    expect(res.statusCode, res.body).toBe(201)
    const { keyAreaId, commanderUserId } = res.json()
    const [commanderRow] = await t.db.sql<{ id: number }[]>`select id from app_user where username = 'commander'`
    expect(commanderUserId).toBe(commanderRow!.id)
    const draft = (await get(`/api/key-areas/${keyAreaId}`, commander)).json()
    expect(draft.properties).toMatchObject({ status: 'draft', townId: town!.id, commanderUserId: commanderRow!.id })
    expect(draft.properties.proposedFrom).toMatchObject({ of: 'group-rentals', eps: 300, minPoints: 4, proposedBy: 'analyst' })
  })
})
