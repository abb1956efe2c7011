import { describe, expect, it } from 'vitest'
import { dbscan, distanceMetres, NOISE } from '../../server/domain/dbscan.js'

/** Points on a circle of the given radius (metres) around a centre. */
function blob(lon: number, lat: number, n: number, radius: number) {
  return Array.from({ length: n }, (_, i) => ({
    lon: lon + (radius * Math.cos((2 * Math.PI * i) / n)) / 94_500 * ((i % 3) / 3 + 0.2),
    lat: lat + (radius * Math.sin((2 * Math.PI * i) / n)) / 110_900 * ((i % 3) / 3 + 0.2),
  }))
}

describe('dbscan', () => {
  it('finds exactly the clusters of a fixture and leaves the strays as noise', () => {
    // Three tight groups 2 km apart, and three lone points far from everything.
    const a = blob(119.90, 31.90, 12, 60)
    const b = blob(119.92, 31.90, 8, 60)
    const c = blob(119.90, 31.92, 5, 60)
    const strays = [{ lon: 119.95, lat: 31.95 }, { lon: 119.86, lat: 31.86 }, { lon: 119.91, lat: 31.97 }]
    const points = [...a, ...b, ...c, ...strays]
    const labels = dbscan(points, 100, 4)
    const groups = new Map<number, number[]>()
    labels.forEach((l, i) => groups.set(l, [...(groups.get(l) ?? []), i]))
    expect([...groups.keys()].sort()).toEqual([NOISE, 0, 1, 2])
    expect(groups.get(0)).toEqual(a.map((_, i) => i))
    expect(groups.get(1)).toEqual(b.map((_, i) => a.length + i))
    expect(groups.get(2)).toEqual(c.map((_, i) => a.length + b.length + i))
    expect(groups.get(NOISE)).toEqual([25, 26, 27])
  })

  it('needs minPoints within eps, the point itself included', () => {
    const pair = [{ lon: 119.9, lat: 31.9 }, { lon: 119.9005, lat: 31.9 }]
    expect(distanceMetres(pair[0]!, pair[1]!)).toBeLessThan(50)
    expect([...dbscan(pair, 50, 2)]).toEqual([0, 0])
    expect([...dbscan(pair, 50, 3)]).toEqual([NOISE, NOISE])
    expect([...dbscan(pair, 10, 2)]).toEqual([NOISE, NOISE])
  })

  it('chains core points and gives a border point to the first cluster that reaches it', () => {
    // A line of points 40 m apart: with eps 50 and minPoints 3 the ends are border points.
    const line = Array.from({ length: 6 }, (_, i) => ({ lon: 119.9 + (i * 40) / 94_500, lat: 31.9 }))
    expect([...dbscan(line, 50, 3)]).toEqual([0, 0, 0, 0, 0, 0])
    expect([...dbscan([], 50, 3)]).toEqual([])
  })

  it('measures metres like the haversine formula (1° of latitude ≈ 111.2 km)', () => {
    expect(distanceMetres({ lon: 120, lat: 31 }, { lon: 120, lat: 32 })).toBeCloseTo(111_195, -1)
  })
})
