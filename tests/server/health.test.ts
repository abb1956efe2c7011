import { existsSync, readFileSync } from 'node:fs'
import { afterAll, assert, beforeAll, describe, expect, inject, it } from 'vitest'
import { openApiFile, openApiText } from '../../server/schemas/openapi.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { lineDiff } from '../helpers/diff.js'

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
  const served = async () => {
    const res = await t.app.inject({ url: '/api/docs/json', headers: { cookie } })
    expect(res.statusCode).toBe(200)
    return res.json() as { paths: Record<string, Record<string, unknown>> }
  }

  it('is the committed document, server/schemas/openapi.json, to the letter', async () => {
    const committed = existsSync(openApiFile) ? readFileSync(openApiFile, 'utf8') : ''
    const diff = lineDiff(committed, openApiText(await served()))
    if (diff) assert.fail(`The API no longer matches server/schemas/openapi.json: run npm run openapi and commit the file.\n${diff}`)
  })

  it('lists every route of the route table under /api and /ogc with its method, and nothing else (HEAD and the documentation\'s own routes aside)', async () => {
    const { paths } = await served()
    // A prefix's '/' route is registered with and without the trailing slash; the document lists it once.
    const path = (url: string) => url.replace(/:(\w+)/g, '{$1}').replace(/(.)\/$/, '$1')
    const documented = new Set(Object.entries(paths).flatMap(([p, ops]) => Object.keys(ops).map(m => `${m.toUpperCase()} ${path(p)}`)))
    const routes = new Set(t.app.routeTable
      .filter(r => r.method !== 'HEAD' && /^\/(api|ogc)(\/|$)/.test(r.url) && !r.url.startsWith('/api/docs'))
      .map(r => `${r.method} ${path(r.url)}`))
    expect(routes.size).toBeGreaterThan(50)
    expect([...routes].filter(r => !documented.has(r)), 'routes missing from the document').toEqual([])
    expect([...documented].filter(r => !routes.has(r)), 'documented operations no route serves').toEqual([])
  })

  it('serves its UI from this machine (no CDN)', async () => {
    const res = await t.app.inject({ url: '/api/docs/', headers: { cookie } })
    expect(res.statusCode).toBe(200)
    expect(res.body).not.toMatch(/https?:\/\/(?!localhost)[a-z0-9.-]+\.(com|net|org|io)\//i)
  })
})
