import fp from 'fastify-plugin'
import type { Sql } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { endOfDay } from '../../domain/calendar.js'

/**
 * Accountability by unit (the notice ties the campaign to the district's safety assessment, 考核):
 * for each responsible department and each town, the hazards referred to it up to a day and what
 * became of them — rectified by their deadline, rectified late, still open past the deadline
 * (overdue), still open within it — with the major ones apart. Counts only; within the viewer's
 * jurisdiction. A hazard without a deadline is never late or overdue.
 */

export interface UnitFigures {
  referred: number
  major: number
  rectifiedOnTime: number
  rectifiedLate: number
  overdue: number
  openInTime: number
  /** Rectified on time as a share of those whose deadline has come (null when none has). */
  onTimeRate: number | null
}

export interface Accountability {
  asOf: string
  departments: ({ code: string; nameZh: string; nameEn: string } & UnitFigures)[]
  towns: ({ id: number; nameZh: string; nameEn: string } & UnitFigures)[]
}

type Row = Omit<UnitFigures, 'onTimeRate'>

const withRate = <T extends Row>(r: T): T & { onTimeRate: number | null } => {
  const due = r.rectifiedOnTime + r.rectifiedLate + r.overdue
  return { ...r, onTimeRate: due ? r.rectifiedOnTime / due : null }
}

export function accountabilityRepository(sql: Sql) {
  return {
    async figures(asOf: string, scope: Jurisdiction): Promise<Accountability> {
      const until = endOfDay(asOf)
      const counts = (group: 'department' | 'town') => sql<(Row & { unit: string })[]>`
        with h as (
          select ${group === 'department' ? sql`h.department_code` : sql`p.town_id::text`} as unit, h.severity, h.deadline,
                 case when h.rectified_at < ${until} then local_day(h.rectified_at) end as rectified_on
          from hazard h join premises p on p.id = h.premises_id
          where h.found_at < ${until} and ${inJurisdiction(sql, scope)}
        )
        select unit, count(*)::int as referred,
               count(*) filter (where severity = 'major')::int as major,
               count(*) filter (where rectified_on is not null and (deadline is null or rectified_on <= deadline))::int as rectified_on_time,
               count(*) filter (where rectified_on > deadline)::int as rectified_late,
               count(*) filter (where rectified_on is null and deadline < ${asOf})::int as overdue,
               count(*) filter (where rectified_on is null and (deadline is null or deadline >= ${asOf}))::int as open_in_time
        from h group by unit`
      const [byDepartment, byTown, departments, towns] = await Promise.all([
        counts('department'), counts('town'),
        sql<{ code: string; nameZh: string; nameEn: string }[]>`select code, name_zh, name_en from department order by code`,
        sql<{ id: number; nameZh: string; nameEn: string }[]>`
          select t.id, t.name_zh, t.name_en from admin_area t where t.level = 'town' and t.valid_to is null
            and (${scope.kind !== 'town'} or t.id = ${scope.kind === 'town' ? scope.id! : 0}) order by t.code`,
      ])
      const empty: Row = { referred: 0, major: 0, rectifiedOnTime: 0, rectifiedLate: 0, overdue: 0, openInTime: 0 }
      const of = (rows: (Row & { unit: string })[], unit: string): Row => {
        const r = rows.find(x => x.unit === unit)
        return r ? { referred: r.referred, major: r.major, rectifiedOnTime: r.rectifiedOnTime, rectifiedLate: r.rectifiedLate, overdue: r.overdue, openInTime: r.openInTime } : empty
      }
      return {
        asOf,
        departments: departments.map(d => withRate({ ...d, ...of(byDepartment, d.code) })),
        // A police station's user sees the towns its hazards are in.
        towns: towns.map(t => withRate({ ...t, ...of(byTown, String(t.id)) })).filter(t => scope.kind !== 'police_station' || t.referred > 0),
      }
    },
  }
}

export type AccountabilityRepository = ReturnType<typeof accountabilityRepository>

declare module 'fastify' {
  interface FastifyInstance {
    accountability: AccountabilityRepository
  }
}

export default fp(async (app) => {
  app.decorate('accountability', accountabilityRepository(app.db.sql))
}, { name: 'accountability', dependencies: ['db'] })
