import type { Sql } from '../../server/db/index.js'
import type { Jurisdiction } from '../../server/domain/access.js'

/**
 * The key-area cells' running totals as a rebuild has them: a day whose total equals the day
 * before's changes nothing, and the rebuild keeps no row for it, so such rows are left out.
 */
export const cellTotals = (sql: Sql) => sql`
  select * from (
    select c.*, (c.houses, c.rental_houses, c.group_rentals, c.group_rentals_with_hazards, c.residents_registered, c.hz_public_security,
                 c.hz_fire, c.hz_housing, c.hz_other)::text as v, lag((c.houses, c.rental_houses, c.group_rentals, c.group_rentals_with_hazards,
                 c.residents_registered, c.hz_public_security, c.hz_fire, c.hz_housing, c.hz_other)::text, 1, '(0,0,0,0,0,0,0,0,0)')
                 over (partition by c.cx, c.cy, c.town_id, c.police_station_id order by c.day) as before
    from premises_cell_day c
  ) x where v <> before order by cx, cy, town_id, police_station_id, day`

/** The blocks' running totals, in a fixed order. */
export const blockTotals = (sql: Sql) => sql`select * from premises_block_day order by block_x, block_y, town_id, police_station_id, day`

type Box = { x0: number; y0: number; x1: number; y1: number }
type Ring = [number, number][]
type Shape = { name: string; geometry: { type: string; coordinates: unknown } }

/** A closed ring round a box of degrees. */
export const square = (x0: number, y0: number, x1: number, y1: number): Ring => [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]

/** The box round the premises (the shapes below are drawn in it). */
export async function premisesBox(sql: Sql): Promise<Box> {
  const [b] = await sql<Box[]>`
    select st_xmin(e) as x0, st_ymin(e) as y0, st_xmax(e) as x1, st_ymax(e) as y1 from (select st_extent(geom)::geometry as e from premises) x`
  return b!
}

/** The whole district, the town and the police station holding the most premises. */
export async function busiestScopes(sql: Sql): Promise<Jurisdiction[]> {
  const [town] = await sql<{ id: number }[]>`select town_id as id from premises group by 1 order by count(*) desc limit 1`
  const [station] = await sql<{ id: number }[]>`select police_station_id as id from premises where police_station_id is not null group by 1 order by count(*) desc limit 1`
  return [{ kind: 'district', id: null }, { kind: 'town', id: town!.id }, { kind: 'police_station', id: station!.id }]
}

/**
 * Key-area shapes in a box, with whole cells inside each and boundaries of every kind: a large
 * square, a square with a hole, a multipolygon of two squares, a star of `starPoints` points (its
 * edges cross cell borders at every angle) and a square round the whole box.
 */
export function keyAreaShapes(box: Box, starPoints: number): Record<'large' | 'hole' | 'two' | 'star' | 'whole', Shape> {
  const w = box.x1 - box.x0
  const h = box.y1 - box.y0
  const at = (fx0: number, fy0: number, fx1: number, fy1: number): Ring => square(box.x0 + w * fx0, box.y0 + h * fy0, box.x0 + w * fx1, box.y0 + h * fy1)
  const cx = (box.x0 + box.x1) / 2
  const cy = (box.y0 + box.y1) / 2
  const star: Ring = []
  for (let i = 0; i < starPoints; i++) {
    const r = (i % 2 ? 0.45 : 0.2) * Math.min(w, h)
    star.push([cx + r * Math.cos((i * 2 * Math.PI) / starPoints), cy + r * Math.sin((i * 2 * Math.PI) / starPoints)])
  }
  star.push(star[0]!)
  return {
    large: { name: 'a large square', geometry: { type: 'Polygon', coordinates: [at(0.1, 0.1, 0.7, 0.8)] } },
    hole: { name: 'a square with a hole', geometry: { type: 'Polygon', coordinates: [at(0.05, 0.05, 0.9, 0.9), at(0.3, 0.3, 0.6, 0.55).reverse()] } },
    two: { name: 'a multipolygon of two squares', geometry: { type: 'MultiPolygon', coordinates: [[at(0, 0, 0.35, 0.4)], [at(0.5, 0.45, 1, 1)]] } },
    star: { name: 'a star crossing cell borders everywhere', geometry: { type: 'Polygon', coordinates: [star] } },
    whole: { name: 'the whole district', geometry: { type: 'Polygon', coordinates: [at(-0.01, -0.01, 1.01, 1.01)] } },
  }
}
