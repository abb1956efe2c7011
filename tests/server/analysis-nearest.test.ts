import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * The place nearest a cluster (issue 17 §4): a campus that the cluster's group rentals surround is
 * 0 m from it, not the distance from the campus to the closest of them.
 */
let t: TestApp
let analyst: string

beforeAll(async () => {
  t = await buildTestApp()
  analyst = await signIn(t.app, 'analyst')
})
afterAll(() => t.close())

interface Cluster { properties: { points: number; nearestId: number | null; nearestKind: string | null; nearestMetres: number | null }; geometry: { coordinates: number[][][] } }
const clusters = async (eps: number) =>
  ((await t.app.inject({ url: `/api/analysis/clusters?of=group-rentals&eps=${eps}&minPoints=5`, headers: { cookie: analyst } })).json() as { features: Cluster[] }).features

describe('the nearest place of a cluster', () => {
  it('is a campus inside the cluster\'s outline, at 0 m', async () => {
    const before = await clusters(300)
    // A cluster with no place inside it yet (a place already inside would tie at 0 m and, older, win).
    const cluster = before.find(c => c.geometry.coordinates[0]!.length >= 4 && (c.properties.nearestMetres ?? 0) > 0)!
    expect(cluster).toBeDefined()
    // The mean of the hull's corners lies inside a convex hull, and on no group rental.
    const ring = cluster.geometry.coordinates[0]!.slice(0, -1)
    const lon = ring.reduce((a, c) => a + c[0]!, 0) / ring.length
    const lat = ring.reduce((a, c) => a + c[1]!, 0) / ring.length
    const [closest] = await t.db.sql<{ metres: number }[]>`
      select min(st_distance(geom::geography, st_setsrid(st_point(${lon}, ${lat}), 4326)::geography)) as metres
      from premises where kind = 'group_rental' or (kind = 'rental' and meets_rule)`
    // Measured to the closest group rental, the campus would be some metres away.
    expect(closest!.metres).toBeGreaterThan(1)
    const [campus] = await t.db.sql<{ id: number }[]>`
      insert into poi (kind, name_zh, name_en, geom) values ('campus', '片中学校', 'Campus inside', st_setsrid(st_point(${lon}, ${lat}), 4326)) returning id`
    // Another radius: an answer computed before the campus existed is not reused.
    const after = await clusters(301)
    const surrounding = after.find(c => c.properties.nearestId === campus!.id)
    expect(surrounding, JSON.stringify(after.map(c => c.properties))).toBeDefined()
    expect(surrounding!.properties).toMatchObject({ nearestKind: 'campus', nearestMetres: 0 })
  })

  it('is measured to the closest group rental for a place outside the outline', async () => {
    for (const c of await clusters(302)) {
      if (c.properties.nearestMetres === 0 || c.properties.nearestId === null) continue
      const [p] = await t.db.sql<{ inside: boolean }[]>`
        select st_covers(st_setsrid(st_geomfromgeojson(${JSON.stringify(c.geometry)}), 4326), geom) as inside from poi where id = ${c.properties.nearestId}`
      expect(p!.inside).toBe(false)
    }
  })
})
