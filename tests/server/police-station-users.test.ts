import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { parseCsv } from '../helpers/csv.js'
import { factory, halfOf } from '../helpers/factory.js'

/**
 * Users of a police station, on an empty database built by the factory. Town A is served by two
 * stations: West (its western half) and East (its eastern half); West also serves all of town B.
 * West's commander and inspector must see exactly West's premises, hazards, residents and key
 * areas, in both towns, in lists, exports and searches, and nothing of East's, although East lies in
 * the same town: a premises or a resident of East does not exist for them (404). A district-wide commander sees both sides, so
 * that nothing the station's users miss is missing for everyone.
 */
let t: TestApp
const cookies: Record<'commander' | 'inspector' | 'district', string> = { commander: '', inspector: '', district: '' }
type SideRows = { premises: number[]; hazards: number[]; keyAreas: number[]; residents: { id: number; idNumber: string }[] }
const west: SideRows = { premises: [], hazards: [], keyAreas: [], residents: [] }
const east: SideRows = { premises: [], hazards: [], keyAreas: [], residents: [] }
/** A key area of town A listed for no station: the town's users see it, no station's. */
let townKeyArea = 0

beforeAll(async () => {
  t = await buildTestApp({ template: 'migrated' })
  const f = factory(t.db)
  const townA = await f.town()
  const townB = await f.town()
  const westStation = await f.policeStation({ area: [halfOf(townA.box, 'west'), townB.box] })
  const eastStation = await f.policeStation({ town: townA, half: 'east' })
  const statuses = ['found', 'referred', 'rectified', 'verified'] as const
  const kinds = ['group_rental', 'rental', 'care_home'] as const
  const place = async (side: typeof west, town: typeof townA, station: typeof westStation, n: number) => {
    for (let i = 0; i < n; i++) {
      const p = await f.premises({ town, station, kind: kinds[i % kinds.length] })
      side.premises.push(p.id)
      side.hazards.push((await f.hazard({ premises: p, status: statuses[i % statuses.length], severity: i % 2 ? 'major' : 'general' })).id)
      side.residents.push(await f.resident({ premises: p }))
    }
    side.keyAreas.push((await f.keyArea({ town, station })).id)
  }
  await place(west, townA, westStation, 3)
  await place(west, townB, westStation, 2)
  await place(east, townA, eastStation, 3)
  townKeyArea = (await f.keyArea({ town: townA })).id
  for (const role of ['commander', 'inspector'] as const) {
    const u = await f.user({ role, station: westStation })
    cookies[role] = await signIn(t.app, u.username, u.password)
  }
  const d = await f.user({ role: 'commander' })
  cookies.district = await signIn(t.app, d.username, d.password)
})
afterAll(() => t.close())

const get = (url: string, who: keyof typeof cookies) => t.app.inject({ url, headers: { cookie: cookies[who] } })
const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b)
const featureIds = async (url: string, who: keyof typeof cookies) => {
  const res = await get(url, who)
  expect(res.statusCode, res.body.slice(0, 200)).toBe(200)
  return sorted(res.json().features.map((x: { id: number }) => x.id))
}
const csvIds = async (url: string, who: keyof typeof cookies) => {
  const res = await get(url, who)
  expect(res.statusCode, res.body.slice(0, 200)).toBe(200)
  return sorted(parseCsv(res.rawPayload.subarray(3).toString('utf8')).slice(1).map(r => Number(r[0])))
}

describe.each(['commander', 'inspector'] as const)('the %s of a police station', (role) => {
  it('finds exactly the station\'s premises, in both towns it serves, on the map and in the count', async () => {
    expect(await featureIds('/api/premises?limit=100000', role)).toEqual(sorted(west.premises))
    expect((await get('/api/premises/counts', role)).json().total).toBe(west.premises.length)
  })

  it('exports exactly the station\'s premises and their hazards', async () => {
    expect(await csvIds('/api/exports/premises?format=csv', role)).toEqual(sorted(west.premises))
    expect(await csvIds('/api/exports/hazards?format=csv', role)).toEqual(sorted(west.hazards))
  })

  it('lists exactly the station\'s key areas, not another station\'s nor the town\'s own', async () => {
    expect(await featureIds('/api/key-areas', role)).toEqual(sorted(west.keyAreas))
    for (const id of west.keyAreas) expect((await get(`/api/key-areas/${id}`, role)).statusCode).toBe(200)
    for (const id of [...east.keyAreas, townKeyArea]) expect((await get(`/api/key-areas/${id}`, role)).statusCode, `key area ${id}`).toBe(404)
  })

  it('gets 404 for a premises of another station in the same town, for its hazards and its residents', async () => {
    for (const id of west.premises) expect((await get(`/api/premises/${id}`, role)).statusCode).toBe(200)
    for (const id of east.premises) {
      for (const url of [`/api/premises/${id}`, `/api/premises/${id}/hazards`, `/api/premises/${id}/residents`]) {
        expect((await get(url, role)).statusCode, url).toBe(404)
      }
    }
  })

  it('finds the station\'s residents by ID number and reveals their numbers, and finds nobody of the other station\'s', async () => {
    const post = (url: string, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url, payload, headers: { cookie: cookies[role] } })
    for (const r of west.residents) {
      expect((await post('/api/residents/search', { idNumber: r.idNumber })).json().map((x: { id: number }) => x.id)).toEqual([r.id])
      const revealed = await post(`/api/residents/${r.id}/reveal`, { reason: 'station user test' })
      expect(revealed.json().idNumber).toBe(r.idNumber)
    }
    for (const r of east.residents) {
      expect((await post('/api/residents/search', { idNumber: r.idNumber })).json()).toEqual([])
      expect((await post(`/api/residents/${r.id}/reveal`, { reason: 'station user test' })).statusCode).toBe(404)
    }
  })
})

describe('a district-wide commander', () => {
  it('finds both stations\' premises, hazards and key areas, and the town\'s own key area', async () => {
    expect(await featureIds('/api/premises?limit=100000', 'district')).toEqual(sorted([...west.premises, ...east.premises]))
    expect(await csvIds('/api/exports/hazards?format=csv', 'district')).toEqual(sorted([...west.hazards, ...east.hazards]))
    expect(await featureIds('/api/key-areas', 'district')).toEqual(sorted([...west.keyAreas, ...east.keyAreas, townKeyArea]))
    for (const id of east.premises) expect((await get(`/api/premises/${id}`, 'district')).statusCode).toBe(200)
  })
})
