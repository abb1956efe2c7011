/**
 * The shape of a polygon as a person drew it, checked before it goes anywhere near the database:
 * each refusal says what is wrong and, where it can, where. Geometry rules (self-intersection,
 * holes outside the shell) are PostGIS's, in the key-areas repository.
 */
export const maxVertices = 2000

export interface PolygonProblem {
  message: string
  location?: [number, number]
}

export type PolygonInput = { type: string; coordinates: unknown[] }

function checkRing(ring: unknown, label: string): PolygonProblem | null {
  if (!Array.isArray(ring)) return { message: `${label} is not a list of points` }
  for (const [i, p] of ring.entries()) {
    if (!Array.isArray(p) || p.length < 2) return { message: `${label}, point ${i + 1}: not a [longitude, latitude] pair` }
    const [x, y] = p as unknown[]
    if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) {
      return { message: `${label}, point ${i + 1}: the coordinates are not numbers` }
    }
    if (x < -180 || x > 180 || y < -90 || y > 90) return { message: `${label}, point ${i + 1}: (${x}, ${y}) is outside -180..180 longitude, -90..90 latitude`, location: [x, y] }
  }
  if (ring.length < 4) return { message: `${label} has ${Math.max(0, ring.length - 1)} corners; a polygon needs at least 3 (and the first point repeated at the end)` }
  const first = ring[0] as number[]
  const last = ring[ring.length - 1] as number[]
  if (first[0] !== last[0] || first[1] !== last[1]) return { message: `${label} is not closed: its last point must repeat its first`, location: [last[0]!, last[1]!] }
  const distinct = new Set((ring as number[][]).slice(0, -1).map(p => `${p[0]},${p[1]}`))
  if (distinct.size < 3) return { message: `${label} has fewer than 3 distinct corners` }
  return null
}

/** The first problem of a GeoJSON Polygon or MultiPolygon's structure, or null when it is well formed. */
export function polygonProblem(g: PolygonInput | null | undefined): PolygonProblem | null {
  if (!g || typeof g !== 'object') return { message: 'the boundary is missing' }
  if (g.type !== 'Polygon' && g.type !== 'MultiPolygon') return { message: `a key area is a Polygon or MultiPolygon, not a ${String(g.type)}` }
  if (!Array.isArray(g.coordinates) || g.coordinates.length === 0) return { message: 'the boundary has no coordinates' }
  const polygons = (g.type === 'Polygon' ? [g.coordinates] : g.coordinates) as unknown[]
  let vertices = 0
  for (const [pi, rings] of polygons.entries()) {
    if (!Array.isArray(rings) || rings.length === 0) return { message: `part ${pi + 1} has no rings` }
    for (const [ri, ring] of rings.entries()) {
      const label = `${polygons.length > 1 ? `part ${pi + 1}, ` : ''}${ri === 0 ? 'the outer ring' : `hole ${ri}`}`
      const p = checkRing(ring, label)
      if (p) return p
      vertices += (ring as unknown[]).length
    }
  }
  if (vertices > maxVertices) return { message: `the boundary has ${vertices} points; at most ${maxVertices} are accepted (simplify it)` }
  return null
}

/** PostGIS's ST_IsValidReason, "Self-intersection[119.95 31.9]", as a sentence and a place. */
export function validityProblem(reason: string): PolygonProblem {
  const m = /^(.*?)\[(-?[\d.e-]+) (-?[\d.e-]+)\]$/.exec(reason)
  const what = (m ? m[1]! : reason).trim()
  const sentences: Record<string, string> = {
    'Self-intersection': 'the boundary crosses itself',
    'Ring Self-intersection': 'a ring touches itself',
    'Hole lies outside shell': 'a hole lies outside the outer ring',
    'Nested shells': 'one part lies inside another',
    'Interior is disconnected': 'the holes cut the area in pieces',
    'Holes are nested': 'a hole lies inside another hole',
    'Too few points in geometry component': 'a ring has too few points',
  }
  const message = sentences[what] ?? what
  return m ? { message: `${message} at ${Number(m[2]).toFixed(6)}, ${Number(m[3]).toFixed(6)}`, location: [Number(m[2]), Number(m[3])] } : { message }
}
