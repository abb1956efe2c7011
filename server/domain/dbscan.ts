/**
 * DBSCAN (Ester et al. 1996) on points in degrees with distances in metres. Written here rather than
 * taken from each database's ST_ClusterDBSCAN so that both backends give the very same clusters:
 * points are visited in the order given (callers sort by id), clusters are numbered by their first
 * core point, and a border point belongs to the first cluster that reaches it.
 */

export interface GeoPoint {
  lon: number
  lat: number
}

/** Earth radius (mean, metres) of the spherical model used for "true metres" here and by turf. */
export const earthRadius = 6_371_008.8
const rad = Math.PI / 180

/** Great-circle distance in metres (haversine). */
export function distanceMetres(a: GeoPoint, b: GeoPoint): number {
  const dLat = (b.lat - a.lat) * rad
  const dLon = (b.lon - a.lon) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2
  return 2 * earthRadius * Math.asin(Math.min(1, Math.sqrt(h)))
}

export const NOISE = -1

/**
 * Labels each point with its cluster (0, 1, ...) or NOISE. A point is a core point when at least
 * minPoints points (itself included) lie within eps metres of it.
 */
export function dbscan(points: readonly GeoPoint[], eps: number, minPoints: number): Int32Array {
  const n = points.length
  const labels = new Int32Array(n).fill(-2)
  if (n === 0) return labels
  // A grid of eps-sized cells in a local metric frame finds the candidates; haversine decides.
  const lat0 = points.reduce((a, p) => a + p.lat, 0) / n
  const kx = earthRadius * rad * Math.cos(lat0 * rad)
  const ky = earthRadius * rad
  const cell = eps * 1.01
  const grid = new Map<string, number[]>()
  const gx = new Int32Array(n)
  const gy = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    gx[i] = Math.floor((points[i]!.lon * kx) / cell)
    gy[i] = Math.floor((points[i]!.lat * ky) / cell)
    const key = `${gx[i]},${gy[i]}`
    const list = grid.get(key)
    if (list) list.push(i)
    else grid.set(key, [i])
  }
  const neighbours = (i: number): number[] => {
    const out: number[] = []
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        const list = grid.get(`${gx[i]! + dx},${gy[i]! + dy}`)
        if (!list) continue
        for (const j of list) if (distanceMetres(points[i]!, points[j]!) <= eps) out.push(j)
      }
    }
    return out.sort((a, b) => a - b)
  }
  let cluster = 0
  for (let i = 0; i < n; i++) {
    if (labels[i] !== -2) continue
    const seeds = neighbours(i)
    if (seeds.length < minPoints) {
      labels[i] = NOISE
      continue
    }
    const c = cluster++
    labels[i] = c
    const queue = seeds.filter(j => j !== i)
    for (let k = 0; k < queue.length; k++) {
      const q = queue[k]!
      if (labels[q] === NOISE) labels[q] = c
      if (labels[q] !== -2) continue
      labels[q] = c
      const more = neighbours(q)
      if (more.length >= minPoints) for (const m of more) if (labels[m] === -2 || labels[m] === NOISE) queue.push(m)
    }
  }
  return labels
}
