import type { Sql } from '../../server/db/index.js'

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
