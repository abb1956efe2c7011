/**
 * The shape of a polygon as a person drew it, checked before it goes anywhere near the database:
 * each refusal says what is wrong and, where it can, where. Geometry rules (self-intersection,
 * holes outside the shell) are PostGIS's, in the key-areas repository.
 */
export const maxVertices = 2000

/**
 * What is wrong with a boundary, for programs: behaviour keys on this, never on the wording.
 * malformed: not a well-formed GeoJSON (Multi)Polygon; invalid-geometry: PostGIS finds it invalid
 * (it crosses itself ...); outside-jurisdiction, too-large, too-small: refused as a key area;
 * overlap, overlap-hidden: a warning, another key area (one the user may not see) covers part of it.
 */
export const polygonProblemCodes = ['malformed', 'invalid-geometry', 'outside-jurisdiction', 'too-large', 'too-small', 'overlap', 'overlap-hidden'] as const
export type PolygonProblemCode = typeof polygonProblemCodes[number]

export interface PolygonProblem {
  code: PolygonProblemCode
  message: string
  /** The same sentence for the Chinese screen. */
  messageZh: string
  location?: [number, number]
}

export type PolygonInput = { type: string; coordinates: unknown[] }

/** A problem of the given code; a drawing's structure is 'malformed' unless said otherwise. */
const problem = (message: string, messageZh: string, location?: [number, number], code: PolygonProblemCode = 'malformed'): PolygonProblem =>
  (location ? { code, message, messageZh, location } : { code, message, messageZh })

function checkRing(ring: unknown, label: string, labelZh: string): PolygonProblem | null {
  if (!Array.isArray(ring)) return problem(`${label} is not a list of points`, `${labelZh}不是点的列表`)
  for (const [i, p] of ring.entries()) {
    if (!Array.isArray(p) || p.length < 2) return problem(`${label}, point ${i + 1}: not a [longitude, latitude] pair`, `${labelZh}第 ${i + 1} 个点不是 [经度, 纬度]`)
    // Boundaries are flat: a height (Z) or measure (M) would reach PostGIS and be refused by the 2D column.
    if (p.length > 2) {
      return problem(`${label}, point ${i + 1} has ${p.length} values: coordinates must be [longitude, latitude], without height`,
        `${labelZh}第 ${i + 1} 个点有 ${p.length} 个值：坐标须为 [经度, 纬度]，不带高度`)
    }
    const [x, y] = p as unknown[]
    if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) {
      return problem(`${label}, point ${i + 1}: the coordinates are not numbers`, `${labelZh}第 ${i + 1} 个点的坐标不是数字`)
    }
    if (x < -180 || x > 180 || y < -90 || y > 90) {
      return problem(`${label}, point ${i + 1}: (${x}, ${y}) is outside -180..180 longitude, -90..90 latitude`,
        `${labelZh}第 ${i + 1} 个点（${x}, ${y}）超出经度 -180～180、纬度 -90～90`, [x, y])
    }
  }
  if (ring.length < 4) {
    return problem(`${label} has ${Math.max(0, ring.length - 1)} corners; a polygon needs at least 3 (and the first point repeated at the end)`,
      `${labelZh}只有 ${Math.max(0, ring.length - 1)} 个顶点；多边形至少要 3 个（且首尾点相同）`)
  }
  const first = ring[0] as number[]
  const last = ring[ring.length - 1] as number[]
  if (first[0] !== last[0] || first[1] !== last[1]) {
    return problem(`${label} is not closed: its last point must repeat its first`, `${labelZh}没有闭合：最后一个点须与第一个点相同`, [last[0]!, last[1]!])
  }
  const distinct = new Set((ring as number[][]).slice(0, -1).map(p => `${p[0]},${p[1]}`))
  if (distinct.size < 3) return problem(`${label} has fewer than 3 distinct corners`, `${labelZh}不同的顶点少于 3 个`)
  return null
}

/** The first problem of a GeoJSON Polygon or MultiPolygon's structure, or null when it is well formed. */
export function polygonProblem(g: PolygonInput | null | undefined): PolygonProblem | null {
  if (!g || typeof g !== 'object') return problem('the boundary is missing', '缺少边界')
  if (g.type !== 'Polygon' && g.type !== 'MultiPolygon') return problem(`a key area is a Polygon or MultiPolygon, not a ${String(g.type)}`, `重点地区须为多边形（Polygon 或 MultiPolygon），不能是 ${String(g.type)}`)
  if (!Array.isArray(g.coordinates) || g.coordinates.length === 0) return problem('the boundary has no coordinates', '边界没有坐标')
  const polygons = (g.type === 'Polygon' ? [g.coordinates] : g.coordinates) as unknown[]
  let vertices = 0
  for (const [pi, rings] of polygons.entries()) {
    if (!Array.isArray(rings) || rings.length === 0) return problem(`part ${pi + 1} has no rings`, `第 ${pi + 1} 部分没有边界环`)
    for (const [ri, ring] of rings.entries()) {
      const label = `${polygons.length > 1 ? `part ${pi + 1}, ` : ''}${ri === 0 ? 'the outer ring' : `hole ${ri}`}`
      const labelZh = `${polygons.length > 1 ? `第 ${pi + 1} 部分` : ''}${ri === 0 ? '外边界' : `第 ${ri} 个洞`}`
      const p = checkRing(ring, label, labelZh)
      if (p) return p
      vertices += (ring as unknown[]).length
    }
  }
  if (vertices > maxVertices) return problem(`the boundary has ${vertices} points; at most ${maxVertices} are accepted (simplify it)`, `边界有 ${vertices} 个点；最多接受 ${maxVertices} 个（请简化）`)
  return null
}

/** PostGIS's ST_IsValidReason, "Self-intersection[119.95 31.9]", as a sentence and a place. */
export function validityProblem(reason: string): PolygonProblem {
  const m = /^(.*?)\[([\d.e-]+) ([\d.e-]+)\]$/.exec(reason)
  const what = (m ? m[1]! : reason).trim()
  const sentences: Record<string, [string, string]> = {
    'Self-intersection': ['the boundary crosses itself', '边界自相交'],
    'Ring Self-intersection': ['a ring touches itself', '边界环自身相接'],
    'Hole lies outside shell': ['a hole lies outside the outer ring', '洞在外边界之外'],
    'Nested shells': ['one part lies inside another', '一部分位于另一部分之内'],
    'Interior is disconnected': ['the holes cut the area in pieces', '洞把区域分成了几块'],
    'Holes are nested': ['a hole lies inside another hole', '洞套在另一个洞里'],
    'Too few points in geometry component': ['a ring has too few points', '边界环的点太少'],
  }
  const [message, messageZh] = sentences[what] ?? [what, `边界无效：${what}`]
  if (!m) return problem(message, messageZh, undefined, 'invalid-geometry')
  const at = `${Number(m[2]).toFixed(6)}, ${Number(m[3]).toFixed(6)}`
  return problem(`${message} at ${at}`, `${messageZh}，位置 ${at}`, [Number(m[2]), Number(m[3])], 'invalid-geometry')
}
