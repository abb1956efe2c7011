import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { buildScene, runMatrix, type Scene, type Side } from '../helpers/jurisdiction.js'

let t: TestApp
let s: Scene

beforeAll(async () => {
  t = await buildTestApp()
  s = await buildScene(t)
})
afterAll(() => t.close())

describe('the jurisdiction matrix: places, areas and filters', () => {
  it('answers a town and a police-station commander and inspector with what lies inside, and nothing that lies outside', async () => {
    const { failures, calls } = await runMatrix(s, 'answer')
    expect(failures).toEqual([])
    expect(calls).toBeGreaterThan(80)
  })
})

describe('lists under a jurisdiction', () => {
  /** The ids of a side's premises and key areas, counted from the raw rows. */
  async function own(side: Side) {
    const sql = t.db.sql
    const where = side.name === 'town' ? sql`town_id = ${side.inside.town}` : sql`police_station_id = ${side.inside.station}`
    const premises = (await sql<{ id: number }[]>`select id from premises where ${where}`).map(r => r.id)
    // A draft (a proposal, say) is seen only by those who may edit key areas: the commanders.
    const keyAreas = await sql<{ id: number; draft: boolean }[]>`select id, status = 'draft' as draft from key_area where deleted_at is null and ${where}`
    return { premises: new Set(premises), keyAreas: new Set(keyAreas.map(r => r.id)), listed: new Set(keyAreas.filter(r => !r.draft).map(r => r.id)) }
  }

  it('hold every record of the jurisdiction and none outside it: premises, key areas, exports, OGC items, attachment 4', async () => {
    for (const side of [s.town, s.station]) {
      const mine = await own(side)
      for (const [role, username] of Object.entries(side.users)) {
        const get = async (url: string) => {
          const res = await t.app.inject({ url, headers: { cookie: s.cookies[username!]! } })
          expect(res.statusCode, `${username} ${url}`).toBe(200)
          return res.json()
        }
        const ids = (fc: { features: { id: number }[] }) => fc.features.map(f => f.id).sort((a, b) => a - b)
        const premises = [...mine.premises].sort((a, b) => a - b)
        expect(ids(await get('/api/premises?limit=100000')), `${username} premises`).toEqual(premises)
        expect(ids(await get('/api/exports/premises?format=geojson')), `${username} export`).toEqual(premises)
        expect(ids(await get('/ogc/collections/premises/items?limit=10000')), `${username} OGC premises`).toEqual(premises)
        const keyAreas = [...(role === 'commander' ? mine.keyAreas : mine.listed)].sort((a, b) => a - b)
        expect(ids(await get('/api/key-areas')), `${username} key areas`).toEqual(keyAreas)
        expect(ids(await get('/ogc/collections/key-areas/items?limit=10000')), `${username} OGC key areas`).toEqual(keyAreas)
        const tables = (await get('/api/reports/attachment-4?period=2020-06-14')).tables as { subject: string }[]
        for (const table of tables) expect(mine.keyAreas.has(Number(table.subject.split(':')[1])), `${username} attachment 4 ${table.subject}`).toBe(true)
      }
    }
  })
})
