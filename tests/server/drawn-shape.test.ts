import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Corner, shapeFromParam, shapeMaxCorners, shapeToParam } from '../../server/domain/drawn-shape.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * A shape drawn on the map filters everything (issue 17 §2): the points, the legend's counts, the
 * measures, the tiles. The figures inside are recounted here from the raw rows with a point-in-polygon
 * test of our own (not PostGIS), and a bad shape is refused with a clear 400.
 */
let t: TestApp
let cookie: string
let shape: Corner[] = []
let rows: { id: number; x: number; y: number; kind: string; meetsRule: boolean; foundOn: string; deregisteredOn: string | null }[] = []

beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'leader')
  rows = await t.db.sql`
    select id, st_x(geom) as x, st_y(geom) as y, kind, meets_rule, found_on::text, deregistered_on::text from premises order by id`
  const xs = rows.map(r => r.x)
  const ys = rows.map(r => r.y)
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]
  const at = (fx: number, fy: number): Corner => [x0 + (x1 - x0) * fx, y0 + (y1 - y0) * fy]
  // A concave shape (a notch cut into its east side), as a hand would draw one: a box would not
  // tell a polygon test from a bounding-box one.
  shape = [at(0.15, 0.1), at(0.8, 0.15), at(0.45, 0.5), at(0.85, 0.85), at(0.2, 0.9)]
})
afterAll(() => t.close())

const get = (url: string) => t.app.inject({ method: 'GET', url, headers: { cookie } })

/** Ray casting: whether p lies inside the ring. */
function inside(p: Corner, ring: Corner[]): boolean {
  let yes = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!
    const [xj, yj] = ring[j]!
    if ((yi > p[1]) !== (yj > p[1]) && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) yes = !yes
  }
  return yes
}

describe('a drawn shape as a filter', () => {
  it('answers the points inside the shape and no other', async () => {
    const res = await get(`/api/premises?limit=100000&within=${shapeToParam(shape)}`)
    expect(res.statusCode).toBe(200)
    const ids = (res.json() as { features: { id: number }[] }).features.map(f => f.id).sort((a, b) => a - b)
    const expected = rows.filter(r => inside([r.x, r.y], shape)).map(r => r.id)
    expect(expected.length).toBeGreaterThan(50)
    expect(expected.length).toBeLessThan(rows.length - 50)
    expect(ids).toEqual(expected)
  })

  it('gives legend counts inside the shape equal to a recount of the points inside, status by status', async () => {
    const all = (await get('/api/premises?limit=100000')).json() as { features: { id: number; geometry: { coordinates: Corner }; properties: { status: string; unregistered: boolean } }[] }
    const inShape = all.features.filter(f => inside(f.geometry.coordinates, shape))
    const res = await get(`/api/premises/counts?within=${shapeToParam(shape)}`)
    expect(res.statusCode).toBe(200)
    const counts = res.json() as { total: number; byStatus: Record<string, number>; unregistered: number }
    expect(counts.total).toBe(inShape.length)
    const byStatus: Record<string, number> = {}
    for (const f of inShape) byStatus[f.properties.status] = (byStatus[f.properties.status] ?? 0) + 1
    for (const [status, n] of Object.entries(counts.byStatus)) expect(n, status).toBe(byStatus[status] ?? 0)
    expect(counts.unregistered).toBe(inShape.filter(f => f.properties.unregistered).length)
  })

  it('limits the measures to the shape: the group rentals found inside equal a recount', async () => {
    const res = await get(`/api/stats/summary?within=${shapeToParam(shape)}`)
    expect(res.statusCode).toBe(200)
    const summary = res.json() as { asOf: string; district: { measures: { key: string; denominator: number }[] } }
    const found = rows.filter(r => inside([r.x, r.y], shape) && (r.kind === 'group_rental' || (r.kind === 'rental' && r.meetsRule))
      && r.foundOn <= summary.asOf && (r.deregisteredOn === null || r.deregisteredOn > summary.asOf)).length
    expect(found).toBeGreaterThan(0)
    expect(summary.district.measures.find(m => m.key === 'group_rentals_registered')!.denominator).toBe(found)
    const whole = (await get('/api/stats/summary')).json() as typeof summary
    expect(whole.district.measures.find(m => m.key === 'group_rentals_registered')!.denominator).toBeGreaterThan(found)
  })

  it('draws the map\'s tiles with the shape (points grouped below zoom 14 too)', async () => {
    for (const url of ['/api/tiles/premises/10/853/415.mvt', '/api/tiles/premises/16/54626/26609.mvt']) {
      const res = await get(`${url}?within=${shapeToParam(shape)}`)
      expect([200, 204], url).toContain(res.statusCode)
    }
  })

  it.each([
    ['a ring that crosses itself (a bow tie)', '120,31,120.1,31.1,120.1,31,120,31.1'],
    ['two corners', '120,31,120.1,31.1'],
    ['corners on one line', '120,31,120.1,31.1,120.2,31.2'],
    ['an odd count of numbers', '120,31,120.1,31.1,120.2'],
    ['a word', '120,31,north,31.1,120.2,31'],
    ['a corner off the earth', '120,31,190,31.1,120.2,31'],
    ['an edge doubling back on the one before', '120,31,120.2,31,120.1,31,120.1,31.1'],
    [`more than ${shapeMaxCorners} corners`, Array.from({ length: shapeMaxCorners + 1 }, (_, i) => {
      const a = (2 * Math.PI * i) / (shapeMaxCorners + 1)
      return `${(120 + 0.1 * Math.cos(a)).toFixed(6)},${(31 + 0.1 * Math.sin(a)).toFixed(6)}`
    }).join(',')],
  ])('refuses %s with a 400 that says why, in English and Chinese', async (_case, within) => {
    for (const url of [`/api/premises/counts?within=${within}`, `/api/stats/summary?within=${within}`]) {
      const res = await get(url)
      expect(res.statusCode, url).toBe(400)
      const body = res.json() as { message: string; messageZh?: string; reason?: string }
      expect(body.message).toMatch(/within/)
      expect(body.messageZh).toMatch(/范围/)
      expect(body.reason).toBe('invalid-shape')
    }
  })

  it('accepts a shape of exactly the most corners, closed or not, and the same shape drawn either way round', () => {
    const ring: Corner[] = Array.from({ length: shapeMaxCorners }, (_, i) => {
      const a = (2 * Math.PI * i) / shapeMaxCorners
      return [120 + 0.1 * Math.cos(a), 31 + 0.1 * Math.sin(a)]
    })
    expect(shapeFromParam(shapeToParam(ring))).toHaveProperty('corners')
    expect(shapeFromParam(shapeToParam([...ring, ring[0]!]))).toHaveProperty('corners')
    expect(shapeFromParam(shapeToParam([...ring].reverse()))).toHaveProperty('corners')
  })
})
