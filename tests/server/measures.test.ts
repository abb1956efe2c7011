import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Jurisdiction } from '../../server/domain/access.js'
import { type MeasureCounts, measureCountsFromDeltas, measureCountsFromRows } from '../../server/plugins/app/measures.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

let t: TestApp
let inspector: string
let leader: string
const days = ['2019-12-15', '2020-01-14', '2020-03-29', '2020-06-29', '2020-09-14', '2020-12-31']

beforeAll(async () => {
  t = await buildTestApp()
  inspector = await signIn(t.app, 'inspector')
  leader = await signIn(t.app, 'leader')
})
afterAll(() => t.close())

const asObject = (m: Map<number, MeasureCounts>) => Object.fromEntries([...m.entries()].sort(([a], [b]) => (a ?? 0) - (b ?? 0)))

/** An independent recount in JavaScript from the raw rows, for the whole district and for each town. */
async function recount(day: string) {
  const sql = t.db.sql
  const premises = await sql<{ id: number; townId: number; kind: string; meetsRule: boolean; foundOn: string; registeredOn: string | null; deregisteredOn: string | null }[]>`
    select id, town_id, kind, meets_rule, found_on, registered_on, deregistered_on from premises`
  const residents = await sql<{ premisesId: number; movedInOn: string; movedOutOn: string | null; registeredOn: string | null }[]>`
    select premises_id, moved_in_on, moved_out_on, registered_on from resident`
  const hazards = await sql<{ premisesId: number; severity: string; foundAt: Date; rectifiedAt: Date | null }[]>`
    select premises_id, severity, found_at, rectified_at from hazard`
  const end = new Date(Date.parse(`${day}T00:00:00+08:00`) + 86_400_000)
  const townOf = new Map(premises.map(p => [p.id, p.townId]))
  const found = new Map(premises.filter(p => (p.kind === 'group_rental' || (p.kind === 'rental' && p.meetsRule))
    && p.foundOn <= day && !(p.deregisteredOn && p.deregisteredOn <= day)).map(p => [p.id, p]))
  const counts = new Map<number, MeasureCounts>()
  const c = (town: number) => {
    if (!counts.has(town)) counts.set(town, { groupRentalsFound: 0, groupRentalsRegistered: 0, residentsCounted: 0, residentsRegistered: 0, hazardsFound: 0, hazardsRectified: 0, majorHazardsFound: 0, majorHazardsRectified: 0 })
    return counts.get(town)!
  }
  for (const p of found.values()) {
    c(p.townId).groupRentalsFound++
    if (p.kind === 'group_rental' && p.registeredOn && p.registeredOn <= day) c(p.townId).groupRentalsRegistered++
  }
  for (const r of residents) {
    const p = found.get(r.premisesId)
    if (!p || r.movedInOn > day || (r.movedOutOn && r.movedOutOn <= day)) continue
    c(p.townId).residentsCounted++
    if (r.registeredOn && r.registeredOn <= day) c(p.townId).residentsRegistered++
  }
  for (const h of hazards) {
    if (h.foundAt >= end) continue
    const x = c(townOf.get(h.premisesId)!)
    const done = !!h.rectifiedAt && h.rectifiedAt < end
    x.hazardsFound++
    if (done) x.hazardsRectified++
    if (h.severity === 'major') {
      x.majorHazardsFound++
      if (done) x.majorHazardsRectified++
    }
  }
  for (const [k, v] of counts) if (Object.values(v).every(n => n === 0)) counts.delete(k)
  return counts
}

describe('the dashboard\'s figures', () => {
  const get = (url: string) => t.app.inject({ url, headers: { cookie: leader } }).then(r => r.json())

  it('give each measure\'s figures on the previous report day, for the change since then', async () => {
    const s = await get('/api/stats/summary?asOf=2020-07-01')
    expect(s.previousReportDate).toBe('2020-06-29')
    const then = await get('/api/stats/summary?asOf=2020-06-29')
    for (const [i, m] of s.district.measures.entries()) {
      expect(m.previous).toEqual({ numerator: then.district.measures[i].numerator, denominator: then.district.measures[i].denominator, rate: then.district.measures[i].rate })
    }
    expect((await get('/api/stats/summary?asOf=2019-12-20')).previousReportDate).toBeNull()
  })

  it('trace the measures over every report day, each point equal to the summary of that day', async () => {
    const series = await get('/api/stats/series?asOf=2020-03-20')
    expect(series.points.map((p: { date: string }) => p.date)).toEqual(
      ['2019-12-29', '2020-01-14', '2020-01-29', '2020-02-14', '2020-02-29', '2020-03-14', '2020-03-20'])
    for (const p of series.points) {
      expect(p.counts).toEqual((await get(`/api/stats/summary?asOf=${p.date}`)).district.counts)
    }
    // The same with a filter the change tables do not hold (computed from the rows).
    const slow = await get('/api/stats/series?asOf=2020-03-20&foundFrom=1900-01-01')
    expect(slow.points.map((p: { counts: unknown }) => p.counts)).toEqual(series.points.map((p: { counts: unknown }) => p.counts))
  })

  it('split hazards by category and count overdue ones by town and department, matching a recount', async () => {
    const day = '2020-08-14'
    const h = await get(`/api/stats/hazards?asOf=${day}`)
    expect(h.byCategory.map((c: { category: string }) => c.category)).toEqual(['public_security', 'fire', 'housing', 'other'])
    const s = await get(`/api/stats/summary?asOf=${day}`)
    expect(h.byCategory.reduce((a: number, c: { found: number }) => a + c.found, 0)).toBe(s.district.counts.hazardsFound)
    expect(h.byCategory.reduce((a: number, c: { rectified: number }) => a + c.rectified, 0)).toBe(s.district.counts.hazardsRectified)
    const [n] = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from hazard where deadline < ${day} and found_at < '2020-08-15 00:00+08'
        and (rectified_at is null or rectified_at >= '2020-08-15 00:00+08')`
    expect(h.overdue.reduce((a: number, o: { overdue: number }) => a + o.overdue, 0)).toBe(n!.n)
    const slow = await get(`/api/stats/hazards?asOf=${day}&foundFrom=1900-01-01`)
    expect(slow.byCategory).toEqual(h.byCategory)
    const key = (o: { townId: number; departmentCode: string; overdue: number }) => `${o.townId}/${o.departmentCode}/${o.overdue}`
    expect(slow.overdue.map(key).sort()).toEqual(h.overdue.map(key).sort())
  })
})

describe('the measures', () => {
  it('equal an independent recount from raw rows for the district and for two towns, on every day checked', async () => {
    const [a, b] = await t.db.sql<{ id: number }[]>`select id from admin_area where level = 'town' order by code limit 2`
    for (const day of days) {
      const expected = await recount(day)
      const summary = (await t.app.inject({ url: `/api/stats/summary?asOf=${day}`, headers: { cookie: leader } })).json()
      const district = [...expected.values()].reduce((x, y) => Object.fromEntries(Object.keys(x).map(k => [k, x[k as keyof MeasureCounts] + y[k as keyof MeasureCounts]])) as unknown as MeasureCounts)
      expect(summary.district.counts, day).toEqual(district)
      for (const town of [a!.id, b!.id]) {
        expect(summary.towns.find((x: { id: number }) => x.id === town).counts, `${day} town ${town}`).toEqual(expected.get(town) ?? {
          groupRentalsFound: 0, groupRentalsRegistered: 0, residentsCounted: 0, residentsRegistered: 0, hazardsFound: 0, hazardsRectified: 0, majorHazardsFound: 0, majorHazardsRectified: 0,
        })
      }
    }
  })

  it('come out the same from the daily-change tables as from the raw rows, by town and by police station, in a jurisdiction of each kind', async () => {
    const [town] = await t.db.sql<{ id: number }[]>`select id from admin_area where level = 'town' order by code limit 1`
    const [station] = await t.db.sql<{ id: number }[]>`select id from police_station order by code limit 1`
    const scopes: Jurisdiction[] = [{ kind: 'district', id: null }, { kind: 'town', id: town!.id }, { kind: 'police_station', id: station!.id }]
    for (const day of days) {
      for (const scope of scopes) {
        for (const groupBy of ['town_id', 'police_station_id'] as const) {
          for (const filter of [{}, { kinds: ['group_rental' as const] }, { towns: [town!.id] }]) {
            const rows = await measureCountsFromRows(t.db.sql, day, groupBy, scope, filter)
            const deltas = await measureCountsFromDeltas(t.db.sql, day, groupBy, scope, filter)
            expect(asObject(deltas), `${day} ${scope.kind} ${groupBy} ${JSON.stringify(filter)}`).toEqual(asObject(rows))
          }
        }
      }
    }
  })

  it('stay exact through the workflow\'s writes (the change tables follow every row)', async () => {
    const sql = t.db.sql
    const [town] = await sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'inspector'`
    const [spot] = await sql<{ lon: number; lat: number }[]>`select st_x(p) as lon, st_y(p) as lat from (select st_pointonsurface(geom) as p from admin_area where id = ${town!.id}) s`
    const post = (url: string, payload: unknown) => t.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers: { cookie: inspector } })
    const created = (await post('/api/premises', { kind: 'rental', address: 'x', location: { ...spot!, crs: 'wgs84' }, occupants: 12, foundOn: '2020-04-01' })).json()
    const h = (await post(`/api/premises/${created.id}/hazards`, { itemCode: 'FIRE-05', severity: 'major', foundAt: '2020-04-02T10:00:00+08:00', deadline: '2020-04-10' })).json()
    await post(`/api/hazards/${h.id}/refer`, { at: '2020-04-03T10:00:00+08:00' })
    await post(`/api/hazards/${h.id}/rectify`, { at: '2020-05-20T10:00:00+08:00' })
    await t.app.inject({ method: 'PATCH', url: `/api/premises/${created.id}`, payload: { kind: 'group_rental', registeredOn: '2020-05-01' }, headers: { cookie: inspector } })
    // A resident moves in and out, and the premises is deregistered: direct writes, as an import would do.
    const [r] = await sql<{ id: number }[]>`
      insert into resident (premises_id, name, id_type, id_number_cipher, id_number_hmac, id_number_masked, moved_in_on, registered_on)
      values (${created.id}, '测试', 'passport', '\\x00', '\\x00', 'E12****5678', '2020-04-05', '2020-04-20') returning id`
    await sql`update resident set moved_out_on = '2020-08-01', deregistered_on = '2020-08-01' where id = ${r!.id}`
    await sql`update premises set deregistered_on = '2020-10-01' where id = ${created.id}`
    const [other] = await sql<{ id: number }[]>`select id from premises where id <> ${created.id} and hazard_count > 0 order by id limit 1`
    expect((await sql`delete from premises where id = ${other!.id}`).count).toBe(1)
    for (const day of ['2020-04-15', '2020-06-29', '2020-09-14', '2020-12-31']) {
      for (const groupBy of ['town_id', 'police_station_id'] as const) {
        expect(asObject(await measureCountsFromDeltas(sql, day, groupBy)), `${day} ${groupBy}`).toEqual(asObject(await measureCountsFromRows(sql, day, groupBy)))
      }
      const [overdue] = await sql<{ d: number; r: number }[]>`
        select (select coalesce(sum(overdue), 0)::int from hazard_delta where day <= ${day}) as d,
               (select count(*)::int from hazard where deadline < ${day} and (found_at at time zone 'Asia/Shanghai')::date <= ${day}
                  and (rectified_at is null or (rectified_at at time zone 'Asia/Shanghai')::date > ${day})) as r`
      expect(overdue!.d, `overdue ${day}`).toBe(overdue!.r)
    }
  })
})
