import type { MultiPolygon, Polygon, Position } from 'geojson'

/** Metres per degree near the district (31.9° N), for small offsets where a projection is overkill. */
export const metresPerDegreeLat = 110_900
export const metresPerDegreeLon = 94_500

export type Bbox = [number, number, number, number]

function inRing(x: number, y: number, ring: Position[]): boolean {
  let inside = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number]
    const [xj, yj] = ring[j] as [number, number]
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside
  }
  return inside
}

/** Even-odd point-in-polygon, holes included (fast enough for a million demo points). */
export function pointInPolygon(x: number, y: number, geom: Polygon | MultiPolygon): boolean {
  const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.coordinates
  for (const rings of polys) {
    if (!inRing(x, y, rings[0]!)) continue
    let inHole = false
    for (let k = 1; k < rings.length; k++) if (inRing(x, y, rings[k]!)) inHole = true
    if (!inHole) return true
  }
  return false
}

export function bboxOf(geom: Polygon | MultiPolygon): Bbox {
  const b: Bbox = [Infinity, Infinity, -Infinity, -Infinity]
  const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.coordinates
  for (const rings of polys) {
    for (const [x, y] of rings[0]! as [number, number][]) {
      if (x < b[0]) b[0] = x
      if (y < b[1]) b[1] = y
      if (x > b[2]) b[2] = x
      if (y > b[3]) b[3] = y
    }
  }
  return b
}

/**
 * A uniform bucket index over polygons' bounding boxes: finds the polygon containing a point
 * among a few candidates instead of all of them.
 */
export class PolygonIndex<T> {
  private buckets: { item: T; geom: Polygon | MultiPolygon }[][]
  constructor(private bbox: Bbox, private n: number, items: { item: T; geom: Polygon | MultiPolygon }[]) {
    this.buckets = Array.from({ length: n * n }, () => [])
    for (const entry of items) {
      const [x0, y0, x1, y1] = bboxOf(entry.geom)
      const [i0, j0] = this.cell(x0, y0)
      const [i1, j1] = this.cell(x1, y1)
      for (let i = i0; i <= i1; i++) for (let j = j0; j <= j1; j++) this.buckets[j * n + i]!.push(entry)
    }
  }

  private cell(x: number, y: number): [number, number] {
    const [x0, y0, x1, y1] = this.bbox
    const clamp = (v: number) => Math.min(this.n - 1, Math.max(0, v))
    return [clamp(Math.floor(((x - x0) / (x1 - x0)) * this.n)), clamp(Math.floor(((y - y0) / (y1 - y0)) * this.n))]
  }

  find(x: number, y: number): T | undefined {
    const [i, j] = this.cell(x, y)
    for (const entry of this.buckets[j * this.n + i]!) if (pointInPolygon(x, y, entry.geom)) return entry.item
    return undefined
  }
}
