import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Jurisdiction } from '../../server/domain/access.js'
import { boundaryCells, countsInside, countsInsideFromRows } from '../../server/plugins/app/key-areas-boundary.js'
import { blockTotals, busiestScopes, cellTotals, keyAreaShapes, premisesBox, square } from '../helpers/key-area-cells.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * The key-area counts read the blocks and cells wholly inside a boundary from their running totals
 * (premises_block_day, premises_cell_day, migrations 036, 037, 041) and count rows only along the
 * boundary: they must equal the count over every row, for any shape, day and jurisdiction, and stay
 * equal after writes.
 */
let t: TestApp
let box: { x0: number; y0: number; x1: number; y1: number }
let days: string[]
let scopes: Jurisdiction[]

/** The shapes compared: whole cells inside each, and boundaries of every kind. */
function shapes() {
  const s = keyAreaShapes(box, 60)
  return [s.large, s.hole, s.two, s.star, s.whole]
}

async function compare(label: string, on: string[]) {
  let compared = 0
  for (const s of shapes()) {
    const geojson = JSON.stringify(s.geometry)
    for (const day of on) {
      for (const scope of scopes) {
        const exact = await countsInsideFromRows(t.db.sql, geojson, scope, day)
        const cells = await countsInside(t.db.sql, geojson, scope, day)
        expect(cells, `${label}: ${s.name} on ${day} in ${scope.kind} ${scope.id ?? ''}`).toEqual(exact)
        compared++
      }
    }
  }
  return compared
}

beforeAll(async () => {
  t = await buildTestApp()
  box = await premisesBox(t.db.sql)
  const [c] = await t.db.sql<{ startsOn: string; endsOn: string }[]>`select starts_on::text, ends_on::text from campaign order by starts_on desc limit 1`
  const [mid] = await t.db.sql<{ d: string }[]>`select (starts_on + (ends_on - starts_on) / 2)::text as d from campaign order by starts_on desc limit 1`
  days = [c!.startsOn, mid!.d, c!.endsOn]
  scopes = await busiestScopes(t.db.sql)
})
afterAll(() => t.close())

describe('the key-area counts from the cells', () => {
  it('equal the counts over every row for every shape, day and jurisdiction, and are not all zeros', async () => {
    expect(await compare('as seeded', days)).toBe(shapes().length * days.length * scopes.length)
    const whole = await countsInsideFromRows(t.db.sql, JSON.stringify(shapes()[4]!.geometry), { kind: 'district', id: null }, days[2]!)
    expect(whole.houses).toBeGreaterThan(100)
    expect(whole.groupRentalsWithHazards).toBeGreaterThan(0)
    expect(whole.residentsRegistered).toBeGreaterThan(0)
    expect(whole.openHazards.total).toBeGreaterThan(0)
    // The large shapes are read in part from whole blocks, in part from whole cells of the blocks they cross.
    for (const s of [shapes()[0]!, shapes()[4]!]) {
      const [n] = await t.db.sql<{ blocks: number; cells: number }[]>`
        with ${boundaryCells(t.db.sql, JSON.stringify(s.geometry))}
        select (select count(*)::int from block where whole) as blocks, (select count(*)::int from classified where whole and not in_whole_block) as cells`
      expect(n!.blocks, s.name).toBeGreaterThan(0)
      expect(n!.cells, s.name).toBeGreaterThan(0)
    }
  })

  it('count a boundary lying exactly on cell borders like the rows do', async () => {
    const [r] = await t.db.sql<{ x0: number; y0: number; x1: number; y1: number }[]>`
      with c as (select premises_cell_x(st_x(geom_m)) as cx, premises_cell_y(st_y(geom_m)) as cy from premises group by 1, 2 order by count(*) desc limit 1),
      m as (select st_transform(st_makeenvelope(
               (cx - 3) * (40075016.68557849 / 524288) - 20037508.342789244, 20037508.342789244 - (cy + 4) * (40075016.68557849 / 524288),
               (cx + 4) * (40075016.68557849 / 524288) - 20037508.342789244, 20037508.342789244 - (cy - 3) * (40075016.68557849 / 524288), 3857), 4326) as g from c)
      select st_xmin(g) as x0, st_ymin(g) as y0, st_xmax(g) as x1, st_ymax(g) as y1 from m`
    const geojson = JSON.stringify({ type: 'Polygon', coordinates: [square(r!.x0, r!.y0, r!.x1, r!.y1)] })
    const exact = await countsInsideFromRows(t.db.sql, geojson, { kind: 'district', id: null }, days[2]!)
    expect(exact.houses).toBeGreaterThan(0)
    expect(await countsInside(t.db.sql, geojson, { kind: 'district', id: null }, days[2]!)).toEqual(exact)
  })

  it('stay equal to the rows, and to the cells built from scratch, after premises, residents and hazards change', async () => {
    const sql = t.db.sql
    const [p] = await sql<{ id: number }[]>`
      select p.id from premises p where is_group_rental_candidate(p.kind, p.meets_rule) and exists (select 1 from resident r where r.premises_id = p.id)
        and exists (select 1 from hazard h where h.premises_id = p.id) order by p.id limit 1`
    const [q] = await sql<{ id: number }[]>`select id from premises where id <> ${p!.id} and registered_on is not null and deregistered_on is null order by id desc limit 1`
    const mid = days[1]!
    await sql.begin(async (tx) => {
      // Moved across the district, found later, a resident leaving and a hazard rectified mid-campaign.
      await tx`update premises set geom = st_setsrid(st_makepoint(${box.x0 + (box.x1 - box.x0) * 0.8}, ${box.y0 + (box.y1 - box.y0) * 0.8}), 4326),
                 found_on = least(found_on + 3, coalesce(registered_on, found_on + 3), ${mid}::date) where id = ${p!.id}`
      await tx`update resident set moved_out_on = greatest(moved_in_on, ${mid}::date) where id = (select min(id) from resident where premises_id = ${p!.id})`
      await tx`update hazard set rectified_at = greatest(coalesce(referred_at, found_at), ${mid}::date + interval '10 hours'), status = 'rectified'
                 where premises_id = ${p!.id} and rectified_at is null`
      await tx`update hazard set rectified_at = null, verified_at = null, status = case when referred_at is null then 'found' else 'referred' end
                 where id = (select max(id) from hazard where premises_id = ${p!.id})`
      await tx`update premises set deregistered_on = greatest(registered_on, ${mid}::date), kind = 'group_rental' where id = ${q!.id}`
      await tx`delete from resident where id = (select max(id) from resident where premises_id = ${p!.id})`
    })
    // The days around the writes: the middle of the campaign (the day they are dated) and its end.
    expect(await compare('after the writes', days.slice(1))).toBe(shapes().length * 2 * scopes.length)
    // Each premises' row of changes carries its point as it is now (the edge of a boundary tests it), the moved one's too.
    const points = async () => sql<{ id: number; same: boolean }[]>`
      select p.id, s.geom is not null and st_equals(s.geom, p.geom) and st_srid(s.geom) = 4326 as same
      from premises p left join premises_cell_day_source s on s.premises_id = p.id order by p.id`
    const moved = await points()
    expect(moved.find(r => r.id === p!.id)).toEqual({ id: p!.id, same: true })
    expect(moved.filter(r => !r.same)).toEqual([])
    const totals = () => cellTotals(sql)
    const blocks = () => blockTotals(sql)
    const kept = await totals()
    const keptBlocks = await blocks()
    await sql`select refresh_all_premises_cell_days()`
    const rebuilt = await totals()
    expect(kept.length).toBeGreaterThan(0)
    expect([...kept]).toEqual([...rebuilt])
    // The blocks' totals kept by the writes are those built again from the cells'.
    expect(keptBlocks.length).toBeGreaterThan(0)
    expect([...keptBlocks]).toEqual([...await blocks()])
  })

  it('give the preview the counts over every row for a town commander', async () => {
    const commander = await signIn(t.app, 'commander')
    const [town] = await t.db.sql<{ townId: number }[]>`select jurisdiction_town_id as town_id from app_user where username = 'commander'`
    const geometry = shapes()[1]!.geometry
    const res = await t.app.inject({ method: 'POST', url: '/api/key-areas/preview', headers: { cookie: commander }, payload: { geometry } })
    expect(res.statusCode, res.body).toBe(200)
    const on = t.app.campaign.referenceDate(await t.app.campaign.current())
    const exact = await countsInsideFromRows(t.db.sql, JSON.stringify(geometry), { kind: 'town', id: town!.townId }, on)
    expect(res.json().counts).toEqual(exact)
  })

  it('give the preview, planned once on connections of its own (db.planned), the counts over every row run after run, for every shape', async () => {
    const commander = await signIn(t.app, 'commander')
    const [town] = await t.db.sql<{ townId: number }[]>`select jurisdiction_town_id as town_id from app_user where username = 'commander'`
    const on = t.app.campaign.referenceDate(await t.app.campaign.current())
    // More runs than PostgreSQL's five custom plans before it weighs a generic one, on each connection.
    for (let round = 0; round < 3; round++) {
      for (const s of shapes()) {
        const res = await t.app.inject({ method: 'POST', url: '/api/key-areas/preview', headers: { cookie: commander }, payload: { geometry: s.geometry } })
        expect(res.statusCode, res.body).toBe(200)
        const exact = await countsInsideFromRows(t.db.sql, JSON.stringify(s.geometry), { kind: 'town', id: town!.townId }, on)
        expect(res.json().counts, `${s.name}, round ${round}`).toEqual(exact)
      }
    }
  })

  it('keep each premises\' total of changes, which the edge reads, equal to its changes summed, as seeded and after the writes above', async () => {
    const [r] = await t.db.sql<{ rows: number; wrong: number }[]>`
      select count(*)::int as rows, count(*) filter (where total is distinct from cell_day_total(deltas))::int as wrong
      from premises_cell_day_source`
    expect(r!.rows).toBeGreaterThan(100)
    expect(r!.wrong).toBe(0)
  })
})
