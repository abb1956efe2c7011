import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PendingQuery, Row } from 'postgres'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { factory, type FactoryTown } from '../helpers/factory.js'

/**
 * Each signal on a hand-built series: a year of daily electricity (2020) at 10 kWh a day for the
 * ordinary premises, and for each crafted premises one thing changed. The campaign is over, so the
 * signals are read on its last day (2020-12-31).
 */

let t: TestApp
let town: FactoryTown
const p: Record<string, number> = {}
let serial = 0

type Expr = PendingQuery<Row[]>

/** An electricity account of the premises with a day's use (in hundredths of a kWh) given as SQL of the day `d`. */
async function electricity(premisesId: number, use: Expr, night: Expr | null = null) {
  const sql = t.db.sql
  const [a] = await sql<{ id: number }[]>`
    insert into meter_account (utility, account_no, premises_id, match_method, town_id)
    values ('electricity', ${`SIG-E-${++serial}`}, ${premisesId}, 'ref', ${town.id}) returning id`
  await sql`
    insert into meter_reading (account_id, month, daily, night, total)
    select ${a!.id}, m, array_agg(v order by d), case when bool_and(n is null) then null else array_agg(n order by d) end, sum(v)
    from (select date_trunc('month', g)::date as m, g::date as d, (${use})::int as v, (${night ?? sql`null`})::int as n
          from generate_series('2020-01-01'::date, '2020-12-31'::date, interval '1 day') g) s
    group by m`
  return a!.id
}

const flat = () => t.db.sql`1000`

beforeAll(async () => {
  t = await buildTestApp({ template: 'migrated' })
  const f = factory(t.db)
  town = await f.town({ communities: 1 })
  const make = async (name: string, kind: 'rental' | 'homestay' = 'rental', o: { rooms?: number; beds?: number; occupants?: number } = {}) => {
    p[name] = (await f.premises({ town, kind, ...o })).id
  }
  for (let i = 0; i < 9; i++) {
    await make(`flat${i}`)
    await electricity(p[`flat${i}`]!, flat())
  }
  const sql = t.db.sql
  await make('weekend')
  await electricity(p.weekend!, sql`case when is_rest_day(g::date) then 1500 else 1000 end`)
  await make('night')
  await electricity(p.night!, flat(), sql`400`)
  await make('season')
  await electricity(p.season!, sql`case when extract(month from g) = 8 then 2000 else 1000 end`)
  await make('festival')
  await electricity(p.festival!, sql`case when g::date between '2020-01-24' and '2020-02-02' then 300 else 1000 end`)
  await make('heavy')
  await electricity(p.heavy!, sql`3000`)
  await make('peaky')
  const peaky = await electricity(p.peaky!, flat())
  // March by the hour: 16 hours at 0.1 kWh and 8 at 1.05 — the same 10 kWh a day, the peak 0.95 kWh above the valley.
  await sql`update meter_reading set hourly = (select array_agg(case when (h - 1) % 24 < 16 then 10 else 105 end order by h) from generate_series(1, 31 * 24) h)
            where account_id = ${peaky} and month = '2020-03-01'`
  await make('water')
  const [w] = await sql<{ id: number }[]>`insert into meter_account (utility, account_no, premises_id, match_method, town_id) values ('water', 'SIG-W-1', ${p.water!}, 'ref', ${town.id}) returning id`
  await sql`insert into meter_reading (account_id, month, total) select ${w!.id}, m::date, 1200 from generate_series('2020-01-01'::date, '2020-12-01'::date, interval '1 month') m`
  await f.resident({ premises: { id: p.water! }, registeredOn: '2019-06-01', movedInOn: '2019-05-01' })
  await f.resident({ premises: { id: p.water! }, registeredOn: '2020-10-01' })
  // A homestay with 12 beds meets the rule without being counted as a group rental; a rental with 12 rooms is counted already.
  await make('ruleHomestay', 'homestay', { beds: 12 })
  await make('ruleRental', 'rental', { rooms: 12 })
  await t.app.leads.refresh()
})
afterAll(() => t.close())

async function featuresOf(name: string): Promise<Record<string, number>> {
  const [l] = await t.db.sql<{ features: Record<string, number> }[]>`select features from lead where premises_id = ${p[name]!}`
  if (!l) throw new Error(`no lead for ${name}`)
  return l.features
}

describe('signals per premises', () => {
  it('reads an ordinary household as ordinary: rest days like working days, no seasons, no dip, at the norm', async () => {
    const f = await featuresOf('flat0')
    expect(f.restDayRatio).toBeCloseTo(1, 3)
    expect(f.seasonalSwing).toBeCloseTo(1, 3)
    expect(f.holidayDip).toBeCloseTo(1, 3)
    expect(f.elecVsNorm).toBeCloseTo(1, 3)
  })

  it('reads the rest days\' use against the working days\' (weekends and holidays, the Spring Festival left out)', async () => {
    expect((await featuresOf('weekend')).restDayRatio).toBeCloseTo(1.5, 3)
  })

  it('reads the night (valley-tariff) share of the electricity', async () => {
    expect((await featuresOf('night')).nightShare).toBeCloseTo(0.4, 3)
  })

  it('reads the busiest month against the usual one', async () => {
    expect((await featuresOf('season')).seasonalSwing).toBeCloseTo(2, 3)
  })

  it('reads the Spring Festival\'s use against the three weeks before it', async () => {
    expect((await featuresOf('festival')).holidayDip).toBeCloseTo(0.3, 3)
  })

  it('reads the use against the median of the same community and size', async () => {
    const f = await featuresOf('heavy')
    expect(f.elecNorm).toBeCloseTo(10, 3)
    expect(f.elecVsNorm).toBeCloseTo(3, 3)
  })

  it('reads the day\'s peak against its valley from hourly readings', async () => {
    expect((await featuresOf('peaky')).peakToValley).toBeCloseTo(95 / (1000 / 24), 3)
  })

  it('reads water per registered resident, the residents registered and their turnover in the last half year', async () => {
    const f = await featuresOf('water')
    expect(f.registeredResidents).toBe(2)
    expect(f.residentTurnover).toBe(1)
    expect(f.waterPerResident).toBeCloseTo(((144 / 366) * 30.4) / 2, 2)
  })

  it('reads the group-rental rule where the register knows it, and leaves out a rental the measures count already', async () => {
    expect((await featuresOf('ruleHomestay')).meetsRule).toBe(1)
    await expect(featuresOf('ruleRental')).rejects.toThrow('no lead')
  })

  it('ranks every crafted premises above the ordinary ones, with its own signal among its reasons', async () => {
    const rows = await t.db.sql<{ premisesId: number; score: number; reasons: { feature: string }[] }[]>`select premises_id, score, reasons from lead`
    const by = new Map(rows.map(r => [r.premisesId, r]))
    const ordinary = Math.max(...Array.from({ length: 9 }, (_, i) => by.get(p[`flat${i}`]!)!.score))
    const crafted: [string, string][] = [['weekend', 'restDayRatio'], ['night', 'nightShare'], ['festival', 'holidayDip'], ['heavy', 'elecVsNorm'], ['peaky', 'peakToValley'], ['ruleHomestay', 'meetsRule']]
    for (const [name, feature] of crafted) {
      const lead = by.get(p[name]!)!
      expect(lead.score, name).toBeGreaterThan(ordinary)
      expect(lead.reasons.map(r => r.feature), name).toContain(feature)
    }
  })
})
