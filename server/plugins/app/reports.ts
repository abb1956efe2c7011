import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { periods as campaignPeriods, type Period, reportDates } from '../../domain/periods.js'
import { attachment3Columns, attachment4Columns, attachment5Columns, type ReportColumn, reportNotes } from '../../domain/report-columns.js'
import { badRequest, conflict, HttpError, notFound } from '../../lib/http-errors.js'
import type { Campaign } from './campaign.js'
import { endOfDay } from '../../domain/calendar.js'
import { countsInside } from './key-areas-boundary.js'
import { addReportCounts, emptyReportCounts, type ReportCounts, reportCountKeys, reportCounts } from './reports-counts.js'

/**
 * The biweekly tables of the notice, counted from the same daily changes as the dashboard
 * (reports-counts.ts), and frozen once submitted: a submitted table is shown as it was submitted,
 * with the cells where the live figures have moved since.
 */

export type ReportKind = 'attachment-3' | 'attachment-4' | 'attachment-5'

export interface ReportRow {
  /**
   * What the row is about, so that a submitted table's rows are matched to the live ones by it, not
   * by position: 'station:3:period', 'station:none:cumulative', 'total:period', 'period',
   * 'key_area:7'. Tables submitted before rows had ids are matched on their labels.
   */
  id?: string
  /** Row labels, one per leading column (e.g. police station, 每周数). */
  lead: string[]
  leadEn: string[]
  values: Record<string, number | string | null>
  /**
   * 补录: what this period row holds of entries dated into periods already submitted (entered
   * after their table was submitted), by column; only non-zero columns. See lateEntries.
   */
  late?: Record<string, number>
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
  differences: { row: number; rowId?: string; key: string; submitted: number | string | null; live: number | string | null }[]
}

/** The key a row is matched by: its id, or (tables submitted before rows had ids) its labels. */
const rowKeys = (r: ReportRow) => [...(r.id ? [r.id] : []), `lead:${r.lead.join('\u0000')}`]

/**
 * Late entries into submitted periods. A submitted table never changes, and every later table's
 * 累计数 must be the sum of the submitted 每周数 plus its own; an entry dated into a submitted period
 * (entered after the submission, or corrected since) is counted in the next period not yet
 * submitted and shown there as 含补录 N. Walking the periods in order: a submitted period keeps its
 * submitted figures and hands on what its live figures (with what it was handed) differ from them;
 * a period not submitted takes what it is handed. The last period is the table's own.
 *
 * @param live each period's live counts, by the day they happened
 * @param submitted each period's submitted 每周数 row, or undefined where it was not submitted
 *   (the table's own period is never looked up: its own submission is shown as stored)
 * @returns each period's figures after the rule, and what the last holds of late entries
 */
export function lateEntries(live: ReportCounts[], submitted: (Record<string, number | string | null> | undefined)[]) {
  let carry = emptyReportCounts()
  const adjusted: ReportCounts[] = []
  for (let j = 0; j < live.length; j++) {
    const now = addReportCounts(live[j]!, carry)
    const stored = j < live.length - 1 ? submitted[j] : undefined
    if (stored) {
      const frozen = { ...now }
      for (const k of reportCountKeys) if (k in stored) frozen[k] = Number(stored[k] ?? 0)
      for (const k of reportCountKeys) carry[k] = now[k] - frozen[k]
      adjusted.push(frozen)
    }
    else {
      adjusted.push(now)
      if (j < live.length - 1) carry = emptyReportCounts()
    }
  }
  return { adjusted, late: carry }
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

  /**
   * The 每周数 rows of the tables submitted for a subject before a day: period end -> row key ->
   * values, for lateEntries.
   */
  async function submittedBefore(report: ReportKind, subject: string, day: string) {
    const rows = await sql<{ periodTo: string; data: ReportTable }[]>`
      select period_to, data from report_submission where report = ${report} and subject = ${subject} and period_to < ${day}`
    const out = new Map<string, Map<string, ReportRow['values']>>()
    for (const r of rows) {
      const byKey = new Map<string, ReportRow['values']>()
      for (const row of r.data.rows) for (const k of rowKeys(row)) byKey.set(k, row.values)
      out.set(r.periodTo, byKey)
    }
    return out
  }

  /** A group's period and cumulative figures under the rule for late entries (lateEntries). */
  const periodAndCumulative = (series: ReportCounts[] | undefined, ps: Period[], stored: Map<string, Map<string, ReportRow['values']>>,
    periodRow: ReportRow) => {
    const live = series ?? ps.map(emptyReportCounts)
    const submitted = ps.map((p) => {
      const byKey = stored.get(p.to)
      if (!byKey) return undefined
      // A row missing from a submitted table (a station added since) was submitted as zeros.
      return rowKeys(periodRow).map(k => byKey.get(k)).find(Boolean) ?? {}
    })
    const { adjusted, late } = lateEntries(live, submitted)
    return { period: adjusted[adjusted.length - 1]!, cumulative: adjusted.reduce(addReportCounts, emptyReportCounts()), late }
  }

  const lateOf = (late: ReportCounts, columns: ReportColumn[]) => {
    const out = Object.fromEntries(columns.filter(c => (late[c.key as keyof ReportCounts] ?? 0) !== 0).map(c => [c.key, late[c.key as keyof ReportCounts]]))
    return Object.keys(out).length ? { late: out } : {}
  }

  /** The note that says what a period row holds of late entries (含补录 N), by column. */
  function lateNote(row: ReportRow | undefined, columns: ReportColumn[]): string[] {
    if (!row?.late) return []
    const parts = columns.filter(c => row.late![c.key]).map(c => `${c.path[c.path.length - 1]} ${row.late![c.key]}`)
    return [`本期每周数含补录（已上报期间的补录、更正，计入本期）：${parts.join('，')}。`]
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
    const counts = await reportCounts(sql, ps, { kind: 'stations', scope }, { concernIncludesMentalIllness: campaign.concernIncludesMentalIllness })
    // Every station of the district in being during the campaign up to the day gets its rows, with
    // or without figures (a station opened later, or closed before, has none unless something was
    // counted under it); a town's table has the stations that reported something in it; a
    // station's table has its own.
    const withCounts = sql([...counts.keys()].filter((k): k is number => k !== null).concat(-1))
    const which = scope.kind === 'police_station' ? sql`s.id = ${scope.id!}`
      : scope.kind === 'town' ? sql`s.id in ${withCounts}`
        : sql`(s.valid_from <= ${day} and (s.valid_to is null or s.valid_to > ${ps[0]!.from}) or s.id in ${withCounts})`
    const stations = await sql<{ id: number; nameZh: string; nameEn: string }[]>`
      select s.id, s.name_zh, s.name_en from police_station s where ${which} order by s.code, s.id`
    const columns = attachment5Columns
    const subject = scopeSubject(scope)
    const stored = await submittedBefore('attachment-5', subject, day)
    const rows: ReportRow[] = []
    let totalPeriod = emptyReportCounts()
    let totalCumulative = emptyReportCounts()
    let totalLate = emptyReportCounts()
    const groups: { id: number | null; zh: string; en: string }[] = stations.map(s => ({ id: s.id, zh: s.nameZh, en: s.nameEn }))
    if (counts.has(null)) groups.push({ id: null, zh: '未划入派出所辖区', en: 'Outside every police station' })
    for (const g of groups) {
      const id = `station:${g.id ?? 'none'}`
      const periodRow: ReportRow = { id: `${id}:period`, lead: [g.zh, '每周数'], leadEn: [g.en, 'This period'], values: {} }
      const { period, cumulative, late } = periodAndCumulative(counts.get(g.id), ps, stored, periodRow)
      totalPeriod = addReportCounts(totalPeriod, period)
      totalCumulative = addReportCounts(totalCumulative, cumulative)
      totalLate = addReportCounts(totalLate, late)
      rows.push({ ...periodRow, values: pick(period, columns), ...lateOf(late, columns) })
      rows.push({ id: `${id}:cumulative`, lead: [g.zh, '累计数'], leadEn: [g.en, 'Cumulative'], values: pick(cumulative, columns) })
    }
    if (groups.length > 1) {
      rows.push({ id: 'total:period', lead: ['合计', '每周数'], leadEn: ['Total', 'This period'], values: pick(totalPeriod, columns), ...lateOf(totalLate, columns) })
      rows.push({ id: 'total:cumulative', lead: ['合计', '累计数'], leadEn: ['Total', 'Cumulative'], values: pick(totalCumulative, columns) })
    }
    const unit = await unitName(scope)
    return {
      report: 'attachment-5', title: '全区群租房安全隐患集中整治情况统计表', titleEn: 'District group-rental hazard remediation statistics',
      unit: unit.zh, unitEn: unit.en, subject, period: ps[ps.length - 1]!,
      leading: ['派出所', '项目'], leadingEn: ['Police station', 'Item'], columns, rows,
      notes: [...reportNotes, ...lateNote(rows[rows.length - 2], columns)], submission: null, differences: [],
    }
  }

  /**
   * A key area's boundary as it stood at the end of a day: the last version saved by then, or the
   * first one when the area was drawn later than that (a listing entered after the fact).
   */
  const boundaryOn = (day: string, alias = 'k') => {
    const k = sql(alias)
    return sql`coalesce(
      (select v.geom from key_area_version v where v.key_area_id = ${k}.id and v.saved_at < ${endOfDay(day)} order by v.version desc limit 1),
      (select v.geom from key_area_version v where v.key_area_id = ${k}.id order by v.version limit 1),
      ${k}.geom)`
  }

  async function keyArea(scope: Jurisdiction, id: number, day: string) {
    const [k] = await sql<{ id: number; nameZh: string; nameEn: string | null; geometry: string; status: string; listedOn: string }[]>`
      select k.id, k.name_zh, k.name_en, st_asgeojson(${boundaryOn(day)}) as geometry, k.status, k.listed_on from key_area k
      where k.id = ${id} and k.deleted_at is null and k.status <> 'draft' and ${inJurisdiction(sql, scope, 'k')}`
    // A draft is not listed: it has no table (and is not shown to those who may not list it).
    if (!k) throw notFound(`there is no key area with id ${id} in your jurisdiction`, `您的辖区内没有编号为 ${id} 的重点地区`)
    if (k.listedOn > day) {
      throw new HttpError(404, `the key area ${id} was listed on ${k.listedOn}, after this period; it has no table for it`, 'not-listed-yet',
        `重点地区 ${id} 于 ${k.listedOn} 挂牌，晚于本期，本期没有它的统计表`)
    }
    return k
  }

  async function attachment4Live(campaign: Campaign, day: string, scope: Jurisdiction, keyAreaId: number): Promise<ReportTable> {
    const ps = periodsUpTo(campaign, day)
    const k = await keyArea(scope, keyAreaId, day)
    const counts = await reportCounts(sql, ps, { kind: 'area', scope, geojson: k.geometry }, { concernIncludesMentalIllness: campaign.concernIncludesMentalIllness })
    const subject = `key_area:${k.id}`
    const periodRow: ReportRow = { id: 'period', lead: ['每周数'], leadEn: ['This period'], values: {} }
    const { period, cumulative, late } = periodAndCumulative(counts.get(null), ps, await submittedBefore('attachment-4', subject, day), periodRow)
    const columns = attachment4Columns
    const rows: ReportRow[] = [
      { ...periodRow, values: pick(period, columns), ...lateOf(late, columns) },
      { id: 'cumulative', lead: ['累计数'], leadEn: ['Cumulative'], values: pick(cumulative, columns) },
    ]
    return {
      report: 'attachment-4', title: '重点地区整治情况统计表', titleEn: 'Key area remediation statistics',
      unit: k.nameZh, unitEn: k.nameEn ?? k.nameZh, subject, period: ps[ps.length - 1]!,
      leading: ['项目'], leadingEn: ['Item'], columns, rows,
      notes: [...reportNotes, ...lateNote(rows[0], columns)], submission: null, differences: [],
    }
  }

  async function attachment3Live(campaign: Campaign, day: string, scope: Jurisdiction, townId: number): Promise<ReportTable> {
    // Outside the jurisdiction a town's table does not exist, as any record there.
    const [town] = await sql<{ id: number; nameZh: string; nameEn: string }[]>`
      select t.id, t.name_zh, t.name_en from admin_area t where t.id = ${townId} and t.level = 'town' and ${townReached(sql, scope)}`
    if (!town) throw notFound(`there is no town or street with id ${townId} in your jurisdiction`, `您的辖区内没有编号为 ${townId} 的镇（街道）`)
    const areas = await sql<{ id: number; nameZh: string; town: string; policeStation: string | null; geometry: string
      actualPopulation: number | null; floatingPopulation: number | null; mentalIllness: number | null; personsOfConcern: number | null }[]>`
      select k.id, k.name_zh, t.name_zh as town, s.name_zh as police_station, st_asgeojson(${boundaryOn(day)}) as geometry,
             k.actual_population, k.floating_population, k.mental_illness_count as mental_illness, k.persons_of_concern_count as persons_of_concern
      from key_area k
      join admin_area t on t.id = k.town_id
      left join police_station s on s.id = k.police_station_id
      where k.town_id = ${townId} and k.deleted_at is null and k.status <> 'draft' and k.listed_on <= ${day}
        and ${inJurisdiction(sql, scope, 'k')}
      order by k.listed_on, k.id`
    // The houses inside each area by the one rule the key area's page uses (countsInside).
    const rows = []
    for (const a of areas) rows.push({ ...a, ...await countsInside(sql, a.geometry, scope, day) })
    const columns = attachment3Columns
    return {
      report: 'attachment-3', title: '重点地区统计表', titleEn: 'Key areas', unit: town.nameZh, unitEn: town.nameEn,
      subject: `town:${town.id}`, period: { from: campaign.startsOn, to: day },
      leading: ['序号'], leadingEn: ['No.'], columns,
      rows: rows.map((r, i) => ({
        id: `key_area:${r.id}`, lead: [String(i + 1)], leadEn: [String(i + 1)],
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
    // Rows are matched by what they are about (a police station, a key area), not by position: a
    // station added since moves no other row. A submitted row with no live one has all moved.
    const differences: ReportTable['differences'] = []
    const live = new Map<string, ReportRow>()
    for (const row of t.rows) for (const k of rowKeys(row)) live.set(k, row)
    s.data.rows.forEach((was, i) => {
      const now = rowKeys(was).map(k => live.get(k)).find(Boolean)
      for (const col of t.columns) {
        const a = was.values[col.key] ?? null
        const b = now?.values[col.key] ?? null
        if (a !== b) differences.push({ row: i, ...(was.id ? { rowId: was.id } : {}), key: col.key, submitted: a, live: b })
      }
    })
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
