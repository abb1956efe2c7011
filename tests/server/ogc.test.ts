import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../server/app.js'
import { ogcPageSize } from '../../server/routes/ogc/index.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { testKeys } from '../helpers/keys.js'

let t: TestApp
let leader: string
let commander: string

beforeAll(async () => {
  // GIS clients reach the service here; requests below name another host, which links must not follow.
  t = await buildTestApp({ publicUrl: 'http://gis.example:8080' })
  leader = await signIn(t.app, 'leader')
  commander = await signIn(t.app, 'commander')
})
afterAll(() => t.close())

const get = async (url: string, cookie = leader) => {
  const res = await t.app.inject({ url, headers: { cookie, host: 'attacker.example' } })
  expect(res.statusCode, `${url}: ${res.body.slice(0, 200)}`).toBe(200)
  return { body: res.json(), type: String(res.headers['content-type']) }
}

/**
 * A request for each GET route of the OGC API in the route table, so that the tests walking them
 * meet a new route too (and fail until it has a sample here).
 */
async function ogcRequests(): Promise<{ route: string; url: string }[]> {
  const [p] = await t.db.sql<{ id: number }[]>`select min(id)::int as id from premises`
  const samples: Record<string, string> = {
    '/ogc': '/ogc',
    '/ogc/': '/ogc/',
    '/ogc/conformance': '/ogc/conformance',
    '/ogc/api': '/ogc/api',
    '/ogc/collections': '/ogc/collections',
    '/ogc/collections/:collectionId': '/ogc/collections/premises',
    '/ogc/collections/:collectionId/items': '/ogc/collections/premises/items?limit=2',
    '/ogc/collections/:collectionId/items/:featureId': `/ogc/collections/premises/items/${p!.id}`,
  }
  const routes = t.app.routeTable.filter(r => r.method === 'GET' && (r.url === '/ogc' || r.url.startsWith('/ogc/')))
  expect(routes.length).toBeGreaterThanOrEqual(6)
  return routes.map((r) => {
    const url = samples[r.url]
    if (!url) throw new Error(`no sample request for GET ${r.url}: add one to ogcRequests in tests/server/ogc.test.ts`)
    return { route: `GET ${r.url}`, url }
  })
}

type Position = number[]
const isPosition = (p: unknown): p is Position => Array.isArray(p) && p.length >= 2 && p.length <= 3 && p.every(n => typeof n === 'number' && Number.isFinite(n))
const isRing = (r: unknown) => Array.isArray(r) && r.length >= 4 && r.every(isPosition) && JSON.stringify(r[0]) === JSON.stringify(r[r.length - 1])

/** The structure RFC 7946 requires of a geometry (positions, closed rings of four or more). */
function geometryProblem(g: { type?: string; coordinates?: unknown } | null): string | null {
  if (!g || typeof g !== 'object') return 'no geometry'
  const c = g.coordinates
  switch (g.type) {
    case 'Point': return isPosition(c) ? null : 'bad point'
    case 'Polygon': return Array.isArray(c) && c.length > 0 && c.every(isRing) ? null : 'bad polygon'
    case 'MultiPolygon': return Array.isArray(c) && c.length > 0 && c.every(p => Array.isArray(p) && p.length > 0 && p.every(isRing)) ? null : 'bad multipolygon'
    default: return `unexpected type ${g.type}`
  }
}

function featureCollectionProblems(fc: { type: string; features: { type: string; id: unknown; geometry: never; properties: unknown }[] }): string[] {
  const out: string[] = []
  if (fc.type !== 'FeatureCollection') out.push('not a FeatureCollection')
  if (!Array.isArray(fc.features)) return [...out, 'no features array']
  for (const f of fc.features) {
    if (f.type !== 'Feature') out.push(`feature ${String(f.id)} is not a Feature`)
    if (typeof f.id !== 'number' && typeof f.id !== 'string') out.push('a feature without an id')
    if (f.properties === undefined || typeof f.properties !== 'object') out.push(`feature ${String(f.id)} has no properties object`)
    const p = geometryProblem(f.geometry)
    if (p) out.push(`feature ${String(f.id)}: ${p}`)
  }
  return out
}

describe('OGC API - Features', () => {
  it('has a landing page, conformance classes and the four collections, with absolute links to the configured address', async () => {
    const { body: landing } = await get('/ogc')
    const rels = Object.fromEntries(landing.links.map((l: { rel: string; href: string }) => [l.rel, l.href]))
    expect(rels.conformance).toBe('http://gis.example:8080/ogc/conformance')
    expect(rels.data).toBe('http://gis.example:8080/ogc/collections')
    expect(rels['service-desc']).toBe('http://gis.example:8080/ogc/api')
    const { body: conf } = await get('/ogc/conformance')
    expect(conf.conformsTo).toEqual(expect.arrayContaining([
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core', 'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson']))
    const { body: cols } = await get('/ogc/collections')
    expect(cols.collections.map((c: { id: string }) => c.id)).toEqual(['premises', 'key-areas', 'areas', 'pois'])
    for (const c of cols.collections) {
      expect(c.links).toContainEqual(expect.objectContaining({ rel: 'items', type: 'application/geo+json', href: `http://gis.example:8080/ogc/collections/${c.id}/items` }))
      expect(c.extent.spatial.bbox[0]).toHaveLength(4)
    }
  })

  it('pages through every premises by following next links, as valid GeoJSON without personal data', async () => {
    const [{ n }] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from premises` as unknown as [{ n: number }]
    let url: string | undefined = '/ogc/collections/premises/items?limit=1000'
    const ids: number[] = []
    let pages = 0
    while (url) {
      const { body, type } = await get(url)
      expect(type).toContain('application/geo+json')
      expect(featureCollectionProblems(body)).toEqual([])
      expect(body.numberMatched).toBe(n)
      expect(body.numberReturned).toBe(body.features.length)
      for (const f of body.features) {
        ids.push(f.id)
        expect(Object.keys(f.properties).join()).not.toMatch(/address|owner|landlord|name|phone/i)
      }
      const next = body.links.find((l: { rel: string }) => l.rel === 'next')
      url = next ? new URL(next.href).pathname + new URL(next.href).search : undefined
      pages++
      expect(pages).toBeLessThan(50)
    }
    expect(pages).toBe(Math.ceil(n / 1000))
    expect(ids).toHaveLength(n)
    expect(new Set(ids).size).toBe(n)
  })

  it('answers a bbox with exactly the features inside it, and a town user with the town only', async () => {
    const bbox = [119.95, 31.82, 120.0, 31.87]
    const { body } = await get(`/ogc/collections/premises/items?bbox=${bbox.join(',')}&limit=10000`)
    const [{ n }] = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from premises where st_intersects(geom, st_makeenvelope(${bbox[0]!}, ${bbox[1]!}, ${bbox[2]!}, ${bbox[3]!}, 4326))` as unknown as [{ n: number }]
    expect(n).toBeGreaterThan(0)
    expect(body.numberMatched).toBe(n)
    for (const f of body.features) {
      const [x, y] = f.geometry.coordinates
      expect(x >= bbox[0]! && x <= bbox[2]! && y >= bbox[1]! && y <= bbox[3]!).toBe(true)
    }
    const { body: town } = await get('/ogc/collections/premises/items?limit=10000', commander)
    const [{ id }] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'` as unknown as [{ id: number }]
    expect(town.features.length).toBeGreaterThan(0)
    expect(town.features.every((f: { properties: { townId: number } }) => f.properties.townId === id)).toBe(true)
  })

  it('serves key areas, areas and points of interest as valid GeoJSON, and single features', async () => {
    for (const c of ['key-areas', 'areas', 'pois']) {
      const { body } = await get(`/ogc/collections/${c}/items?limit=500`)
      expect(featureCollectionProblems(body), c).toEqual([])
      expect(body.features.length, c).toBeGreaterThan(0)
      const one = body.features[0]
      const { body: f } = await get(`/ogc/collections/${c}/items/${one.id}`)
      expect(f.type).toBe('Feature')
      expect(f.id).toBe(one.id)
    }
    const missing = await t.app.inject({ url: '/ogc/collections/people/items', headers: { cookie: leader } })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().message).toMatch(/premises, key-areas, areas, pois/)
    const bad = await t.app.inject({ url: '/ogc/collections/premises/items?bbox=120,32,119,31', headers: { cookie: leader } })
    expect(bad.statusCode).toBe(400)
  })

  it('never builds links from the request\'s Host or X-Forwarded-Host header, on any OGC route', async () => {
    for (const { route, url } of await ogcRequests()) {
      const res = await t.app.inject({ url, headers: { cookie: leader, host: 'attacker.example', 'x-forwarded-host': 'attacker.example', 'x-forwarded-proto': 'https' } })
      expect(res.statusCode, route).toBe(200)
      expect(res.body, route).not.toContain('attacker')
      const links = (res.json() as { links?: { href: string }[] }).links ?? []
      for (const l of links) expect(l.href, route).toMatch(/^http:\/\/gis\.example:8080\//)
    }
    const items = await t.app.inject({ url: '/ogc/collections/pois/items?limit=2', headers: { cookie: leader, host: 'attacker.example' } })
    const hrefs: string[] = items.json().links.map((l: { href: string }) => l.href)
    expect(hrefs.filter(h => h.startsWith('http://gis.example:8080/ogc/collections/pois/items')).length).toBeGreaterThan(1)
  })

  it('links to the address it listens on when no public address is configured', async () => {
    const app = await buildApp({ db: t.db, keys: testKeys })
    try {
      await app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = app.server.address() as { port: number }
      const cookie = await signIn(app, 'leader')
      const res = await app.inject({ url: '/ogc', headers: { cookie, host: 'attacker.example' } })
      const links: { rel: string; href: string }[] = res.json().links
      expect(links.find(l => l.rel === 'self')!.href).toBe(`http://127.0.0.1:${port}/ogc`)
      for (const l of links) expect(l.href.startsWith(`http://127.0.0.1:${port}/`)).toBe(true)
    }
    finally {
      await app.close()
    }
  })

  it('tells browsers and proxies to keep no answer of any OGC route, signed in or not, refusals included (they depend on who asks)', async () => {
    const refusals = ['/ogc/collections/people/items', '/ogc/collections/premises/items?bbox=120,32,119,31']
    for (const { route, url } of [...await ogcRequests(), ...refusals.map(url => ({ route: url, url }))]) {
      for (const headers of [{ cookie: leader }, {}]) {
        const res = await t.app.inject({ url, headers })
        expect(res.headers['cache-control'], `${route} ${res.statusCode}`).toBe('no-store')
      }
    }
  })

  it('takes HTTP Basic credentials from GIS clients, and asks for them when missing or wrong', async () => {
    const none = await t.app.inject({ url: '/ogc/collections' })
    expect(none.statusCode).toBe(401)
    expect(none.headers['www-authenticate']).toMatch(/^Basic /)
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`
    const ok = await t.app.inject({ url: '/ogc/collections/pois/items', headers: { authorization: basic('leader', 'demo1234') } })
    expect(ok.statusCode).toBe(200)
    const wrong = await t.app.inject({ url: '/ogc/collections', headers: { authorization: basic('leader', 'wrong-password') } })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.json().reason).toBe('bad-credentials')
    // Basic credentials open the OGC API only, not the rest of the API.
    const api = await t.app.inject({ url: '/api/stats/summary', headers: { authorization: basic('leader', 'demo1234') } })
    expect(api.statusCode).toBe(401)
    await t.db.sql`delete from login_throttle`
  })

  it('answers the service-desc link with HTTP Basic credentials, like the rest of /ogc', async () => {
    const basic = `Basic ${Buffer.from('leader:demo1234').toString('base64')}`
    const { body: landing } = await get('/ogc')
    const href = new URL(landing.links.find((l: { rel: string }) => l.rel === 'service-desc').href)
    const res = await t.app.inject({ url: href.pathname, headers: { authorization: basic } })
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/vnd\.oai\.openapi\+json/)
    expect(res.json().openapi).toMatch(/^3\./)
    expect((await t.app.inject({ url: href.pathname })).statusCode).toBe(401)
    await t.db.sql`delete from login_throttle`
  })

  it('gives 1,000 features a page unless asked, and advertises that default and the 10,000 maximum in its API definition', async () => {
    expect(ogcPageSize).toEqual({ default: 1000, maximum: 10_000 })
    const [{ n }] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from premises` as unknown as [{ n: number }]
    const { body } = await get('/ogc/collections/premises/items')
    expect(body.numberMatched).toBe(n)
    expect(body.numberReturned).toBe(Math.min(n, 1000))
    expect(body.features).toHaveLength(Math.min(n, 1000))
    const { body: api } = await get('/ogc/api')
    const items = api.paths['/ogc/collections/{collectionId}/items'].get
    const limit = items.parameters.find((p: { name: string }) => p.name === 'limit')
    expect(limit.schema).toMatchObject({ default: 1000, maximum: 10_000, minimum: 1 })
    const tooMany = await t.app.inject({ url: '/ogc/collections/premises/items?limit=10001', headers: { cookie: leader } })
    expect(tooMany.statusCode).toBe(400)
  })
})
