import { describe, expect, it } from 'vitest'
import { clusterInWorker } from '../../server/plugins/app/analysis-worker.js'
import { clusterPoints, convexHull } from '../../server/domain/clustering.js'
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

describe('cluster analyses in a worker thread', () => {
  it('give the same clusters and nearest places as this thread, while the event loop keeps turning', async () => {
    // 60,000 points in 300 tight groups across the district: a job of about a second's arithmetic.
    const points = Array.from({ length: 300 }, (_, g) => blob(119.78 + (g % 20) * 0.011, 31.82 + Math.floor(g / 20) * 0.014, 200, 80 + (g % 7) * 20)).flat()
    const places = [{ lon: 119.80, lat: 31.85 }, { lon: 119.95, lat: 31.95 }, { lon: 119.88, lat: 31.90 }]
    const job = () => ({
      lons: Float64Array.from(points, p => p.lon),
      lats: Float64Array.from(points, p => p.lat),
      eps: 40,
      minPoints: 5,
      placeLons: Float64Array.from(places, p => p.lon),
      placeLats: Float64Array.from(places, p => p.lat),
    })
    const here = clusterPoints(job())
    let turns = 0
    const ticker = setInterval(() => turns++, 1)
    const started = performance.now()
    const there = await clusterInWorker(job())
    const took = performance.now() - started
    clearInterval(ticker)
    expect([...there.labels]).toEqual([...here.labels])
    expect([...there.nearest]).toEqual([...here.nearest])
    expect([...there.nearestMetres]).toEqual([...here.nearestMetres])
    expect(here.nearest.length).toBeGreaterThan(250)
    // The nearest place of a cluster is at the least distance from any of its points.
    const c = here.labels[0]!
    const members = points.filter((_, i) => here.labels[i] === c)
    const best = Math.min(...places.flatMap(pl => members.map(p => distanceMetres(p, pl))))
    expect(here.nearestMetres[c]).toBe(best)
    // Timers fired while the worker computed: the main thread was free for other requests.
    expect(turns).toBeGreaterThan(Math.min(5, took / 20))
  })
})

describe('convexHull', () => {
  it('keeps the corners only, counter-clockwise and closed, and has none for points on a line', () => {
    // A square with a point inside and one on an edge.
    const lons = [0, 1, 1, 0, 0.5, 0.5]
    const lats = [0, 0, 1, 1, 0.5, 0]
    expect(convexHull([0, 1, 2, 3, 4, 5], lons, lats)).toEqual([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]])
    expect(convexHull([0, 5, 1], lons, lats)).toBeNull()
    expect(convexHull([2, 2, 2], lons, lats)).toBeNull()
  })
})
