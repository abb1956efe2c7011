import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { eventually } from '../helpers/eventually.js'

/**
 * The special categories (可能肇事肇祸精神病人, 关注对象) set and cleared on residents, and how the
 * tables count them: by the flags in force on the report day, in one of the two readings of the
 * notice's note 3 (the campaign's switch).
 */
let t: TestApp
let inspector: string
let admin: string
let resident = { id: 0, station: 0, registeredOn: '' }

beforeAll(async () => {
  t = await buildTestApp()
  inspector = await signIn(t.app, 'inspector')
  admin = await signIn(t.app, 'admin')
  const [u] = await t.db.sql<{ town: number }[]>`select jurisdiction_town_id as town from app_user where username = 'inspector'`
  // A floating resident of the inspector's town registered in January 2020, never flagged.
  const [r] = await t.db.sql<{ id: number; station: number; registeredOn: string }[]>`
    select r.id, p.police_station_id as station, r.registered_on from resident r join premises p on p.id = r.premises_id
    where p.town_id = ${u!.town} and p.police_station_id is not null and r.floating and r.registered_on between '2020-01-01' and '2020-01-14'
      and not exists (select 1 from resident_flag f where f.resident_id = r.id)
    order by r.id limit 1`
  resident = r!
})
afterAll(() => t.close())

const post = (url: string, payload: Record<string, unknown>, cookie = inspector) => t.app.inject({ method: 'POST', url, headers: { cookie }, payload })

/** The district's cumulative row (total) of attachment 5 on a report day. */
async function cumulative(day: string) {
  const res = await t.app.inject({ url: `/api/reports/attachment-5?period=${day}`, headers: { cookie: inspector } })
  expect(res.statusCode, res.body).toBe(200)
  return (res.json().rows as { id: string; values: Record<string, number> }[]).find(r => r.id === `station:${resident.station}:cumulative`)!.values
}

describe('flags on residents', () => {
  it('are set and cleared with a date and a reason, once at a time, and audited without saying which or why', async () => {
    const url = `/api/residents/${resident.id}/flags`
    const set = await post(url, { category: 'person_of_concern', flaggedOn: '2020-02-01', reason: '行为异常' })
    expect(set.statusCode, set.body).toBe(201)
    expect(set.json()).toEqual([expect.objectContaining({ category: 'person_of_concern', flaggedOn: '2020-02-01', clearedOn: null, setBy: 'inspector' })])
    expect((await post(url, { category: 'person_of_concern', flaggedOn: '2020-02-02', reason: '再次' })).json().reason).toBe('flag-set')
    const clear = await post(`${url}/clear`, { category: 'person_of_concern', clearedOn: '2020-03-01', reason: '情况好转' })
    expect(clear.statusCode, clear.body).toBe(200)
    expect(clear.json()[0]).toMatchObject({ clearedOn: '2020-03-01', clearedReason: '情况好转' })
    // Set again only from the day it was cleared: the history has no overlaps.
    expect((await post(url, { category: 'person_of_concern', flaggedOn: '2020-02-15', reason: '再次' })).json().reason).toBe('flag-overlap')
    expect((await post(`${url}/clear`, { category: 'person_of_concern', clearedOn: '2020-04-01', reason: '没有标记' })).json().reason).toBe('flag-not-set')
    const trail = (await t.app.inject({ url: `/api/audit/?entity=resident&entityId=${resident.id}`, headers: { cookie: admin } })).json()
    const rows = (trail.items ?? trail) as { action: string; after: Record<string, unknown> }[]
    const flagRows = rows.filter(r => r.action === 'resident.flag' || r.action === 'resident.unflag')
    expect(flagRows.map(r => r.action).sort()).toEqual(['resident.flag', 'resident.unflag'])
    for (const r of flagRows) {
      expect(r.after.specialCategory).toBe('(set)')
      expect(r.after.flagReason).toBe('(set)')
    }
    expect(JSON.stringify(rows)).not.toMatch(/person_of_concern|行为异常|情况好转/)
  })

  it('split the cumulative row by the flag in force on the report day, not at the end of the registration\'s period', async () => {
    const early = await cumulative('2020-01-14')
    const before = await cumulative('2020-06-29')
    const set = await post(`/api/residents/${resident.id}/flags`, { category: 'mental_illness', flaggedOn: '2020-05-05', reason: '医院诊断' })
    expect(set.statusCode, set.body).toBe(201)
    const after = await cumulative('2020-06-29')
    expect(after.floatingMentalIllness! - before.floatingMentalIllness!).toBe(1)
    expect(after.floatingOthers! - before.floatingOthers!).toBe(-1)
    expect(after.floatingRegistered).toBe(before.floatingRegistered)
    // On a report day before the flag, the person is still among the others.
    expect(await cumulative('2020-01-14')).toEqual(early)
  })

  it('count the mentally ill among 关注对象 too when the campaign says so (note 3), else apart', async () => {
    const apart = await cumulative('2020-06-29')
    await t.db.owner`update campaign set concern_includes_mental_illness = true`
    try {
      // The app learns of a change made on another connection from the database's announcement.
      expect(apart.floatingMentalIllness).toBeGreaterThan(0)
      await eventually(async () => (await cumulative('2020-06-29')).floatingConcern !== apart.floatingConcern)
      const within = await cumulative('2020-06-29')
      expect(within.floatingMentalIllness).toBe(apart.floatingMentalIllness)
      expect(within.floatingConcern).toBe(apart.floatingConcern! + apart.floatingMentalIllness!)
      expect(within.floatingOthers).toBe(apart.floatingOthers)
      expect(apart.floatingMentalIllness).toBeGreaterThan(0)
    }
    finally {
      await t.db.owner`update campaign set concern_includes_mental_illness = false`
    }
  })
})
