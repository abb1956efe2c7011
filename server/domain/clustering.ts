import { dbscanLonLat, distanceMetres, earthRadius, NOISE } from './dbscan.js'

/**
 * The arithmetic of a cluster analysis, kept free of the database and of Node's event loop so that
 * it can run in a worker thread: DBSCAN labels and, for each cluster, its convex hull and the nearest
 * of a list of places. Coordinates travel as typed arrays (degrees, WGS-84) because they cross to the
 * worker without a copy.
 */
export interface ClusterJob {
  lons: Float64Array
  lats: Float64Array
  /** Metres. */
  eps: number
  minPoints: number
  placeLons: Float64Array
  placeLats: Float64Array
  /** Per point: a distinct key (an id), the order DBSCAN visits the points in; else their order here. */
  keys?: Float64Array
}

export interface ClusterResult {
  /** Per point: its cluster (0, 1, ...) or NOISE (-1). */
  labels: Int32Array
  /** Per cluster: the index of its nearest place (-1 when there are no places). */
  nearest: Int32Array
  /** Per cluster: metres from its closest point to that place; 0 when the place lies inside its hull. */
  nearestMetres: Float64Array
  /** Per cluster: its convex hull as a closed counter-clockwise ring, or null when its points have no area. */
  hulls: ([number, number][] | null)[]
  /**
   * Per cluster (longitude, latitude at 2c, 2c + 1): the mean of its points when it has no hull, their
   * sums taken in the order of their keys so that the figure does not depend on the order given; else NaN.
   */
  centres: Float64Array
}

const rad = Math.PI / 180

export function clusterPoints(job: ClusterJob): ClusterResult {
  const { lons, lats, placeLons, placeLats } = job
  const n = lons.length
  const { keys } = job
  const labels = dbscanLonLat(lons, lats, job.eps, job.minPoints, keys)
  const clusters = labels.reduce((a, l) => Math.max(a, l + 1), 0)
  // Each cluster's points, cluster by cluster, in input order.
  const start = new Int32Array(clusters + 1)
  for (let i = 0; i < n; i++) if (labels[i] !== NOISE) start[labels[i]! + 1]!++
  for (let c = 0; c < clusters; c++) start[c + 1]! += start[c]!
  const members = new Int32Array(start[clusters]!)
  const fill = start.slice(0, clusters)
  for (let i = 0; i < n; i++) if (labels[i] !== NOISE) members[fill[labels[i]!]!++] = i

  const nearest = new Int32Array(clusters).fill(-1)
  const nearestMetres = new Float64Array(clusters).fill(Infinity)
  const hulls: ([number, number][] | null)[] = []
  const centres = new Float64Array(2 * clusters).fill(Number.NaN)
  // A lower bound of the distance from a place to a cluster's bounding box, in a local metric frame
  // scaled by the smallest cosine of latitude present (so it never overstates east-west metres),
  // with 10% to spare for the difference to the sphere. Places farther than the best distance found
  // so far are never measured point by point.
  let maxLat = 0
  for (const lat of lats) maxLat = Math.max(maxLat, Math.abs(lat))
  for (const lat of placeLats) maxLat = Math.max(maxLat, Math.abs(lat))
  const kx = earthRadius * rad * Math.cos(Math.min(89, maxLat) * rad)
  const ky = earthRadius * rad
  const bound = new Float64Array(placeLons.length)
  const order = Array.from({ length: placeLons.length }, (_, k) => k)
  for (let c = 0; c < clusters; c++) {
    let x0 = Infinity
    let x1 = -Infinity
    let y0 = Infinity
    let y1 = -Infinity
    for (let m = start[c]!; m < start[c + 1]!; m++) {
      const i = members[m]!
      x0 = Math.min(x0, lons[i]!)
      x1 = Math.max(x1, lons[i]!)
      y0 = Math.min(y0, lats[i]!)
      y1 = Math.max(y1, lats[i]!)
    }
    for (let k = 0; k < placeLons.length; k++) {
      const dx = Math.max(0, x0 - placeLons[k]!, placeLons[k]! - x1) * kx
      const dy = Math.max(0, y0 - placeLats[k]!, placeLats[k]! - y1) * ky
      bound[k] = Math.hypot(dx, dy) * 0.9
    }
    order.sort((a, b) => bound[a]! - bound[b]! || a - b)
    const hull = convexHull(members.subarray(start[c]!, start[c + 1]!), lons, lats)
    // The distance from a cluster to a place is from the cluster's closest point, and 0 for a place
    // inside the cluster's outline (a campus the group rentals surround is not "120 m away"); among
    // places at the same distance the first in the list (the lowest id) wins, so the answer is repeatable.
    for (const k of order) {
      // Places come by their bound, then their index: once one lies inside, no later one can win.
      if (bound[k]! > nearestMetres[c]! || nearestMetres[c] === 0) break
      const lon = placeLons[k]!
      const lat = placeLats[k]!
      const d = hull && insideConvex(hull, lon, lat) ? 0
        : closestMetres(members.subarray(start[c]!, start[c + 1]!), lons, lats, lon, lat, Math.max(Math.abs(y0 - lat), Math.abs(y1 - lat)))
      if (d < nearestMetres[c]! || (d === nearestMetres[c]! && k < nearest[c]!)) {
        nearestMetres[c] = d
        nearest[c] = k
      }
    }
    hulls.push(hull)
    if (!hull) {
      const own = Array.from(members.subarray(start[c]!, start[c + 1]!))
      if (keys) own.sort((a, b) => keys[a]! - keys[b]!)
      let lonSum = 0
      let latSum = 0
      for (const i of own) {
        lonSum += lons[i]!
        latSum += lats[i]!
      }
      centres[2 * c] = lonSum / own.length
      centres[2 * c + 1] = latSum / own.length
    }
  }
  return { labels, nearest, nearestMetres, hulls, centres }
}

/**
 * The great-circle distance from a place to the closest of some points, in metres. The haversine
 * formula is worked out only for the points that can be the closest: a flat frame at the place's
 * latitude ranks them first (a few multiplications a point, where a cluster holds up to 240,000),
 * and its error relative to the sphere, at most `slack` (from the span of latitudes `dLat`, in
 * degrees, between the place and the points), keeps every point within that margin of the best.
 */
function closestMetres(which: ArrayLike<number>, lons: ArrayLike<number>, lats: ArrayLike<number>, lon: number, lat: number, dLat: number): number {
  const exact = (i: number) => distanceMetres({ lon: lons[i]!, lat: lats[i]! }, { lon, lat })
  // The east-west scale at the place's latitude against the points' (tan(lat) x the latitudes
  // between, with half again to spare), and a little for the curvature the frame leaves out.
  const slack = 0.002 + 1.5 * Math.tan(Math.min(89, Math.abs(lat) + dLat) * rad) * dLat * rad
  let best = Infinity
  if (slack >= 0.2) {
    for (let m = 0; m < which.length; m++) best = Math.min(best, exact(which[m]!))
    return best
  }
  const kx = Math.cos(lat * rad)
  const flat = new Float64Array(which.length)
  let least = Infinity
  for (let m = 0; m < which.length; m++) {
    const i = which[m]!
    const dx = (lons[i]! - lon) * kx
    const dy = lats[i]! - lat
    flat[m] = dx * dx + dy * dy
    if (flat[m]! < least) least = flat[m]!
  }
  const within = least * ((1 + slack) / (1 - slack)) ** 2
  for (let m = 0; m < which.length; m++) if (flat[m]! <= within) best = Math.min(best, exact(which[m]!))
  return best
}

/** Whether a point lies inside or on a closed counter-clockwise convex ring: left of (or on) every edge. */
function insideConvex(ring: [number, number][], lon: number, lat: number): boolean {
  for (let i = 0; i + 1 < ring.length; i++) {
    const [ax, ay] = ring[i]!
    const [bx, by] = ring[i + 1]!
    if ((bx - ax) * (lat - ay) - (by - ay) * (lon - ax) < 0) return false
  }
  return true
}

/**
 * The convex hull of some points (Andrew's monotone chain), in degrees as GeoJSON draws it: a closed
 * counter-clockwise ring without collinear corners, or null when the points lie on a line or a spot.
 * Points strictly inside the octagon of the extreme points (Akl-Toussaint) cannot be corners and are
 * left out before the sort: a cluster of 240,000 group rentals keeps a few hundred. `all` sorts
 * every point (the tests compare).
 */
export function convexHull(which: ArrayLike<number>, lons: ArrayLike<number>, lats: ArrayLike<number>, opts: { all?: boolean } = {}): [number, number][] | null {
  const candidates = opts.all || which.length < 64 ? Array.from(which) : outsideOctagon(which, lons, lats)
  const pts = candidates.map(i => [lons[i]!, lats[i]!] as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
  const cross = (o: [number, number], a: [number, number], b: [number, number]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
  const half = (list: [number, number][]) => {
    const out: [number, number][] = []
    for (const p of list) {
      while (out.length >= 2 && cross(out[out.length - 2]!, out[out.length - 1]!, p) <= 0) out.pop()
      out.push(p)
    }
    out.pop()
    return out
  }
  const ring = [...half(pts), ...half([...pts].reverse())]
  if (ring.length < 3) return null
  return [...ring, ring[0]!]
}

/**
 * The points not strictly inside the polygon of the extreme points in eight directions (lowest,
 * lowest-right, rightmost, ... in counter-clockwise order): every corner of the hull is among them.
 * A point within a hair of an edge is kept, so rounding never drops a corner.
 */
function outsideOctagon(which: ArrayLike<number>, lons: ArrayLike<number>, lats: ArrayLike<number>): number[] {
  // Directions: -y, x-y, x, x+y, y, y-x, -x, -x-y; the point with the greatest value of each.
  const best = Array.from({ length: 8 }, () => which[0]!)
  const top = new Float64Array(8).fill(-Infinity)
  const consider = (d: number, score: number, i: number) => {
    if (score > top[d]!) {
      top[d] = score
      best[d] = i
    }
  }
  for (let k = 0; k < which.length; k++) {
    const i = which[k]!
    const x = lons[i]!
    const y = lats[i]!
    consider(0, -y, i)
    consider(1, x - y, i)
    consider(2, x, i)
    consider(3, x + y, i)
    consider(4, y, i)
    consider(5, y - x, i)
    consider(6, -x, i)
    consider(7, -x - y, i)
  }
  const corners = best.filter((i, d) => d === 0 || i !== best[d - 1]).filter((i, d, a) => d === 0 || i !== a[0])
  if (corners.length < 3) return Array.from(which)
  const hair = 1e-12
  // Each edge from corner a to the next as a's position and the edge's direction.
  const edges = corners.length
  const ax = Float64Array.from(corners, a => lons[a]!)
  const ay = Float64Array.from(corners, a => lats[a]!)
  const ex = Float64Array.from(corners, (a, c) => lons[corners[(c + 1) % edges]!]! - lons[a]!)
  const ey = Float64Array.from(corners, (a, c) => lats[corners[(c + 1) % edges]!]! - lats[a]!)
  const keep: number[] = []
  for (let k = 0; k < which.length; k++) {
    const i = which[k]!
    const x = lons[i]!
    const y = lats[i]!
    let inside = true
    for (let c = 0; c < edges && inside; c++) {
      if (ex[c]! * (y - ay[c]!) - ey[c]! * (x - ax[c]!) <= hair) inside = false
    }
    if (!inside) keep.push(i)
  }
  return keep
}
