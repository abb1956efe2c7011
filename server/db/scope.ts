import type { Jurisdiction } from '../domain/access.js'
import type { Sql, Tx } from './index.js'

/**
 * The jurisdiction as a SQL condition on a premises row (alias p by default). Every query that
 * returns premises, people, hazards or figures derived from them puts this in its WHERE clause, so
 * rows outside a user's jurisdiction are never read, not merely hidden afterwards.
 */
export function inJurisdiction(sql: Sql | Tx, j: Jurisdiction, alias = 'p') {
  const a = sql(alias)
  switch (j.kind) {
    case 'district': return sql`true`
    case 'town': return sql`${a}.town_id = ${j.id!}`
    case 'police_station': return sql`${a}.police_station_id = ${j.id!}`
  }
}
