import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon'
import { point as turfPoint } from '@turf/helpers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/** GET /api/key-areas, which the map asks for as it opens: its counts, their renewal, and where names go. */
let t: TestApp
let leader: string

beforeAll(async () => {
  t = await buildTestApp()
  leader = await signIn(t.app, 'leader')
})
afterAll(() => t.close())

interface Listed { id: number; geometry: GeoJSON.Polygon | GeoJSON.MultiPolygon; properties: { id: number; openHazards: number; openHazardsAtListing: number | null; listedOn: string | null; labelPoint: number[] } }

async function list(): Promise<{ referenceDate: string; features: Listed[] }> {
  const res = await t.app.inject({ url: '/api/key-areas', headers: { cookie: leader } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

/** The hazards open inside an area at the end of a day, counted here without the app. */
async function openInside(id: number, on: string): Promise<number> {
  const [r] = await t.db.sql<{ n: number }[]>`
    select count(*)::int as n from key_area k join premises p on st_intersects(k.geom, p.geom) join hazard h on h.premises_id = p.id
    where k.id = ${id} and h.found_at < end_of_local_day(${on}::date) and (h.rectified_at is null or h.rectified_at >= end_of_local_day(${on}::date))`
  return r!.n
}

describe('the key areas listed for the map', () => {
  it('count the hazards open inside each area on the reference day and on its listing day, for every area listed', async () => {
    const { referenceDate, features } = await list()
    expect(features.length).toBeGreaterThan(3)
    for (const f of features) {
      expect(f.properties.openHazards, `key area ${f.id}`).toBe(await openInside(f.id, referenceDate))
      if (f.properties.listedOn === null) expect(f.properties.openHazardsAtListing).toBeNull()
      else expect(f.properties.openHazardsAtListing, `key area ${f.id} at listing`).toBe(await openInside(f.id, f.properties.listedOn))
    }
    expect(features.some(f => f.properties.openHazards > 0)).toBe(true)
  })

  it('count anew once a hazard inside an area is rectified, although the counts are kept between requests', async () => {
    const { referenceDate, features } = await list()
    const area = features.find(f => f.properties.openHazards > 0)!
    const [h] = await t.db.sql<{ id: number }[]>`
      select h.id from key_area k join premises p on st_intersects(k.geom, p.geom) join hazard h on h.premises_id = p.id
      where k.id = ${area.id} and h.rectified_at is null
        and coalesce(h.referred_at, h.found_at) < end_of_local_day(${referenceDate}::date) - interval '1 hour'
      order by h.id limit 1`
    expect(h, 'an open hazard inside the area').toBeDefined()
    // Rectified a minute after it was found (or referred): no longer open on the reference day.
    await t.db.sql`update hazard set status = 'rectified', rectified_at = coalesce(referred_at, found_at) + interval '1 minute' where id = ${h!.id}`
    await t.app.versions.refresh()
    const after = (await list()).features.find(f => f.id === area.id)!
    expect(after.properties.openHazards).toBe(area.properties.openHazards - 1)
    expect(after.properties.openHazards).toBe(await openInside(area.id, referenceDate))
  })

  it('give each area one point inside it to draw its name at', async () => {
    const { features } = await list()
    for (const f of features) {
      expect(f.properties.labelPoint, `key area ${f.id}`).toHaveLength(2)
      expect(booleanPointInPolygon(turfPoint(f.properties.labelPoint), f.geometry), `key area ${f.id}'s label point inside it`).toBe(true)
    }
  })
})
