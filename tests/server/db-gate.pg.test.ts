/**
 * The availability gate at the pool's own connections (server/db/index.ts, gatedSocket): a
 * connection given up on before the server said a word closes the gate there and then. Closed only
 * by the request whose query failed, it came too late: the driver hands the next queued query a new
 * connection as soon as the timed-out one closes, before that failure has reached any request, and
 * the queued query waited out a second connect timeout (CI's outage test saw a box of points answer
 * 503 after 3.1 s, two timeouts of 1.5 s).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Database, openDatabase } from '../../server/db/index.js'
import { type SilentProxy, startSilentProxy } from '../helpers/silent-proxy.js'

const url = process.env.DATABASE_URL!
const connectTimeout = 1000
let proxy: SilentProxy
let db: Database

beforeAll(async () => {
  proxy = await startSilentProxy(Number(new URL(url).port || 5432))
  const u = new URL(url)
  u.hostname = '127.0.0.1'
  u.port = String(proxy.port)
  db = await openDatabase({ url: u.toString(), max: 1, connectTimeout })
})

afterAll(async () => {
  await db?.close()
  await proxy?.close()
})

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

/** When a query settled (ms since `t0`) and the code it failed with. */
async function outcome(q: Promise<unknown>, t0: number) {
  try {
    await q
    return { at: Date.now() - t0, code: 'ok' }
  }
  catch (e) {
    return { at: Date.now() - t0, code: (e as { code?: string }).code }
  }
}

describe('a host gone silent, two queries for one connection', () => {
  it('fails the queued one at once after the first connect timeout, not after a second, and serves again once the host answers', async () => {
    await db.sql`select 1`
    proxy.silence()
    // The idle connection reset by the silence is not a failure to connect: the next attempt decides.
    await sleep(100)
    expect(db.availability.available).toBe(true)
    const t0 = Date.now()
    // Nobody reports these failures (no request around them): the gate must close by itself.
    const [first, queued] = await Promise.all([outcome(db.sql`select 1`, t0), outcome(db.sql`select 2`, t0)])
    expect(first.code).toBe('CONNECT_TIMEOUT')
    expect(first.at).toBeGreaterThanOrEqual(connectTimeout - 50)
    expect(queued.code).toBe('DATABASE_UNAVAILABLE')
    // Unpatched: a second connect timeout, about 2 s in all.
    expect(queued.at - first.at, `first at ${first.at} ms, queued at ${queued.at} ms`).toBeLessThan(500)
    expect(db.availability.available).toBe(false)

    proxy.restore()
    for (let waited = 0; !db.availability.available && waited < 10_000; waited += 50) await sleep(50)
    expect(db.availability.available).toBe(true)
    expect((await db.sql<{ n: number }[]>`select 3 as n`)[0]!.n).toBe(3)
  })
})
