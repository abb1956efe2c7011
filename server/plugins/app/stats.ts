import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import type { Jurisdiction } from '../../domain/access.js'
import type { Campaign } from './campaign.js'
import type { PremisesFilter } from './premises.js'
import { previousReportDate, reportDates } from '../../domain/periods.js'
import { type FiguresCache, figuresCache, townsOf } from './figures-cache.js'
import { addCounts, emptyCounts, hazardBreakdown, type MeasureCounts, measureCountsBy, measureSeries, measuresFrom } from './measures.js'

/**
 * The four measures on a day for the user's jurisdiction (the whole district for most) and each
 * town/street in it. A town's or police station's user sees their own area only. With a `cache`,
 * each figure is computed once per state of the data (the app's; the benchmark times the computing).
 */
export function statsRepository(sql: Sql, opts: { cache?: FiguresCache } = {}) {
  const cached = <T>(what: string, args: unknown[], compute: () => Promise<T>): Promise<T> =>
    opts.cache ? opts.cache.get(`${what}|${JSON.stringify(args)}`, compute) : compute()

  return {
    series: (campaign: Campaign, asOf: string, scope: Jurisdiction, filter: PremisesFilter = {}, db: Sql | Tx = sql) =>
      cached('series', [campaign, asOf, scope, filter], () => statsSeries(db, campaign, asOf, scope, filter)),

    hazards: (asOf: string, scope: Jurisdiction, filter: PremisesFilter = {}, db: Sql | Tx = sql) =>
      cached('hazards', [asOf, scope, filter], async () => ({ asOf, ...(await hazardBreakdown(db, asOf, scope, filter)) })),

    /**
     * With the cache, kept under the last version that changed a town of the jurisdiction: a town's
     * summary stays kept through writes in other towns, and the district's is put together again
     * from the kept parts of the towns a write left alone.
     */
    summary: async (campaign: Campaign, asOf: string, scope: Jurisdiction, filter: PremisesFilter = {}, db: Sql | Tx = sql) => {
      const cache = opts.cache
      // A filter by place (a box, a drawn area) is counted whole: it spans few towns.
      if (!cache || filter.bbox || filter.withinWkt) return cached('summary', [campaign, asOf, scope, filter], () => summary(db, campaign, asOf, scope, filter))
      const towns = await townsOf(sql, cache, scope, filter)
      return cache.get(`summary|${JSON.stringify([campaign, asOf, scope, filter])}`, () => summary(db, campaign, asOf, scope, filter, towns),
        cache.inTowns(towns))
    },
  }

  /** The towns a summary lists and the name of its jurisdiction, kept until the areas change. */
  function places(db: Sql | Tx, scope: Jurisdiction) {
    const read = async () => {
      const towns = await db<{ id: number; code: string; nameZh: string; nameEn: string }[]>`
        select t.id, t.code, t.name_zh, t.name_en from admin_area t
        where t.level = 'town' and t.valid_to is null
          ${scope.kind === 'town' ? db`and t.id = ${scope.id!}` : db``}
          ${scope.kind === 'police_station' ? db`and exists (select 1 from police_station s where s.id = ${scope.id!} and st_intersects(s.geom, t.geom) and not st_touches(s.geom, t.geom))` : db``}
        order by t.code`
      const [district] = await (scope.kind === 'district'
        ? db<{ id: number; nameZh: string; nameEn: string }[]>`
            select id, name_zh, name_en from admin_area where level = 'district' and valid_to is null order by id limit 1`
        : scope.kind === 'town'
          ? db<{ id: number; nameZh: string; nameEn: string }[]>`select id, name_zh, name_en from admin_area where id = ${scope.id!}`
          : db<{ id: number; nameZh: string; nameEn: string }[]>`select id, name_zh, name_en from police_station where id = ${scope.id!}`)
      return { towns: [...towns], district }
    }
    return opts.cache && db === sql ? opts.cache.get(`places|${JSON.stringify(scope)}`, read, opts.cache.inTowns([])) : read()
  }

  /**
   * The measures' counts per town on a day. Given the `towns` to count (with the cache), each town's
   * kept under its town's version (figuresCache.byTown): a write in one town counts that town again,
   * not the district. Without, counted whole.
   */
  function countsByTown(db: Sql | Tx, day: string, scope: Jurisdiction, filter: PremisesFilter, towns?: number[]): Promise<Map<number, MeasureCounts>> {
    if (!opts.cache || !towns) return measureCountsBy(db, day, 'town_id', scope, filter)
    return opts.cache.byTown(`measures|${JSON.stringify([day, scope, filter])}`, towns,
      async t => (await measureCountsBy(db, day, 'town_id', scope, { ...filter, towns: [t] })).get(t))
  }

  async function summary(db: Sql | Tx, campaign: Campaign, asOf: string, scope: Jurisdiction, filter: PremisesFilter, counted?: number[]) {
    const { towns, district } = await places(db, scope)
    const previous = previousReportDate(asOf, campaign.startsOn, campaign.endsOn, campaign.reportDays)
    const [byTown, before] = await Promise.all([
      countsByTown(db, asOf, scope, filter, counted),
      previous ? countsByTown(db, previous, scope, filter, counted) : Promise.resolve(new Map<number, MeasureCounts>()),
    ])
    const total = [...byTown.values()].reduce(addCounts, emptyCounts())
    const totalBefore = [...before.values()].reduce(addCounts, emptyCounts())
    // Each measure with its figures on the previous report day, for "change since the last report".
    const withPrevious = (now: MeasureCounts, then: MeasureCounts) => {
      const was = measuresFrom(then, campaign.targets)
      return measuresFrom(now, campaign.targets).map((m, i) => ({
        ...m, previous: previous ? { numerator: was[i]!.numerator, denominator: was[i]!.denominator, rate: was[i]!.rate } : null,
      }))
    }
    return {
      asOf,
      campaign: { code: campaign.code, nameZh: campaign.nameZh, nameEn: campaign.nameEn, startsOn: campaign.startsOn, endsOn: campaign.endsOn },
      scope: scope.kind,
      previousReportDate: previous,
      district: {
        id: district?.id ?? null, nameZh: district?.nameZh ?? '', nameEn: district?.nameEn ?? '',
        counts: total, measures: withPrevious(total, totalBefore),
      },
      towns: towns.map((t) => {
        const counts = byTown.get(t.id) ?? emptyCounts()
        return { ...t, counts, measures: withPrevious(counts, before.get(t.id) ?? emptyCounts()) }
      }),
    }
  }
}

/** The measures on every report day up to a day (and on the day itself): the campaign's trend. */
export async function statsSeries(sql: Sql | Tx, campaign: Campaign, asOf: string, scope: Jurisdiction, filter: PremisesFilter) {
  const days = reportDates(campaign.startsOn, campaign.endsOn, campaign.reportDays).filter(d => d <= asOf)
  if (days[days.length - 1] !== asOf) days.push(asOf)
  const counts = await measureSeries(sql, days, scope, filter)
  return { asOf, points: days.map((date, i) => ({ date, counts: counts[i]!, measures: measuresFrom(counts[i]!, campaign.targets) })) }
}

export type StatsRepository = ReturnType<typeof statsRepository>

declare module 'fastify' {
  interface FastifyInstance {
    stats: StatsRepository
  }
}

export default fp(async (app) => {
  app.decorate('stats', statsRepository(app.db.sql, { cache: figuresCache(app.versions, 2000) }))
}, { name: 'stats', dependencies: ['db', 'versions'] })
