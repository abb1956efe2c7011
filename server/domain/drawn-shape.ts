/**
 * A shape drawn on the map that filters everything (issue 17 §2): a polygon sent as one query
 * parameter, `within=lon,lat,lon,lat,...` (its corners in order; the ring closes itself), so that it
 * travels with the other filters in page addresses, saved views and every request of the map.
 */

/** The most corners a drawn shape may have: plenty for a hand-drawn area, small enough for an address. */
export const shapeMaxCorners = 200

/** A corner: longitude, latitude (WGS 84). */
export type Corner = [number, number]

/** Why a `within` value is refused. */
export type ShapeProblem = 'not-numbers' | 'too-few' | 'too-many' | 'off-earth' | 'self-crossing'

/** The parameter's text for a drawn ring (closed or not); 6 decimals are about 0.1 m. */
export function shapeToParam(corners: Corner[]): string {
  const open = corners.length > 1 && corners[0]![0] === corners.at(-1)![0] && corners[0]![1] === corners.at(-1)![1] ? corners.slice(0, -1) : corners
  return open.map(([x, y]) => `${Number(x.toFixed(6))},${Number(y.toFixed(6))}`).join(',')
}

/** Which side of the line a→b the point c lies on: >0 left, <0 right, 0 on it. */
const turn = (a: Corner, b: Corner, c: Corner) => (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

const within = (a: number, b: number, v: number) => Math.min(a, b) <= v && v <= Math.max(a, b)

/** Whether the segments p1–p2 and q1–q2 meet (crossing or touching). */
function meet(p1: Corner, p2: Corner, q1: Corner, q2: Corner): boolean {
  const d1 = turn(q1, q2, p1)
  const d2 = turn(q1, q2, p2)
  const d3 = turn(p1, p2, q1)
  const d4 = turn(p1, p2, q2)
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true
  const on = (a: Corner, b: Corner, c: Corner, d: number) => d === 0 && within(a[0], b[0], c[0]) && within(a[1], b[1], c[1])
  return on(q1, q2, p1, d1) || on(q1, q2, p2, d2) || on(p1, p2, q1, d3) || on(p1, p2, q2, d4)
}

/**
 * The corners of a `within` value, or why it is refused: pairs of numbers on the earth, at least 3
 * distinct corners and at most {@link shapeMaxCorners}, a ring that neither crosses nor touches itself
 * and encloses an area (a self-crossing ring has no clear inside).
 */
export function shapeFromParam(value: string): { corners: Corner[] } | { problem: ShapeProblem } {
  const numbers = value.split(',').map(s => (s.trim() === '' ? Number.NaN : Number(s)))
  if (numbers.length % 2 !== 0 || numbers.some(n => !Number.isFinite(n))) return { problem: 'not-numbers' }
  let corners: Corner[] = []
  for (let i = 0; i < numbers.length; i += 2) corners.push([numbers[i]!, numbers[i + 1]!])
  if (corners.some(([x, y]) => x < -180 || x > 180 || y < -90 || y > 90)) return { problem: 'off-earth' }
  // A corner repeated at once (a double click) and the closing corner add nothing.
  corners = corners.filter((c, i) => i === 0 || c[0] !== corners[i - 1]![0] || c[1] !== corners[i - 1]![1])
  if (corners.length > 1 && corners[0]![0] === corners.at(-1)![0] && corners[0]![1] === corners.at(-1)![1]) corners.pop()
  if (corners.length > shapeMaxCorners) return { problem: 'too-many' }
  if (corners.length < 3) return { problem: 'too-few' }
  const n = corners.length
  const edge = (i: number): [Corner, Corner] => [corners[i]!, corners[(i + 1) % n]!]
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      // Neighbouring edges share a corner; they are checked for folding back below.
      if (j === i + 1 || (i === 0 && j === n - 1)) continue
      if (meet(...edge(i), ...edge(j))) return { problem: 'self-crossing' }
    }
  }
  // Twice the signed area (shoelace): zero for corners on one line, or an edge folding back on the last.
  let area = 0
  for (let i = 0; i < n; i++) area += turn([0, 0], corners[i]!, corners[(i + 1) % n]!)
  if (area === 0) return { problem: 'too-few' }
  for (let i = 0; i < n; i++) {
    const [a, b] = edge(i)
    const c = corners[(i + 2) % n]!
    // An edge doubling back along the one before it makes a ring that touches itself.
    if (turn(a, b, c) === 0 && !within(a[0], c[0], b[0])) return { problem: 'self-crossing' }
    if (turn(a, b, c) === 0 && !within(a[1], c[1], b[1])) return { problem: 'self-crossing' }
  }
  return { corners }
}

/** The shape as well-known text for PostGIS, its ring closed. */
export function shapeWkt(corners: Corner[]): string {
  return `POLYGON((${[...corners, corners[0]!].map(([x, y]) => `${x} ${y}`).join(',')}))`
}
