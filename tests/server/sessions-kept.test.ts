import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { eventually } from '../helpers/eventually.js'
import { statementsDuring as statementsOn } from '../helpers/statements.js'
import { tileOf } from '../helpers/tiles.js'

/**
 * The sessions looked up are kept in memory under the session version (migration 045,
 * server/plugins/app/users.ts): a signed-in request whose answer is cached costs no query, and
 * whatever ends a session, done by this process or through another connection (as another process
 * or a database administrator would), ends it here too.
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t?.close())

const statementsDuring = (fn: () => Promise<unknown>) => statementsOn(t.db.sql, fn)
const tokenOf = (cookie: string) => cookie.split('=')[1]!
const me = (cookie: string) => t.app.inject({ url: '/api/auth/me', headers: { cookie } })

describe('the sessions kept in memory', () => {
  it('let a signed-in request for a cached tile, and for who is signed in, answer without a single query', async () => {
    const cookie = await signIn(t.app, 'leader')
    const [z, x, y] = tileOf(119.97, 31.85, 12)
    const tile = () => t.app.inject({ url: `/api/tiles/premises/${z}/${x}/${y}.mvt`, headers: { cookie } })
    const first = await tile()
    expect(first.statusCode).toBe(200)
    expect((await me(cookie)).statusCode).toBe(200)
    const sent = await statementsDuring(async () => {
      const again = await tile()
      expect(again.statusCode).toBe(200)
      expect(again.rawPayload.equals(first.rawPayload)).toBe(true)
      expect((await me(cookie)).json()).toMatchObject({ username: 'leader', role: 'leader' })
    })
    expect(sent).toEqual([])
  })

  // A map asks for dozens of tiles at once: once a minute, one of them marks the session seen, not all.
  it('mark a session seen with one write however many of its requests arrive at once', async () => {
    const cookie = await signIn(t.app, 'commander')
    expect((await me(cookie)).statusCode).toBe(200)
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.now() + 2 * 60_000)
      const sent = await statementsDuring(async () => {
        const answers = await Promise.all(Array.from({ length: 12 }, () => me(cookie)))
        expect(answers.map(a => a.statusCode)).toEqual(Array.from({ length: 12 }, () => 200))
      })
      expect(sent.filter(q => /update user_session set last_seen_at/.test(q))).toHaveLength(1)
    }
    finally {
      vi.useRealTimers()
    }
  })

  it('end at once when this process signs the session out', async () => {
    const cookie = await signIn(t.app, 'analyst')
    expect((await me(cookie)).statusCode).toBe(200)
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } })).statusCode).toBe(204)
    expect((await me(cookie)).json().reason).toBe('session-revoked')
  })

  it('end when a session is revoked through another connection, once the database announces it', async () => {
    const cookie = await signIn(t.app, 'analyst')
    expect((await me(cookie)).statusCode).toBe(200)
    await t.db.owner`update user_session set revoked_at = now() where token_hash = sha256(convert_to(${tokenOf(cookie)}, 'UTF8'))`
    await eventually(async () => (await me(cookie)).statusCode === 401)
    expect((await me(cookie)).json().reason).toBe('session-revoked')
  })

  it('end when the account is disabled through another connection, once announced', async () => {
    const cookie = await signIn(t.app, 'inspector')
    expect((await me(cookie)).statusCode).toBe(200)
    await t.db.owner`update app_user set disabled_at = now() where username = 'inspector'`
    await eventually(async () => (await me(cookie)).statusCode === 401)
    expect((await me(cookie)).json().reason).toBe('account-disabled')
  })

  it('follow a role changed through another connection, once announced', async () => {
    const cookie = await signIn(t.app, 'commander')
    expect((await me(cookie)).json().role).toBe('commander')
    await t.db.owner`update app_user set role = 'analyst', jurisdiction_kind = 'district', jurisdiction_town_id = null where username = 'commander'`
    await eventually(async () => (await me(cookie)).json().role === 'analyst')
  })

  it('end a session made idle or expired by hand through another connection', async () => {
    const idle = await signIn(t.app, 'leader')
    const old = await signIn(t.app, 'leader')
    expect((await me(idle)).statusCode).toBe(200)
    expect((await me(old)).statusCode).toBe(200)
    await t.db.owner`update user_session set last_seen_at = now() - interval '2 hours' where token_hash = sha256(convert_to(${tokenOf(idle)}, 'UTF8'))`
    await t.db.owner`update user_session set created_at = now() - interval '13 hours', expires_at = now() - interval '1 hour' where token_hash = sha256(convert_to(${tokenOf(old)}, 'UTF8'))`
    await eventually(async () => (await me(idle)).statusCode === 401 && (await me(old)).statusCode === 401)
    expect((await me(idle)).json().reason).toBe('session-expired')
    expect((await me(old)).json().reason).toBe('session-expired')
  })

  it('do not move the version when a session is merely seen again', async () => {
    const cookie = await signIn(t.app, 'leader')
    expect((await me(cookie)).statusCode).toBe(200)
    const version = await t.app.versions.current('sessions')
    await t.db.owner`update user_session set last_seen_at = now() where token_hash = sha256(convert_to(${tokenOf(cookie)}, 'UTF8'))`
    await t.app.versions.refresh()
    expect(await t.app.versions.current('sessions')).toBe(version)
  })
})
