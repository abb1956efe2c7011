import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../server/app.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { testKeys } from '../helpers/keys.js'

/** The built app's assets, sent as the Brotli or gzip copy the build wrote next to each (web/vite.config.ts). */
const webRoot = mkdtempSync(join(tmpdir(), 'grd-web-precompressed-'))
const script = `export const answer = ${'42 + '.repeat(400)}0\n`
let t: TestApp
let app: Awaited<ReturnType<typeof buildApp>>

beforeAll(async () => {
  mkdirSync(join(webRoot, 'assets'))
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>app</title>')
  writeFileSync(join(webRoot, 'assets', 'app-abc123.js'), script)
  writeFileSync(join(webRoot, 'assets', 'app-abc123.js.br'), brotliCompressSync(script))
  writeFileSync(join(webRoot, 'assets', 'app-abc123.js.gz'), gzipSync(script))
  writeFileSync(join(webRoot, 'assets', 'small-abc123.js'), 'export {}\n')
  t = await buildTestApp()
  app = await buildApp({ db: t.db, keys: testKeys, webRoot })
})
afterAll(async () => {
  await app?.close()
  await t?.close()
  rmSync(webRoot, { recursive: true, force: true })
})

describe('the web app\'s precompressed assets', () => {
  it('are sent as Brotli to a browser that takes it, as gzip to one that takes only gzip, and as they are otherwise, varying on Accept-Encoding', async () => {
    const cases = [['gzip, deflate, br', 'br'], ['gzip', 'gzip'], ['identity', undefined]] as const
    for (const [accept, encoding] of cases) {
      const res = await app.inject({ url: '/assets/app-abc123.js', headers: { 'accept-encoding': accept } })
      expect(res.statusCode, accept).toBe(200)
      expect(res.headers['content-encoding'], accept).toBe(encoding)
      expect(String(res.headers['content-type']), accept).toMatch(/javascript/)
      expect(String(res.headers.vary), accept).toMatch(/accept-encoding/i)
      expect(res.headers['cache-control']).toContain('immutable')
      const body = encoding === 'br' ? brotliDecompressSync(res.rawPayload) : encoding === 'gzip' ? gunzipSync(res.rawPayload) : res.rawPayload
      expect(body.toString(), accept).toBe(script)
    }
  })

  it('leave an asset without compressed copies as it is', async () => {
    const res = await app.inject({ url: '/assets/small-abc123.js', headers: { 'accept-encoding': 'gzip, br' } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-encoding']).toBeUndefined()
    expect(res.body).toBe('export {}\n')
  })
})
