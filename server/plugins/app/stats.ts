import fp from 'fastify-plugin'
import type { Sql } from '../../db/index.js'
import type { Jurisdiction } from '../../domain/access.js'
import type { Campaign } from './campaign.js'
import type { PremisesFilter } from './premises.js'
import { addCounts, emptyCounts, measureCountsBy, measuresFrom } from './measures.js'

/**
 * The four measures on a day for the user's jurisdiction (the whole district for most) and each
 * town/street in it. A town's or police station's user sees their own area only.
 */
export function statsRepository(sql: Sql) {
  return {
    async summary(campaign: Campaign, asOf: string, scope: Jurisdiction, filter: PremisesFilter = {}) {
      const towns = await sql<{ id: number; code: string; nameZh: string; nameEn: string }[]>`
        select t.id, t.code, t.name_zh, t.name_en from admin_area t
        where t.level = 'town' and t.valid_to is null
          ${scope.kind === 'town' ? sql`and t.id = ${scope.id!}` : sql``}
          ${scope.kind === 'police_station' ? sql`and exists (select 1 from police_station s where s.id = ${scope.id!} and st_intersects(s.geom, t.geom) and not st_touches(s.geom, t.geom))` : sql``}
        order by t.code`
      const [district] = await (scope.kind === 'district'
        ? sql<{ id: number; nameZh: string; nameEn: string }[]>`
            select id, name_zh, name_en from admin_area where level = 'district' and valid_to is null order by id limit 1`
        : scope.kind === 'town'
          ? sql<{ id: number; nameZh: string; nameEn: string }[]>`select id, name_zh, name_en from admin_area where id = ${scope.id!}`
          : sql<{ id: number; nameZh: string; nameEn: string }[]>`select id, name_zh, name_en from police_station where id = ${scope.id!}`)
      const byTown = await measureCountsBy(sql, asOf, 'town_id', scope, filter)
      const total = [...byTown.values()].reduce(addCounts, emptyCounts())
      return {
        asOf,
        campaign: { code: campaign.code, nameZh: campaign.nameZh, nameEn: campaign.nameEn, startsOn: campaign.startsOn, endsOn: campaign.endsOn },
        scope: scope.kind,
        district: {
          id: district?.id ?? null, nameZh: district?.nameZh ?? '', nameEn: district?.nameEn ?? '',
          counts: total, measures: measuresFrom(total, campaign.targets),
        },
        towns: towns.map((t) => {
          const counts = byTown.get(t.id) ?? emptyCounts()
          return { ...t, counts, measures: measuresFrom(counts, campaign.targets) }
        }),
      }
    },
  }
}

export type StatsRepository = ReturnType<typeof statsRepository>

declare module 'fastify' {
  interface FastifyInstance {
    stats: StatsRepository
  }
}

export default fp(async (app) => {
  app.decorate('stats', statsRepository(app.db.sql))
}, { name: 'stats', dependencies: ['db'] })
