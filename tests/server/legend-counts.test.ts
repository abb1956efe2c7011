import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Jurisdiction, wholeDistrict } from '../../server/domain/access.js'
import { type PremisesFilter, premisesCountsFromCells, premisesCountsFromRows } from '../../server/plugins/app/premises.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { factory } from '../helpers/factory.js'

/**
 * The legend's counts come from the cells eight by eight and the unregistered premises' index
 * (server/plugins/app/premises.ts) when the cells serve the filter: they must equal a count of every
 * premises, status by status, in every jurisdiction, on any day, and after writes of every kind.
 */
let t: TestApp
let cookie: string
let asOf: string
let scopes: Jurisdiction[]
beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'leader')
  asOf = (await t.app.campaign.current()).endsOn
  const [town] = await t.db.owner<{ id: number }[]>`select town_id as id from premises group by 1 order by count(*) desc limit 1`
  const [station] = await t.db.owner<{ id: number }[]>`select police_station_id as id from premises where police_station_id is not null group by 1 order by count(*) desc limit 1`
  scopes = [wholeDistrict, { kind: 'town', id: town!.id }, { kind: 'police_station', id: station!.id }]
})
afterAll(() => t?.close())

const filters: PremisesFilter[] = [
  {}, { kinds: ['group_rental'] }, { kinds: ['rental', 'group_rental'], majorOnly: true }, { statuses: ['overdue'] },
  { statuses: ['none', 'open_general'] }, { overdueOnly: true }, { kinds: ['rental'], statuses: ['rectified', 'open_major'] },
]

async function expectEqual(days: string[]) {
  for (const scope of scopes) {
    for (const filter of filters) {
      for (const on of days) {
        const rows = await premisesCountsFromRows(t.db.sql, scope, filter, on)
        expect(await premisesCountsFromCells(t.db.sql, scope, filter, on), JSON.stringify({ scope, filter, on })).toEqual(rows)
      }
    }
  }
}

describe('the legend\'s counts from the cells', () => {
  it('equal a count of every premises, status by status and unregistered, for every jurisdiction, filter and day', async () => {
    const district = await premisesCountsFromRows(t.db.sql, wholeDistrict, {}, asOf)
    expect(district.total).toBeGreaterThan(100)
    expect(district.unregistered).toBeGreaterThan(0)
    await expectEqual(['2020-03-01', '2020-05-15', asOf])
  })

  it('stay equal after premises are written, moved, registered, given hazards and deleted', async () => {
    const f = factory({ sql: t.db.owner })
    const [a, b] = await t.db.owner<{ id: number }[]>`
      select id from premises where kind = 'rental' and meets_rule and deregistered_on is null order by id limit 2`
    await t.db.owner`update premises set kind = 'group_rental', registered_on = null, deregistered_on = null where id = ${a!.id}`
    // Moved onto another premises of the district (another town, likely another cell).
    await t.db.owner`update premises set geom = (select geom from premises order by id desc limit 1), registered_on = greatest(found_on, '2020-04-01') where id = ${b!.id}`
    await f.hazard({ premises: a!, severity: 'major', deadline: '2020-04-02' })
    const [gone] = await t.db.owner<{ id: number }[]>`
      select id from premises p where not exists (select 1 from hazard h where h.premises_id = p.id)
        and not exists (select 1 from resident r where r.premises_id = p.id) order by id desc limit 1`
    await t.db.owner`delete from premises where id = ${gone!.id}`
    await expectEqual(['2020-05-15', asOf])
  })

  it('answer the legend over HTTP with what the rows count', async () => {
    await t.app.versions.refresh()
    const res = await t.app.inject({ url: `/api/premises/counts?kind=rental,group_rental&asOf=${asOf}`, headers: { cookie } })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject(await premisesCountsFromRows(t.db.sql, wholeDistrict, { kinds: ['rental', 'group_rental'] }, asOf))
  })
})
