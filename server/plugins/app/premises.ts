import fp from 'fastify-plugin'
import type { Sql } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'

export const premisesKinds = ['group_rental', 'rental', 'homestay', 'family_hotel', 'factory_dormitory', 'care_home'] as const
export type PremisesKind = typeof premisesKinds[number]
export const hazardStatuses = ['none', 'rectified', 'open_general', 'open_major', 'overdue'] as const
export type HazardStatus = typeof hazardStatuses[number]

export interface PremisesFilter {
  bbox?: [number, number, number, number]
  kinds?: PremisesKind[]
  statuses?: HazardStatus[]
  towns?: number[]
  communities?: number[]
  policeStations?: number[]
  /** Only premises with an open major hazard. */
  majorOnly?: boolean
  /** Only premises with an open hazard past its deadline. */
  overdueOnly?: boolean
  foundFrom?: string
  foundTo?: string
}

/**
 * Premises as map points. No personal data leaves here: no address, owner, landlord or resident.
 * The status is the map colour on the day given (see hazard_status in the migrations).
 */
export function premisesRepository(sql: Sql) {
  const where = (f: PremisesFilter, on: string, scope: Jurisdiction) => {
    const parts = [inJurisdiction(sql, scope)]
    // Envelope transformed once, column untouched, so the GiST index serves the box (pg_featureserv).
    if (f.bbox) parts.push(sql`p.geom && st_makeenvelope(${f.bbox[0]}, ${f.bbox[1]}, ${f.bbox[2]}, ${f.bbox[3]}, 4326)`)
    if (f.kinds?.length) parts.push(sql`p.kind in ${sql(f.kinds)}`)
    if (f.towns?.length) parts.push(sql`p.town_id in ${sql(f.towns)}`)
    if (f.communities?.length) parts.push(sql`p.community_id in ${sql(f.communities)}`)
    if (f.policeStations?.length) parts.push(sql`p.police_station_id in ${sql(f.policeStations)}`)
    if (f.statuses?.length) parts.push(sql`hazard_status(p.hazard_count, p.open_count, p.open_major_count, p.open_min_deadline, ${on}) in ${sql(f.statuses)}`)
    if (f.majorOnly) parts.push(sql`p.open_major_count > 0`)
    if (f.overdueOnly) parts.push(sql`p.open_min_deadline < ${on}`)
    if (f.foundFrom) parts.push(sql`p.found_on >= ${f.foundFrom}`)
    if (f.foundTo) parts.push(sql`p.found_on <= ${f.foundTo}`)
    return parts.reduce((a, b) => sql`${a} and ${b}`)
  }

  return {
    async points(scope: Jurisdiction, filter: PremisesFilter, on: string, limit: number) {
      const rows = await sql<{ id: number; kind: PremisesKind; status: HazardStatus; unregistered: boolean; lon: number; lat: number }[]>`
        select p.id, p.kind,
               hazard_status(p.hazard_count, p.open_count, p.open_major_count, p.open_min_deadline, ${on}) as status,
               (p.meets_rule and p.kind in ('group_rental', 'rental') and not (p.kind = 'group_rental' and p.registered_on is not null)
                 and p.deregistered_on is null) as unregistered,
               st_x(p.geom) as lon, st_y(p.geom) as lat
        from premises p
        where ${where(filter, on, scope)}
        order by p.id
        limit ${limit + 1}`
      const truncated = rows.length > limit
      return {
        type: 'FeatureCollection' as const,
        numberReturned: Math.min(rows.length, limit),
        truncated,
        features: rows.slice(0, limit).map(({ lon, lat, ...props }) => ({
          type: 'Feature' as const, id: props.id,
          geometry: { type: 'Point' as const, coordinates: [lon, lat] },
          properties: props,
        })),
      }
    },
  }
}

export type PremisesRepository = ReturnType<typeof premisesRepository>

declare module 'fastify' {
  interface FastifyInstance {
    premises: PremisesRepository
  }
}

export default fp(async (app) => {
  app.decorate('premises', premisesRepository(app.db.sql))
}, { name: 'premises', dependencies: ['db'] })
