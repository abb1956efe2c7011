import fp from 'fastify-plugin'
import type { Sql } from '../../db/index.js'
import type { Campaign } from './campaign.js'
import { addCounts, emptyCounts, measureCountsBy, measuresFrom } from './measures.js'

/** The four measures for the district and each town/street on a day. */
export function statsRepository(sql: Sql) {
  return {
    async summary(campaign: Campaign, asOf: string) {
      const towns = await sql<{ id: number; code: string; nameZh: string; nameEn: string }[]>`
        select id, code, name_zh, name_en from admin_area where level = 'town' and valid_to is null order by code`
      const [district] = await sql<{ id: number; code: string; nameZh: string; nameEn: string }[]>`
        select id, code, name_zh, name_en from admin_area where level = 'district' and valid_to is null order by id limit 1`
      const byTown = await measureCountsBy(sql, asOf, 'town_id')
      const total = [...byTown.values()].reduce(addCounts, emptyCounts())
      return {
        asOf,
        campaign: { code: campaign.code, nameZh: campaign.nameZh, nameEn: campaign.nameEn, startsOn: campaign.startsOn, endsOn: campaign.endsOn },
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
