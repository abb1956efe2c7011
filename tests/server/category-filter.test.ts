import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sql } from '../../server/db/index.js'
import { inJurisdiction } from '../../server/db/scope.js'
import { type Jurisdiction, wholeDistrict } from '../../server/domain/access.js'
import type { HazardCategory } from '../../server/domain/lists.js'
import { categoriesFoundBy, premisesCountsFromCells, premisesCountsFromRows, premisesWhere } from '../../server/plugins/app/premises.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { factory } from '../helpers/factory.js'
import { statementsDuring } from '../helpers/statements.js'
import { decodeTile, tileOf } from '../helpers/tiles.js'

/**
 * The map's category filter ("premises with a hazard of these categories found by the day") reads
 * the day each category's first hazard was found, kept with the premises' hazard summary (migration
 * 054): it must pick exactly the premises a look at their hazards picks, in every jurisdiction, for
 * any set of categories and any day, and go on doing so after hazards are added, moved, deleted and
 * their items moved to another category.
 */
let t: TestApp
let scopes: Jurisdiction[]
let asOf: string
beforeAll(async () => {
  t = await buildTestApp()
  asOf = (await t.app.campaign.current()).endsOn
  const [town] = await t.db.owner<{ id: number }[]>`select town_id as id from premises group by 1 order by count(*) desc limit 1`
  const [station] = await t.db.owner<{ id: number }[]>`select police_station_id as id from premises where police_station_id is not null group by 1 order by count(*) desc limit 1`
  scopes = [wholeDistrict, { kind: 'town', id: town!.id }, { kind: 'police_station', id: station!.id }]
})
afterAll(() => t?.close())

const sets: HazardCategory[][] = [['fire'], ['public_security'], ['housing', 'other'], ['fire', 'public_security', 'housing', 'other']]

/** The premises' ids the filter picks, in order. */
async function picked(sql: Sql, scope: Jurisdiction, categories: HazardCategory[], on: string): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`select p.id from premises p where ${premisesWhere(sql, { categories }, on, scope)} order by p.id`
  return rows.map(r => Number(r.id))
}

/** The same from the hazards themselves. */
async function recounted(sql: Sql, scope: Jurisdiction, categories: HazardCategory[], on: string): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    select p.id from premises p
    where ${inJurisdiction(sql, scope)} and exists (
      select 1 from hazard h join hazard_item i on i.code = h.item_code
      where h.premises_id = p.id and i.category_code in ${sql(categories)} and h.found_at < end_of_local_day(${on}::date))
    order by p.id`
  return rows.map(r => Number(r.id))
}

async function expectEqual(days: string[]) {
  for (const scope of scopes) {
    for (const categories of sets) {
      for (const on of days) {
        const want = await recounted(t.db.sql, scope, categories, on)
        expect(await picked(t.db.sql, scope, categories, on), JSON.stringify({ scope, categories, on })).toEqual(want)
      }
    }
  }
}

/**
 * The cells of premises with hazards by category (premises_cat_cell, migration 055) against the
 * premises grouped with the categories of their hazards, recounted from the hazards; and the cells
 * two by two and eight by eight against those grouped, with their sums.
 */
async function expectCellsExact() {
  const sql = t.db.owner
  const [diff] = await sql<{ n: number }[]>`
    with fresh as (
      select premises_cell_x(st_x(p.geom_m)) as cx, premises_cell_y(st_y(p.geom_m)) as cy, m.mask, p.town_id, coalesce(p.police_station_id, 0) as ps,
             p.kind, p.hazard_count > 0 as hh, p.open_count > 0 as ho, p.open_major_count > 0 as hm, coalesce(p.open_min_deadline, 'infinity') as d,
             count(*)::int as n, sum(st_x(p.geom_m)) as sx, sum(st_y(p.geom_m)) as sy
      from premises p cross join lateral (
        select bit_or(case i.category_code when 'public_security' then 1 when 'fire' then 2 when 'housing' then 4 else 8 end) as mask
        from hazard h join hazard_item i on i.code = h.item_code where h.premises_id = p.id) m
      where m.mask is not null
      group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    select count(*)::int as n from fresh f full join premises_cat_cell c
      on (c.cx, c.cy, c.categories, c.town_id, c.police_station_id, c.kind, c.has_hazard, c.has_open, c.has_open_major, c.open_min_deadline)
       = (f.cx, f.cy, f.mask, f.town_id, f.ps, f.kind, f.hh, f.ho, f.hm, f.d)
    where c.n is distinct from f.n or abs(c.sum_x - f.sx) > 1e-3 or abs(c.sum_y - f.sy) > 1e-3`
  expect(diff!.n, 'premises_cat_cell').toBe(0)
  for (const [table, bits] of [['premises_cat_cell2', 1], ['premises_cat_cell8', 3]] as const) {
    const [diff] = await sql<{ n: number }[]>`
      with fine as (
        select cx >> ${bits} as cx, cy >> ${bits} as cy, categories, town_id, police_station_id, kind, has_hazard, has_open, has_open_major,
               open_min_deadline, sum(n)::int as n, sum(sum_x) as sx, sum(sum_y) as sy
        from premises_cat_cell group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 having sum(n) > 0)
      select count(*)::int as n from fine f full join ${sql(table)} c
        on (c.cx, c.cy, c.categories, c.town_id, c.police_station_id, c.kind, c.has_hazard, c.has_open, c.has_open_major, c.open_min_deadline)
         = (f.cx, f.cy, f.categories, f.town_id, f.police_station_id, f.kind, f.has_hazard, f.has_open, f.has_open_major, f.open_min_deadline)
      where c.n is distinct from f.n or abs(c.sum_x - f.sx) > 1e-3 or abs(c.sum_y - f.sy) > 1e-3`
    expect(diff!.n, table).toBe(0)
  }
}

/** The days around the local day a hazard was found (the day before it, the day itself). */
async function daysAround(hazardId: number): Promise<string[]> {
  const [d] = await t.db.owner<{ before: string; day: string }[]>`
    select (local_day(found_at) - 1)::text as before, local_day(found_at)::text as day from hazard where id = ${hazardId}`
  return [d!.before, d!.day]
}

describe('the category filter', () => {
  it('picks the premises whose hazards say so, in every jurisdiction, for any categories and day', async () => {
    const all = await recounted(t.db.sql, wholeDistrict, ['fire'], asOf)
    expect(all.length).toBeGreaterThan(10)
    // Some fire hazards are found after the first day asked: the day matters.
    expect((await recounted(t.db.sql, wholeDistrict, ['fire'], '2020-03-01')).length).toBeLessThan(all.length)
    await expectEqual(['2020-03-01', '2020-05-15', asOf])
  })

  it('stays exact when hazards are added, moved, deleted and an item changes category', async () => {
    const f = factory({ sql: t.db.owner })
    const [a, b, c] = await t.db.owner<{ id: number }[]>`
      select id from premises p where not exists (select 1 from hazard h where h.premises_id = p.id) order by id limit 3`
    // Found late in the evening of 3 April, local time (the UTC day before): counts from 3 April on.
    const late = await f.hazard({ premises: a!, item: 'FIRE-06', foundAt: '2020-04-03T23:30:00+08:00' })
    const early = await f.hazard({ premises: b!, item: 'FIRE-06', foundAt: '2020-04-03T00:10:00+08:00' })
    const housing = await t.db.owner<{ code: string; seq: number }[]>`select code, seq from hazard_item where category_code = 'housing' order by code limit 1`
    const moved = await f.hazard({ premises: c!, item: housing[0]!.code, foundAt: '2020-02-10T09:00:00+08:00' })
    expect(await daysAround(late.id)).toEqual(['2020-04-02', '2020-04-03'])
    await expectEqual([...await daysAround(late.id), ...await daysAround(early.id), ...await daysAround(moved.id), asOf])
    await expectCellsExact()
    const [first] = await t.db.owner<{ fire: string | null; housing: string | null }[]>`
      select first_fire_found_on::text as fire, first_housing_found_on::text as housing from premises where id = ${c!.id}`
    expect(first).toEqual({ fire: null, housing: '2020-02-10' })

    // One hazard moved to another premises, one deleted.
    await t.db.owner`update hazard set premises_id = ${c!.id} where id = ${early.id}`
    await t.db.owner`delete from hazard where id = ${late.id}`
    await expectEqual(['2020-04-02', '2020-04-03', asOf])
    await expectCellsExact()
    const gone = await t.db.owner<{ fire: string | null }[]>`select first_fire_found_on::text as fire from premises where id in (${a!.id}, ${b!.id})`
    expect(gone.map(g => g.fire)).toEqual([null, null])

    // The housing item becomes one of 'other' (an administrator's edit of the dictionary): its hazards move with it.
    await t.db.owner`
      update hazard_item set category_code = 'other', seq = (select max(seq) + 1 from hazard_item where category_code = 'other')
      where code = ${housing[0]!.code}`
    try {
      const [now] = await t.db.owner<{ housing: string | null; other: string | null }[]>`
        select first_housing_found_on::text as housing, first_other_found_on::text as other from premises where id = ${c!.id}`
      expect(now).toEqual({ housing: null, other: '2020-02-10' })
      await expectEqual(['2020-02-09', '2020-02-10', asOf])
      await expectCellsExact()
    }
    finally {
      await t.db.owner`update hazard_item set category_code = 'housing', seq = ${housing[0]!.seq} where code = ${housing[0]!.code}`
    }
    await expectEqual(['2020-02-10', asOf])
    await expectCellsExact()
  })

  it('is counted from the cells by category where every category was found by the day, as the premises count', async () => {
    await expectCellsExact()
    const [{ n }] = await t.db.owner<{ n: number }[]>`select count(*)::int as n from premises_cat_cell8` as unknown as [{ n: number }]
    expect(n).toBeGreaterThan(0)
    // By the campaign's last day every category was found; on 1 March some were not yet.
    expect(await categoriesFoundBy(t.db.sql, asOf)).toBe(true)
    expect(await categoriesFoundBy(t.db.sql, '2020-03-01')).toBe(false)
    for (const scope of scopes) {
      for (const categories of sets) {
        const filter = { categories }
        const rows = await premisesCountsFromRows(t.db.sql, scope, filter, asOf)
        expect(rows.total, JSON.stringify({ scope, categories })).toBeGreaterThan(0)
        expect(await premisesCountsFromCells(t.db.sql, scope, filter, asOf), JSON.stringify({ scope, categories })).toEqual(rows)
      }
    }
    // Through the legend's route: from the cells on the last day, from the premises on 1 March.
    const leader = await signIn(t.app, 'leader')
    const counts = (asOfDay: string) => t.app.inject({ url: `/api/premises/counts?category=fire,housing&asOf=${asOfDay}`, headers: { cookie: leader } })
    const late = await statementsDuring(t.db.sql, () => counts(asOf))
    expect(late.some(q => /premises_cat_cell8/.test(q)), late.join('\n')).toBe(true)
    const early = await statementsDuring(t.db.sql, () => counts('2020-03-01'))
    expect(early.some(q => /premises_cat_cell/.test(q)), early.join('\n')).toBe(false)
    expect((await counts('2020-03-01')).json()).toEqual(await premisesCountsFromRows(t.db.sql, wholeDistrict, { categories: ['fire', 'housing'] }, '2020-03-01'))
  })

  it('draws overview tiles from the cells by category, cell for cell as from the premises', async () => {
    const [c] = await t.db.owner<{ lon: number; lat: number }[]>`select st_x(geom) as lon, st_y(geom) as lat from premises where hazard_count > 0 order by id limit 1`
    for (const z of [10, 11, 12, 13, 14]) {
      const [, x, y] = tileOf(c!.lon, c!.lat, z)
      for (const categories of sets) {
        const base = { z, x, y, scope: wholeDistrict, on: asOf }
        const cells = decodeTile(await t.app.tiles.encodeInNode({ ...base, filter: { categories }, categoriesFound: true }, false), z, x, y).premises_agg!
        // A found-date filter that keeps everything sends the tile down the premises' path.
        const direct = decodeTile(await t.app.tiles.encodeInNode({ ...base, filter: { categories, foundFrom: '1900-01-01' } }, false), z, x, y).premises_agg!
        expect(cells.length, `z${z} ${categories.join()}`).toBeGreaterThan(0)
        expect(cells.map(f => f.id).sort()).toEqual(direct.map(f => f.id).sort())
        const byId = new Map(direct.map(f => [f.id, f.properties]))
        for (const f of cells) expect(f.properties, `z${z} ${categories.join()} cell ${f.id}`).toEqual(byId.get(f.id))
      }
    }
    // Through the tiles' route: the cells on the last day, the premises on 1 March.
    const leader = await signIn(t.app, 'leader')
    const [, x, y] = tileOf(c!.lon, c!.lat, 11)
    const tile = (asOfDay: string) => t.app.inject({ url: `/api/tiles/premises/11/${x}/${y}.mvt?category=fire&asOf=${asOfDay}`, headers: { cookie: leader } })
    const late = await statementsDuring(t.db.sql, () => tile(asOf))
    expect(late.some(q => /premises_cat_cell8/.test(q)), late.join('\n')).toBe(true)
    const early = await statementsDuring(t.db.sql, () => tile('2020-03-01'))
    expect(early.some(q => /premises_cat_cell/.test(q)), early.join('\n')).toBe(false)
  })

  it('agrees with what the set-wise rebuild makes of every premises', async () => {
    const read = (sql: Sql) => sql`
      select id, first_public_security_found_on, first_fire_found_on, first_housing_found_on, first_other_found_on from premises order by id`
    const kept = await read(t.db.owner)
    let rebuilt: unknown
    await t.db.owner.begin(async (tx) => {
      await tx`select refresh_all_hazard_summaries()`
      rebuilt = await read(tx as unknown as Sql)
      throw new Error('rolled back')
    }).catch((e: Error) => {
      if (e.message !== 'rolled back') throw e
    })
    expect(kept.filter(r => r.firstFireFoundOn !== null).length).toBeGreaterThan(10)
    expect(kept).toEqual(rebuilt)
  })
})
