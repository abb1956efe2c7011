import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * Saved views: a user's own, listed for them; shared ones listed for everyone but changed only by
 * their owner; one name per user and page; every write audited.
 */
let t: TestApp
let leader: string
let analyst: string

beforeAll(async () => {
  t = await buildTestApp()
  leader = await signIn(t.app, 'leader')
  analyst = await signIn(t.app, 'analyst')
})
afterAll(() => t.close())

const send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, cookie: string, payload?: Record<string, unknown>) =>
  t.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) })

const fire = { name: '东片消防', page: 'dashboard', query: { category: 'fire', town: '3', at: '119.95,31.9,12.5' } }

describe('saved views', () => {
  it('saves a view with its filters and map position, lists it for its owner only, and audits the save', async () => {
    const res = await send('POST', '/api/views', leader, fire)
    expect(res.statusCode, res.body).toBe(201)
    const view = res.json()
    expect(view).toMatchObject({ name: '东片消防', page: 'dashboard', query: fire.query, shared: false, mine: true })
    const mine = (await send('GET', '/api/views?page=dashboard', leader)).json() as { id: number }[]
    expect(mine.map(v => v.id)).toContain(view.id)
    const theirs = (await send('GET', '/api/views', analyst)).json() as { id: number }[]
    expect(theirs.map(v => v.id)).not.toContain(view.id)
    const [audit] = await t.db.sql<{ action: string; username: string }[]>`
      select action, username from audit_log where entity = 'saved_view' and entity_id = ${String(view.id)} order by id`
    expect(audit).toEqual({ action: 'view.create', username: 'leader' })
  })

  it('lists a shared view for other users, who can neither change nor delete it', async () => {
    const view = (await send('POST', '/api/views', leader, { ...fire, name: '全区会商', shared: true })).json()
    const theirs = (await send('GET', '/api/views?page=dashboard', analyst)).json() as { id: number; mine: boolean; owner: string }[]
    const seen = theirs.find(v => v.id === view.id)
    expect(seen).toMatchObject({ mine: false })
    expect(seen!.owner.length).toBeGreaterThan(0)
    expect((await send('PATCH', `/api/views/${view.id}`, analyst, { name: 'mine now' })).statusCode).toBe(404)
    expect((await send('DELETE', `/api/views/${view.id}`, analyst)).statusCode).toBe(404)
    const still = (await send('GET', '/api/views', leader)).json() as { id: number; name: string }[]
    expect(still.find(v => v.id === view.id)?.name).toBe('全区会商')
  })

  it('refuses a second view of the same page under the same name (ignoring case and spaces) with a reason code', async () => {
    await send('POST', '/api/views', analyst, { name: 'Overdue', page: 'map', query: { overdue: 'true' } })
    const res = await send('POST', '/api/views', analyst, { name: ' overdue ', page: 'map', query: {} })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ reason: 'view-name-taken' })
    expect(res.json().messageZh).toBeTruthy()
    // The same name on the other page is another view.
    expect((await send('POST', '/api/views', analyst, { name: 'Overdue', page: 'dashboard', query: {} })).statusCode).toBe(201)
  })

  it('renames, shares and deletes the owner\'s view, auditing each change with before and after', async () => {
    const view = (await send('POST', '/api/views', analyst, { name: 'draft', page: 'map', query: { kind: 'rental' } })).json()
    const patched = await send('PATCH', `/api/views/${view.id}`, analyst, { name: 'rentals', shared: true, query: { kind: 'rental', at: '120,31.9,14' } })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(patched.json()).toMatchObject({ name: 'rentals', shared: true, query: { kind: 'rental', at: '120,31.9,14' } })
    expect((await send('DELETE', `/api/views/${view.id}`, analyst)).statusCode).toBe(204)
    expect(((await send('GET', '/api/views', analyst)).json() as { id: number }[]).map(v => v.id)).not.toContain(view.id)
    const rows = await t.db.sql<{ action: string; before: { shared: boolean } | null; after: { shared: boolean } | null }[]>`
      select action, before, after from audit_log where entity = 'saved_view' and entity_id = ${String(view.id)} order by id`
    expect(rows.map(r => r.action)).toEqual(['view.create', 'view.update', 'view.delete'])
    expect([rows[1]!.before!.shared, rows[1]!.after!.shared]).toEqual([false, true])
  })

  it('names the view and who saved it in the audit trail, for people reading it', async () => {
    const view = (await send('POST', '/api/views', leader, { ...fire, name: '审计可读' })).json()
    const admin = await signIn(t.app, 'admin')
    const rows = (await send('GET', `/api/audit?entity=saved_view&entityId=${view.id}&limit=5`, admin)).json() as { action: string; userName: string; recordName: string }[]
    const [u] = await t.db.sql<{ displayName: string }[]>`select display_name from app_user where username = 'leader'`
    expect(rows[0]).toMatchObject({ action: 'view.create', userName: u!.displayName, recordName: '审计可读' })
  })

  it('refuses a view with no name, an unknown page or query names that are not words', async () => {
    expect((await send('POST', '/api/views', leader, { ...fire, name: '   ' })).statusCode).toBe(400)
    expect((await send('POST', '/api/views', leader, { ...fire, name: 'x', page: 'admin' })).statusCode).toBe(400)
    expect((await send('POST', '/api/views', leader, { ...fire, name: 'y', query: { 'a-b': '1' } })).statusCode).toBe(400)
  })
})
