import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Jurisdiction } from '../../server/domain/access.js'
import { periods as campaignPeriods, type Period } from '../../server/domain/periods.js'
import { reportCounts } from '../../server/plugins/app/reports-counts.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { busiestScopes, keyAreaShapes, premisesBox } from '../helpers/key-area-cells.js'

/**
 * Attachment 4 counts a key area's events from the cells wholly inside it (premises_cell_event,
 * migration 040) and each premises' own events along its boundary: every period's counts must
 * equal the count over every row, for any shape, report day and jurisdiction, and stay equal after
 * writes to premises, residents, hazards and flags.
 */
let t: TestApp
let box: { x0: number; y0: number; x1: number; y1: number }
let reportDays: string[]
let allPeriods: Period[]
let scopes: Jurisdiction[]

/** The shapes compared: whole cells inside each, and boundaries of every kind. */
function shapes() {
  const s = keyAreaShapes(box, 40)
  return [s.hole, s.two, s.star]
}

/** The periods of a table ending on a report day. */
const periodsTo = (day: string) => allPeriods.slice(0, allPeriods.findIndex(p => p.to === day) + 1)

async function compare(label: string, days = reportDays) {
  let compared = 0
  let events = 0
  for (const s of shapes()) {
    const geojson = JSON.stringify(s.geometry)
    for (const day of days) {
      for (const scope of scopes) {
        // The "of them" columns both ways of the campaign's switch.
        const concernIncludesMentalIllness = compared % 2 === 1
        const subject = { kind: 'area', scope, geojson } as const
        const exact = await reportCounts(t.db.sql, periodsTo(day), subject, { fromRows: true, concernIncludesMentalIllness })
        const cells = await reportCounts(t.db.sql, periodsTo(day), subject, { concernIncludesMentalIllness })
        expect(cells, `${label}: ${s.name} on ${day} in ${scope.kind} ${scope.id ?? ''}`).toEqual(exact)
        for (const row of exact.get(null) ?? []) events += Object.values(row).reduce((a, b) => a + Math.abs(b), 0)
        compared++
      }
    }
  }
  return { compared, events }
}

/** Every cell's events by day and kind, as kept and as built from every premises' rows. */
async function keptAndRebuilt() {
  const sql = t.db.sql
  const flat = (table: string) => sql`
    select c.cx, c.cy, c.town_id, c.police_station_id, e.day::text as day, e.event::text as event, e.n
    from ${sql(table)} c cross join unnest(c.days, c.events, c.counts) as e(day, event, n)
    order by 1, 2, 3, 4, 5, 6`
  const kept = await flat('premises_cell_event')
  await sql`select refresh_all_premises_cell_events()`
  const rebuilt = await flat('premises_cell_event')
  return { kept: [...kept], rebuilt: [...rebuilt] }
}

beforeAll(async () => {
  t = await buildTestApp()
  box = await premisesBox(t.db.sql)
  const [c] = await t.db.sql<{ startsOn: string; endsOn: string; reportDays: number[] }[]>`
    select starts_on::text, ends_on::text, report_days from campaign order by starts_on desc limit 1`
  allPeriods = campaignPeriods(c!.startsOn, c!.endsOn, c!.reportDays)
  // The first table, one in the middle and the last: one period, many, all of them.
  reportDays = [allPeriods[0]!.to, allPeriods[Math.floor(allPeriods.length / 2)]!.to, allPeriods[allPeriods.length - 1]!.to]
  scopes = await busiestScopes(t.db.sql)
})
afterAll(() => t.close())

describe('attachment 4 from the key-area cells', () => {
  it('equals the count over every row in every period, for every shape, report day and jurisdiction, and counts events', async () => {
    const { compared, events } = await compare('as seeded')
    expect(compared).toBe(shapes().length * reportDays.length * scopes.length)
    expect(events).toBeGreaterThan(100)
  })

  it('counts a key area stored in the database like the rows do, through attachment 4', async () => {
    const [k] = await t.db.sql<{ geojson: string }[]>`select st_asgeojson(geom) as geojson from key_area where deleted_at is null order by id limit 1`
    const subject = { kind: 'area', scope: { kind: 'district', id: null }, geojson: k!.geojson } as const
    const day = reportDays[2]!
    const exact = await reportCounts(t.db.sql, periodsTo(day), subject, { fromRows: true })
    expect(await reportCounts(t.db.sql, periodsTo(day), subject)).toEqual(exact)
  })

  it('stays equal to the rows, and to the events built from scratch, after premises, residents, hazards and flags change', async () => {
    const sql = t.db.sql
    const [p] = await sql<{ id: number }[]>`
      select p.id from premises p where is_group_rental_candidate(p.kind, p.meets_rule) and exists (select 1 from resident r where r.premises_id = p.id and r.floating)
        and exists (select 1 from hazard h where h.premises_id = p.id) order by p.id limit 1`
    const [q] = await sql<{ id: number }[]>`select id from premises where id <> ${p!.id} and registered_on is not null and deregistered_on is null order by id desc limit 1`
    const mid = allPeriods[Math.floor(allPeriods.length / 2)]!.from
    await sql.begin(async (tx) => {
      // Moved across the district (its flags with it), papers dated mid-campaign, a resident
      // deregistered and one no longer floating, hazards rectified and one reopened, a flag set.
      await tx`update premises set geom = st_setsrid(st_makepoint(${box.x0 + (box.x1 - box.x0) * 0.8}, ${box.y0 + (box.y1 - box.y0) * 0.8}), 4326),
                 statement_signed_on = ${mid}::date, second_landlord_name = coalesce(second_landlord_name, '二房东'),
                 second_landlord_collected_on = ${mid}::date + 2 where id = ${p!.id}`
      const [r] = await tx<{ id: number }[]>`select min(id) as id from resident where premises_id = ${p!.id} and floating`
      await tx`update resident set registered_on = greatest(moved_in_on, ${mid}::date), deregistered_on = greatest(moved_in_on, ${mid}::date) + 5 where id = ${r!.id}`
      await tx`insert into resident_flag (resident_id, category, flagged_on) values (${r!.id}, 'person_of_concern', ${mid}::date)`
      await tx`update resident set floating = not floating where id = (select max(id) from resident where premises_id = ${p!.id})`
      await tx`update hazard set rectified_at = greatest(coalesce(referred_at, found_at), ${mid}::date + interval '10 hours'), status = 'rectified'
                 where premises_id = ${p!.id} and rectified_at is null`
      await tx`update hazard set rectified_at = null, verified_at = null, status = case when referred_at is null then 'found' else 'referred' end
                 where id = (select max(id) from hazard where premises_id = ${p!.id})`
      await tx`update premises set deregistered_on = greatest(registered_on, ${mid}::date), kind = 'group_rental' where id = ${q!.id}`
    })
    const [flag] = await sql<{ same: boolean }[]>`
      select f.geom = p.geom as same from resident_flag f join resident r on r.id = f.resident_id join premises p on p.id = r.premises_id
      where p.id = ${p!.id} limit 1`
    expect(flag!.same).toBe(true)
    // The last report day's table holds every period, those before the writes and after.
    const { compared } = await compare('after the writes', reportDays.slice(2))
    expect(compared).toBe(shapes().length * scopes.length)
    const { kept, rebuilt } = await keptAndRebuilt()
    expect(kept.length).toBeGreaterThan(0)
    expect(kept).toEqual(rebuilt)
  })

  it('stays equal after premises are deleted with their residents and hazards', async () => {
    const sql = t.db.sql
    await sql`delete from premises where id in (select id from premises where exists (select 1 from hazard h where h.premises_id = premises.id) order by id limit 3)`
    const { kept, rebuilt } = await keptAndRebuilt()
    expect(kept).toEqual(rebuilt)
    const { compared } = await compare('after the deletes', reportDays.slice(2))
    expect(compared).toBe(shapes().length * scopes.length)
  })
})
