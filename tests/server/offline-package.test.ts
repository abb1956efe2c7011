import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { insertTask, userId } from '../helpers/tasks.js'

/** "Download for offline": the premises and hazards of the area around an inspector's open visits. */
let t: TestApp
let inspector = 0
let cookie = ''
let town = 0

beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'inspector')
  inspector = await userId(t.db.sql, 'inspector')
  town = (await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'inspector'`)[0]!.id
})
afterAll(() => t.close())

const get = (url: string) => t.app.inject({ url, headers: { cookie } })
const clearTasks = () => t.db.sql`update task set status = 'cancelled', closed_at = now(), closed_by_action = 'task.cancel' where status = 'open'`

interface Package {
  bbox: [number, number, number, number] | null
  openTasks: number
  premises: { id: number; lon: number; lat: number; ownerName?: string | null }[]
  hazards: { id: number; premisesId: number; events: unknown[] }[]
  truncated: boolean
}

describe('the offline package', () => {
  it('is empty, with no area, for an inspector without open visits', async () => {
    await clearTasks()
    const res = await get('/api/offline/package')
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ bbox: null, openTasks: 0, premises: [], hazards: [], truncated: false })
  })

  it('holds every premises of the jurisdiction in the box around the open visits, and none outside the jurisdiction', async () => {
    await clearTasks()
    const visited = await t.db.sql<{ id: number }[]>`select id from premises where town_id = ${town} order by id limit 2`
    for (const p of visited) await insertTask(t.db.sql, { premisesId: p.id, assigneeId: inspector })
    const res = await get('/api/offline/package')
    expect(res.statusCode, res.body).toBe(200)
    const pkg = res.json() as Package
    expect(pkg.openTasks).toBe(2)
    const [w, s, e, n] = pkg.bbox!
    const expected = await t.db.sql<{ id: number }[]>`
      select id from premises where town_id = ${town} and geom && st_makeenvelope(${w}, ${s}, ${e}, ${n}, 4326) order by id`
    expect(pkg.premises.map(p => p.id)).toEqual(expected.map(p => p.id))
    for (const p of visited) expect(pkg.premises.map(x => x.id)).toContain(p.id)
    expect(pkg.premises.every(p => (p as { townId?: number }).townId === town)).toBe(true)
    expect(pkg.premises).toHaveLength(expected.length)
  })

  it('gives each premises and its hazards exactly as the panel reads them online', async () => {
    const pkg = (await get('/api/offline/package')).json() as Package
    const withHazards = pkg.hazards[0]
    expect(withHazards, 'the area should hold a premises with hazards').toBeDefined()
    const p = pkg.premises.find(x => x.id === withHazards!.premisesId)!
    expect(p).toEqual((await get(`/api/premises/${p.id}`)).json())
    expect(pkg.hazards.filter(h => h.premisesId === p.id)).toEqual((await get(`/api/premises/${p.id}/hazards`)).json())
  })
})
