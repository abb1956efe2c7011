import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

let t: TestApp
let cookie: string
beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'analyst')
})
afterAll(() => t.close())

describe('GET /api/health', () => {
  it('answers which backend runs, its PostGIS and whether ST_AsMVT works there', async () => {
    const res = await t.app.inject('/api/health')
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.ok).toBe(true)
    expect(body.backend).toBe(inject('backend'))
    expect(body.postgis).toMatch(/^3\.\d+/)
    // The embedded PostGIS is built without protobuf; Debian's PostGIS has it.
    expect(body.mvt).toBe(inject('backend') === 'postgres')
  })
})

describe('OpenAPI', () => {
  it('is generated from the route schemas and lists every API path', async () => {
    const res = await t.app.inject({ url: '/api/docs/json', headers: { cookie } })
    expect(res.statusCode).toBe(200)
    const paths = Object.keys(res.json().paths)
    for (const p of ['/api/health/', '/api/premises/', '/api/stats/summary', '/api/areas', '/api/pois', '/api/hazard-dictionary', '/api/campaign']) {
      expect(paths).toContain(p)
    }
  })

  it('serves its UI from this machine (no CDN)', async () => {
    const res = await t.app.inject({ url: '/api/docs/', headers: { cookie } })
    expect(res.statusCode).toBe(200)
    expect(res.body).not.toMatch(/https?:\/\/(?!localhost)[a-z0-9.-]+\.(com|net|org|io)\//i)
  })
})
