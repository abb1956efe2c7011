import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { periods as campaignPeriods, type Period, reportDates } from '../../domain/periods.js'
import { attachment3Columns, attachment4Columns, attachment5Columns, type ReportColumn, reportNotes } from '../../domain/report-columns.js'
import { badRequest, conflict, HttpError, notFound } from '../../lib/http-errors.js'
import type { Campaign } from './campaign.js'
import { endOfDay } from '../../domain/calendar.js'
import { addReportCounts, emptyReportCounts, type ReportCounts, reportCounts } from './reports-counts.js'

/**
 * The biweekly tables of the notice, counted from the same daily changes as the dashboard
 * (reports-counts.ts), and frozen once submitted: a submitted table is shown as it was submitted,
 * with the cells where the live figures have moved since.
 */

export type ReportKind = 'attachment-3' | 'attachment-4' | 'attachment-5'

export interface ReportRow {
  /** Row labels, one per leading column (e.g. police station, 每周数). */
  lead: string[]
  leadEn: string[]
  values: Record<string, number | string | null>
}

export interface ReportTable {
  report: ReportKind
  title: string
  titleEn: string
  /** 填报单位: who reports this table. */
  unit: string
  unitEn: string
  /** The subject of a submission: 'district', 'town:3', 'police_station:2', 'key_area:7'. */
  subject: string
  period: Period
  leading: string[]
  leadingEn: string[]
  columns: ReportColumn[]
  rows: ReportRow[]
  notes: string[]
  submission: null | { submittedAt: string; submittedBy: string; filledBy: string; reviewedBy: string | null }
  /** Cells whose live figure differs from the submitted one (only for submitted tables). */
  differences: { row: number; key: string; submitted: number | string | null; live: number | string | null }[]
}

/** Towns whose attachment 3 a jurisdiction may see: its own, or those its police station's area reaches into. */
function townReached(sql: Sql | Tx, scope: Jurisdiction, alias = 't') {
  const t = sql(alias)
  switch (scope.kind) {
    case 'district': return sql`true`
    case 'town': return sql`${t}.id = ${scope.id!}`
    case 'police_station': return sql`exists (select 1 from police_station s where s.id = ${scope.id!}
      and s.geom && ${t}.geom and st_intersects(s.geom, ${t}.geom) and not st_touches(s.geom, ${t}.geom))`
  }
}

/**
 * Whether a jurisdiction covers all of a table's subject, so that the table submitted for it is
 * the user's to see. A police station reaching into a town sees that town's attachment 3 live,
 * with its own key areas only, never the town's submitted table (which holds the others too).
 */
function coversSubject(scope: Jurisdiction, subject: string): boolean {
  if (!subject.startsWith('town:')) return true
  return scope.kind === 'district' || (scope.kind === 'town' && subject === `town:${scope.id}`)
}

const scopeSubject = (scope: Jurisdiction) => (scope.kind === 'district' ? 'district' : `${scope.kind}:${scope.id}`)

/** The tables, read through a connection or inside a transaction. */
function tables(sql: Sql | Tx) {
  /** The report period ending on a day, checked against the campaign's report days. */
  function periodsUpTo(campaign: Campaign, day: string): Period[] {
    const all = campaignPeriods(campaign.startsOn, campaign.endsOn, campaign.reportDays)
    const i = all.findIndex(p => p.to === day)
    if (i < 0) {
      const days = reportDates(campaign.startsOn, campaign.endsOn, campaign.reportDays)
      const before = days.filter(d => d < day).pop()
      const after = days.find(d => d > day)
      throw badRequest(`${day} is not a report day of the campaign (periods end on the ${campaign.reportDays.join('th and ')}th of each month`
        + `, from ${days[0]} to ${days[days.length - 1]})${before || after ? `; the nearest are ${[before, after].filter(Boolean).join(' and ')}` : ''}`,
      `${day} 不是本次整治的报送日（每月 ${campaign.reportDays.join('日、')}日截止，自 ${days[0]} 至 ${days[days.length - 1]}）${before || after ? `；最近的是 ${[before, after].filter(Boolean).join(' 和 ')}` : ''}`)
    }
    return all.slice(0, i + 1)
  }

  /** The latest report day on or before a day (the first one before the campaign's first). */
  function latestReportDay(campaign: Campaign, day: string): string {
    const days = reportDates(campaign.startsOn, campaign.endsOn, campaign.reportDays)
    return days.filter(d => d <= day).pop() ?? days[0]!
  }

  const periodAndCumulative = (series: ReportCounts[] | undefined, n: number) => {
    const rows = series ?? Array.from({ length: n }, emptyReportCounts)
    return { period: rows[n - 1]!, cumulative: rows.reduce(addReportCounts, emptyReportCounts()) }
  }

  const pick = (c: ReportCounts, columns: ReportColumn[]) =>
    Object.fromEntries(columns.map(col => [col.key, c[col.key as keyof ReportCounts] ?? 0])) as Record<string, number>

  async function unitName(scope: Jurisdiction): Promise<{ zh: string; en: string }> {
    if (scope.kind === 'town') {
      const [t] = await sql<{ nameZh: string; nameEn: string }[]>`select name_zh, name_en from admin_area where id = ${scope.id!}`
      return { zh: t?.nameZh ?? '', en: t?.nameEn ?? '' }
    }
    if (scope.kind === 'police_station') {
      const [s] = await sql<{ nameZh: string; nameEn: string }[]>`select name_zh, name_en from police_station where id = ${scope.id!}`
      return { zh: s?.nameZh ?? '', en: s?.nameEn ?? '' }
    }
    const [d] = await sql<{ nameZh: string; nameEn: string }[]>`
      select name_zh, name_en from admin_area where level = 'district' and valid_to is null order by id limit 1`
    return { zh: d?.nameZh ?? '', en: d?.nameEn ?? '' }
  }

  async function attachment5Live(campaign: Campaign, day: string, scope: Jurisdiction): Promise<ReportTable> {
    const ps = periodsUpTo(campaign, day)
    const counts = await reportCounts(sql, ps, { kind: 'stations', scope })
    // Every current station of the jurisdiction gets its rows, with or without figures.
    // Every current station of the district gets its rows, with or without figures; a town's table
    // has the stations that reported something in it; a station's table has its own.
    const withCounts = sql([...counts.keys()].filter((k): k is number => k !== null).concat(-1))
    const which = scope.kind === 'police_station' ? sql`s.id = ${scope.id!}`
      : scope.kind === 'town' ? sql`s.id in ${withCounts}`
        : sql`(s.valid_to is null or s.id in ${withCounts})`
    const stations = await sql<{ id: number; nameZh: string; nameEn: string }[]>`
      select s.id, s.name_zh, s.name_en from police_station s where ${which} order by s.code, s.id`
    const columns = attachment5Columns
    const rows: ReportRow[] = []
    let totalPeriod = emptyReportCounts()
    let totalCumulative = emptyReportCounts()
    const groups: { id: number | null; zh: string; en: string }[] = stations.map(s => ({ id: s.id, zh: s.nameZh, en: s.nameEn }))
    if (counts.has(null)) groups.push({ id: null, zh: '未划入派出所辖区', en: 'Outside every police station' })
    for (const g of groups) {
      const { period, cumulative } = periodAndCumulative(counts.get(g.id), ps.length)
      totalPeriod = addReportCounts(totalPeriod, period)
      totalCumulative = addReportCounts(totalCumulative, cumulative)
      rows.push({ lead: [g.zh, '每周数'], leadEn: [g.en, 'This period'], values: pick(period, columns) })
      rows.push({ lead: [g.zh, '累计数'], leadEn: [g.en, 'Cumulative'], values: pick(cumulative, columns) })
    }
    if (groups.length > 1) {
      rows.push({ lead: ['合计', '每周数'], leadEn: ['Total', 'This period'], values: pick(totalPeriod, columns) })
      rows.push({ lead: ['合计', '累计数'], leadEn: ['Total', 'Cumulative'], values: pick(totalCumulative, columns) })
    }
    const unit = await unitName(scope)
    return {
      report: 'attachment-5', title: '全区群租房安全隐患集中整治情况统计表', titleEn: 'District group-rental hazard remediation statistics',
      unit: unit.zh, unitEn: unit.en, subject: scopeSubject(scope), period: ps[ps.length - 1]!,
      leading: ['派出所', '项目'], leadingEn: ['Police station', 'Item'], columns, rows, notes: reportNotes, submission: null, differences: [],
    }
  }

  async function keyArea(scope: Jurisdiction, id: number) {
    const [k] = await sql<{ id: number; nameZh: string; nameEn: string | null; geometry: string; status: string }[]>`
      select k.id, k.name_zh, k.name_en, st_asgeojson(k.geom) as geometry, k.status from key_area k
      where k.id = ${id} and k.deleted_at is null and k.status <> 'draft' and ${inJurisdiction(sql, scope, 'k')}`
    // A draft is not listed: it has no table (and is not shown to those who may not list it).
    if (!k) throw notFound(`there is no key area with id ${id} in your jurisdiction`, `您的辖区内没有编号为 ${id} 的重点地区`)
    return k
  }

  async function attachment4Live(campaign: Campaign, day: string, scope: Jurisdiction, keyAreaId: number): Promise<ReportTable> {
    const ps = periodsUpTo(campaign, day)
    const k = await keyArea(scope, keyAreaId)
    const counts = await reportCounts(sql, ps, { kind: 'area', scope, geojson: k.geometry })
    const { period, cumulative } = periodAndCumulative(counts.get(null), ps.length)
    const columns = attachment4Columns
    return {
      report: 'attachment-4', title: '重点地区整治情况统计表', titleEn: 'Key area remediation statistics',
      unit: k.nameZh, unitEn: k.nameEn ?? k.nameZh, subject: `key_area:${k.id}`, period: ps[ps.length - 1]!,
      leading: ['项目'], leadingEn: ['Item'], columns,
      rows: [
        { lead: ['每周数'], leadEn: ['This period'], values: pick(period, columns) },
        { lead: ['累计数'], leadEn: ['Cumulative'], values: pick(cumulative, columns) },
      ],
      notes: reportNotes, submission: null, differences: [],
    }
  }

  async function attachment3Live(campaign: Campaign, day: string, scope: Jurisdiction, townId: number): Promise<ReportTable> {
    // Outside the jurisdiction a town's table does not exist, as any record there.
    const [town] = await sql<{ id: number; nameZh: string; nameEn: string }[]>`
      select t.id, t.name_zh, t.name_en from admin_area t where t.id = ${townId} and t.level = 'town' and ${townReached(sql, scope)}`
    if (!town) throw notFound(`there is no town or street with id ${townId} in your jurisdiction`, `您的辖区内没有编号为 ${townId} 的镇（街道）`)
    const until = endOfDay(day)
    const rows = await sql<{ id: number; nameZh: string; nameEn: string | null; town: string; townEn: string; policeStation: string | null; policeStationEn: string | null
      houses: number; rentalHouses: number; groupRentals: number; groupRentalsWithHazards: number
      actualPopulation: number | null; floatingPopulation: number | null; mentalIllness: number | null; personsOfConcern: number | null }[]>`
      select k.id, k.name_zh, k.name_en, t.name_zh as town, t.name_en as town_en, s.name_zh as police_station, s.name_en as police_station_en,
             coalesce(c.houses, 0) as houses, coalesce(c.rental_houses, 0) as rental_houses,
             coalesce(c.group_rentals, 0) as group_rentals, coalesce(c.with_hazards, 0) as group_rentals_with_hazards,
             k.actual_population, k.floating_population, k.mental_illness_count as mental_illness, k.persons_of_concern_count as persons_of_concern
      from key_area k
      join admin_area t on t.id = k.town_id
      left join police_station s on s.id = k.police_station_id
      left join lateral (
        select count(*)::int as houses,
               count(*) filter (where p.kind in ('rental', 'group_rental'))::int as rental_houses,
               count(*) filter (where is_group_rental_candidate(p.kind, p.meets_rule))::int as group_rentals,
               count(*) filter (where is_group_rental_candidate(p.kind, p.meets_rule) and exists (
                 select 1 from hazard h where h.premises_id = p.id and h.found_at < ${until}
                   and (h.rectified_at is null or h.rectified_at >= ${until})))::int as with_hazards
        from premises p
        where p.geom && k.geom and st_intersects(k.geom, p.geom) and p.found_on <= ${day}
          and (p.deregistered_on is null or p.deregistered_on > ${day}) and ${inJurisdiction(sql, scope)}
      ) c on true
      where k.town_id = ${townId} and k.deleted_at is null and k.status <> 'draft' and k.listed_on <= ${day}
        and ${inJurisdiction(sql, scope, 'k')}
      order by k.listed_on, k.id`
    const columns = attachment3Columns
    return {
      report: 'attachment-3', title: '重点地区统计表', titleEn: 'Key areas', unit: town.nameZh, unitEn: town.nameEn,
      subject: `town:${town.id}`, period: { from: campaign.startsOn, to: day },
      leading: ['序号'], leadingEn: ['No.'], columns,
      rows: rows.map((r, i) => ({
        lead: [String(i + 1)], leadEn: [String(i + 1)],
        values: {
          name: r.nameZh, town: r.town, policeStation: r.policeStation, houses: r.houses, rentalHouses: r.rentalHouses,
          groupRentals: r.groupRentals, groupRentalsWithHazards: r.groupRentalsWithHazards, actualPopulation: r.actualPopulation,
          floatingPopulation: r.floatingPopulation, mentalIllnessCount: r.mentalIllness, personsOfConcernCount: r.personsOfConcern,
        },
      })),
      notes: [`此表反映截至 ${day} 已挂牌的重点地区；人口数由各镇（街道）填报。`],
      submission: null, differences: [],
    }
  }

  async function live(kind: ReportKind, campaign: Campaign, day: string, scope: Jurisdiction, subjectId?: number) {
    switch (kind) {
      case 'attachment-5': return attachment5Live(campaign, day, scope)
      case 'attachment-4': return attachment4Live(campaign, day, scope, subjectId!)
      case 'attachment-3': return attachment3Live(campaign, day, scope, subjectId!)
    }
  }

  /** The submitted table, if any, with the cells where the live figures have moved since. */
  async function withSubmission(t: ReportTable): Promise<ReportTable> {
    const [s] = await sql<{ data: ReportTable; submittedAt: Date; submittedBy: string; filledBy: string; reviewedBy: string | null }[]>`
      select r.data, r.submitted_at, u.username as submitted_by, r.filled_by, r.reviewed_by
      from report_submission r join app_user u on u.id = r.submitted_by
      where r.report = ${t.report} and r.subject = ${t.subject} and r.period_to = ${t.period.to}`
    if (!s) return t
    const differences: ReportTable['differences'] = []
    const n = Math.max(s.data.rows.length, t.rows.length)
    for (let i = 0; i < n; i++) {
      const was = s.data.rows[i]
      const now = t.rows[i]
      for (const col of t.columns) {
        const a = was?.values[col.key] ?? null
        const b = now?.values[col.key] ?? null
        if (a !== b) differences.push({ row: i, key: col.key, submitted: a, live: b })
      }
    }
    return {
      ...s.data,
      submission: { submittedAt: s.submittedAt.toISOString(), submittedBy: s.submittedBy, filledBy: s.filledBy, reviewedBy: s.reviewedBy },
      differences,
    }
  }

  return { periodsUpTo, latestReportDay, live, withSubmission, attachment4Live }
}

export function reportsRepository(sql: Sql) {
  return {
    latestReportDay: tables(sql).latestReportDay,

    /** A table as it stands (or as it was submitted, with what moved since). */
    async table(kind: ReportKind, campaign: Campaign, day: string, scope: Jurisdiction, subjectId?: number, db: Sql | Tx = sql) {
      const { live, withSubmission } = tables(db)
      const t = await live(kind, campaign, day, scope, subjectId)
      return coversSubject(scope, t.subject) ? withSubmission(t) : t
    },

    /** Every key area's attachment 4 for a period (the workbook with a sheet per key area). */
    async allAttachment4(campaign: Campaign, day: string, scope: Jurisdiction, db: Sql | Tx = sql) {
      const { attachment4Live, withSubmission } = tables(db)
      const ids = await db<{ id: number }[]>`
        select k.id from key_area k where k.deleted_at is null and k.status <> 'draft' and k.listed_on <= ${day}
          and ${inJurisdiction(db, scope, 'k')} order by k.town_id, k.id`
      const out: ReportTable[] = []
      for (const { id } of ids) out.push(await withSubmission(await attachment4Live(campaign, day, scope, id)))
      return out
    },

    /**
     * Freezes a table: stores it as it stands now. A period's table is submitted once; a second
     * submission is refused (409) so that what was reported never changes silently.
     */
    async submit(tx: Tx, kind: ReportKind, campaign: Campaign, day: string, scope: Jurisdiction, userId: number,
      who: { filledBy: string; reviewedBy?: string | null }, subjectId?: number) {
      // Serialise submissions of the same table; the one that comes second finds the first and stops.
      await tx`select pg_advisory_xact_lock(hashtext(${`report:${kind}:${subjectId ?? ''}:${day}`}))`
      const t = await tables(tx).live(kind, campaign, day, scope, subjectId)
      if (!coversSubject(scope, t.subject)) {
        throw new HttpError(403, 'A town\'s attachment 3 is submitted by the town or street, or by the district, which see all its key areas.', 'outside-jurisdiction',
          '镇（街道）的重点地区统计表由该镇（街道）或区级上报，他们能看到全部重点地区。')
      }
      const [existing] = await tx`select submitted_at from report_submission where report = ${kind} and subject = ${t.subject} and period_to = ${day}`
      if (existing) throw conflict(`this table (${t.title}, ${t.unit}, ${day}) was already submitted; a submitted table cannot be changed`, `此表（${t.title}，${t.unit}，${day}）已上报；已上报的报表不能修改`)
      const filledBy = who.filledBy.trim()
      if (!filledBy) throw badRequest('say who filled in the table (filledBy)', '请填写填表人')
      await tx`
        insert into report_submission (report, subject, period_to, data, filled_by, reviewed_by, submitted_by)
        values (${kind}, ${t.subject}, ${day}, ${tx.json(JSON.parse(JSON.stringify({ ...t, submission: null, differences: [] })))},
          ${filledBy}, ${who.reviewedBy?.trim() || null}, ${userId})`
      return t
    },

    /** Submissions a user may see, newest first. */
    async submissions(scope: Jurisdiction, db: Sql | Tx = sql) {
      const rows = await db<{ report: ReportKind; subject: string; periodTo: string; unit: string; submittedAt: Date; submittedBy: string; filledBy: string; reviewedBy: string | null }[]>`
        select r.report, r.subject, r.period_to, r.data->>'unit' as unit, r.submitted_at, u.username as submitted_by, r.filled_by, r.reviewed_by
        from report_submission r join app_user u on u.id = r.submitted_by
        where ${scope.kind === 'district' ? db`true` : db`r.subject = ${scopeSubject(scope)} or r.subject like 'key_area:%' and exists (
          select 1 from key_area k where 'key_area:' || k.id = r.subject and ${inJurisdiction(db, scope, 'k')})
          or r.subject like 'town:%' and ${scope.kind === 'town' ? db`r.subject = ${`town:${scope.id}`}` : db`false`}`}
        order by r.submitted_at desc limit 200`
      return rows.map(r => ({ ...r, submittedAt: r.submittedAt.toISOString() }))
    },
  }
}

export type ReportsRepository = ReturnType<typeof reportsRepository>

declare module 'fastify' {
  interface FastifyInstance {
    reports: ReportsRepository
  }
}

export default fp(async (app) => {
  app.decorate('reports', reportsRepository(app.db.sql))
}, { name: 'reports', dependencies: ['db'] })
