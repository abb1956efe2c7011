import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon'
import { point as turfPoint } from '@turf/helpers'
import ExcelJS from 'exceljs'
import type { MultiPolygon } from 'geojson'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { periods } from '../../server/domain/periods.js'
import { attachment4Columns, attachment5Columns, headerCells } from '../../server/domain/report-columns.js'
import type { Jurisdiction } from '../../server/domain/access.js'
import { localDay } from '../../server/domain/calendar.js'
import { reportCounts } from '../../server/plugins/app/reports-counts.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

let t: TestApp
let leader: string
let bureau: string
let commander: string
let campaign: { startsOn: string; endsOn: string }

beforeAll(async () => {
  t = await buildTestApp()
  leader = await signIn(t.app, 'leader')
  bureau = await signIn(t.app, 'bureau')
  commander = await signIn(t.app, 'commander')
  campaign = (await t.app.inject({ url: '/api/campaign', headers: { cookie: leader } })).json()
})
afterAll(() => t.close())

interface Table {
  subject: string
  period: { from: string; to: string }
  leading: string[]
  columns: { key: string; path: string[] }[]
  rows: { lead: string[]; values: Record<string, number | string | null> }[]
  submission: null | { filledBy: string }
  differences: { row: number; key: string; submitted: unknown; live: unknown }[]
}

const get = async (url: string, cookie = leader) => {
  const res = await t.app.inject({ url, headers: { cookie } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as Table
}

// ---------------------------------------------------------------------------------------------
// An independent recount: the raw rows fetched plainly and counted here in TypeScript, with the
// rules of the tables written out again (the group-rental rule, local days, flags at period end).
// ---------------------------------------------------------------------------------------------
interface Raw {
  premises: { id: number; kind: string; rooms: number; beds: number; occupants: number; station: number | null; lon: number; lat: number
    registeredOn: string | null; deregisteredOn: string | null; statementSignedOn: string | null; secondLandlordCollectedOn: string | null
    groupRentalSince: string | null }[]
  residents: { id: number; premisesId: number; floating: boolean; registeredOn: string | null; deregisteredOn: string | null }[]
  flags: { residentId: number; category: string; flaggedOn: string; clearedOn: string | null }[]
  hazards: { premisesId: number; category: string; foundAt: Date; rectifiedAt: Date | null }[]
  events: { kind: string; occurredOn: string; count: number; station: number | null; lon: number; lat: number }[]
  keyAreas: { id: number; station: number | null; status: string; listedOn: string | null; clearedOn: string | null; deleted: boolean; geometry: string }[]
  stations: { id: number; nameZh: string }[]
}

async function raw(): Promise<Raw> {
  const sql = t.db.sql
  return {
    premises: [...await sql<Raw['premises']>`
      select id, kind, rooms_let as rooms, beds_let as beds, occupants, police_station_id as station, st_x(geom) as lon, st_y(geom) as lat,
             registered_on, deregistered_on, statement_signed_on, second_landlord_collected_on, group_rental_since from premises`],
    residents: [...await sql<Raw['residents']>`select id, premises_id, floating, registered_on, deregistered_on from resident`],
    flags: [...await sql<Raw['flags']>`select resident_id, category, flagged_on, cleared_on from resident_flag`],
    hazards: [...await sql<Raw['hazards']>`
      select h.premises_id, i.category_code as category, h.found_at, h.rectified_at from hazard h join hazard_item i on i.code = h.item_code`],
    events: [...await sql<Raw['events']>`
      select kind, occurred_on, count, police_station_id as station, st_x(geom) as lon, st_y(geom) as lat from enforcement_event where voided_at is null`],
    keyAreas: [...await sql<Raw['keyAreas']>`
      select id, police_station_id as station, status, listed_on, cleared_on, deleted_at is not null as deleted, st_asgeojson(geom) as geometry from key_area`],
    stations: [...await sql<Raw['stations']>`select id, name_zh from police_station`],
  }
}

const within = (day: string | null, from: string, to: string) => day !== null && day >= from && day <= to
const cap = (c: string) => ({ public_security: 'PublicSecurity', fire: 'Fire', housing: 'Housing', other: 'Other' })[c]!
const enforcementColumn: Record<string, string> = {
  landlord_penalised: 'landlordsPenalised', floating_person_penalised: 'floatingPenalised', criminal_case_solved: 'criminalCases',
  public_security_case_solved: 'publicSecurityCases', fugitive_caught: 'fugitives',
  arrest: 'arrests', criminal_coercive_measure: 'coercive', administrative_penalty: 'administrative',
}

/**
 * Every column for the days [from, to], for the premises (and events) that pass `keep`; the
 * "of them" classes use the flags in force on the report day `flagDay`; a group rental's
 * registration counts from the day it became one; the 群租房管理情况 hazard columns count hazards
 * of group rentals, the key area's own columns every hazard.
 */
function recount(r: Raw, from: string, to: string, keepPremises: (p: Raw['premises'][number]) => boolean,
  keepEvent: (e: Raw['events'][number]) => boolean, keyAreas: Raw['keyAreas'], flagDay: string) {
  const c: Record<string, number> = Object.fromEntries([...attachment5Columns, ...attachment4Columns].map(col => [col.key, 0]))
  const byId = new Map(r.premises.map(p => [p.id, p]))
  const candidate = (p: Raw['premises'][number]) => p.kind === 'group_rental' || (p.kind === 'rental' && (p.rooms >= 10 || p.beds >= 10 || p.occupants >= 10))
  for (const p of r.premises) {
    if (!keepPremises(p)) continue
    const since = p.groupRentalSince && p.registeredOn && p.groupRentalSince > p.registeredOn ? p.groupRentalSince : p.registeredOn
    if (p.kind === 'group_rental' && within(since, from, to)) c.grRegistered!++
    if (p.kind === 'group_rental' && p.registeredOn && within(p.deregisteredOn, from, to)) c.grDeregistered!++
    if (candidate(p) && within(p.statementSignedOn, from, to)) c.statementsSigned!++
    if (candidate(p) && within(p.secondLandlordCollectedOn, from, to)) c.secondLandlords!++
  }
  for (const res of r.residents) {
    const p = byId.get(res.premisesId)!
    if (!keepPremises(p)) continue
    if (candidate(p) && within(res.registeredOn, from, to)) c.grResidentsRegistered!++
    if (candidate(p) && within(res.deregisteredOn, from, to)) c.grResidentsDeregistered!++
    if (res.floating && within(res.deregisteredOn, from, to)) c.floatingDeregistered!++
    if (res.floating && within(res.registeredOn, from, to)) {
      c.floatingRegistered!++
      const end = flagDay
      const has = (cat: string) => r.flags.some(f => f.residentId === res.id && f.category === cat && f.flaggedOn <= end && (!f.clearedOn || f.clearedOn > end))
      if (has('mental_illness')) c.floatingMentalIllness!++
      else if (has('person_of_concern')) c.floatingConcern!++
      else c.floatingOthers!++
    }
  }
  for (const h of r.hazards) {
    const p = byId.get(h.premisesId)!
    if (!keepPremises(p)) continue
    const inGroupRental = candidate(p) && (!p.groupRentalSince || localDay(h.foundAt) >= p.groupRentalSince)
    if (within(localDay(h.foundAt), from, to)) {
      c.keyAreaHazardsFound!++
      if (inGroupRental) {
        c.foundTotal!++
        c[`found${cap(h.category)}`]!++
      }
    }
    if (h.rectifiedAt && within(localDay(h.rectifiedAt), from, to)) {
      c.keyAreaHazardsRectified!++
      if (inGroupRental) {
        c.rectifiedTotal!++
        c[`rectified${cap(h.category)}`]!++
      }
    }
  }
  for (const e of r.events) if (keepEvent(e) && within(e.occurredOn, from, to)) c[enforcementColumn[e.kind]!]! += e.count
  c.dealtTotal = c.arrests! + c.coercive! + c.administrative!
  for (const k of keyAreas) {
    if (k.deleted || k.status === 'draft') continue
    if (within(k.listedOn, from, to)) c.keyAreasListed!++
    if (within(k.clearedOn, from, to)) c.keyAreasCleared!++
  }
  return c
}

describe('attachment 5 (district, per police station)', () => {
  it.each(['2020-01-14', '2020-06-29'])('reconciles every column of every row with a recount from raw rows (%s)', async (day) => {
    const table = await get(`/api/reports/attachment-5?period=${day}`)
    const r = await raw()
    const all = periods(campaign.startsOn, campaign.endsOn)
    const period = all.find(p => p.to === day)!
    expect(table.period).toEqual(period)
    expect(table.columns.map(c => c.key)).toEqual(attachment5Columns.map(c => c.key))
    const names = new Map(r.stations.map(s => [s.nameZh, s.id]))
    let checked = 0
    for (const row of table.rows) {
      const [unit, kind] = row.lead as [string, string]
      const from = kind === '每周数' ? period.from : campaign.startsOn
      const station = unit === '合计' ? 'all' : unit === '未划入派出所辖区' ? null : names.get(unit)
      expect(station, unit).not.toBeUndefined()
      const mine = (s: number | null) => station === 'all' || s === station
      const expected = recount(r, from, day, p => mine(p.station), e => mine(e.station), r.keyAreas.filter(k => mine(k.station)), day)
      for (const col of attachment5Columns) {
        expect(row.values[col.key], `${unit} ${kind} ${col.key}`).toBe(expected[col.key])
        checked++
      }
    }
    expect(checked).toBeGreaterThan(attachment5Columns.length * 4)
    // The demo has activity in these periods: a recount of zeros everywhere would prove nothing.
    const total = table.rows.find(x => x.lead[0] === '合计' && x.lead[1] === '累计数')!
    expect(total.values.grRegistered).toBeGreaterThan(0)
    expect(total.values.foundTotal).toBeGreaterThan(0)
    expect(total.values.floatingRegistered).toBeGreaterThan(0)
    expect(total.values.floatingMentalIllness).toBeGreaterThan(0)
    expect(total.values.floatingConcern).toBeGreaterThan(0)
    expect(total.values.floatingOthers).toBeGreaterThan(0)
    expect(total.values.keyAreasListed).toBeGreaterThan(0)
  })

  it('has enforcement results to reconcile by 2020-06-29 (the few of the small demo may all come after the first weeks)', async () => {
    const table = await get('/api/reports/attachment-5?period=2020-06-29')
    const total = table.rows.find(x => x.lead[0] === '合计' && x.lead[1] === '累计数')!
    expect(Number(total.values.landlordsPenalised) + Number(total.values.arrests)).toBeGreaterThan(0)
  })

  it('has a cumulative row equal to the sum of the period rows of every period so far', async () => {
    const day = '2020-04-29'
    const ends = periods(campaign.startsOn, campaign.endsOn).filter(p => p.to <= day).map(p => p.to)
    const sum: Record<string, number> = {}
    for (const end of ends) {
      const table = await get(`/api/reports/attachment-5?period=${end}`)
      const row = table.rows.find(x => x.lead[0] === '合计' && x.lead[1] === '每周数')!
      for (const [k, v] of Object.entries(row.values)) sum[k] = (sum[k] ?? 0) + Number(v)
    }
    const last = await get(`/api/reports/attachment-5?period=${day}`)
    const cumulative = last.rows.find(x => x.lead[0] === '合计' && x.lead[1] === '累计数')!
    expect(cumulative.values).toEqual(sum)
  })

  it('counts under 群租房管理情况 the hazards of group rentals only, fewer than the dashboard\'s hazards of every premises', async () => {
    const day = '2020-06-29'
    const table = await get(`/api/reports/attachment-5?period=${day}`)
    const summary = (await t.app.inject({ url: `/api/stats/summary?asOf=${day}`, headers: { cookie: leader } })).json()
    const cumulative = table.rows.find(x => x.lead[0] === '合计' && x.lead[1] === '累计数')!
    const [c] = await t.db.sql<{ gr: number; all: number }[]>`
      select count(*) filter (where (p.kind = 'group_rental' and (h.found_at at time zone 'Asia/Shanghai')::date >= coalesce(p.group_rental_since, '-infinity'))
                                 or (p.kind = 'rental' and p.meets_rule))::int as gr,
             count(*)::int as all
      from hazard h join premises p on p.id = h.premises_id
      where h.found_at >= ${`${campaign.startsOn}T00:00:00+08:00`} and h.found_at < ${`${day}T00:00:00+08:00`}::timestamptz + interval '1 day'`
    expect(cumulative.values.foundTotal).toBe(c!.gr)
    expect(c!.gr).toBeGreaterThan(0)
    expect(c!.gr).toBeLessThan(c!.all)
    const [before] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from hazard where found_at < ${`${campaign.startsOn}T00:00:00+08:00`}`
    expect(c!.all).toBe(summary.district.counts.hazardsFound - before!.n)
  })

  it('refuses a day that is not a report day, naming the nearest ones', async () => {
    const res = await t.app.inject({ url: '/api/reports/attachment-5?period=2020-03-15', headers: { cookie: leader } })
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(/not a report day.*2020-03-14 and 2020-03-29/)
  })

  it('shows a town user only the stations with figures in the town, and the totals of the town', async () => {
    const table = await get('/api/reports/attachment-5?period=2020-06-29', commander)
    const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
    expect(table.subject).toBe(`town:${town!.id}`)
    const r = await raw()
    const [{ n }] = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from premises where town_id = ${town!.id} and kind = 'group_rental' and registered_on between ${campaign.startsOn} and '2020-06-29'` as unknown as [{ n: number }]
    const total = table.rows.length > 2 ? table.rows.find(x => x.lead[0] === '合计' && x.lead[1] === '累计数')! : table.rows[1]!
    expect(total.values.grRegistered).toBe(n)
    expect(r.premises.length).toBeGreaterThan(0)
    // The stations listed: each with a figure, each one that serves the town (its premises, enforcement or key areas).
    const listed = [...new Set(table.rows.map(x => x.lead[0]).filter(u => u !== '合计' && u !== '未划入派出所辖区'))]
    const serving = (await t.db.sql<{ nameZh: string }[]>`
      select s.name_zh from police_station s where s.id in (
        select police_station_id from premises where town_id = ${town!.id} union select police_station_id from enforcement_event where town_id = ${town!.id}
        union select police_station_id from key_area where town_id = ${town!.id})`).map(x => x.nameZh)
    const [{ all }] = await t.db.sql<{ all: number }[]>`select count(*)::int as all from police_station` as unknown as [{ all: number }]
    expect(listed.length).toBeGreaterThan(0)
    expect(listed.length).toBeLessThan(all)
    for (const unit of listed) {
      expect(serving, unit).toContain(unit)
      const cumulative = table.rows.find(x => x.lead[0] === unit && x.lead[1] === '累计数')!
      expect(Object.values(cumulative.values).some(v => Number(v) > 0), `${unit} has a figure`).toBe(true)
    }
  })
})

describe('the premises, resident and hazard columns per police station', () => {
  it('come out the same from the daily-change tables as from the raw rows, in a jurisdiction of each kind, through later writes', async () => {
    const sql = t.db.sql
    const all = periods(campaign.startsOn, campaign.endsOn)
    const [town] = await sql<{ id: number }[]>`select id from admin_area where level = 'town' and valid_to is null order by code limit 1`
    const [station] = await sql<{ id: number }[]>`select id from police_station order by code limit 1`
    const scopes: Jurisdiction[] = [{ kind: 'district', id: null }, { kind: 'town', id: town!.id }, { kind: 'police_station', id: station!.id }]
    const residentKeys = ['grRegistered', 'grDeregistered', 'statementsSigned', 'secondLandlords',
      'grResidentsRegistered', 'grResidentsDeregistered', 'floatingRegistered', 'floatingDeregistered', 'floatingMentalIllness', 'floatingConcern', 'floatingOthers',
      'foundTotal', 'foundPublicSecurity', 'foundFire', 'foundHousing', 'foundOther',
      'rectifiedTotal', 'rectifiedPublicSecurity', 'rectifiedFire', 'rectifiedHousing', 'rectifiedOther'] as const
    const pick = (m: Map<number | null, Record<string, number>[]>) => Object.fromEntries([...m.entries()].map(([k, rows]) =>
      [String(k), rows.map(r => Object.fromEntries(residentKeys.map(c => [c, r[c]])))]))
    const same = async (when: string) => {
      for (const scope of scopes) {
        const fromDeltas = await reportCounts(sql, all, { kind: 'stations', scope })
        const fromRows = await reportCounts(sql, all, { kind: 'stations', scope }, { fromRows: true })
        expect(pick(fromDeltas as never), `${when} ${scope.kind}`).toEqual(pick(fromRows as never))
      }
    }
    await same('as seeded')
    const total = (m: Map<number | null, Record<string, number>[]>) => [...m.values()].flat().reduce((a, r) => a + r.floatingRegistered!, 0)
    const before = total(await reportCounts(sql, all, { kind: 'stations', scope: scopes[0]! }) as never)
    // Writes the triggers must follow: a floating person registered in a rental, a premises turning
    // into a group rental (its residents move columns), a resident deregistered, one deleted, a
    // group rental's statement and second landlord recorded, another one deregistered.
    const [rental] = await sql<{ id: number }[]>`select id from premises where kind = 'rental' and not meets_rule and exists (select 1 from resident r where r.premises_id = premises.id) order by id limit 1`
    await sql`
      insert into resident (premises_id, name, id_type, id_number_cipher, id_number_hmac, id_number_masked, floating, moved_in_on, registered_on)
      values (${rental!.id}, '测试', 'passport', '\\x00', '\\x00', 'E12****5678', true, '2020-03-01', '2020-03-02')`
    await sql`update premises set kind = 'group_rental' where id = ${rental!.id}`
    const [r] = await sql<{ id: number }[]>`select id from resident where registered_on <= '2020-06-01' and moved_in_on <= '2020-06-01' and deregistered_on is null order by id limit 1`
    await sql`update resident set deregistered_on = '2020-06-20', moved_out_on = '2020-06-20' where id = ${r!.id}`
    const [gone] = await sql<{ id: number }[]>`
      select id from resident where floating and registered_on between ${campaign.startsOn} and ${campaign.endsOn} and id <> ${r!.id} order by id desc limit 1`
    await sql`delete from resident where id = ${gone!.id}`
    const [gr] = await sql<{ id: number }[]>`select id from premises where kind = 'group_rental' and statement_signed_on is null and found_on <= '2020-03-01' order by id limit 1`
    await sql`update premises set statement_signed_on = '2020-03-10', second_landlord_name = '测试', second_landlord_collected_on = '2020-04-02' where id = ${gr!.id}`
    const [reg] = await sql<{ id: number }[]>`select id from premises where kind = 'group_rental' and registered_on <= '2020-05-01' and deregistered_on is null order by id desc limit 1`
    await sql`update premises set deregistered_on = '2020-05-20' where id = ${reg!.id}`
    // Hazards: one found in a group rental, one rectified, one deleted, and a group rental dated
    // later as one (its hazards found before that day leave the table).
    await sql`
      insert into hazard (premises_id, item_code, severity, status, department_code, found_at, deadline)
      values (${gr!.id}, 'FIRE-06', 'general', 'found', 'fire', '2020-04-03T10:00:00+08', '2020-05-03')`
    const [open] = await sql<{ id: number }[]>`
      select h.id from hazard h join premises p on p.id = h.premises_id
      where p.kind = 'group_rental' and h.rectified_at is null and h.found_at < '2020-08-01' order by h.id limit 1`
    await sql`update hazard set status = 'rectified', rectified_at = '2020-08-11T09:00:00+08' where id = ${open!.id}`
    const [doomed] = await sql<{ id: number }[]>`
      select h.id from hazard h join premises p on p.id = h.premises_id where p.kind = 'group_rental' order by h.id desc limit 1`
    await sql`delete from hazard where id = ${doomed!.id}`
    const [later] = await sql<{ id: number; foundOn: string }[]>`
      select p.id, p.found_on from premises p where p.kind = 'group_rental'
        and exists (select 1 from hazard h where h.premises_id = p.id and h.found_at < '2020-06-01') order by p.id limit 1`
    await sql`update premises set group_rental_since = '2020-06-01' where id = ${later!.id}`
    // Flags: a floating person flagged, a flagged person registered on another day, the premises
    // of another one moved to another police station.
    const [unflagged] = await sql<{ id: number }[]>`
      select r.id from resident r where r.floating and r.registered_on between '2020-02-01' and '2020-05-01'
        and not exists (select 1 from resident_flag f where f.resident_id = r.id) order by r.id limit 1`
    await sql`insert into resident_flag (resident_id, category, flagged_on) values (${unflagged!.id}, 'person_of_concern', '2020-05-02')`
    const flagged = await sql<{ id: number; premisesId: number; station: number }[]>`
      select r.id, r.premises_id, p.police_station_id as station from resident r join premises p on p.id = r.premises_id
      where r.floating and r.registered_on between '2020-02-01' and '2020-05-01' and r.id <> ${unflagged!.id}
        and exists (select 1 from resident_flag f where f.resident_id = r.id and f.cleared_on is null) order by r.id limit 2`
    expect(flagged).toHaveLength(2)
    await sql`update resident set registered_on = registered_on + 30 where id = ${flagged[0]!.id}`
    await sql`update premises set police_station_id = (select id from police_station where id <> ${flagged[1]!.station} order by code limit 1) where id = ${flagged[1]!.premisesId}`
    await same('after the writes')
    // One floating registration added, one taken away.
    expect(total(await reportCounts(sql, all, { kind: 'stations', scope: scopes[0]! }) as never)).toBe(before)
  })
})

describe('attachment 4 (one key area)', () => {
  it.each(['2020-03-14', '2020-07-14'])('reconciles every column with a recount of what lies inside the boundary (%s)', async (day) => {
    const r = await raw()
    // The key area with the most premises inside, so that the recount has something to count.
    const inside = (k: Raw['keyAreas'][number]) => {
      const geom = JSON.parse(k.geometry) as MultiPolygon
      return (lon: number, lat: number) => booleanPointInPolygon(turfPoint([lon, lat]), geom)
    }
    const ranked = r.keyAreas.filter(k => !k.deleted && k.status !== 'draft')
      .map(k => ({ k, n: r.premises.filter(p => inside(k)(p.lon, p.lat)).length })).sort((a, b) => b.n - a.n)
    const k = ranked[0]!.k
    const isIn = inside(k)
    const table = await get(`/api/reports/attachment-4/${k.id}?period=${day}`)
    expect(table.columns.map(c => c.key)).toEqual(attachment4Columns.map(c => c.key))
    const all = periods(campaign.startsOn, campaign.endsOn)
    const period = all.find(p => p.to === day)!
    expect(table.rows.map(x => x.lead[0])).toEqual(['每周数', '累计数'])
    for (const [i, from] of [period.from, campaign.startsOn].entries()) {
      const expected = recount(r, from, day, p => isIn(p.lon, p.lat), e => isIn(e.lon, e.lat), [], day)
      for (const col of attachment4Columns) expect(table.rows[i]!.values[col.key], `${table.rows[i]!.lead[0]} ${col.key}`).toBe(expected[col.key])
    }
    expect(table.rows[1]!.values.foundTotal).toBeGreaterThan(0)
  })

  it('answers 404 for a key area outside the user\'s jurisdiction', async () => {
    const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
    const [other] = await t.db.sql<{ id: number }[]>`select id from key_area where town_id <> ${town!.id} order by id limit 1`
    const res = await t.app.inject({ url: `/api/reports/attachment-4/${other!.id}?period=2020-03-14`, headers: { cookie: commander } })
    expect(res.statusCode).toBe(404)
  })
})

describe('attachment 3 (key areas of a town)', () => {
  it('lists the town\'s listed key areas with the houses and group rentals inside', async () => {
    const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
    const table = await get('/api/reports/attachment-3?on=2020-06-29', commander)
    const keyAreas = await t.db.sql<{ nameZh: string; houses: number }[]>`
      select k.name_zh, (select count(*)::int from premises p where st_intersects(k.geom, p.geom) and p.found_on <= '2020-06-29'
               and (p.deregistered_on is null or p.deregistered_on > '2020-06-29')) as houses
      from key_area k where k.town_id = ${town!.id} and k.deleted_at is null and k.status <> 'draft' and k.listed_on <= '2020-06-29'`
    expect(table.rows.map(x => x.values.name).sort()).toEqual(keyAreas.map(k => k.nameZh).sort())
    for (const k of keyAreas) expect(table.rows.find(x => x.values.name === k.nameZh)!.values.houses).toBe(k.houses)
    const res = await t.app.inject({ url: '/api/reports/attachment-3', headers: { cookie: leader } })
    expect(res.statusCode).toBe(400)
  })
})

describe('the spreadsheet', () => {
  it('looks like the paper form: title, unit, merged multi-row header, notes and signature lines', async () => {
    const res = await t.app.inject({ url: '/api/reports/attachment-5?period=2020-06-29&format=xlsx', headers: { cookie: leader } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toContain('spreadsheetml')
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer)
    expect(wb.worksheets).toHaveLength(1)
    const ws = wb.worksheets[0]!
    expect(ws.getCell('A1').value).toBe('全区群租房安全隐患集中整治情况统计表')
    expect(String(ws.getCell('A2').value)).toMatch(/^填报单位：/)
    const { cells, depth } = headerCells(attachment5Columns, ['派出所', '项目'])
    expect(depth).toBe(4)
    // Every merged header cell of the computed layout is merged in the sheet, with its text.
    const merges = new Set((ws.model as unknown as { merges: string[] }).merges)
    const colName = (n: number) => { let s = ''; for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s; return s }
    for (const h of cells) {
      const tl = `${colName(h.col + 1)}${3 + h.row}`
      expect(ws.getCell(tl).value, tl).toBe(h.text)
      if (h.rowSpan > 1 || h.colSpan > 1) expect(merges, h.text).toContain(`${tl}:${colName(h.col + h.colSpan)}${3 + h.row + h.rowSpan - 1}`)
    }
    // Spot checks of the form: the management block spans all of its 16 columns, 其中 sits under 排查安全隐患.
    expect(merges).toContain('C3:R3')
    expect(ws.getCell('C3').value).toBe('群租房管理情况')
    const texts = ws.getSheetValues().flat().filter(v => typeof v === 'string') as string[]
    for (const s of ['填表人：', '审核人：', '填表日期：', '备注', '每周数', '累计数', '合计']) expect(texts.some(x => x.startsWith(s)), s).toBe(true)
  })

  it('has a sheet per key area in the attachment 4 workbook', async () => {
    const res = await t.app.inject({ url: '/api/reports/attachment-4?period=2020-06-29&format=xlsx', headers: { cookie: leader } })
    expect(res.statusCode).toBe(200)
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer)
    const [{ n }] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from key_area where deleted_at is null and status <> 'draft' and listed_on <= '2020-06-29'` as unknown as [{ n: number }]
    expect(n).toBeGreaterThan(1)
    expect(wb.worksheets).toHaveLength(n)
    for (const ws of wb.worksheets) {
      expect(ws.getCell('A1').value).toBe('重点地区整治情况统计表')
      expect(ws.getCell('A3').value).toBe('项目')
    }
  })
})

describe('submitting', () => {
  it('freezes the table: later edits change the live figures, never the submitted ones', async () => {
    const day = '2020-05-14'
    const before = await get(`/api/reports/attachment-5?period=${day}`, bureau)
    expect(before.submission).toBeNull()
    const res = await t.app.inject({ method: 'POST', url: '/api/reports/submissions', headers: { cookie: bureau },
      payload: { report: 'attachment-5', period: day, filledBy: '张三', reviewedBy: '李四' } })
    expect(res.statusCode, res.body).toBe(201)
    // A hazard from a late ledger, found inside the submitted period.
    const [p] = await t.db.sql<{ id: number; station: number }[]>`
      select id, police_station_id as station from premises where police_station_id is not null and kind = 'group_rental' and group_rental_since <= '2020-05-10' order by id limit 1`
    await t.db.sql`insert into hazard (premises_id, item_code, severity, status, department_code, found_at, deadline)
      values (${p!.id}, 'FIRE-06', 'general', 'found', 'fire', '2020-05-10T10:00:00+08:00', '2020-06-30')`
    // Written through another connection: read the versions rather than race the announcement.
    await t.app.versions.refresh()
    const after = await get(`/api/reports/attachment-5?period=${day}`, bureau)
    expect(after.submission?.filledBy).toBe('张三')
    expect(after.rows).toEqual(before.rows)
    const totalRow = after.rows.findIndex(x => x.lead[0] === '合计' && x.lead[1] === '每周数')
    expect(after.differences).toContainEqual({ row: totalRow, rowId: 'total:period', key: 'foundTotal', submitted: before.rows[totalRow]!.values.foundTotal, live: Number(before.rows[totalRow]!.values.foundTotal) + 1 })
    expect(after.differences).toContainEqual(expect.objectContaining({ row: totalRow, key: 'foundFire' }))
    // The workbook of a submitted table carries the submitted figures and who filled it in.
    const xlsx = await t.app.inject({ url: `/api/reports/attachment-5?period=${day}&format=xlsx`, headers: { cookie: bureau } })
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer)
    const texts = wb.worksheets[0]!.getSheetValues().flat().filter(v => typeof v === 'string') as string[]
    expect(texts).toContain('填表人：张三')
    // Once only; and the database itself refuses to rewrite it, to its owner too (the app's role
    // has no privilege to try, tests/server/roles.test.ts).
    const again = await t.app.inject({ method: 'POST', url: '/api/reports/submissions', headers: { cookie: bureau },
      payload: { report: 'attachment-5', period: day, filledBy: '王五' } })
    expect(again.statusCode).toBe(409)
    await expect(t.db.owner`update report_submission set filled_by = 'x'`).rejects.toThrow(/cannot be changed/)
    const list = (await t.app.inject({ url: '/api/reports/submissions', headers: { cookie: leader } })).json()
    expect(list).toContainEqual(expect.objectContaining({ report: 'attachment-5', periodTo: day, filledBy: '张三', submittedBy: 'bureau' }))
  })

  it('is refused to roles that may not submit', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/reports/submissions', headers: { cookie: leader },
      payload: { report: 'attachment-5', period: '2020-05-29', filledBy: '张三' } })
    expect(res.statusCode).toBe(403)
  })
})
