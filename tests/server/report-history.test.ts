import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { periods } from '../../server/domain/periods.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * History does not rewrite the past: a key area's boundary, a premises' kind and a police station
 * as they were in each period; late entries into submitted periods; changed-cell marks matched by
 * what a row is about.
 */
let t: TestApp
let leader: string
let bureau: string
let inspector: string
let campaign: { startsOn: string; endsOn: string }

beforeAll(async () => {
  t = await buildTestApp()
  leader = await signIn(t.app, 'leader')
  bureau = await signIn(t.app, 'bureau')
  inspector = await signIn(t.app, 'inspector')
  campaign = (await t.app.inject({ url: '/api/campaign', headers: { cookie: leader } })).json()
})
afterAll(() => t.close())

interface Row { id: string; lead: string[]; values: Record<string, number>; late?: Record<string, number> }
interface Table { rows: Row[]; notes: string[]; submission: unknown; differences: { row: number; key: string }[] }

async function get(url: string, cookie = leader): Promise<{ status: number; table: Table; reason?: string }> {
  const res = await t.app.inject({ url, headers: { cookie } })
  return { status: res.statusCode, table: res.json(), reason: res.json().reason }
}
const att5 = async (day: string, cookie = bureau) => {
  const r = await get(`/api/reports/attachment-5?period=${day}`, cookie)
  expect(r.status).toBe(200)
  return r.table
}
const row = (table: Table, id: string) => table.rows.find(r => r.id === id)!

describe('a key area\'s boundary', () => {
  it('is the version in force at the end of each period, and there is no table before the area was listed', async () => {
    const sql = t.db.sql
    // The key area listed first with the most hazards inside, its first boundary saved on listing.
    const [k] = await sql<{ id: number }[]>`
      select k.id from key_area k where k.deleted_at is null and k.status <> 'draft' and k.listed_on <= '2020-01-14'
      order by (select count(*) from hazard h join premises p on p.id = h.premises_id where st_intersects(k.geom, p.geom)) desc limit 1`
    await t.db.owner`update key_area_version set saved_at = '2019-12-20T10:00:00+08:00' where key_area_id = ${k!.id}`
    const url = (day: string) => `/api/reports/attachment-4/${k!.id}?period=${day}`
    const [march, april] = [(await get(url('2020-03-14'))).table, (await get(url('2020-04-14'))).table]
    expect(row(april, 'cumulative').values.keyAreaHazardsFound).toBeGreaterThan(0)
    // Redrawn on 1 April as a speck in a corner with nothing inside.
    await t.db.owner`
      with speck as (select st_multi(st_buffer(st_pointn(st_exteriorring(st_geometryn(geom, 1)), 1), 0.00001)) as g from key_area where id = ${k!.id})
      insert into key_area_version (key_area_id, version, geom, attributes, saved_at)
      select ${k!.id}, 2, g, '{}'::jsonb, '2020-04-01T09:00:00+08:00' from speck`
    await t.db.owner`update key_area set geom = (select geom from key_area_version where key_area_id = ${k!.id} and version = 2), version = 2 where id = ${k!.id}`
    expect((await get(url('2020-03-14'))).table.rows).toEqual(march.rows)
    expect(row((await get(url('2020-04-14'))).table, 'cumulative').values.keyAreaHazardsFound).toBe(0)

    const [later] = await sql<{ id: number; listedOn: string }[]>`
      select id, listed_on from key_area where deleted_at is null and status <> 'draft' and listed_on > '2020-01-14' order by listed_on limit 1`
    const before = await get(url('2020-01-14').replace(String(k!.id), String(later!.id)))
    expect(before.status).toBe(404)
    expect(before.reason).toBe('not-listed-yet')
    const all = (await t.app.inject({ url: '/api/reports/attachment-4?period=2020-01-14', headers: { cookie: leader } })).json() as { tables: { subject: string }[] }
    expect(all.tables.map(x => x.subject)).not.toContain(`key_area:${later!.id}`)
  })
})

describe('a premises\' kind', () => {
  it('counts a rental turned group rental as registered on the day it became one, never back on its old registration day', async () => {
    const sql = t.db.sql
    const [u] = await sql<{ town: number }[]>`select jurisdiction_town_id as town from app_user where username = 'inspector'`
    const rentals = await sql<{ id: number; station: number }[]>`
      select id, police_station_id as station from premises where kind = 'rental' and town_id = ${u!.town} and police_station_id is not null
        and registered_on between '2020-01-01' and '2020-02-29' and deregistered_on is null order by id limit 2`
    expect(rentals).toHaveLength(2)
    const days = periods(campaign.startsOn, campaign.endsOn).map(p => p.to)
    const totals = async () => {
      const out: number[] = []
      for (const day of days.filter(d => d <= '2020-07-29')) out.push(row(await att5(day, leader), 'total:period').values.grRegistered!)
      return out
    }
    const before = await totals()
    // Through the API: it becomes a group rental today, after the campaign, so no table of the campaign moves.
    const res = await t.app.inject({ method: 'PATCH', url: `/api/premises/${rentals[0]!.id}`, headers: { cookie: inspector }, payload: { kind: 'group_rental' } })
    expect(res.statusCode, res.body).toBe(200)
    expect(await totals()).toEqual(before)
    const [change] = await sql<{ fromKind: string; toKind: string }[]>`select from_kind, to_kind from premises_kind_change where premises_id = ${rentals[0]!.id}`
    expect(change).toEqual({ fromKind: 'rental', toKind: 'group_rental' })
    // From a ledger that says when: it counts in the period holding that day, and only there.
    await sql`update premises set kind = 'group_rental', group_rental_since = '2020-07-03' where id = ${rentals[1]!.id}`
    const after = await totals()
    const july = days.indexOf('2020-07-14')
    expect(after.map((n, i) => n - before[i]!)).toEqual(after.map((_, i) => (i === july ? 1 : 0)))
  })
})

describe('police stations', () => {
  it('appear in the periods they were in being, unless something was counted under them', async () => {
    await t.db.owner`
      insert into police_station (code, name_zh, name_en, valid_from, valid_to, geom) values
        ('990', '六月新设派出所', 'Opened in June', '2020-06-01', null, st_multi(st_buffer(st_setsrid(st_makepoint(119.5, 31.5), 4326), 0.001))),
        ('991', '早已撤销派出所', 'Closed before', '2000-01-01', '2019-12-01', st_multi(st_buffer(st_setsrid(st_makepoint(119.6, 31.5), 4326), 0.001)))`
    const units = (table: Table) => table.rows.map(r => r.lead[0])
    expect(units(await att5('2020-01-14', leader))).not.toContain('六月新设派出所')
    expect(units(await att5('2020-06-14', leader))).toContain('六月新设派出所')
    expect(units(await att5('2020-06-14', leader))).not.toContain('早已撤销派出所')
  })
})

describe('late entries into submitted periods', () => {
  it('never change a submitted table; a later table\'s 累计数 is the sum of the submitted 每周数 and its own, with 含补录 noted', async () => {
    const sql = t.db.sql
    const days = periods(campaign.startsOn, campaign.endsOn).map(p => p.to).filter(d => d <= '2020-05-29')
    for (const day of days) {
      const res = await t.app.inject({ method: 'POST', url: '/api/reports/submissions', headers: { cookie: bureau }, payload: { report: 'attachment-5', period: day, filledBy: '张三' } })
      expect(res.statusCode, res.body).toBe(201)
    }
    const submitted = new Map<string, Table>()
    for (const day of days) submitted.set(day, await att5(day))
    // Entered now, dated into submitted periods: a hazard at a group rental and an arrest.
    const [p] = await sql<{ id: number; station: number }[]>`
      select id, police_station_id as station from premises where kind = 'group_rental' and police_station_id is not null
        and group_rental_since <= '2020-05-01' order by id limit 1`
    await sql`insert into hazard (premises_id, item_code, severity, status, department_code, found_at, deadline)
      values (${p!.id}, 'FIRE-06', 'general', 'found', 'fire', '2020-05-10T10:00:00+08:00', '2020-06-30')`
    await sql`insert into enforcement_event (kind, occurred_on, count, premises_id, geom, town_id, police_station_id)
      select 'arrest', '2020-05-20', 2, id, geom, town_id, police_station_id from premises where id = ${p!.id}`
    for (const day of days) expect((await att5(day)).rows, day).toEqual(submitted.get(day)!.rows)

    const open = await att5('2020-06-14')
    const own = row(open, 'total:period')
    expect(own.late).toEqual({ foundTotal: 1, foundFire: 1, arrests: 2, dealtTotal: 2 })
    expect(row(open, `station:${p!.station}:period`).late).toEqual({ foundTotal: 1, foundFire: 1, arrests: 2, dealtTotal: 2 })
    expect(open.notes.some(n => n.includes('含补录') && n.includes('逮捕（人） 2'))).toBe(true)
    for (const id of open.rows.filter(r => r.id.endsWith(':cumulative')).map(r => r.id)) {
      const periodId = id.replace(':cumulative', ':period')
      for (const [key, value] of Object.entries(row(open, id).values)) {
        const sum = days.reduce((a, day) => a + Number(submitted.get(day)!.rows.find(r => r.id === periodId)?.values[key] ?? 0), 0)
        expect(value, `${id} ${key}`).toBe(sum + Number(row(open, periodId).values[key]))
      }
    }
    // The submitted table shows what moved since, by row.
    const may = await att5('2020-05-14')
    expect(may.differences.length).toBeGreaterThan(0)
  })

  it('mark no cell as moved when a police station is added and no figure changed (rows matched by station)', async () => {
    const day = '2020-06-29'
    const res = await t.app.inject({ method: 'POST', url: '/api/reports/submissions', headers: { cookie: bureau }, payload: { report: 'attachment-5', period: day, filledBy: '李四' } })
    expect(res.statusCode, res.body).toBe(201)
    expect((await att5(day)).differences).toEqual([])
    // Sorted first by its code, it would push every other row down one place.
    await t.db.owner`
      insert into police_station (code, name_zh, name_en, geom)
      values ('000', '新增派出所', 'Added', st_multi(st_buffer(st_setsrid(st_makepoint(119.55, 31.45), 4326), 0.001)))`
    const live = (await t.app.inject({ url: `/api/reports/attachment-5?period=2020-07-14`, headers: { cookie: bureau } })).json() as Table
    expect(live.rows[0]!.lead[0]).toBe('新增派出所')
    expect((await att5(day)).differences).toEqual([])
  })
})
