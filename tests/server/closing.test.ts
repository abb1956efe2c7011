import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { phaseOn } from '../../server/domain/phases.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/** The closing phase's checklist for commanders, and where a day falls among the campaign's phases. */
let t: TestApp
const cookies: Record<string, string> = {}

beforeAll(async () => {
  t = await buildTestApp()
  for (const u of ['commander', 'bureau', 'leader']) cookies[u] = await signIn(t.app, u)
})
afterAll(() => t.close())

const phases = [
  { seq: 1, code: 'mobilisation', nameZh: '动员部署', nameEn: 'Mobilisation', startsOn: '2019-12-15', endsOn: '2019-12-31' },
  { seq: 2, code: 'remediation', nameZh: '排查整治', nameEn: 'Remediation', startsOn: '2020-01-01', endsOn: '2020-11-30' },
  { seq: 3, code: 'consolidation', nameZh: '总结巩固', nameEn: 'Consolidation', startsOn: '2020-12-01', endsOn: '2020-12-31' },
]

interface Closing {
  phase: { phase: { code: string } | null; state: string; daysLeft: number | null }
  finalReportDay: string
  items: { key: string; done: number; total: number; target: number; met: boolean }[]
  revisits: { id: number; drawn: number; recorded: number }[]
}
const checklist = async (user: string) => {
  const res = await t.app.inject({ url: '/api/closing', headers: { cookie: cookies[user]! } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json<Closing>()
}
const item = (c: Closing, key: string) => c.items.find(i => i.key === key)!

describe('the campaign\'s phases', () => {
  it('puts a day in its phase with the days left (its last day counts), and says before and after', () => {
    expect(phaseOn(phases, '2019-12-01')).toMatchObject({ phase: { code: 'mobilisation' }, state: 'before', daysLeft: null })
    expect(phaseOn(phases, '2019-12-15')).toMatchObject({ phase: { code: 'mobilisation' }, state: 'during', daysLeft: 17 })
    expect(phaseOn(phases, '2020-11-30')).toMatchObject({ phase: { code: 'remediation' }, state: 'during', daysLeft: 1 })
    expect(phaseOn(phases, '2020-12-01')).toMatchObject({ phase: { code: 'consolidation' }, state: 'during', daysLeft: 31 })
    expect(phaseOn(phases, '2021-01-01')).toMatchObject({ phase: { code: 'consolidation' }, state: 'after', daysLeft: null })
    expect(phaseOn([...phases].reverse(), '2020-06-01').phase?.code).toBe('remediation')
    expect(phaseOn([], '2020-06-01')).toEqual({ phase: null, state: 'during', daysLeft: null })
  })
})

describe('the closing checklist', () => {
  it('counts the town commander\'s key areas cleared and delisted and the measures of the dashboard, within the town', async () => {
    const c = await checklist('commander')
    const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
    const [areas] = await t.db.sql<{ listed: number; cleared: number; delisted: number }[]>`
      select count(*)::int as listed, count(*) filter (where status in ('cleared', 'delisted'))::int as cleared, count(*) filter (where status = 'delisted')::int as delisted
      from key_area where status <> 'draft' and town_id = ${town!.id}`
    expect(areas!.listed).toBeGreaterThan(0)
    expect(item(c, 'keyAreasCleared')).toMatchObject({ done: areas!.cleared, total: areas!.listed, met: areas!.cleared === areas!.listed })
    expect(item(c, 'keyAreasDelisted')).toMatchObject({ done: areas!.delisted, total: areas!.listed })
    const summary = (await t.app.inject({ url: '/api/stats/summary', headers: { cookie: cookies.commander! } })).json<{ district: { measures: { key: string; numerator: number; denominator: number; target: number | null }[] } }>()
    for (const [key, measure] of [['groupRentalsRegistered', 'group_rentals_registered'], ['residentsRegistered', 'residents_registered'], ['majorHazardsRectified', 'major_hazards_rectified']] as const) {
      const m = summary.district.measures.find(x => x.key === measure)!
      expect(item(c, key)).toMatchObject({ done: m.numerator, total: m.denominator, target: m.target ?? 1 })
    }
    expect(c.phase.state).toBe('after')
    expect(c.finalReportDay).toBe('2020-12-31')
  })

  it('counts the final tables as submitted once the last period\'s attachment 5 and each key area\'s attachment 4 are in', async () => {
    const before = item(await checklist('bureau'), 'finalTables')
    const [areas] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from key_area where status <> 'draft'`
    expect(before.total).toBe(1 + areas!.n)
    const [bureau] = await t.db.sql<{ id: number }[]>`select id from app_user where username = 'bureau'`
    expect(await t.db.sql`select 1 from report_submission where period_to = '2020-12-31'`).toHaveLength(0)
    const zero = item(await checklist('bureau'), 'finalTables')
    await t.db.owner`insert into report_submission (report, subject, period_to, data, filled_by, submitted_by) values ('attachment-5', 'district', '2020-12-31', '{}', '测试', ${bureau!.id})`
    const one = item(await checklist('bureau'), 'finalTables')
    expect(one.done).toBe(zero.done + 1)
    expect(one.met).toBe(one.done === one.total)
    // Another period's table does not count.
    await t.db.owner`insert into report_submission (report, subject, period_to, data, filled_by, submitted_by) values ('attachment-5', 'district', '2020-12-29', '{}', '测试', ${bureau!.id}) on conflict do nothing`
    expect(item(await checklist('bureau'), 'finalTables').done).toBe(one.done)
  })

  it('counts a town\'s revisits as done once a sample was drawn there and every drawn record\'s outcome is recorded', async () => {
    const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
    const [towns] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from admin_area where level = 'town' and valid_to is null`
    const before = await checklist('commander')
    expect(before.revisits.map(r => r.id)).toEqual([town!.id])
    expect(before.revisits[0]).toMatchObject({ drawn: 0, recorded: 0 })
    expect(item(before, 'revisitsDone')).toMatchObject({ done: 0, total: 1, met: false })
    expect(item(await checklist('bureau'), 'revisitsDone').total).toBe(towns!.n)

    const drawn = await t.app.inject({ method: 'POST', url: '/api/revisits/samples', headers: { cookie: cookies.commander! }, payload: { subject: 'hazard', size: 2, seed: 'closing' } })
    expect(drawn.statusCode, drawn.body).toBe(201)
    const sample = drawn.json<{ items: { id: number }[] }>()
    const half = await checklist('commander')
    expect(half.revisits[0]).toMatchObject({ drawn: 2, recorded: 0 })
    expect(item(half, 'revisitsDone')).toMatchObject({ done: 0, met: false })

    for (const [n, i] of sample.items.entries()) {
      const res = await t.app.inject({ method: 'POST', url: `/api/revisits/items/${i.id}/outcome`, headers: { cookie: cookies.commander! }, payload: { outcome: 'still_rectified' } })
      expect(res.statusCode, res.body).toBe(200)
      const now = await checklist('commander')
      expect(now.revisits[0]).toMatchObject({ drawn: 2, recorded: n + 1 })
      expect(item(now, 'revisitsDone')).toMatchObject({ done: n === 1 ? 1 : 0, total: 1, met: n === 1 })
    }
    // The district's list counts the town among the others, the rest not yet done.
    const district = await checklist('bureau')
    expect(district.revisits.find(r => r.id === town!.id)).toMatchObject({ drawn: 2, recorded: 2 })
    expect(item(district, 'revisitsDone')).toMatchObject({ done: 1, total: towns!.n, met: towns!.n === 1 })
  })

  it('is the commanders\' only: a leader is refused', async () => {
    const res = await t.app.inject({ url: '/api/closing', headers: { cookie: cookies.leader! } })
    expect(res.statusCode).toBe(403)
  })
})
