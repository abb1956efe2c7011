import { earthRadius, type GeoPoint, meanLatitude, NOISE } from '../../server/domain/dbscan.js'

/**
 * DBSCAN as Ester et al. (1996) wrote it, point by point with every distance measured: the
 * reference the grid algorithm must equal label for label. Points are visited in the order given,
 * a cluster is expanded to the end before the next starts, and a border point keeps the first
 * cluster that reaches it. Distances in the same local metric frame as the product's.
 */
export function textbookDbscan(points: readonly GeoPoint[], eps: number, minPoints: number): number[] {
  const n = points.length
  if (n === 0) return []
  const rad = Math.PI / 180
  const lat0 = meanLatitude(points.map(p => p.lat))
  const kx = earthRadius * rad * Math.cos(lat0 * rad)
  const ky = earthRadius * rad
  const xy = points.map(p => [p.lon * kx, p.lat * ky] as const)
  const region = (i: number) => {
    const out: number[] = []
    for (let j = 0; j < n; j++) {
      const dx = xy[j]![0] - xy[i]![0]
      const dy = xy[j]![1] - xy[i]![1]
      if (dx * dx + dy * dy <= eps * eps) out.push(j)
    }
    return out
  }
  const unvisited = -2
  const labels: number[] = Array.from({ length: n }, () => unvisited)
  let cluster = 0
  for (let i = 0; i < n; i++) {
    if (labels[i] !== unvisited) continue
    const seeds = region(i)
    if (seeds.length < minPoints) {
      labels[i] = NOISE
      continue
    }
    const c = cluster++
    labels[i] = c
    const queue = [...seeds]
    while (queue.length) {
      const j = queue.shift()!
      if (labels[j] === NOISE) labels[j] = c
      if (labels[j] !== unvisited) continue
      labels[j] = c
      const more = region(j)
      if (more.length >= minPoints) queue.push(...more)
    }
  }
  return labels
}
