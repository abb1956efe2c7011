import fp from 'fastify-plugin'
import type { Sql } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { today as todayInDistrict } from '../../domain/calendar.js'
import { reportDates } from '../../domain/periods.js'
import { phaseOn, type PhaseOn } from '../../domain/phases.js'
import type { Campaign } from './campaign.js'
import type { StatsRepository } from './stats.js'

/**
 * The closing phase's checklist (总结巩固: 检查验收, 查漏补缺, 巩固成果): what a commander must have
 * done before the campaign closes, each with its progress, within the commander's jurisdiction —
 * the three targets met, every key area cleared to zero and delisted, the revisits (明察暗访) done
 * in every town, and the final biweekly tables submitted. Counts only: nothing here names a person.
 */

export interface ClosingItem {
  key: 'groupRentalsRegistered' | 'residentsRegistered' | 'majorHazardsRectified' | 'keyAreasCleared' | 'keyAreasDelisted' | 'revisitsDone' | 'finalTables'
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
  /** Each town of the jurisdiction with the campaign's revisits drawn there and the outcomes recorded. */
  revisits: { id: number; nameZh: string; nameEn: string; drawn: number; recorded: number }[]
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
      // Revisits are done in a town once a sample was drawn there and every drawn record's outcome is
      // recorded; a town of a police station's area is one the station's premises lie in.
      const towns = scope.kind === 'district' ? sql`true`
        : scope.kind === 'town' ? sql`a.id = ${scope.id!}`
          : sql`exists (select 1 from premises p where p.town_id = a.id and p.police_station_id = ${scope.id!})`
      const revisits = await sql<Closing['revisits']>`
        with drawn as (
          select i.town_id, count(*)::int as drawn, count(i.outcome)::int as recorded
          from revisit_item i join revisit_sample s on s.id = i.sample_id
          where s.campaign_id = ${campaign.id} and ${inJurisdiction(sql, scope, 'i')}
          group by i.town_id
        )
        select a.id, a.name_zh, a.name_en, coalesce(d.drawn, 0) as drawn, coalesce(d.recorded, 0) as recorded
        from admin_area a left join drawn d on d.town_id = a.id
        where a.level = 'town' and a.valid_to is null and ${towns}
        order by a.id`
      const townsDone = revisits.filter(r => r.drawn > 0 && r.recorded === r.drawn).length
      const all = (key: ClosingItem['key'], done: number, total: number): ClosingItem => ({ key, done, total, target: 1, met: done === total })
      return {
        today, asOf, phase: phaseOn(campaign.phases, today), finalReportDay,
        items: [
          fromMeasure('groupRentalsRegistered', 'group_rentals_registered'),
          fromMeasure('residentsRegistered', 'residents_registered'),
          fromMeasure('majorHazardsRectified', 'major_hazards_rectified'),
          all('keyAreasCleared', areas!.cleared, areas!.listed),
          all('keyAreasDelisted', areas!.delisted, areas!.listed),
          all('revisitsDone', townsDone, revisits.length),
          all('finalTables', tables!.done, tables!.total),
        ],
        revisits: [...revisits],
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
