import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { tinyJpeg, uploadPhoto } from '../helpers/photos.js'

/**
 * Offline writes sent again: every write an inspector can queue on the phone carries a client id,
 * and the same write sent a second time (a replayed queue, a retry after a lost answer) writes
 * nothing and answers the record of the first; the id reused for a different write is refused.
 */
let t: TestApp
const cookies: Record<string, string> = {}
let town = 0
let nextPremises = 0

beforeAll(async () => {
  t = await buildTestApp()
  for (const u of ['inspector', 'commander', 'admin']) cookies[u] = await signIn(t.app, u)
  town = (await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'inspector'`)[0]!.id
})
afterAll(() => t.close())

async function premises(): Promise<{ id: number; lon: number; lat: number }> {
  const [p] = await t.db.sql<{ id: number; lon: number; lat: number }[]>`
    select id, st_x(geom) as lon, st_y(geom) as lat from premises where town_id = ${town} and id > ${nextPremises} order by id limit 1`
  nextPremises = p!.id
  return p!
}

const send = (who: string, method: 'POST' | 'PATCH', url: string, payload: Record<string, unknown>) =>
  t.app.inject({ method, url, headers: { cookie: cookies[who]! }, payload })
const count = async (table: 'premises' | 'hazard' | 'hazard_event' | 'audit_log' | 'client_write') =>
  Number((await t.db.sql.unsafe(`select count(*)::int as n from ${table}`))[0]!.n)

async function newHazard(premisesId: number): Promise<number> {
  const res = await send('inspector', 'POST', `/api/premises/${premisesId}/hazards`, { itemCode: 'FIRE-06', severity: 'general' })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id as number
}

describe('premises recorded offline', () => {
  it('a premises created twice with the same client id is stored once and the second answer is the first premises', async () => {
    const p = await premises()
    const clientId = randomUUID()
    const body = { clientId, kind: 'group_rental', address: '离线路 1 号', location: { lon: p.lon + 0.0001, lat: p.lat, crs: 'wgs84' }, foundOn: '2020-05-01', roomsLet: 12 }
    const before = await count('premises')
    const first = await send('inspector', 'POST', '/api/premises', body)
    expect(first.statusCode, first.body).toBe(201)
    const audits = await count('audit_log')
    const again = await send('inspector', 'POST', '/api/premises', { ...body, location: { crs: 'wgs84', lat: p.lat, lon: p.lon + 0.0001 } })
    expect(again.statusCode, again.body).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json().id).toBe(first.json().id)
    expect(again.json().address).toBe('离线路 1 号')
    expect(await count('premises')).toBe(before + 1)
    expect(await count('audit_log')).toBe(audits)
  })

  it('the same client id with a different body is refused with 409 client-id-reused and stores nothing', async () => {
    const p = await premises()
    const clientId = randomUUID()
    const body = { clientId, kind: 'rental', address: '离线路 2 号', location: { lon: p.lon, lat: p.lat + 0.0001, crs: 'wgs84' }, foundOn: '2020-05-01' }
    expect((await send('inspector', 'POST', '/api/premises', body)).statusCode).toBe(201)
    const before = await count('premises')
    const other = await send('inspector', 'POST', '/api/premises', { ...body, address: '离线路 3 号' })
    expect(other.statusCode, other.body).toBe(409)
    expect(other.json().reason).toBe('client-id-reused')
    expect(other.json().messageZh).toBeTruthy()
    expect(await count('premises')).toBe(before)
  })

  it('the same client id sent by another user is refused with 409, not answered with the first user\'s premises', async () => {
    const p = await premises()
    const body = { clientId: randomUUID(), kind: 'rental', address: '离线路 4 号', location: { lon: p.lon, lat: p.lat, crs: 'wgs84' }, foundOn: '2020-05-01' }
    expect((await send('inspector', 'POST', '/api/premises', body)).statusCode).toBe(201)
    const other = await send('commander', 'POST', '/api/premises', body)
    expect(other.statusCode, other.body).toBe(409)
    expect(other.json().reason).toBe('client-id-reused')
  })

  it('a refused write leaves its client id free, so the corrected write may use it', async () => {
    const p = await premises()
    const clientId = randomUUID()
    const body = { clientId, kind: 'rental', address: '离线路 5 号', location: { lon: p.lon, lat: p.lat, crs: 'wgs84' }, foundOn: '2999-01-01' }
    expect((await send('inspector', 'POST', '/api/premises', body)).statusCode).toBe(400)
    expect(await t.db.sql`select 1 from client_write where client_id = ${clientId}`).toHaveLength(0)
    const fixed = await send('inspector', 'POST', '/api/premises', { ...body, foundOn: '2020-05-01' })
    expect(fixed.statusCode, fixed.body).toBe(201)
  })

  it('an edit sent twice changes the premises once and answers it as it stands', async () => {
    const p = await premises()
    const body = { clientId: randomUUID(), roomsLet: 17 }
    const first = await send('inspector', 'PATCH', `/api/premises/${p.id}`, body)
    expect(first.statusCode, first.body).toBe(200)
    const changes = Number((await t.db.sql`select count(*)::int as n from audit_log where action = 'premises.update' and entity_id = ${p.id}`)[0]!.n)
    const again = await send('inspector', 'PATCH', `/api/premises/${p.id}`, body)
    expect(again.statusCode, again.body).toBe(200)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json().roomsLet).toBe(17)
    expect(Number((await t.db.sql`select count(*)::int as n from audit_log where action = 'premises.update' and entity_id = ${p.id}`)[0]!.n)).toBe(changes)
  })

  it('an edit whose expected values somebody else changed meanwhile is refused with 412 premises-changed, naming the field, and changes nothing', async () => {
    const p = await premises()
    const [seen] = await t.db.sql<{ roomsLet: number; occupants: number }[]>`select rooms_let, occupants from premises where id = ${p.id}`
    const desk = await send('commander', 'PATCH', `/api/premises/${p.id}`, { occupants: seen!.occupants + 3 })
    expect(desk.statusCode, desk.body).toBe(200)
    const stale = await send('inspector', 'PATCH', `/api/premises/${p.id}`, {
      clientId: randomUUID(), occupants: seen!.occupants + 1, roomsLet: seen!.roomsLet + 1,
      expected: { occupants: seen!.occupants, roomsLet: seen!.roomsLet },
    })
    expect(stale.statusCode, stale.body).toBe(412)
    expect(stale.json().reason).toBe('premises-changed')
    expect(stale.json().message).toContain('occupants')
    expect(stale.json().message).not.toContain('roomsLet')
    const [now] = await t.db.sql<{ roomsLet: number; occupants: number }[]>`select rooms_let, occupants from premises where id = ${p.id}`
    expect(now).toEqual({ roomsLet: seen!.roomsLet, occupants: seen!.occupants + 3 })
  })

  it('an edit whose expected values still hold is applied', async () => {
    const p = await premises()
    const [seen] = await t.db.sql<{ bedsLet: number }[]>`select beds_let from premises where id = ${p.id}`
    const res = await send('inspector', 'PATCH', `/api/premises/${p.id}`, { clientId: randomUUID(), bedsLet: seen!.bedsLet + 2, expected: { bedsLet: seen!.bedsLet } })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().bedsLet).toBe(seen!.bedsLet + 2)
  })
})

describe('hazards recorded offline', () => {
  it('a hazard created twice with the same client id is stored once and the second answer is the first hazard', async () => {
    const p = await premises()
    const body = { clientId: randomUUID(), itemCode: 'FIRE-06', severity: 'major' }
    const before = await count('hazard')
    const first = await send('inspector', 'POST', `/api/premises/${p.id}/hazards`, body)
    expect(first.statusCode, first.body).toBe(201)
    const again = await send('inspector', 'POST', `/api/premises/${p.id}/hazards`, body)
    expect(again.statusCode, again.body).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json().id).toBe(first.json().id)
    expect(await count('hazard')).toBe(before + 1)
  })

  it('the same hazard client id sent for another premises is refused with 409', async () => {
    const [a, b] = [await premises(), await premises()]
    const body = { clientId: randomUUID(), itemCode: 'FIRE-06', severity: 'general' }
    expect((await send('inspector', 'POST', `/api/premises/${a.id}/hazards`, body)).statusCode).toBe(201)
    const before = await count('hazard')
    const other = await send('inspector', 'POST', `/api/premises/${b.id}/hazards`, body)
    expect(other.statusCode, other.body).toBe(409)
    expect(other.json().reason).toBe('client-id-reused')
    expect(await count('hazard')).toBe(before)
  })

  it('every step (refer, rectify) sent twice is taken once, and the replay answers the hazard as it stands', async () => {
    const p = await premises()
    const id = await newHazard(p.id)
    for (const action of ['refer', 'rectify'] as const) {
      const body = { clientId: randomUUID(), note: `离线${action}` }
      const first = await send('inspector', 'POST', `/api/hazards/${id}/${action}`, body)
      expect(first.statusCode, first.body).toBe(200)
      const events = await count('hazard_event')
      const again = await send('inspector', 'POST', `/api/hazards/${id}/${action}`, body)
      expect(again.statusCode, again.body).toBe(200)
      expect(again.headers['idempotent-replayed']).toBe('true')
      expect(again.json().status).toBe(first.json().status)
      expect(await count('hazard_event')).toBe(events)
    }
  })

  it('a verification sent twice is taken once (after its "after" photo)', async () => {
    const p = await premises()
    const id = await newHazard(p.id)
    expect((await send('inspector', 'POST', `/api/hazards/${id}/rectify`, {})).statusCode).toBe(200)
    const photo = await uploadPhoto(t.app, cookies.inspector!, `hazards/${id}`, tinyJpeg, { stage: 'rectified' })
    expect(photo.statusCode, photo.body).toBe(201)
    const body = { clientId: randomUUID() }
    expect((await send('inspector', 'POST', `/api/hazards/${id}/verify`, body)).statusCode).toBe(200)
    const again = await send('inspector', 'POST', `/api/hazards/${id}/verify`, body)
    expect(again.statusCode, again.body).toBe(200)
    expect(again.json().status).toBe('verified')
  })

  it('a step id reused for another step of the same hazard is refused with 409, not answered as done', async () => {
    const p = await premises()
    const id = await newHazard(p.id)
    const clientId = randomUUID()
    expect((await send('inspector', 'POST', `/api/hazards/${id}/refer`, { clientId })).statusCode).toBe(200)
    const other = await send('inspector', 'POST', `/api/hazards/${id}/rectify`, { clientId })
    expect(other.statusCode, other.body).toBe(409)
    expect(other.json().reason).toBe('client-id-reused')
    expect((await t.db.sql`select status from hazard where id = ${id}`)[0]!.status).toBe('referred')
  })

  it('ten copies of one hazard sent at once store one hazard, and every copy is answered with it', async () => {
    const p = await premises()
    const body = { clientId: randomUUID(), itemCode: 'FIRE-06', severity: 'general' }
    const before = await count('hazard')
    const answers = await Promise.all(Array.from({ length: 10 }, () => send('inspector', 'POST', `/api/premises/${p.id}/hazards`, body)))
    expect(answers.map(a => a.statusCode)).toEqual(Array.from({length: 10}).fill(201))
    expect(new Set(answers.map(a => a.json().id)).size).toBe(1)
    expect(await count('hazard')).toBe(before + 1)
  })

  it('a write without a client id works as before and leaves no client_write row', async () => {
    const p = await premises()
    const before = await count('client_write')
    await newHazard(p.id)
    expect(await count('client_write')).toBe(before)
  })
})
