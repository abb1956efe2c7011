/**
 * The premises GeoJSON of a town-sized box through HTTP (`npm run bench -- --points-only`): streamed
 * through a cursor on real PostgreSQL, gzipped as a browser asks. Each uncached run asks another
 * limit (another cache key, the same points); then the same request twice, the second from the cache.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createGunzip } from 'node:zlib'
import type { Database } from '../server/db/index.js'
import { wholeDistrict } from '../server/domain/access.js'
import { piiKeysFrom } from '../server/domain/pii.js'

interface Row { measure: string; value: string; note: string }

/** A town-sized box (about 5 x 5 km) over the dense south-east streets, as in bench.ts. */
const townBbox = '119.955,31.82,120.008,31.865'

interface Timed { firstByteMs: number; totalMs: number; gzipBytes: number; jsonBytes: number; features: number }

function fetchTimed(port: number, path: string, cookie: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    let firstByteMs = 0
    let gzipBytes = 0
    const json: Buffer[] = []
    const req = http.get({ host: '127.0.0.1', port, path, headers: { cookie, 'accept-encoding': 'gzip' } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode}`))
      let lastByteMs = 0
      res.on('data', (c: Buffer) => {
        if (!gzipBytes) firstByteMs = performance.now() - t0
        gzipBytes += c.length
      })
      // The last byte, not the client's own unzipping and parsing after it.
      res.on('end', () => lastByteMs = performance.now() - t0)
      const plain = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res
      plain.on('data', (c: Buffer) => json.push(c))
      plain.on('end', () => {
        const text = Buffer.concat(json)
        const fc = JSON.parse(text.toString()) as { numberReturned: number }
        resolve({ firstByteMs, totalMs: lastByteMs || performance.now() - t0, gzipBytes, jsonBytes: text.length, features: fc.numberReturned })
      })
      plain.on('error', reject)
    })
    req.on('error', reject)
  })
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export async function benchPoints(database: Database, runs: number): Promise<Row[]> {
  const { buildApp } = await import('../server/app.js')
  const { hashPassword } = await import('../server/domain/passwords.js')
  await database.sql`
    insert into app_user (username, display_name, password_hash, role) values ('bench.points', '基准地图', ${await hashPassword('bench-password')}, 'leader')
    on conflict (username) do update set disabled_at = null`
  const app = await buildApp({ db: database, keys: piiKeysFrom(Buffer.alloc(32, 1)), supervision: { everyMs: 0 }, notices: { remindEveryMs: 0 } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  try {
    const { port } = app.server.address() as AddressInfo
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'bench.points', password: 'bench-password' } })
    const cookie = `grd_session=${login.cookies.find(c => c.name === 'grd_session')!.value}`
    const uncached: Timed[] = []
    for (let i = 0; i <= runs; i++) {
      const t = await fetchTimed(port, `/api/premises?bbox=${townBbox}&limit=${100_000 - i}`, cookie)
      if (i > 0) uncached.push(t) // the first warms the buffers
    }
    // What the first byte waited for before: the whole text built in one query.
    const whole: number[] = []
    const bbox = townBbox.split(',').map(Number) as [number, number, number, number]
    const on = app.campaign.referenceDate(await app.campaign.current())
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now()
      await app.premises.pointsJson(wholeDistrict, { bbox }, on, 90_000 - i)
      whole.push(performance.now() - t0)
    }
    const path = `/api/premises?bbox=${townBbox}&limit=100000`
    await fetchTimed(port, path, cookie)
    const cached: Timed[] = []
    for (let i = 0; i < runs; i++) cached.push(await fetchTimed(port, path, cookie))
    const last = uncached.at(-1)!
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`
    const streamed = app.db.backend === 'postgres' ? 'streamed as PostgreSQL sends the rows, its first thousand first' : 'whole text (embedded database)'
    return [
      {
        measure: 'premises GeoJSON, town bbox through HTTP, first byte / total p50',
        value: `${p50(uncached.map(t => t.firstByteMs)).toFixed(0)} / ${p50(uncached.map(t => t.totalMs)).toFixed(0)} ms`,
        note: `${streamed}, gzip; ${last.features.toLocaleString('en')} features, ${mb(last.jsonBytes)} JSON, ${mb(last.gzipBytes)} sent; ${runs} uncached runs`,
      },
      {
        measure: 'the whole text built in one query (the first byte before streaming) p50',
        value: `${p50(whole).toFixed(0)} ms`,
        note: `pointsJson, ${runs} runs, not sent`,
      },
      {
        measure: 'the same again, kept by the points cache, first byte / total p50',
        value: `${p50(cached.map(t => t.firstByteMs)).toFixed(0)} / ${p50(cached.map(t => t.totalMs)).toFixed(0)} ms`,
        note: `${runs} runs`,
      },
    ]
  }
  finally {
    await app.close()
    // Disabled between runs: a district-wide leader would be told of every escalation the
    // supervision bench (bench-supervision.ts) computes on the same database.
    await database.sql`update app_user set disabled_at = now() where username = 'bench.points'`
  }
}
