import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { wholeDistrict } from '../../server/domain/access.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { eventually } from '../helpers/eventually.js'
import { statementsDuring } from '../helpers/statements.js'
import { dayFromToday, userId } from '../helpers/tasks.js'

/**
 * The leads' map layer is kept per version of the leads (lead_version, migration 039): asked again
 * while no lead changed, it costs no query; a lead written through the app, or by another
 * connection (announced by the database), makes the next request compute it again.
 */

let t: TestApp
let cookie = ''
let inspector = 0

interface Layer { features: { id: number; properties: { id: number; score: number; status: string } }[] }

const layer = async (query = 'limit=5000'): Promise<Layer> => {
  const res = await t.app.inject({ url: `/api/leads/points?${query}`, headers: { cookie } })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}
const leadVersion = async () => Number((await t.db.owner<{ version: string }[]>`select version from lead_version`)[0]!.version)

beforeAll(async () => {
  t = await buildTestApp()
  // Leads from the registers alone (no readings): what is cached does not depend on the signals.
  await t.app.leads.refresh()
  cookie = await signIn(t.app, 'commander')
  inspector = await userId(t.db.sql, 'inspector')
})
afterAll(() => t?.close())

describe('the leads\' map layer', () => {
  it('answers the same layer asked again without a single query while no lead changed', async () => {
    const ask = () => t.app.leads.points(wholeDistrict, { statuses: ['active'] }, 5000)
    const first = await ask()
    expect(first.features.length).toBeGreaterThan(0)
    let again: unknown
    expect(await statementsDuring(t.db.sql, async () => { again = await ask() })).toEqual([])
    expect(again).toEqual(first)
  })

  it('keeps a layer per filter: another town\'s or limit\'s layer is computed, not the first one served', async () => {
    const all = await layer()
    const top = await layer('limit=3')
    expect(top.features.map(f => f.id)).toEqual(all.features.slice(0, 3).map(f => f.id))
  })

  it('moves the leads\' version once per statement that writes leads, whatever the rows', async () => {
    const before = await leadVersion()
    await t.db.owner`update lead set attempts = attempts where id in (select id from lead order by id limit 5)`
    expect(await leadVersion()).toBe(before + 1)
  })

  it('shows a lead assigned as soon as the commander issued it', async () => {
    const before = await layer()
    const target = before.features.find(f => f.properties.status === 'new')!
    const res = await t.app.inject({
      method: 'POST', url: '/api/leads/tasks', headers: { cookie },
      payload: { leadIds: [target.id], assigneeId: inspector, dueOn: dayFromToday(7) },
    })
    expect(res.statusCode, res.body).toBe(201)
    const after = await layer()
    expect(after.features.find(f => f.id === target.id)?.properties.status).toBe('assigned')
  })

  it('counts the list again once the database announces a lead that left it', async () => {
    const page = async () => {
      const res = await t.app.inject({ url: '/api/leads?limit=1', headers: { cookie } })
      expect(res.statusCode, res.body).toBe(200)
      return res.json() as { total: number; items: { id: number }[] }
    }
    const before = await page()
    await t.db.owner`update lead set candidate = false where id = ${before.items[0]!.id}`
    await eventually(async () => (await page()).total === before.total - 1)
  })

  it('computes the layer again once the database announces a lead written by another connection', async () => {
    const before = await layer()
    const target = before.features[before.features.length - 1]!
    await t.db.owner`update lead set score = 0.999 where id = ${target.id}`
    await eventually(async () => (await layer()).features[0]?.id === target.id)
    expect((await layer()).features[0]!.properties.score).toBeCloseTo(0.999, 3)
  })
})
