import fp from 'fastify-plugin'
import type { Sql } from '../../db/index.js'
import type { Jurisdiction } from '../../domain/access.js'
import { today as todayInDistrict } from '../../domain/calendar.js'
import { reportDates } from '../../domain/periods.js'
import { phaseOn, type PhaseOn } from '../../domain/phases.js'
import type { Campaign } from './campaign.js'
import type { StatsRepository } from './stats.js'

/**
 * The closing phase's checklist (总结巩固: 检查验收, 查漏补缺, 巩固成果): what a commander must have
 * done before the campaign closes, each with its progress, within the commander's jurisdiction —
 * the three targets met, every key area cleared to zero and delisted, and the final biweekly
 * tables submitted. Counts only: nothing here names a person.
 */

export interface ClosingItem {
  key: 'groupRentalsRegistered' | 'residentsRegistered' | 'majorHazardsRectified' | 'keyAreasCleared' | 'keyAreasDelisted' | 'finalTables'
  done: number
  total: number
  /** The share needed (the campaign's target for the measures; all of them otherwise). */
  target: number
  met: boolean
}

export interface Closing {
  today: string
  asOf: string
  phase: PhaseOn
  /** The campaign's last report day: the final tables are those of the period ending on it. */
  finalReportDay: string
  items: ClosingItem[]
}

export function closingRepository(sql: Sql, stats: StatsRepository) {
  return {
    async checklist(campaign: Campaign, asOf: string, scope: Jurisdiction, today = todayInDistrict()): Promise<Closing> {
      const summary = await stats.summary(campaign, asOf, scope)
      const measure = (key: string) => summary.district.measures.find(m => m.key === key)!
      const fromMeasure = (key: ClosingItem['key'], measureKey: string): ClosingItem => {
        const m = measure(measureKey)
        const target = m.target ?? 1
        return { key, done: m.numerator, total: m.denominator, target, met: m.denominator === 0 || m.numerator / m.denominator >= target - 1e-9 }
      }
      const where = scope.kind === 'district' ? sql`true`
        : scope.kind === 'town' ? sql`k.town_id = ${scope.id!}` : sql`k.police_station_id = ${scope.id!}`
      const [areas] = await sql<{ listed: number; cleared: number; delisted: number }[]>`
        select count(*)::int as listed,
               count(*) filter (where k.status in ('cleared', 'delisted'))::int as cleared,
               count(*) filter (where k.status = 'delisted')::int as delisted
        from key_area k where k.status <> 'draft' and ${where}`
      const days = reportDates(campaign.startsOn, campaign.endsOn, campaign.reportDays)
      const finalReportDay = days[days.length - 1]!
      // The final tables: attachment 5 for the jurisdiction and attachment 4 for each of its key areas.
      const subject = scope.kind === 'district' ? 'district' : `${scope.kind}:${scope.id}`
      const [tables] = await sql<{ total: number; done: number }[]>`
        with wanted as (
          select 'attachment-5' as report, ${subject}::text as subject
          union all select 'attachment-4', 'key_area:' || k.id from key_area k where k.status <> 'draft' and ${where}
        )
        select count(*)::int as total,
               count(*) filter (where exists (select 1 from report_submission r where r.report = w.report and r.subject = w.subject and r.period_to = ${finalReportDay}))::int as done
        from wanted w`
      const all = (key: ClosingItem['key'], done: number, total: number): ClosingItem => ({ key, done, total, target: 1, met: done === total })
      return {
        today, asOf, phase: phaseOn(campaign.phases, today), finalReportDay,
        items: [
          fromMeasure('groupRentalsRegistered', 'group_rentals_registered'),
          fromMeasure('residentsRegistered', 'residents_registered'),
          fromMeasure('majorHazardsRectified', 'major_hazards_rectified'),
          all('keyAreasCleared', areas!.cleared, areas!.listed),
          all('keyAreasDelisted', areas!.delisted, areas!.listed),
          all('finalTables', tables!.done, tables!.total),
        ],
      }
    },
  }
}

export type ClosingRepository = ReturnType<typeof closingRepository>

declare module 'fastify' {
  interface FastifyInstance {
    closing: ClosingRepository
  }
}

export default fp(async (app) => {
  app.decorate('closing', closingRepository(app.db.sql, app.stats))
}, { name: 'closing', dependencies: ['db'] })
