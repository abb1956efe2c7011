import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sql } from '../../server/db/index.js'
import { inJurisdiction } from '../../server/db/scope.js'
import { type Jurisdiction, wholeDistrict } from '../../server/domain/access.js'
import type { HazardCategory } from '../../server/domain/lists.js'
import { premisesWhere } from '../../server/plugins/app/premises.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { factory } from '../helpers/factory.js'

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
    const [first] = await t.db.owner<{ fire: string | null; housing: string | null }[]>`
      select first_fire_found_on::text as fire, first_housing_found_on::text as housing from premises where id = ${c!.id}`
    expect(first).toEqual({ fire: null, housing: '2020-02-10' })

    // One hazard moved to another premises, one deleted.
    await t.db.owner`update hazard set premises_id = ${c!.id} where id = ${early.id}`
    await t.db.owner`delete from hazard where id = ${late.id}`
    await expectEqual(['2020-04-02', '2020-04-03', asOf])
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
    }
    finally {
      await t.db.owner`update hazard_item set category_code = 'housing', seq = ${housing[0]!.seq} where code = ${housing[0]!.code}`
    }
    await expectEqual(['2020-02-10', asOf])
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
