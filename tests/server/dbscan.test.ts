import { describe, expect, it } from 'vitest'
import { clusterInWorker } from '../../server/plugins/app/analysis-worker.js'
import { clusterPoints, convexHull } from '../../server/domain/clustering.js'
import { dbscan, dbscanLonLat, distanceMetres, type GeoPoint, meanLatitude, NOISE } from '../../server/domain/dbscan.js'
import { Random } from '../../server/domain/random.js'
import { textbookDbscan } from '../helpers/dbscan-textbook.js'

/** A cluster job of points and places given as lon/lat objects. */
function clusterJob(points: readonly GeoPoint[], places: readonly GeoPoint[], eps: number, minPoints: number) {
  return {
    lons: Float64Array.from(points, p => p.lon),
    lats: Float64Array.from(points, p => p.lat),
    eps,
    minPoints,
    placeLons: Float64Array.from(places, p => p.lon),
    placeLats: Float64Array.from(places, p => p.lat),
  }
}

/** The numbers 0 .. n - 1 in a random order. */
function shuffled(n: number, rnd: Random): number[] {
  const order = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd.next() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  return order
}

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

  it('labels every point as the textbook algorithm does, on dense, sparse, repeated and chained points', () => {
    // Blobs of every density (some far denser than minPoints in a cell, some just under), lines of
    // points close to eps apart (chains and border points shared by two clusters), points repeated
    // on one spot, and scattered strays; in shuffled order, so that clusters start anywhere.
    const rnd = new Random(19)
    for (const [eps, minPoints] of [[150, 8], [40, 3], [100, 2], [60, 20], [25, 5]] as const) {
      const points: { lon: number; lat: number }[] = []
      for (let b = 0; b < 14; b++) {
        const lon = 119.8 + rnd.next() * 0.05
        const lat = 31.85 + rnd.next() * 0.05
        const spread = eps * (0.3 + rnd.next() * 4)
        const count = 3 + Math.floor(rnd.next() * 160)
        for (let i = 0; i < count; i++) points.push({ lon: lon + ((rnd.next() - 0.5) * spread) / 94_500, lat: lat + ((rnd.next() - 0.5) * spread) / 110_900 })
      }
      for (let l = 0; l < 4; l++) {
        const lon = 119.8 + rnd.next() * 0.05
        const lat = 31.85 + rnd.next() * 0.05
        const step = eps * (0.6 + rnd.next() * 0.45)
        for (let i = 0; i < 25; i++) points.push({ lon: lon + (i * step) / 94_500, lat })
      }
      // Uniform scatter as dense as makes a point's neighbours about minPoints: many points sit on the
      // threshold, where one distance measured wrongly changes a label.
      const box = eps * Math.sqrt((Math.PI * 1500) / minPoints)
      for (let i = 0; i < 1500; i++) points.push({ lon: 119.9 + (rnd.next() * box) / 94_500, lat: 31.9 + (rnd.next() * box) / 110_900 })
      // Border points shared by two clusters: a point 0.9 eps from the core point at the tip of each of
      // two bundles, whose other points lie beyond eps of it; it is core for neither.
      for (let t = 0; t < 3; t++) {
        const lon = 119.95 + t * 0.01
        const lat = 31.95
        const at = (metres: number, north = 0) => ({ lon: lon + metres / 94_500, lat: lat + north / 110_900 })
        points.push(at(0))
        for (const side of [-1, 1]) {
          points.push(at(side * 0.9 * eps))
          for (let i = 0; i < minPoints - 1; i++) points.push(at(side * 1.15 * eps, (i - minPoints / 2) * 0.01 * eps))
        }
      }
      const spot = { lon: 119.83, lat: 31.88 }
      for (let i = 0; i < minPoints + 2; i++) points.push({ ...spot })
      for (let i = 0; i < 120; i++) points.push({ lon: 119.78 + rnd.next() * 0.1, lat: 31.83 + rnd.next() * 0.1 })
      for (let i = points.length - 1; i > 0; i--) {
        const j = Math.floor(rnd.next() * (i + 1))
        ;[points[i], points[j]] = [points[j]!, points[i]!]
      }
      const got = [...dbscan(points, eps, minPoints)]
      const want = textbookDbscan(points, eps, minPoints)
      expect(got).toEqual(want)
      // The same points in another order, each with a key that follows the order above: the very
      // same labels, as a database sending its rows in any order gets. Without the keys the clusters
      // are numbered in the new order, which the comparison catches.
      const order = shuffled(points.length, new Random(eps + minPoints))
      const lons = Float64Array.from(order, i => points[i]!.lon)
      const lats = Float64Array.from(order, i => points[i]!.lat)
      const keyed = dbscanLonLat(lons, lats, eps, minPoints, Float64Array.from(order, i => 3 + 7 * i))
      expect([...keyed]).toEqual(order.map(i => want[i]))
      expect([...dbscanLonLat(lons, lats, eps, minPoints)]).not.toEqual(order.map(i => want[i]))
      // Not a vacuous comparison: clusters, noise and border points shared by two clusters all occur.
      expect(new Set(want).size).toBeGreaterThan(5)
      expect(want).toContain(NOISE)
    }
  })

  it('takes the mean latitude that sets its scale the same way whatever the order of the points', () => {
    const rnd = new Random(5)
    const lats = Array.from({ length: 20_000 }, () => 31.8 + rnd.next() * 0.2)
    const order = shuffled(lats.length, rnd)
    const other = order.map(i => lats[i]!)
    // A float sum of the same numbers in another order differs in its last bits.
    expect(other.reduce((a, b) => a + b, 0)).not.toBe(lats.reduce((a, b) => a + b, 0))
    expect(meanLatitude(other)).toBe(meanLatitude(lats))
    expect(meanLatitude(lats)).toBeCloseTo(31.9, 2)
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
    const job = () => clusterJob(points, places, 40, 5)
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

describe('a cluster analysis of points in any order, with their keys', () => {
  it('gives what the points in the order of their keys give, the centres of clusters without area too', () => {
    // Blobs, and groups on a line of latitude (no area: their mark is a circle around their mean).
    const rnd = new Random(29)
    const points: GeoPoint[] = []
    for (let g = 0; g < 30; g++) points.push(...blob(119.8 + rnd.next() * 0.1, 31.85 + rnd.next() * 0.1, 10 + rnd.int(0, 40), 70))
    for (let g = 0; g < 12; g++) {
      const lon = 119.8 + rnd.next() * 0.1
      const lat = 31.85 + rnd.next() * 0.1
      for (let i = 0; i < 9 + g; i++) points.push({ lon: lon + rnd.next() * 0.0004, lat })
    }
    const places = [{ lon: 119.85, lat: 31.9 }, { lon: 119.82, lat: 31.93 }]
    const want = clusterPoints(clusterJob(points, places, 60, 6))
    const order = shuffled(points.length, rnd)
    const got = clusterPoints({ ...clusterJob(order.map(i => points[i]!), places, 60, 6), keys: Float64Array.from(order) })
    expect([...got.labels]).toEqual(order.map(i => want.labels[i]))
    expect(got.hulls).toEqual(want.hulls)
    expect([...got.nearest]).toEqual([...want.nearest])
    expect([...got.nearestMetres]).toEqual([...want.nearestMetres])
    expect([...got.centres]).toEqual([...want.centres])
    // Clusters without area occur, and their means taken in the order given would differ.
    const flat = want.hulls.flatMap((h, c) => h ? [] : [c])
    expect(flat.length).toBeGreaterThan(5)
    const given = (c: number) => {
      const own = order.filter(i => want.labels[i] === c)
      return own.reduce((a, i) => a + points[i]!.lon, 0) / own.length
    }
    expect(flat.some(c => given(c) !== want.centres[2 * c])).toBe(true)
  })
})

describe('the nearest place of each cluster', () => {
  it('is the one the haversine formula puts closest to any of its points (0 m inside its outline), places near and far alike', () => {
    // Groups of points in three regions (the district, the far north, the equator), and places
    // beside them, among them, far away and on another continent: the flat frame that ranks the
    // points first must never change which point (or place) is closest.
    const rnd = new Random(11)
    const regions = [[119.9, 31.9], [24.9, 60.2], [36.8, -1.3]] as const
    const points: { lon: number; lat: number }[] = []
    for (let g = 0; g < 60; g++) {
      const [lon, lat] = regions[g % 3]!
      const cx = lon + rnd.uniform(-0.2, 0.2)
      const cy = lat + rnd.uniform(-0.2, 0.2)
      const n = rnd.int(20, 600)
      for (let i = 0; i < n; i++) points.push({ lon: cx + rnd.normal() * 0.002, lat: cy + rnd.normal() * 0.002 })
    }
    const places = Array.from({ length: 40 }, (_, k) => {
      const [lon, lat] = regions[k % 3]!
      const spread = [0.05, 0.5, 3, 40][k % 4]!
      return { lon: lon + rnd.uniform(-spread, spread), lat: Math.max(-85, Math.min(85, lat + rnd.uniform(-spread, spread) / 2)) }
    })
    const result = clusterPoints(clusterJob(points, places, 60, 5))
    expect(result.hulls.length).toBeGreaterThan(40)
    const inside = (ring: [number, number][], p: { lon: number; lat: number }) =>
      ring.slice(1).every((b, i) => (b[0] - ring[i]![0]) * (p.lat - ring[i]![1]) - (b[1] - ring[i]![1]) * (p.lon - ring[i]![0]) >= 0)
    let measured = 0
    result.hulls.forEach((ring, c) => {
      const members = points.filter((_, i) => result.labels[i] === c)
      let nearest = -1
      let metres = Infinity
      places.forEach((place, k) => {
        const d = ring && inside(ring, place) ? 0 : Math.min(...members.map(p => distanceMetres(p, place)))
        if (d < metres) {
          metres = d
          nearest = k
        }
      })
      if (metres > 0) measured++
      expect([result.nearest[c], result.nearestMetres[c]], `cluster ${c}`).toEqual([nearest, metres])
    })
    expect(measured).toBeGreaterThan(30)
  })

  it('is measured to the point the sphere puts closest where a flat frame would pick another', () => {
    // A place 3° north of a point A, and a point B a hair farther on the sphere but mostly east:
    // a flat frame at the place's latitude shrinks east-west metres down south, so it ranks B first.
    const place = { lon: 120, lat: 34 }
    const a = { lon: 120, lat: 31 }
    const target = distanceMetres(a, place) * 1.0005
    let lo = 120
    let hi = 125
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2
      if (distanceMetres({ lon: mid, lat: 32.5 }, place) < target) lo = mid
      else hi = mid
    }
    const b = { lon: lo, lat: 32.5 }
    const flat = (p: { lon: number; lat: number }) => Math.hypot((p.lon - place.lon) * Math.cos(place.lat * Math.PI / 180), p.lat - place.lat)
    expect(flat(b)).toBeLessThan(flat(a))
    const points = [a, { lon: a.lon - 0.001, lat: a.lat - 0.001 }, b, { lon: b.lon + 0.001, lat: b.lat - 0.002 }]
    const result = clusterPoints(clusterJob(points, [place], 600_000, 2))
    expect([...result.labels]).toEqual([0, 0, 0, 0])
    expect(result.nearestMetres[0]).toBe(distanceMetres(a, place))
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

  it('gives the same ring when the points inside the extremes\' octagon are left out first', () => {
    // Discs, squares with points along their edges and on their corners, lines, repeated points.
    const rnd = new Random(7)
    for (let trial = 0; trial < 40; trial++) {
      const lons: number[] = []
      const lats: number[] = []
      const n = 64 + Math.floor(rnd.next() * 3000)
      const shape = trial % 4
      for (let i = 0; i < n; i++) {
        const a = rnd.next() * 2 * Math.PI
        const r = Math.sqrt(rnd.next()) * 0.01
        const [x, y] = shape === 0 ? [r * Math.cos(a), r * Math.sin(a)]
          : shape === 1 ? [Math.round(rnd.next() * 8) / 1000, Math.round(rnd.next() * 8) / 1000]
            : shape === 2 ? [i / 100_000, i / 200_000]
              : [(i % 5) * 0.001, (i % 3) * 0.001]
        lons.push(119.9 + x)
        lats.push(31.9 + y)
      }
      const which = Array.from({ length: n }, (_, i) => i)
      expect(convexHull(which, lons, lats), `trial ${trial}`).toEqual(convexHull(which, lons, lats, { all: true }))
    }
  })
})
