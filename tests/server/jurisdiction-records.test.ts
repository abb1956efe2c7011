import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { buildScene, notJurisdictional, probes, routeKey, runMatrix, type Scene, whereRoutes } from '../helpers/jurisdiction.js'
import { csv, uploadReadings } from '../helpers/readings.js'

let t: TestApp
let s: Scene

beforeAll(async () => {
  t = await buildTestApp()
  s = await buildScene(t)
})
afterAll(() => t.close())

describe('the jurisdiction matrix: records named by id', () => {
  it('has a probe (or a stated reason) for every route of the table that takes an id, a place or an area', () => {
    const routes = whereRoutes(t.app).map(routeKey)
    expect(routes.length).toBeGreaterThan(30)
    const missing = routes.filter(k => !probes[k] && !notJurisdictional[k])
    expect(missing, 'add a probe to tests/helpers/jurisdiction.ts for these routes').toEqual([])
    // And no probe for a route that is gone or no longer takes where.
    expect(Object.keys(probes).filter(k => !routes.includes(k))).toEqual([])
  })

  it('chose records well inside and outside each jurisdiction, across the town and police-station borders', () => {
    expect(s.town.inside.station).toBe(s.town.outside.station)
    expect(s.town.inside.town).not.toBe(s.town.outside.town)
    expect(s.station.inside.town).toBe(s.station.outside.town)
    expect(s.station.inside.station).not.toBe(s.station.outside.station)
    expect(s.station.inside.town).not.toBe(s.town.inside.town)
  })

  it('answers a town and a police-station commander and inspector with records inside, and 404 for records outside', async () => {
    const { failures, calls } = await runMatrix(s, 'record')
    expect(failures).toEqual([])
    expect(calls).toBeGreaterThan(80)
  })

  it('shows a police station the attachment 3 of a town it reaches into live, with its own key areas only, and lets only the town submit it', async () => {
    const town = s.station.inside.reportTown
    const period = '2020-05-29'
    const submit = (cookie: string) => t.app.inject({ method: 'POST', url: '/api/reports/submissions', headers: { cookie }, payload: { report: 'attachment-3', townId: town, period, filledBy: '矩阵' } })
    const refused = await submit(s.cookies[s.station.users.commander!]!)
    expect(refused.statusCode).toBe(403)
    expect(refused.json().reason).toBe('outside-jurisdiction')
    // The district submits the town's table, with every key area of the town in it.
    expect((await submit(s.cookies.bureau!)).statusCode).toBe(201)
    const [all] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from key_area where town_id = ${town} and deleted_at is null and status <> 'draft' and listed_on <= ${period}`
    const [own] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from key_area where town_id = ${town} and police_station_id = ${s.station.inside.station} and deleted_at is null and status <> 'draft' and listed_on <= ${period}`
    expect(own!.n).toBeGreaterThan(0)
    expect(own!.n).toBeLessThan(all!.n)
    const seen = (await t.app.inject({ url: `/api/reports/attachment-3?town=${town}&on=${period}`, headers: { cookie: s.cookies[s.station.users.inspector!]! } })).json()
    expect(seen.submission).toBeNull()
    expect(seen.rows).toHaveLength(own!.n)
    const district = (await t.app.inject({ url: `/api/reports/attachment-3?town=${town}&on=${period}`, headers: { cookie: s.cookies.bureau! } })).json()
    expect(district.submission).not.toBeNull()
    expect(district.rows).toHaveLength(all!.n)
  })

  it('makes another user\'s import not exist (404), for a commander of the same jurisdiction too', async () => {
    const csv = `台账编号,类型,地址,经度,纬度,发现日期\r\nJUR-1,群租房,矩阵路1号,${s.town.inside.lon},${s.town.inside.lat},2020-03-01\r\n`
    const up = await t.app.inject({ method: 'POST', url: '/api/imports?kind=premises&fileName=j.csv', headers: { cookie: s.cookies.commander!, 'content-type': 'text/csv' }, payload: csv })
    expect(up.statusCode).toBe(201)
    const id = up.json().id as string
    const other = await signIn(t.app, 'bureau')
    for (const k of Object.keys(notJurisdictional).filter(x => x.includes('/api/imports/:id'))) {
      const [method, url] = k.split(' ') as [string, string]
      const req = { method: method as 'GET', url: url.replace(':id', id), payload: method === 'POST' ? { mapping: up.json().suggestedMapping, crs: 'wgs84' } : undefined }
      expect((await t.app.inject({ ...req, headers: { cookie: other } })).statusCode, k).toBe(404)
    }
    expect((await t.app.inject({ url: `/api/imports/${id}`, headers: { cookie: s.cookies.commander! } })).statusCode).toBe(200)
  })

  it('makes another user\'s readings import not exist (404) on every readings route, for a district commander too', async () => {
    const file = csv([['户号', '户名', '用电地址', '日期', '用电量'], ['JUR-E1', '王某', '矩阵路1号', '2020-03-01', '8.5']])
    const job = await uploadReadings(t.app, s.cookies.commander!, 'electricity', file)
    const other = await signIn(t.app, 'bureau')
    const routes = Object.keys(notJurisdictional).filter(x => x.includes('/api/readings/:id'))
    expect(routes).toHaveLength(6)
    for (const k of routes) {
      const [method, url] = k.split(' ') as [string, string]
      const req = { method: method as 'GET', url: url.replace(':id', job.id), payload: method === 'POST' ? { mapping: job.suggestedMapping, crs: 'wgs84' } : undefined }
      expect((await t.app.inject({ ...req, headers: { cookie: other } })).statusCode, k).toBe(404)
    }
    expect((await t.app.inject({ url: `/api/readings/${job.id}`, headers: { cookie: s.cookies.commander! } })).statusCode).toBe(200)
    expect((await t.app.inject({ method: 'DELETE', url: `/api/readings/${job.id}`, headers: { cookie: s.cookies.commander! } })).statusCode).toBeLessThan(300)
  })
})
