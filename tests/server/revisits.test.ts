import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * Revisits (明察暗访): a random sample drawn again with the same seed is the same; a sample larger
 * than its population is refused and writes nothing; a town user draws within the town only; a
 * relapse reopens the hazard with its history kept; the relapse rate by town and department.
 */
let t: TestApp
const cookies: Record<string, string> = {}
let townIn = 0

beforeAll(async () => {
  t = await buildTestApp({ supervision: { everyMs: 0 }, notices: { remindEveryMs: 0 } })
  for (const who of ['commander', 'bureau', 'leader']) cookies[who] = await signIn(t.app, who)
  townIn = (await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`)[0]!.id
})
afterAll(() => t.close())

const draw = (payload: Record<string, unknown>, who = 'commander') => t.app.inject({ method: 'POST', url: '/api/revisits/samples', headers: { cookie: cookies[who]! }, payload })
const hazardsOf = (res: { json: () => { items: { hazardId: number }[] } }) => res.json().items.map(i => i.hazardId)
const count = async () => (await t.db.sql<{ n: number }[]>`select (select count(*) from revisit_sample) + (select count(*) from revisit_item) + (select count(*) from audit_log) as n`)[0]!.n

describe('drawing a sample', () => {
  it('draws the same records with the same seed, and others with another seed', async () => {
    const a = await draw({ subject: 'hazard', proportion: 0.1, seed: 'spring-2020' })
    expect(a.statusCode, a.body).toBe(201)
    const b = await draw({ subject: 'hazard', proportion: 0.1, seed: 'spring-2020' })
    const c = await draw({ subject: 'hazard', proportion: 0.1, seed: 'autumn-2020' })
    expect(hazardsOf(b)).toEqual(hazardsOf(a))
    expect(hazardsOf(c)).not.toEqual(hazardsOf(a))
    const [n] = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from hazard h join premises p on p.id = h.premises_id where h.status in ('rectified', 'verified') and p.town_id = ${townIn}`
    expect(a.json()).toMatchObject({ population: n!.n, size: Math.ceil(n!.n * 0.1) })
  })

  it('draws a town commander\'s sample from the town only, and answers 404 for another town', async () => {
    const res = await draw({ subject: 'premises', size: 20, seed: 'town-only' })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().items.every((i: { townId: number }) => i.townId === townIn)).toBe(true)
    const [other] = await t.db.sql<{ id: number }[]>`select id from admin_area where level = 'town' and id <> ${townIn} and valid_to is null order by id limit 1`
    expect((await draw({ subject: 'premises', size: 1, seed: 'x', townId: other!.id })).statusCode).toBe(404)
    expect((await draw({ subject: 'premises', size: 1, seed: 'x', townId: other!.id }, 'bureau')).statusCode).toBe(201)
  })

  it.each([
    ['a sample larger than its population', { subject: 'hazard', size: 5000, seed: 'too-many' }, 'sample-larger-than-population'],
    ['neither a proportion nor a size', { subject: 'hazard', seed: 'none' }, 'proportion-or-size'],
    ['both a proportion and a size', { subject: 'hazard', seed: 'both', size: 1, proportion: 0.5 }, 'proportion-or-size'],
  ])('refuses %s (400), with a Chinese message, writing nothing', async (_, body, reason) => {
    const before = await count()
    const res = await draw(body)
    expect(res.statusCode).toBe(400)
    expect(res.json().reason).toBe(reason)
    expect(res.json().messageZh).toMatch(/[\u4E00-\u9FFF]/)
    expect(await count()).toBe(before)
  })
})

describe('the list of samples', () => {
  interface Summary { id: number; townId: number | null; seed: string; size: number; population: number; drawn: number; recorded: number }
  const list = async (who: string) => {
    const res = await t.app.inject({ url: '/api/revisits/samples', headers: { cookie: cookies[who]! } })
    expect(res.statusCode, res.body).toBe(200)
    return res.json<Summary[]>()
  }

  it('lists the samples holding records of the jurisdiction, the latest first, with the outcomes recorded of those drawn', async () => {
    const mine = (await draw({ subject: 'hazard', size: 2, seed: 'listed' })).json() as { id: number; items: { id: number }[] }
    const [other] = await t.db.sql<{ id: number }[]>`select id from admin_area where level = 'town' and id <> ${townIn} and valid_to is null order by id limit 1`
    const theirs = (await draw({ subject: 'premises', size: 1, seed: 'elsewhere', townId: other!.id }, 'bureau')).json() as { id: number }
    await t.app.inject({ method: 'POST', url: `/api/revisits/items/${mine.items[0]!.id}/outcome`, headers: { cookie: cookies.commander! }, payload: { outcome: 'still_rectified' } })

    const commander = await list('commander')
    expect(commander.map(s => s.id)).toContain(mine.id)
    expect(commander.map(s => s.id)).not.toContain(theirs.id)
    expect(commander.map(s => s.id)).toEqual([...commander.map(s => s.id)].sort((a, b) => b - a))
    expect(commander.find(s => s.id === mine.id)).toMatchObject({ seed: 'listed', size: 2, drawn: 2, recorded: 1, townId: null })
    const bureau = await list('bureau')
    expect(bureau.map(s => s.id)).toEqual(expect.arrayContaining([mine.id, theirs.id]))
    expect(bureau.find(s => s.id === theirs.id)).toMatchObject({ townId: other!.id, drawn: 1, recorded: 0 })
  })
})

describe('outcomes', () => {
  it('reopens a relapsed hazard with its earlier steps kept and the reopening recorded, once', async () => {
    const sample = (await draw({ subject: 'hazard', size: 3, seed: 'relapse' })).json() as { items: { id: number; hazardId: number }[] }
    const [item] = sample.items
    const before = await t.db.sql<{ status: string }[]>`select status from hazard_event where hazard_id = ${item!.hazardId} order by at, id`
    const res = await t.app.inject({ method: 'POST', url: `/api/revisits/items/${item!.id}/outcome`, headers: { cookie: cookies.commander! }, payload: { outcome: 'relapsed', note: '隔断又搭起来了' } })
    expect(res.statusCode, res.body).toBe(200)
    const [h] = await t.db.sql<{ status: string; rectifiedAt: Date | null }[]>`select status, rectified_at from hazard where id = ${item!.hazardId}`
    expect(['found', 'referred']).toContain(h!.status)
    expect(h!.rectifiedAt).toBeNull()
    const after = await t.db.sql<{ status: string; note: string | null }[]>`select status, note from hazard_event where hazard_id = ${item!.hazardId} order by at, id`
    expect(after.slice(0, before.length).map(e => e.status)).toEqual(before.map(e => e.status))
    expect(after.at(-1)!.note).toContain('明察暗访复发')
    const again = await t.app.inject({ method: 'POST', url: `/api/revisits/items/${item!.id}/outcome`, headers: { cookie: cookies.commander! }, payload: { outcome: 'still_rectified' } })
    expect(again.statusCode).toBe(409)
    expect(again.json().reason).toBe('outcome-recorded')
  })

  it('counts the relapse rate per town and per department over the revisits done', async () => {
    const sample = (await draw({ subject: 'hazard', size: 4, seed: 'rates' })).json() as { items: { id: number; departmentCode: string }[] }
    for (const [i, item] of sample.items.entries()) {
      await t.app.inject({ method: 'POST', url: `/api/revisits/items/${item.id}/outcome`, headers: { cookie: cookies.commander! }, payload: { outcome: i === 0 ? 'relapsed' : 'still_rectified' } })
    }
    const rates = (await t.app.inject({ url: '/api/revisits/rates', headers: { cookie: cookies.leader! } })).json() as { towns: { id: number; revisited: number; relapsed: number; relapseRate: number }[]; departments: { code: string; relapsed: number }[] }
    const [expected] = await t.db.sql<{ revisited: number; relapsed: number }[]>`
      select count(outcome)::int as revisited, count(*) filter (where outcome = 'relapsed')::int as relapsed from revisit_item where town_id = ${townIn}`
    const town = rates.towns.find(x => x.id === townIn)!
    expect(town).toMatchObject(expected!)
    expect(town.relapseRate).toBeCloseTo(expected!.relapsed / expected!.revisited)
    expect(rates.departments.reduce((a, d) => a + d.relapsed, 0)).toBe(expected!.relapsed)
  })
})
