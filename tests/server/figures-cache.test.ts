import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setBulkLoad } from '../../server/db/bulk-load.js'
import { wholeDistrict } from '../../server/domain/access.js'
import type { MeasureCounts } from '../../server/plugins/app/measures.js'
import { figuresCache } from '../../server/plugins/app/figures-cache.js'
import { statsRepository } from '../../server/plugins/app/stats.js'
import type { DataVersions } from '../../server/plugins/app/versions.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { factory } from '../helpers/factory.js'

/**
 * The dashboard's figures are computed once per state of the data (server/plugins/app/figures-cache.ts)
 * and never outlive it: every write to what they are computed from, however it is written, is in the
 * next answer.
 */
let t: TestApp
let cookie: string
let asOf: string
beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'leader')
  asOf = (await t.app.campaign.current()).endsOn
})
afterAll(() => t?.close())

const summary = async () => {
  const res = await t.app.inject({ url: `/api/stats/summary?asOf=${asOf}`, headers: { cookie } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as { district: { counts: MeasureCounts } }
}
/** The same figures computed now, without any cache. */
const fresh = async () => statsRepository(t.db.sql).summary(await t.app.campaign.current(), asOf, wholeDistrict)
const groupRental = async () => (await t.db.owner<{ id: number }[]>`select id from premises where kind = 'group_rental' order by id limit 1`)[0]!

describe('the dashboard\'s figures', () => {
  it('are computed once while nothing changes: the same object answers again', async () => {
    const campaign = await t.app.campaign.current()
    const first = await t.app.stats.summary(campaign, asOf, wholeDistrict)
    expect(await t.app.stats.summary(campaign, asOf, wholeDistrict)).toBe(first)
    expect(await t.app.stats.series(campaign, asOf, wholeDistrict)).toBe(await t.app.stats.series(campaign, asOf, wholeDistrict))
    // Another key (another day) is another figure.
    expect(await t.app.stats.summary(campaign, campaign.startsOn, wholeDistrict)).not.toBe(first)
  })

  it('count a resident registered a moment ago', async () => {
    const before = await summary()
    await factory({ sql: t.db.owner }).resident({ premises: await groupRental(), movedInOn: '2020-03-01', registeredOn: '2020-03-02' })
    // Written through another connection: the app learns of it from the database's announcement,
    // which may still be on its way; the test reads the versions instead of waiting for it.
    await t.app.versions.refresh()
    const after = await summary()
    expect(after.district.counts.residentsCounted).toBe(before.district.counts.residentsCounted + 1)
    expect(after.district.counts).toEqual((await fresh()).district.counts)
  })

  it('count what a set-wise writer changed with the row triggers off', async () => {
    const before = await summary()
    // As an import's merge does: the row triggers off, the daily changes kept by the writer itself.
    await t.db.owner.begin(async (tx) => {
      await setBulkLoad(tx, true)
      const changed = await tx`update measure_delta set res_counted = res_counted + 5
        where ctid = (select ctid from measure_delta where day <= ${asOf} and kind = 'group_rental' and res_counted > 0 order by day limit 1)`
      expect(changed.count).toBe(1)
      await setBulkLoad(tx, false)
    })
    await t.app.versions.refresh()
    const after = await summary()
    expect(after.district.counts.residentsCounted).toBe(before.district.counts.residentsCounted + 5)
    expect(after.district.counts).toEqual((await fresh()).district.counts)
  })
})

describe('a figure being computed', () => {
  it('is computed once at a time: a newer version waits for it, then is computed once for the version current then', async () => {
    let version = 1
    const versions = { current: async () => version } as unknown as DataVersions
    const cache = figuresCache(versions)
    let running = 0
    let most = 0
    const done: (() => void)[] = []
    const computedAt: number[] = []
    const compute = () => {
      running++
      most = Math.max(most, running)
      computedAt.push(version)
      return new Promise<number>((resolve) => {
        const at = version
        done.push(() => {
          running--
          resolve(at)
        })
      })
    }
    const settle = () => new Promise(resolve => setTimeout(resolve, 5))
    const first = cache.get('counts', compute)
    await settle()
    version = 2
    const second = cache.get('counts', compute)
    version = 3
    const third = cache.get('counts', compute)
    const other = cache.get('other', compute)
    await settle()
    // The key's computation at version 1 goes on alone; another key is computed beside it.
    expect(computedAt).toEqual([1, 3])
    done.shift()!()
    expect(await first).toBe(1)
    await settle()
    // The two waiting at versions 2 and 3 are answered by one computation at the version now current.
    expect(computedAt).toEqual([1, 3, 3])
    done.forEach(d => d())
    expect([await second, await third, await other]).toEqual([3, 3, 3])
    expect(most).toBe(2)
  })
})
