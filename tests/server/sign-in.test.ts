import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../server/app.js'
import { passwordChecks } from '../../server/domain/passwords.js'
import { sessionPolicy } from '../../server/plugins/app/users.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { testKeys } from '../helpers/keys.js'

let t: TestApp
let admin: string
let userCounter = 0
const { lockAfter } = sessionPolicy

beforeAll(async () => {
  t = await buildTestApp()
  admin = await signIn(t.app, 'admin')
})
afterAll(() => t.close())

/** A fresh district-wide account of its own for each test, so that no test inherits another's throttle. */
async function freshUser(role = 'analyst', password = 'right-password-1'): Promise<{ id: number; username: string; password: string }> {
  const username = `signin-${++userCounter}`
  const res = await t.app.inject({
    method: 'POST', url: '/api/users', headers: { cookie: admin },
    payload: { username, displayName: username, role, jurisdiction: { kind: 'district' }, password },
  })
  expect(res.statusCode, res.body).toBe(201)
  return { id: res.json().id, username, password }
}

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`
const ogc = (authorization: string, url = '/ogc/collections') => t.app.inject({ url, headers: { authorization } })
const login = (username: string, password: string) => t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } })

/** Runs fn and answers the password checks it made, with their scrypt parameters. */
async function passwordChecksDuring(fn: () => Promise<unknown>): Promise<{ n: number; r: number; p: number }[]> {
  const seen: { n: number; r: number; p: number }[] = []
  const listener = (m: unknown) => seen.push(m as { n: number; r: number; p: number })
  subscribe(passwordChecks.name, listener)
  try {
    await fn()
  }
  finally {
    unsubscribe(passwordChecks.name, listener)
  }
  return seen
}

async function auditCount(username: string, action: string, outcome: string): Promise<number> {
  const [r] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from audit_log where username = ${username} and action = ${action} and outcome = ${outcome}`
  return r!.n
}

describe('the sign-in lock under parallel attempts', () => {
  it(`checks no more than ${lockAfter} of 50 simultaneous wrong passwords on the sign-in page, and then refuses the right one`, async () => {
    const u = await freshUser()
    const checks = await passwordChecksDuring(async () => {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => login(u.username, `wrong-password-${i}`)))
      const statuses = answers.map(a => a.statusCode)
      expect(statuses.filter(s => s === 401)).toHaveLength(lockAfter)
      expect(statuses.filter(s => s === 429)).toHaveLength(50 - lockAfter)
      for (const a of answers.filter(x => x.statusCode === 429)) expect(a.json().reason).toBe('locked')
    })
    expect(checks).toHaveLength(lockAfter)
    expect(await auditCount(u.username, 'auth.login', 'failed')).toBe(lockAfter)
    const right = await login(u.username, u.password)
    expect(right.statusCode).toBe(429)
    expect(right.json().reason).toBe('locked')
  })

  it(`lets the right password among 60 simultaneous attempts in only while fewer than ${lockAfter} wrong ones were checked`, async () => {
    const u = await freshUser()
    const passwords = Array.from({ length: 60 }, (_, i) => (i === 30 ? u.password : `wrong-password-${i}`))
    const answers = await Promise.all(passwords.map(p => login(u.username, p)))
    const signedIn = answers.filter(a => a.statusCode === 200).length
    const wrong = answers.filter(a => a.statusCode === 401).length
    expect(signedIn + wrong).toBeLessThanOrEqual(lockAfter)
    expect(answers.filter(a => a.statusCode === 429)).toHaveLength(60 - signedIn - wrong)
    const failed = await auditCount(u.username, 'auth.login', 'failed')
    expect(failed).toBe(wrong)
    // Signed in only if its attempt was admitted among the first ones, i.e. after fewer than lockAfter failures.
    if (signedIn) expect(failed).toBeLessThan(lockAfter)
  })

  it(`checks no more than ${lockAfter} of 50 simultaneous HTTP Basic attempts with wrong passwords and the right one mixed in`, async () => {
    const u = await freshUser()
    const passwords = Array.from({ length: 50 }, (_, i) => (i === 25 ? u.password : `wrong-password-${i}`))
    const checks = await passwordChecksDuring(async () => {
      const answers = await Promise.all(passwords.map(p => ogc(basic(u.username, p))))
      const ok = answers.filter(a => a.statusCode === 200).length
      const reasons = answers.filter(a => a.statusCode === 401).map(a => a.json().reason as string)
      expect(ok + reasons.length).toBe(50)
      const wrong = reasons.filter(r => r === 'bad-credentials').length
      expect(ok + wrong).toBeLessThanOrEqual(lockAfter)
      expect(reasons.filter(r => r !== 'bad-credentials' && r !== 'locked')).toEqual([])
      const failed = await auditCount(u.username, 'auth.basic', 'failed')
      expect(failed).toBeLessThanOrEqual(lockAfter)
      if (ok) expect(failed).toBeLessThan(lockAfter)
    })
    expect(checks.length).toBeLessThanOrEqual(lockAfter)
  })

  it('shares one check among a GIS client\'s identical simultaneous first requests, so that they all pass', async () => {
    const u = await freshUser()
    const checks = await passwordChecksDuring(async () => {
      const answers = await Promise.all(Array.from({ length: 12 }, () => ogc(basic(u.username, u.password))))
      expect(answers.map(a => a.statusCode)).toEqual(Array.from({ length: 12 }).fill(200))
    })
    expect(checks).toHaveLength(1)
  })

  it('counts sign-in page and HTTP Basic failures toward the same lock', async () => {
    const u = await freshUser()
    for (let i = 0; i < lockAfter - 1; i++) expect((await login(u.username, `wrong-${i}`)).statusCode).toBe(401)
    const last = await ogc(basic(u.username, 'wrong-again'))
    expect(last.json().reason).toBe('locked')
    expect((await ogc(basic(u.username, u.password))).json().reason).toBe('locked')
    expect((await login(u.username, u.password)).statusCode).toBe(429)
  })

  it('starts the count again when a count has seen no attempt for the lock period (a crash mid-attempt locks nobody for ever)', async () => {
    const u = await freshUser()
    await t.db.sql`insert into login_throttle (username, failures, last_attempt_at)
                   values (${u.username}, ${lockAfter + 3}, now() - make_interval(mins => ${sessionPolicy.lockMinutes + 1}))`
    expect((await login(u.username, u.password)).statusCode).toBe(200)
    const [row] = await t.db.sql`select 1 from login_throttle where username = ${u.username}`
    expect(row).toBeUndefined()
  })
})

describe('HTTP Basic on /ogc follows the account from one request to the next', () => {
  it('refuses the very next request after the account is disabled, and takes it again once enabled', async () => {
    const u = await freshUser()
    const header = basic(u.username, u.password)
    expect((await ogc(header)).statusCode).toBe(200)
    expect((await ogc(header)).statusCode).toBe(200)
    await t.app.inject({ method: 'PATCH', url: `/api/users/${u.id}`, headers: { cookie: admin }, payload: { disabled: true } })
    const refused = await ogc(header)
    expect(refused.statusCode).toBe(401)
    expect(refused.json().reason).toBe('account-disabled')
    await t.app.inject({ method: 'PATCH', url: `/api/users/${u.id}`, headers: { cookie: admin }, payload: { disabled: false } })
    expect((await ogc(header)).statusCode).toBe(200)
  })

  it('refuses the old password on the very next request after a password reset', async () => {
    const u = await freshUser()
    const header = basic(u.username, u.password)
    expect((await ogc(header)).statusCode).toBe(200)
    const reset = await t.app.inject({ method: 'POST', url: `/api/users/${u.id}/password`, headers: { cookie: admin }, payload: { password: 'a-new-password-2' } })
    expect(reset.statusCode).toBe(204)
    const old = await ogc(header)
    expect(old.statusCode).toBe(401)
    expect(old.json().reason).toBe('bad-credentials')
    expect((await ogc(basic(u.username, 'a-new-password-2'))).statusCode).toBe(200)
  })

  it('checks the password again on the very next request after the account\'s sessions are ended, and only then', async () => {
    const u = await freshUser()
    const header = basic(u.username, u.password)
    expect((await ogc(header)).statusCode).toBe(200)
    expect(await passwordChecksDuring(() => ogc(header))).toHaveLength(0)
    await t.app.inject({ method: 'POST', url: `/api/users/${u.id}/revoke-sessions`, headers: { cookie: admin } })
    expect(await passwordChecksDuring(async () => expect((await ogc(header)).statusCode).toBe(200))).toHaveLength(1)
    expect(await passwordChecksDuring(() => ogc(header))).toHaveLength(0)
  })

  it('uses the new role and jurisdiction on the very next request after they change', async () => {
    const u = await freshUser('leader')
    const header = basic(u.username, u.password)
    const items = async () => (await ogc(header, '/ogc/collections/premises/items?limit=1')).json().numberMatched as number
    const districtWide = await items()
    expect(districtWide).toBeGreaterThan(0)
    const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
    const change = await t.app.inject({
      method: 'PATCH', url: `/api/users/${u.id}`, headers: { cookie: admin },
      payload: { role: 'inspector', jurisdiction: { kind: 'town', id: town!.id } },
    })
    expect(change.statusCode).toBe(200)
    const checks = await passwordChecksDuring(async () => {
      const inTown = await items()
      expect(inTown).toBeGreaterThan(0)
      expect(inTown).toBeLessThan(districtWide)
    })
    expect(checks).toHaveLength(1)
    const [row] = await t.db.sql<{ role: string }[]>`select role from app_user where id = ${u.id}`
    expect(row!.role).toBe('inspector')
  })

  it('puts unknown and disabled user names through the same password hash as known ones', async () => {
    const u = await freshUser()
    const off = await freshUser()
    await t.app.inject({ method: 'PATCH', url: `/api/users/${off.id}`, headers: { cookie: admin }, payload: { disabled: true } })
    const known = await passwordChecksDuring(() => ogc(basic(u.username, 'not-it')))
    const unknown = await passwordChecksDuring(() => ogc(basic('nobody-by-this-name', 'not-it')))
    const disabled = await passwordChecksDuring(() => ogc(basic(off.username, 'not-it')))
    const form = await passwordChecksDuring(() => login('nobody-by-that-name', 'not-it'))
    expect(known).toHaveLength(1)
    expect(unknown).toEqual(known)
    expect(disabled).toEqual(known)
    expect(form).toEqual(known)
    const answers = [u.username, 'nobody-by-this-name', off.username].map(name => ogc(basic(name, 'not-it-2')))
    const [a, b, c] = await Promise.all(answers)
    for (const other of [b!, c!]) {
      expect(other.statusCode).toBe(a!.statusCode)
      expect(other.json()).toEqual(a!.json())
    }
  })
})

describe('signed out', () => {
  const anonymous = async (app: typeof t.app, url: string, method: 'GET' | 'POST' = 'GET') => {
    const res = await app.inject({ method, url })
    return { status: res.statusCode, body: res.json() as Record<string, unknown> }
  }

  it('answers an unknown /api path exactly as a real one: 401, with or without the web app served', async () => {
    const webRoot = mkdtempSync(join(tmpdir(), 'grd-web-'))
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>app</title>')
    const withWeb = await buildApp({ db: t.db, keys: testKeys, webRoot })
    try {
      for (const app of [t.app, withWeb]) {
        const real = await anonymous(app, '/api/premises/')
        expect(real.status).toBe(401)
        for (const [url, method] of [['/api/no-such-thing', 'GET'], ['/api/premises/1/no-such-thing', 'GET'], ['/api/users/1/no-such-thing', 'POST'], ['/api', 'GET'], ['/api/', 'GET']] as const) {
          expect(await anonymous(app, url, method), `${method} ${url}`).toEqual(real)
        }
        const ogcPath = await app.inject('/ogc/no-such-thing')
        expect(ogcPath.statusCode).toBe(401)
        expect(ogcPath.headers['www-authenticate']).toMatch(/^Basic /)
      }
      // The web app's own pages stay public.
      expect((await withWeb.inject('/key-areas')).statusCode).toBe(200)
    }
    finally {
      await withWeb.close()
      rmSync(webRoot, { recursive: true, force: true })
    }
  })

  it('answers an unknown /api path 404 once signed in', async () => {
    const res = await t.app.inject({ url: '/api/no-such-thing', headers: { cookie: admin } })
    expect(res.statusCode).toBe(404)
  })

  it('tells the sign-in page who is signed in without refusing anyone and without an audit row', async () => {
    const [before] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from audit_log`
    const nobody = await t.app.inject('/api/auth/session')
    expect(nobody.statusCode).toBe(200)
    expect(nobody.json()).toEqual({ user: null, ended: null })
    expect((await t.app.inject('/api/auth/demo')).statusCode).toBe(200)
    const [after] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from audit_log`
    expect(after!.n).toBe(before!.n)
    const me = await t.app.inject({ url: '/api/auth/session', headers: { cookie: admin } })
    expect(me.json()).toMatchObject({ user: { username: 'admin', role: 'admin' }, ended: null })
  })

  it('tells the sign-in page why a session cookie no longer signs in, and drops the cookie', async () => {
    const cookie = await signIn(t.app, 'analyst')
    await t.db.sql`update user_session set last_seen_at = now() - interval '2 hours' where token_hash = sha256(convert_to(${cookie.split('=')[1]!}, 'UTF8'))`
    const res = await t.app.inject({ url: '/api/auth/session', headers: { cookie } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ user: null, ended: 'session-expired' })
    const cleared = res.cookies.find(c => c.name === 'grd_session')
    expect(cleared?.value).toBe('')
  })
})

describe('revealing a full ID number', () => {
  it('refuses a reason of blanks or punctuation, or of fewer than 4 letters or digits', async () => {
    const commander = await signIn(t.app, 'commander')
    const [r] = await t.db.sql<{ id: number }[]>`
      select r.id from resident r join premises p on p.id = r.premises_id
      where p.town_id = (select jurisdiction_town_id from app_user where username = 'commander') order by r.id limit 1`
    const reveal = (reason: string) => t.app.inject({ method: 'POST', url: `/api/residents/${r!.id}/reveal`, headers: { cookie: commander }, payload: { reason } })
    for (const reason of ['      ', '\t\t\t\t\t', '....', ' - - - ', '!?!?!?', 'ab  ', '核查 ']) {
      const res = await reveal(reason)
      expect(res.statusCode, JSON.stringify(reason)).toBe(400)
      expect(res.json().message).toMatch(/reason|why/)
    }
    const [refused] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'resident.reveal-id' and entity_id = ${String(r!.id)}`
    expect(refused!.n).toBe(0)
    for (const reason of ['核实身份', '  door check  ']) expect((await reveal(reason)).statusCode).toBe(200)
    const reasons = await t.db.sql<{ reason: string }[]>`select reason from audit_log where action = 'resident.reveal-id' and entity_id = ${String(r!.id)} order by id`
    expect(reasons.map(x => x.reason)).toEqual(['核实身份', 'door check'])
  })
})
