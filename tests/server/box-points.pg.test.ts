import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { wholeDistrict } from '../../server/domain/access.js'
import { premisesRepository } from '../../server/plugins/app/premises.js'
import { statementsDuring } from '../helpers/statements.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * A box's points on real PostgreSQL after writes inside it (box-points.ts): read again where the map
 * changed, not the whole box, and always the same collection a fresh read gives.
 */
let t: TestApp
let cookie = ''
const bbox: [number, number, number, number] = [119.95, 31.82, 120.01, 31.88]
const day = '2020-06-29'

beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'leader')
})
afterAll(() => t.close())

interface Collection { features: { id: number }[]; numberReturned: number; truncated: boolean }

const url = (limit: number) => `/api/premises?bbox=${bbox.join(',')}&asOf=${day}&limit=${limit}`
async function answer(limit: number): Promise<Collection> {
  const res = await t.app.inject({ url: url(limit), headers: { cookie } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}
const fresh = async (limit: number): Promise<Collection> =>
  JSON.parse(await premisesRepository(t.db.sql).pointsJson(wholeDistrict, { bbox }, day, limit))

/** The statements the box's answer sent, sorted by what they read: the whole box (its limit) or some of its areas. */
async function readsOf(limit: number): Promise<{ whole: number; areas: number; got: Collection }> {
  let got!: Collection
  const sent = await statementsDuring(t.db.sql, async () => {
    got = await answer(limit)
  })
  const points = sent.filter(q => q.includes('\'Feature\''))
  return { whole: points.filter(q => /order by p\.id\s+limit/.test(q)).length, areas: points.filter(q => q.includes('map_area(p.geom_m) =')).length, got }
}

/** Beside a premises outside the box (so still inside the district). */
const outsideBox = () => t.db.sql`(select st_translate(geom, 0.00001, 0) from premises
  where not geom && st_makeenvelope(${bbox[0]}, ${bbox[1]}, ${bbox[2]}, ${bbox[3]}, 4326) order by id limit 1)`

/** A write through another connection than the app's, then the versions read again (as its announcement would tell them). */
async function write(fn: () => Promise<unknown>) {
  await fn()
  await t.app.versions.refresh()
}

describe('a box\'s points after a write inside it', () => {
  it('reads again the area of a changed premises only, and answers what a fresh read does', async () => {
    const limit = 40
    const first = await readsOf(limit)
    expect(first.whole).toBe(1)
    expect(first.got.truncated).toBe(true)
    const changed = first.got.features[10]!.id
    await write(() => t.db.sql`update premises set kind = case when kind = 'rental' then 'group_rental' else 'rental' end where id = ${changed}`)
    const second = await readsOf(limit)
    expect(second).toMatchObject({ whole: 0, areas: 1 })
    expect(second.got).toEqual(await fresh(limit))
    // Nothing changed since: kept, no statement.
    expect(await readsOf(limit)).toMatchObject({ whole: 0, areas: 0 })
  })

  it('takes in a premises moved into the box below its last id, pushing the last one out', async () => {
    const limit = 40
    const before = (await readsOf(limit)).got
    const last = before.features.at(-1)!.id
    const inside = before.features[5]!.id
    // A premises outside the box with an id below the answer's last, moved beside one inside it.
    const [outside] = await t.db.sql<{ id: number }[]>`
      select id from premises where not geom && st_makeenvelope(${bbox[0]}, ${bbox[1]}, ${bbox[2]}, ${bbox[3]}, 4326) and id < ${last} order by id limit 1`
    expect(outside).toBeDefined()
    await write(() => t.db.sql`update premises set geom = st_translate((select geom from premises where id = ${inside}), 0.00001, 0) where id = ${outside!.id}`)
    const after = await readsOf(limit)
    expect(after.whole).toBe(0)
    expect(after.areas).toBeGreaterThanOrEqual(1)
    expect(after.got).toEqual(await fresh(limit))
    expect(after.got.features.map(f => f.id)).toContain(outside!.id)
    expect(after.got.features.map(f => f.id)).not.toContain(last)
  })

  it('reads the box whole again when a cut answer lost a premises (what follows its last id was never read)', async () => {
    const limit = 40
    const before = (await readsOf(limit)).got
    const leaving = before.features[3]!.id
    await write(() => t.db.sql`update premises set geom = ${outsideBox()} where id = ${leaving}`)
    const after = await readsOf(limit)
    expect(after.whole).toBe(1)
    expect(after.got).toEqual(await fresh(limit))
    expect(after.got.features.map(f => f.id)).not.toContain(leaving)
  })

  it('patches an answer holding the whole box (not cut): a premises gone is just gone', async () => {
    const limit = 100_000
    const before = await readsOf(limit)
    expect(before.got.truncated).toBe(false)
    const leaving = before.got.features[7]!.id
    await write(() => t.db.sql`update premises set geom = ${outsideBox()} where id = ${leaving}`)
    const after = await readsOf(limit)
    expect(after).toMatchObject({ whole: 0, areas: 1 })
    expect(after.got).toEqual(await fresh(limit))
    expect(after.got.numberReturned).toBe(before.got.numberReturned - 1)
  })

  it('answers the same as a fresh read after writes in many places at once (kinds changed, premises moved)', async () => {
    const limit = 60
    const before = (await readsOf(limit)).got
    const ids = before.features.slice(0, 30).map(f => f.id)
    await write(() => t.db.sql`update premises set kind = case when kind = 'rental' then 'group_rental' else 'rental' end where id in ${t.db.sql(ids.filter((_, i) => i % 3 === 0))}`)
    await write(() => t.db.sql`update premises set geom = st_translate(geom, 0.002, 0.001) where id in ${t.db.sql(ids.filter((_, i) => i % 3 === 1))}`)
    const after = await readsOf(limit)
    expect(after.got).toEqual(await fresh(limit))
  })
})
