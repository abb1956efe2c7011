/**
 * The driver (postgres.js 3.4.9, patched in scripts/patches) when a transaction's connection is
 * reset under it, as a failover or a lost host does: the pool must serve again on a reopened
 * connection, and nothing the dead transaction still sends may run there. Unpatched, the
 * transaction's own rollback was queued on the reopened connection, which then waited forever for
 * an answer to it: one query served, every later one hung (CI's outage test saw a write hang 15 s).
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SilentProxy, startSilentProxy } from '../helpers/silent-proxy.js'
import { settled } from '../helpers/settled.js'

const url = process.env.DATABASE_URL!
const table = `driver_lost_${process.pid}`
let proxy: SilentProxy
let owner: postgres.Sql

beforeAll(async () => {
  owner = postgres(url, { max: 1, onnotice: () => {} })
  await owner`create table ${owner(table)} (n int)`
  proxy = await startSilentProxy(Number(new URL(url).port || 5432))
})

afterAll(async () => {
  if (owner) {
    await owner`drop table if exists ${owner(table)}`
    await owner.end({ timeout: 1 })
  }
  await proxy?.close()
})

/** One connection through the proxy: what the transaction held is what the pool reopens. */
const throughProxy = () => {
  const u = new URL(url)
  u.hostname = '127.0.0.1'
  u.port = String(proxy.port)
  return postgres(u.toString(), { max: 1, connect_timeout: 3, onnotice: () => {} })
}

/**
 * Until the server runs `statement`: the reset must land inside it, however busy the machine. Each
 * test sleeps a little differently, as a backend whose client was reset sleeps on unaware.
 */
async function running(statement: string) {
  for (let waited = 0; waited < 20_000; waited += 20) {
    const [row] = await owner<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity where state = 'active' and query = ${statement}`
    if (row!.n > 0) return
    await sleep(20)
  }
  throw new Error('the statement to cut never started')
}

/** Resets every connection through the proxy at once, and lets new ones through again. */
const reset = () => {
  proxy.silence()
  proxy.restore()
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

describe('a transaction\'s connection reset under it', () => {
  it('fails the transaction, and the pool serves every later query and transaction', async () => {
    const sql = throughProxy()
    try {
      await sql`select 1`
      const tx = sql.begin(async t => t`select pg_sleep(2.1)`)
      await running('select pg_sleep(2.1)')
      // Waits for the pool's one connection, which the transaction holds (a query runs once asked for).
      const waiting = sql`select 2`.execute()
      await sleep(50)
      reset()
      expect(await settled(tx)).toBe('failed CONNECTION_CLOSED')
      expect(await settled(waiting)).toBe('served')
      expect(await settled(sql`select 3`)).toBe('served')
      expect(await settled(sql`select 4`)).toBe('served')
      expect(await settled(sql.begin(t => t`select 5`))).toBe('served')
    }
    finally {
      await sql.end({ timeout: 1 })
    }
  })

  it('runs nothing the dead transaction sends afterwards, outside it, on the reopened connection', async () => {
    const sql = throughProxy()
    try {
      let inserted: string | undefined
      const tx = sql.begin(async (t) => {
        // Code that catches the failure and goes on, as the driver's own rollback does.
        await t`select pg_sleep(2.2)`.catch(() => undefined)
        inserted = await settled(t`insert into ${t(table)} values (1)`)
      })
      await running('select pg_sleep(2.2)')
      reset()
      expect(await settled(tx)).toBe('failed CONNECTION_CLOSED')
      // The pool reopens its connection for the next query while the transaction's code goes on.
      expect(await settled(sql`select 2`)).toBe('served')
      await sleep(200)
      expect(inserted).toBe('failed CONNECTION_CLOSED')
      expect(await owner`select n from ${owner(table)}`).toEqual([])
      expect(await settled(sql`select 3`)).toBe('served')
    }
    finally {
      await sql.end({ timeout: 1 })
    }
  })

  it('refuses what is sent on a reserved connection after it was lost, instead of running it without the session\'s state', async () => {
    const sql = throughProxy()
    try {
      // As a long import does: a connection of its own with the statement time limit lifted.
      const reserved = await sql.reserve()
      await reserved`set statement_timeout = 123456`
      const slow = reserved`select pg_sleep(2.3)`.execute()
      const waiting = sql`select 2`.execute()
      await running('select pg_sleep(2.3)')
      reset()
      expect(await settled(slow)).toMatch(/^failed /)
      expect(await settled(waiting)).toBe('served')
      expect(await settled(reserved`show statement_timeout`)).toBe('failed CONNECTION_CLOSED')
      reserved.release()
      expect(await settled(sql`select 3`)).toBe('served')
      expect(await settled(sql.begin(t => t`select 4`))).toBe('served')
    }
    finally {
      await sql.end({ timeout: 1 })
    }
  })
})
