import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Jurisdiction, wholeDistrict } from '../../server/domain/access.js'
import type { Campaign } from '../../server/plugins/app/campaign.js'
import { premisesCountsFromRows } from '../../server/plugins/app/premises.js'
import { statsRepository } from '../../server/plugins/app/stats.js'
import { dataVersions } from '../../server/plugins/app/versions.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { eventually } from '../helpers/eventually.js'
import { factory } from '../helpers/factory.js'
import { callsDuring } from '../helpers/statements.js'

/**
 * The district's figures are kept town by town, each town's part under the last figures version that
 * changed that town (figures_change, server/plugins/app/versions.ts): a write in one town counts that
 * town again and takes the other towns' parts as kept, and the figures still equal a count from
 * scratch.
 */
let t: TestApp
let campaign: Campaign
let asOf: string
let towns: number[]
let a: { id: number; townId: number }
let b: { id: number; townId: number }
beforeAll(async () => {
  t = await buildTestApp()
  campaign = await t.app.campaign.current()
  asOf = campaign.endsOn
  towns = (await t.db.owner<{ id: number }[]>`select id from admin_area where level = 'town' order by id`).map(r => r.id)
  // A premises in each of the two towns with the most premises.
  const two = await t.db.owner<{ id: number; townId: number }[]>`
    select min(id)::int as id, town_id from premises group by town_id order by count(*) desc limit 2`
  expect(two).toHaveLength(2)
  ;[a, b] = [two[0]!, two[1]!]
})
afterAll(() => t?.close())

const figuresVersion = async () => Number((await t.db.owner<{ version: string }[]>`select version from figures_version`)[0]!.version)

/** Waits for the app to know of a write made through another connection. */
async function written(write: () => Promise<unknown>) {
  const v = await figuresVersion()
  await write()
  await eventually(async () => await t.app.versions.current('figures') > v)
}

/** The summary and the legend's counts (two filters) of a jurisdiction, as the app answers them. */
const figures = (scope: Jurisdiction) => Promise.all([
  t.app.stats.summary(campaign, asOf, scope),
  t.app.premises.counts(scope, {}, asOf),
  t.app.premises.counts(scope, { kinds: ['group_rental'] }, asOf),
])

/** The towns whose parts were counted while `fn` ran: the town ids among the parameters of each statement reading what the parts count. */
async function townsCounted(fn: () => Promise<unknown>): Promise<number[][]> {
  const calls = await callsDuring(t.db.sql, fn)
  return calls.filter(c => /from (measure_delta|hazard_delta|premises_cell8) /.test(c.query))
    .map(c => [...new Set(c.parameters.map(Number).filter(p => towns.includes(p)))])
}

async function expectExact(scope: Jurisdiction) {
  const [summary, counts, groupRentals] = await figures(scope)
  expect(summary).toEqual(await statsRepository(t.db.sql).summary(campaign, asOf, scope))
  expect(counts).toEqual(await premisesCountsFromRows(t.db.sql, scope, {}, asOf))
  expect(groupRentals).toEqual(await premisesCountsFromRows(t.db.sql, scope, { kinds: ['group_rental'] }, asOf))
}

describe('a write in one town', () => {
  it('counts that town\'s part of the district\'s figures again, takes the others\' as kept, and the figures equal a count from scratch', async () => {
    await figures(wholeDistrict)
    const f = factory({ sql: t.db.owner })
    await written(() => f.hazard({ premises: a, severity: 'major', deadline: '2020-04-02' }))
    const calls = await callsDuring(t.db.sql, () => figures(wholeDistrict))
    // Nothing but that town's parts: the places, the town list, the campaign are kept through it.
    expect(calls.filter(c => !/from (measure_delta|hazard_delta|premises_cell8) /.test(c.query)).map(c => c.query)).toEqual([])
    await written(() => f.hazard({ premises: a, severity: 'general', deadline: '2020-04-03' }))
    const counted = await townsCounted(() => figures(wholeDistrict))
    // The summary's two tables on the day (and the previous report day), each of the two counts once.
    expect(counted.length).toBeGreaterThanOrEqual(4)
    expect(counted.every(c => c.length === 1 && c[0] === a.townId), JSON.stringify(counted)).toBe(true)
    await expectExact(wholeDistrict)
    // Asked again: all kept.
    expect(await townsCounted(() => figures(wholeDistrict))).toEqual([])
  })

  it('leaves another town\'s figures kept, and a write in both towns at once counts both', async () => {
    const other: Jurisdiction = { kind: 'town', id: b.townId }
    await figures(other)
    await written(() => t.db.owner`update premises set kind = case when kind = 'rental' then 'homestay' else 'rental' end where id = ${a.id}`)
    // Kept whole: not a statement.
    expect(await callsDuring(t.db.sql, () => figures(other))).toEqual([])
    await expectExact(other)
    await written(() => t.db.owner`update premises set kind = case when kind = 'rental' then 'homestay' else 'rental' end where id in ${t.db.owner([a.id, b.id])}`)
    const counted = await townsCounted(() => figures(wholeDistrict))
    expect(new Set(counted.flat())).toEqual(new Set([a.townId, b.townId]))
    await expectExact(wholeDistrict)
  })

  it('moved into another town changes both towns\' figures', async () => {
    await figures(wholeDistrict)
    const [there] = await t.db.owner<{ id: number }[]>`select id from premises where town_id = ${b.townId} order by id desc limit 1`
    await written(() => t.db.owner`update premises set geom = (select geom from premises where id = ${there!.id}) where id = ${a.id}`)
    const [moved] = await t.db.owner<{ townId: number }[]>`select town_id from premises where id = ${a.id}`
    expect(moved!.townId).toBe(b.townId)
    const counted = await townsCounted(() => figures(wholeDistrict))
    expect(new Set(counted.flat())).toEqual(new Set([a.townId, b.townId]))
    await expectExact(wholeDistrict)
    await expectExact({ kind: 'town', id: a.townId })
  })
})

describe('a change of everything', () => {
  it('(the counter bumped by hand, as an import\'s merge does) counts every town again', async () => {
    await figures(wholeDistrict)
    await written(() => t.db.owner`update figures_version set version = version + 1`)
    const counted = await townsCounted(() => figures(wholeDistrict))
    expect(new Set(counted.flat()).size).toBeGreaterThanOrEqual(2)
    expect(new Set(counted.flat())).toEqual(new Set((await t.db.owner<{ id: number }[]>`select distinct town_id as id from premises`).map(r => r.id)))
  })
})

describe('announcements missed', () => {
  it('are caught up from the changes kept, town by town', async () => {
    const versions = dataVersions(t.app.db)
    try {
      await versions.townsVersion([a.townId])
      const bAt = await versions.townsVersion([b.townId])
      // Not listening any more: every question reads the counters, and the changes since the last known.
      versions.close()
      const f = factory({ sql: t.db.owner })
      const [inA] = await t.db.owner<{ id: number }[]>`select id from premises where town_id = ${a.townId} order by id limit 1`
      await f.hazard({ premises: inA!, severity: 'general', deadline: '2020-05-02' })
      await f.hazard({ premises: inA!, severity: 'general', deadline: '2020-05-03' })
      expect(await versions.townsVersion([a.townId])).toBe(await figuresVersion())
      expect(await versions.townsVersion([b.townId])).toBe(bAt)
      expect(await versions.townsVersion([a.townId, b.townId])).toBe(await figuresVersion())
      await t.db.owner`update hazard_item set name_en = name_en`
      expect(await versions.townsVersion([b.townId])).toBe(await figuresVersion())
    }
    finally {
      versions.close()
    }
  })
})
