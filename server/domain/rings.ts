/**
 * What lies within rings around places, counted in one pass over the premises: each premises near a
 * place counts once, in the band of the smallest ring that holds it (a wider ring is the sum of the
 * bands inside it).
 *
 * Distances are true metres on the sphere, as PostGIS's `ST_Distance(geography, geography, false)`
 * gives them, but measured so only where it matters. The Web Mercator distance, scaled by the cosine
 * of the place's latitude and by the sphere's radius over Mercator's (the place's `k`), is within
 * 0.02 % of it within a few kilometres (its scale changes by tan(latitude) x the latitudes between):
 * a premises farther than 1 % + 1 m from every ring's edge is in the same band either way, and only
 * the others are measured on the sphere.
 */

/** A place, in Web Mercator metres (EPSG:3857) and degrees, with its scale `k` (see above). */
export interface RingPlace {
  x: number
  y: number
  lon: number
  lat: number
  k: number
}

/** Premises as columns: Web Mercator metres and what each adds to a band. */
export interface RingPremises {
  xs: Float64Array
  ys: Float64Array
  groupRentals: Uint8Array
  openCounts: Int32Array
  openMajorCounts: Int32Array
  occupants: Int32Array
}

/** The figures of a band, in this order, `ringFigures` numbers to a place and band. */
export const ringFigures = ['premises', 'groupRentals', 'openHazards', 'openMajor', 'people'] as const

/** The radius of the sphere of Web Mercator (EPSG:3857): WGS 84's semi-major axis. */
export const mercatorRadius = 6_378_137
/** PostGIS's sphere for geography without the spheroid: WGS 84's (2a + b) / 3. */
const sphereRadius = 6_371_008.771415059

/** How far from a ring's edge a premises is measured on the sphere. */
export const ringSlack = (radius: number) => radius * 0.01 + 1

/** The farthest a premises may lie from a place, in true metres, and still be in a ring. */
export const ringReach = (radii: readonly number[]) => Math.max(...radii) + ringSlack(Math.max(...radii))

/**
 * The figures of each place's bands: `out[(place * radii.length + band) * 5 + figure]`, bands in the
 * order of `radii` (ascending). Places are found through a grid of cells as wide as the farthest
 * reach, so each premises is compared with the places of its own and the eight cells around it.
 */
export function ringBands(places: readonly RingPlace[], premises: RingPremises, radii: readonly number[]): Float64Array {
  const bands = radii.length
  const width = ringFigures.length
  const out = new Float64Array(places.length * bands * width)
  if (!places.length || !bands) return out
  for (let b = 1; b < bands; b++) if (radii[b]! < radii[b - 1]!) throw new Error('ringBands: radii must ascend')
  const maxRadius = radii[bands - 1]!
  const reach = ringReach(radii)
  const slack = radii.map(ringSlack)

  // The grid: cells `cell` Mercator metres wide, one cell of margin around the places' box, and for
  // each cell the places of its 3 x 3 neighbourhood (a place reaches at most one cell away).
  let kMin = Infinity
  let x0 = Infinity
  let y0 = Infinity
  let x1 = -Infinity
  let y1 = -Infinity
  for (const p of places) {
    kMin = Math.min(kMin, p.k)
    x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y); x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y)
  }
  // No more than about 4 M cells, however far apart the places (a wider cell still holds every reach).
  const cell = Math.max(reach / kMin, (x1 - x0) / 2000, (y1 - y0) / 2000)
  x0 -= cell; y0 -= cell
  const cols = Math.floor((x1 - x0) / cell) + 2
  const rows = Math.floor((y1 - y0) / cell) + 2
  const counts = new Int32Array(cols * rows + 1)
  const each = (fn: (c: number, place: number) => void) => places.forEach((p, i) => {
    const cx = Math.floor((p.x - x0) / cell)
    const cy = Math.floor((p.y - y0) / cell)
    for (let y = cy - 1; y <= cy + 1; y++) for (let x = cx - 1; x <= cx + 1; x++) fn(y * cols + x, i)
  })
  each(c => counts[c + 1]!++)
  for (let c = 0; c < cols * rows; c++) counts[c + 1]! += counts[c]!
  const start = counts.slice()
  const list = new Int32Array(counts[cols * rows]!)
  each((c, i) => { list[start[c]!++] = i })

  const px = Float64Array.from(places, p => p.x)
  const py = Float64Array.from(places, p => p.y)
  const pk = Float64Array.from(places, p => p.k)
  const { xs, ys, groupRentals, openCounts, openMajorCounts, occupants } = premises
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!
    const y = ys[i]!
    const cx = Math.floor((x - x0) / cell)
    const cy = Math.floor((y - y0) / cell)
    if (cx < 0 || cy < 0 || cx >= cols || cy >= rows) continue
    const c = cy * cols + cx
    for (let j = counts[c]!; j < counts[c + 1]!; j++) {
      const p = list[j]!
      const dx = x - px[p]!
      const dy = y - py[p]!
      const a = Math.sqrt(dx * dx + dy * dy) * pk[p]!
      if (a > reach) continue
      let near = false
      for (let b = 0; b < bands && !near; b++) near = Math.abs(a - radii[b]!) <= slack[b]!
      const d = near ? sphereDistance(places[p]!, x, y) : a
      if (d > maxRadius) continue
      let band = 0
      while (d > radii[band]!) band++
      const o = (p * bands + band) * width
      out[o]!++
      out[o + 1]! += groupRentals[i]!
      out[o + 2]! += openCounts[i]!
      out[o + 3]! += openMajorCounts[i]!
      out[o + 4]! += occupants[i]!
    }
  }
  return out
}

/**
 * Great-circle metres from a place to a point given in Web Mercator metres, by the formula PostGIS's
 * `sphere_distance` uses (atan2 of the chord's parts), on its sphere.
 */
function sphereDistance(place: RingPlace, x: number, y: number): number {
  const rad = Math.PI / 180
  const lon = x / mercatorRadius
  const lat = Math.PI / 2 - 2 * Math.atan(Math.exp(-y / mercatorRadius))
  const sLat = place.lat * rad
  const dLon = lon - place.lon * rad
  const cosDLon = Math.cos(dLon)
  const cosLatE = Math.cos(lat)
  const sinLatE = Math.sin(lat)
  const cosLatS = Math.cos(sLat)
  const sinLatS = Math.sin(sLat)
  const a1 = (cosLatE * Math.sin(dLon)) ** 2
  const a2 = (cosLatS * sinLatE - sinLatS * cosLatE * cosDLon) ** 2
  return Math.atan2(Math.sqrt(a1 + a2), sinLatS * sinLatE + cosLatS * cosLatE * cosDLon) * sphereRadius
}
