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
 * minPoints points (itself included) lie within eps metres of it. Clusters are the groups of core
 * points linked through core points within eps, numbered in the order of their first core point; a
 * border point (not core, within eps of a core point) belongs to the lowest-numbered cluster that
 * reaches it: what the textbook algorithm gives when it visits the points in the order given.
 *
 * Distances are measured in a local metric frame (longitude scaled by the cosine of the points' mean
 * latitude): across a district of 30 km the error is below 0.1% of the distance, and comparing
 * squared metres keeps a million points within seconds where the haversine formula took a minute.
 */
export function dbscan(points: readonly GeoPoint[], eps: number, minPoints: number): Int32Array {
  return dbscanLonLat(Float64Array.from(points, p => p.lon), Float64Array.from(points, p => p.lat), eps, minPoints)
}

/**
 * The mean of some latitudes, the same whatever their order: summed as whole millionths of a degree
 * (exact for up to 10^8 points), where a sum of floats depends on the order of its terms in its last
 * bits. It sets the scale of east-west metres, so a database that sends the same points in another
 * order gets the very same clusters.
 */
export function meanLatitude(lats: ArrayLike<number>): number {
  let sum = 0
  for (let i = 0; i < lats.length; i++) sum += Math.round(lats[i]! * 1e6)
  return sum / lats.length / 1e6
}

/**
 * DBSCAN on a grid of cells whose diagonal is eps (Gunawan's grid DBSCAN), so that most points are
 * never compared with anything: every point of a cell holding minPoints points is core, two points
 * of one cell are always within eps, and a point stops counting neighbours once it has enough. The
 * labels are those of the textbook algorithm (see `dbscan`), which the tests compare point by point.
 *
 * With `keys` (distinct numbers, one a point), the labels are those of the textbook algorithm visiting
 * the points in the order of their keys, whatever order they are given in: which points are core and
 * which core points belong together does not depend on the order, only the clusters' numbers (by
 * their core point of least key) and so the cluster a shared border point goes to. Callers then need
 * not sort a million points first.
 */
export function dbscanLonLat(lons: Float64Array, lats: Float64Array, eps: number, minPoints: number, keys?: Float64Array): Int32Array {
  const n = lons.length
  const labels = new Int32Array(n).fill(NOISE)
  if (n === 0) return labels
  const lat0 = meanLatitude(lats)
  const kx = earthRadius * rad * Math.cos(lat0 * rad)
  const ky = earthRadius * rad
  const xs = new Float64Array(n)
  const ys = new Float64Array(n)
  // Cells a little smaller than eps / sqrt(2): any two points of a cell are within eps, whatever the rounding.
  const side = (eps / Math.SQRT2) * (1 - 1e-9)
  const gxs = new Float64Array(n)
  const gys = new Float64Array(n)
  let gx0 = Infinity
  let gx1 = -Infinity
  let gy0 = Infinity
  let gy1 = -Infinity
  for (let i = 0; i < n; i++) {
    xs[i] = lons[i]! * kx
    ys[i] = lats[i]! * ky
    gxs[i] = Math.floor(xs[i]! / side)
    gys[i] = Math.floor(ys[i]! / side)
    gx0 = Math.min(gx0, gxs[i]!)
    gx1 = Math.max(gx1, gxs[i]!)
    gy0 = Math.min(gy0, gys[i]!)
    gy1 = Math.max(gy1, gys[i]!)
  }
  // Cell numbers by grid position: an array over the points' box when it is not too big (a district
  // at 150 m is some 300 x 300), a map otherwise. Looking cells up in a map of numbers cost a third
  // of the time at a million premises. Positions outside the box hold no cell.
  const width = gx1 - gx0 + 1
  const height = gy1 - gy0 + 1
  const dense = width * height <= 1 << 24 ? new Int32Array(width * height).fill(-1) : null
  const sparse = new Map<number, number>()
  let cells = 0
  const cellAt = (gx: number, gy: number): number => {
    if (gx < gx0 || gx > gx1 || gy < gy0 || gy > gy1) return -1
    return dense ? dense[(gx - gx0) * height + (gy - gy0)]! : sparse.get((gx - gx0) * height + (gy - gy0)) ?? -1
  }
  const cellOf = new Int32Array(n)
  const cellX: number[] = []
  const cellY: number[] = []
  for (let i = 0; i < n; i++) {
    const gx = gxs[i]!
    const gy = gys[i]!
    let c = cellAt(gx, gy)
    if (c === -1) {
      c = cells++
      if (dense) dense[(gx - gx0) * height + (gy - gy0)] = c
      else sparse.set((gx - gx0) * height + (gy - gy0), c)
      cellX.push(gx)
      cellY.push(gy)
    }
    cellOf[i] = c
  }
  // Each cell's points, in input order.
  const start = new Int32Array(cells + 1)
  for (let i = 0; i < n; i++) start[cellOf[i]! + 1]!++
  for (let c = 0; c < cells; c++) start[c + 1]! += start[c]!
  const members = new Int32Array(n)
  const fill = start.slice(0, cells)
  for (let i = 0; i < n; i++) members[fill[cellOf[i]!]!++] = i
  // The cells that may hold a point within eps of a point of a cell: two cells either side.
  const nearStart = new Int32Array(cells + 1)
  const nearList: number[] = []
  for (let c = 0; c < cells; c++) {
    for (let dx = -2; dx <= 2; dx++) {
      for (let dy = -2; dy <= 2; dy++) {
        if (dx === 0 && dy === 0) continue
        const d = cellAt(cellX[c]! + dx, cellY[c]! + dy)
        if (d !== -1) nearList.push(d)
      }
    }
    nearStart[c + 1] = nearList.length
  }
  const near = Int32Array.from(nearList)
  const eps2 = eps * eps
  const within = (i: number, j: number) => {
    const dx = xs[j]! - xs[i]!
    const dy = ys[j]! - ys[i]!
    return dx * dx + dy * dy <= eps2
  }

  // Core points: a full cell's at once; the others count until they have enough.
  const core = new Uint8Array(n)
  for (let c = 0; c < cells; c++) {
    const size = start[c + 1]! - start[c]!
    for (let m = start[c]!; m < start[c + 1]!; m++) {
      const i = members[m]!
      let count = size
      for (let k = nearStart[c]!; k < nearStart[c + 1]! && count < minPoints; k++) {
        const d = near[k]!
        for (let q = start[d]!; q < start[d + 1]! && count < minPoints; q++) if (within(i, members[q]!)) count++
      }
      if (count >= minPoints) core[i] = 1
    }
  }

  // Clusters: core points joined (union-find) within a cell, and across cells by any pair within eps.
  const parent = new Int32Array(n)
  for (let i = 0; i < n; i++) parent[i] = i
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!
      i = parent[i]!
    }
    return i
  }
  const union = (a: number, b: number) => {
    const ra = find(a)
    const rb = find(b)
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb)
  }
  // Each cell's core points, in input order; the first stands for the cell.
  const coreStart = new Int32Array(cells + 1)
  const coreMembers = new Int32Array(n)
  let filled = 0
  for (let c = 0; c < cells; c++) {
    for (let m = start[c]!; m < start[c + 1]!; m++) {
      const i = members[m]!
      if (!core[i]) continue
      coreMembers[filled++] = i
      if (filled - 1 > coreStart[c]!) union(coreMembers[coreStart[c]!]!, i)
    }
    coreStart[c + 1] = filled
  }
  // Whether some core point of one cell lies within eps of some core point of the other.
  const linked = (c: number, d: number) => {
    for (let a = coreStart[c]!; a < coreStart[c + 1]!; a++) {
      for (let b = coreStart[d]!; b < coreStart[d + 1]!; b++) if (within(coreMembers[a]!, coreMembers[b]!)) return true
    }
    return false
  }
  // Touching cells first, then those a cell apart: by then most of those are joined through the
  // cell between, and comparing every core point of one with every core point of the other (for
  // points too far apart to link, all of them) was most of the time in dense districts.
  for (const far of [false, true]) {
    for (let c = 0; c < cells; c++) {
      if (coreStart[c] === coreStart[c + 1]) continue
      for (let k = nearStart[c]!; k < nearStart[c + 1]!; k++) {
        const d = near[k]!
        if (d < c || coreStart[d] === coreStart[d + 1]) continue
        if ((Math.abs(cellX[d]! - cellX[c]!) === 2 || Math.abs(cellY[d]! - cellY[c]!) === 2) !== far) continue
        if (find(coreMembers[coreStart[c]!]!) === find(coreMembers[coreStart[d]!]!)) continue
        if (linked(c, d)) union(coreMembers[coreStart[c]!]!, coreMembers[coreStart[d]!]!)
      }
    }
  }
  // Clusters numbered in the order of their first core point: of least key, or the first given.
  const roots: number[] = []
  const least = new Float64Array(n).fill(Infinity)
  for (let i = 0; i < n; i++) {
    if (!core[i]) continue
    const r = find(i)
    if (least[r] === Infinity) roots.push(r)
    least[r] = Math.min(least[r]!, keys ? keys[i]! : i)
  }
  roots.sort((a, b) => least[a]! - least[b]!)
  const clusterOfRoot = new Int32Array(n)
  roots.forEach((r, label) => { clusterOfRoot[r] = label })
  for (let i = 0; i < n; i++) if (core[i]) labels[i] = clusterOfRoot[find(i)]!
  // Border points: the lowest-numbered cluster with a core point within eps.
  for (let c = 0; c < cells; c++) {
    for (let m = start[c]!; m < start[c + 1]!; m++) {
      const i = members[m]!
      if (core[i]) continue
      let best = -1
      const consider = (d: number) => {
        for (let q = coreStart[d]!; q < coreStart[d + 1]!; q++) {
          const j = coreMembers[q]!
          if ((best === -1 || labels[j]! < best) && within(i, j)) best = labels[j]!
        }
      }
      consider(c)
      for (let k = nearStart[c]!; k < nearStart[c + 1]!; k++) consider(near[k]!)
      if (best !== -1) labels[i] = best
    }
  }
  return labels
}
