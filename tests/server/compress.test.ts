import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acceptsGzip, gzipOnLoopBelow, largeGzipsBegun } from '../../server/plugins/external/compress.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/** JSON answers travel gzipped to clients that take gzip; everything else as it was. */
let t: TestApp
let cookie = ''

beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'leader')
})
afterAll(() => t.close())

describe('compressed answers', () => {
  it('reads Accept-Encoding as HTTP does: gzip or *, unless its quality is zero', () => {
    expect(acceptsGzip('gzip, deflate, br')).toBe(true)
    expect(acceptsGzip('br;q=1.0, gzip;q=0.5')).toBe(true)
    expect(acceptsGzip('*')).toBe(true)
    expect(acceptsGzip(['deflate', 'GZIP'])).toBe(true)
    expect(acceptsGzip('gzip;q=0')).toBe(false)
    expect(acceptsGzip('gzip;q=0.0, deflate')).toBe(false)
    expect(acceptsGzip('deflate, br')).toBe(false)
    expect(acceptsGzip('identity')).toBe(false)
    expect(acceptsGzip(undefined)).toBe(false)
  })

  it('gzips a large JSON answer for a client that accepts gzip, to the same JSON, and says it varies by Accept-Encoding', async () => {
    const plain = await t.app.inject({ url: '/api/premises?limit=2000', headers: { cookie } })
    expect(plain.statusCode, plain.body).toBe(200)
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.headers.vary).toMatch(/accept-encoding/i)
    const zipped = await t.app.inject({ url: '/api/premises?limit=2000', headers: { cookie, 'accept-encoding': 'gzip, deflate, br' } })
    expect(zipped.statusCode).toBe(200)
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(zipped.headers.vary).toMatch(/accept-encoding/i)
    expect(zipped.rawPayload.length).toBeLessThan(plain.rawPayload.length / 3)
    expect(JSON.parse(gunzipSync(zipped.rawPayload).toString())).toEqual(plain.json())
  })

  it('gzips a large answer asked for by many at once once, each getting the same bytes', async () => {
    // All but the last of the premises: a text no other test has had gzipped (they are kept by their content).
    const all = await t.app.inject({ url: '/api/premises?limit=100000', headers: { cookie } })
    const url = `/api/premises?limit=${all.json<{ numberReturned: number }>().numberReturned - 1}`
    // Its text made and kept (the first answer on PostgreSQL is streamed, and streams are not gzipped here).
    const plain = await t.app.inject({ url, headers: { cookie } })
    expect(plain.statusCode, plain.body).toBe(200)
    expect(plain.rawPayload.length).toBeGreaterThan(64 * 1024)
    const before = largeGzipsBegun()
    const answers = await Promise.all(Array.from({ length: 8 }, () =>
      t.app.inject({ url, headers: { cookie, 'accept-encoding': 'gzip' } })))
    for (const a of answers) {
      expect(a.statusCode).toBe(200)
      expect(a.headers['content-encoding']).toBe('gzip')
      expect(a.rawPayload.equals(answers[0]!.rawPayload)).toBe(true)
    }
    expect(largeGzipsBegun() - before).toBe(1)
    expect(JSON.parse(gunzipSync(answers[0]!.rawPayload).toString())).toEqual(plain.json())
  })

  it('gzips a JSON answer small enough to be gzipped on the event loop, to the same JSON', async () => {
    const plain = await t.app.inject({ url: '/api/premises?limit=20', headers: { cookie } })
    expect(plain.statusCode, plain.body).toBe(200)
    // Between the size worth gzipping at all and the size gzipped on the thread pool.
    expect(plain.rawPayload.length).toBeGreaterThan(1024)
    expect(plain.rawPayload.length).toBeLessThan(gzipOnLoopBelow)
    const zipped = await t.app.inject({ url: '/api/premises?limit=20', headers: { cookie, 'accept-encoding': 'gzip' } })
    expect(zipped.statusCode).toBe(200)
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(zipped.rawPayload.length).toBeLessThan(plain.rawPayload.length)
    expect(JSON.parse(gunzipSync(zipped.rawPayload).toString())).toEqual(plain.json())
  })

  it('leaves small answers, refusals and non-JSON answers unencoded', async () => {
    const small = await t.app.inject({ url: '/api/auth/me', headers: { cookie, 'accept-encoding': 'gzip' } })
    expect(small.statusCode).toBe(200)
    expect(small.headers['content-encoding']).toBeUndefined()
    const refused = await t.app.inject({ url: '/api/premises/99999999', headers: { cookie, 'accept-encoding': 'gzip' } })
    expect(refused.statusCode).toBe(404)
    expect(refused.headers['content-encoding']).toBeUndefined()
    expect(refused.json()).toHaveProperty('message')
    // Exports are streams, GeoJSON included: they pass as they are.
    const exporter = await signIn(t.app, 'commander')
    for (const format of ['csv', 'geojson']) {
      const file = await t.app.inject({ url: `/api/exports/premises?format=${format}`, headers: { cookie: exporter, 'accept-encoding': 'gzip' } })
      expect(file.statusCode, file.body.slice(0, 200)).toBe(200)
      expect(file.headers['content-encoding']).toBeUndefined()
      expect(file.body.length).toBeGreaterThan(1024)
    }
  })
})
