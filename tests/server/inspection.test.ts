import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromWgs84 } from '../../server/domain/coords.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { factory } from '../helpers/factory.js'
import { insertAfterPhoto } from '../helpers/photos.js'

let t: TestApp
let inspector: string
let leader: string
/** A point inside the inspector's town, and one in another town. */
const at = { inside: { lon: 0, lat: 0 }, outside: { lon: 0, lat: 0 } }

beforeAll(async () => {
  t = await buildTestApp()
  inspector = await signIn(t.app, 'inspector')
  leader = await signIn(t.app, 'leader')
  const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'inspector'`
  const [inside] = await t.db.sql<{ lon: number; lat: number }[]>`
    select st_x(p) as lon, st_y(p) as lat from (select st_pointonsurface(geom) as p from admin_area where id = ${town!.id}) s`
  const [outside] = await t.db.sql<{ lon: number; lat: number }[]>`
    select st_x(p) as lon, st_y(p) as lat from (select st_pointonsurface(geom) as p from admin_area where level = 'town' and id <> ${town!.id} order by id limit 1) s`
  at.inside = inside!
  at.outside = outside!
})
afterAll(() => t.close())

const post = (url: string, payload: unknown, cookie = inspector) =>
  t.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers: { cookie } })
const patch = (url: string, payload: unknown, cookie = inspector) =>
  t.app.inject({ method: 'PATCH', url, payload: payload as Record<string, unknown>, headers: { cookie } })

async function newPremises(extra: Record<string, unknown> = {}) {
  const res = await post('/api/premises', {
    kind: 'group_rental', address: '测试路8号', location: { ...at.inside, crs: 'wgs84' },
    roomsLet: 12, bedsLet: 14, occupants: 13, ownerName: '测试房东', ownerPhone: '13900000000', foundOn: '2020-05-01', ...extra,
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: number; townId: number; lon: number; lat: number; meetsRule: boolean; ownerName: string }
}

async function newHazard(premisesId: number, body: Record<string, unknown> = {}) {
  const res = await post(`/api/premises/${premisesId}/hazards`, { itemCode: 'FIRE-06', severity: 'major', deadline: '2099-12-31', ...body })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: number; status: string; departmentCode: string }
}

describe('recording premises', () => {
  it('places premises by WGS-84 coordinates, assigns its areas and evaluates the group-rental rule', async () => {
    const p = await newPremises()
    expect(p.meetsRule).toBe(true)
    expect(p.lon).toBeCloseTo(at.inside.lon, 7)
    const [row] = await t.db.sql<{ townId: number; communityId: number | null; policeStationId: number | null }[]>`
      select town_id, community_id, police_station_id from premises where id = ${p.id}`
    expect(row!.communityId).not.toBeNull()
    expect(row!.policeStationId).not.toBeNull()
  })

  it.each(['gcj02', 'bd09'] as const)('converts %s coordinates from Chinese map apps to WGS-84 before storing them', async (crs) => {
    const [x, y] = fromWgs84(at.inside.lon, at.inside.lat, crs)
    // The shift is hundreds of metres: storing the raw numbers would misplace the premises.
    expect(Math.hypot(x - at.inside.lon, y - at.inside.lat)).toBeGreaterThan(0.002)
    const p = await newPremises({ location: { lon: x, lat: y, crs } })
    expect(Math.abs(p.lon - at.inside.lon)).toBeLessThan(1e-5)
    expect(Math.abs(p.lat - at.inside.lat)).toBeLessThan(1e-5)
  })

  it('refuses premises outside the user\'s jurisdiction or outside the district, storing neither', async () => {
    const [{ n: before }] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from premises` as unknown as [{ n: number }]
    const out = await post('/api/premises', { kind: 'rental', address: 'x', location: { ...at.outside, crs: 'wgs84' }, foundOn: '2020-05-01' })
    expect(out.statusCode).toBe(403)
    expect(out.json().message).toMatch(/outside your jurisdiction/)
    expect(out.json().messageZh).toMatch(/该位置不在您的辖区内/)
    const far = await post('/api/premises', { kind: 'rental', address: 'x', location: { lon: 116.4, lat: 39.9, crs: 'wgs84' }, foundOn: '2020-05-01' })
    expect(far.statusCode).toBe(400)
    expect(far.json().message).toMatch(/outside every town or street of the district/)
    expect(far.json().messageZh).toBe('位置（116.400000, 39.900000）不在本区任何镇（街道）内')
    const [{ n: after }] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from premises` as unknown as [{ n: number }]
    expect(after).toBe(before)
  })

  it.each([
    [{ kind: 'castle' }, /kind/],
    [{ location: { lon: 200, lat: 31, crs: 'wgs84' } }, /lon must be <= 180/],
    [{ location: { lon: 119.9, lat: 31.9, crs: 'mars' } }, /crs/],
    [{ foundOn: '2020-02-30' }, /not a real calendar date/],
    [{ foundOn: '2999-01-01' }, /in the future/],
    [{ registeredOn: '2020-01-01' }, /registeredOn cannot be before foundOn/],
    [{ occupants: -1 }, /occupants must be >= 0/],
    [{ ownerPhone: 'call me' }, /ownerPhone has the wrong form/],
  ])('refuses bad input %j with 400 and a reason', async (bad, message) => {
    const res = await post('/api/premises', { kind: 'rental', address: '测试', location: { ...at.inside, crs: 'wgs84' }, foundOn: '2020-05-01', ...bad })
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(message)
  })

  it('changes facts and location, auditing before and after without copying personal data', async () => {
    const p = await newPremises()
    const res = await patch(`/api/premises/${p.id}`, { occupants: 4, roomsLet: 2, bedsLet: 4, ownerPhone: '13911111111' })
    expect(res.statusCode).toBe(200)
    expect(res.json().meetsRule).toBe(false)
    const [a] = await t.db.sql<{ before: Record<string, unknown>; after: Record<string, unknown>; username: string }[]>`
      select before, after, username from audit_log where action = 'premises.update' and entity_id = ${String(p.id)}`
    expect(a!.username).toBe('inspector')
    expect(a!.before.occupants).toBe(13)
    expect(a!.after.occupants).toBe(4)
    expect(JSON.stringify(a)).not.toContain('13911111111')
    expect(a!.after.ownerPhone).toBe('(set)')
    expect((await patch(`/api/premises/${p.id}`, { location: { ...at.outside, crs: 'wgs84' } })).statusCode).toBe(403)
    const [still] = await t.db.sql<{ lon: number }[]>`select st_x(geom) as lon from premises where id = ${p.id}`
    expect(still!.lon).toBeCloseTo(at.inside.lon, 7)
  })

  it('is refused to leaders (read-only) with 403', async () => {
    const res = await post('/api/premises', { kind: 'rental', address: 'x', location: { ...at.inside, crs: 'wgs84' }, foundOn: '2020-05-01' }, leader)
    expect(res.statusCode).toBe(403)
  })
})

describe('the hazard workflow', () => {
  it('records a hazard from the dictionary, referred to the dictionary\'s department by default', async () => {
    const p = await newPremises()
    const h = await newHazard(p.id, { itemCode: 'HOUSING-05', severity: 'general' })
    expect(h.status).toBe('found')
    expect(h.departmentCode).toBe('urban_management')
    const referred = await post(`/api/hazards/${h.id}/refer`, { note: '已通报城管' })
    expect(referred.statusCode).toBe(200)
    expect(referred.json()).toMatchObject({ status: 'referred', departmentCode: 'urban_management' })
    expect(referred.json().referredAt).toBeTruthy()
  })

  it('goes found → referred → rectified → verified, timestamped, with the history and the map status following', async () => {
    const p = await newPremises()
    const h = await newHazard(p.id)
    const status = async () => (await t.db.sql<{ s: string }[]>`
      select hazard_status(hazard_count, open_count, open_major_count, open_min_deadline, current_date) as s from premises where id = ${p.id}`)[0]!.s
    expect(await status()).toBe('open_major')
    for (const [action, next] of [['refer', 'referred'], ['rectify', 'rectified'], ['verify', 'verified']] as const) {
      // The campaign verifies a rectification only with an "after" photo of it.
      if (action === 'verify') await insertAfterPhoto(t.db.sql, h.id)
      const res = await post(`/api/hazards/${h.id}/${action}`, {})
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().status).toBe(next)
    }
    expect(await status()).toBe('rectified')
    const list = (await t.app.inject({ url: `/api/premises/${p.id}/hazards`, headers: { cookie: leader } })).json()
    const events = list.find((x: { id: number }) => x.id === h.id).events.map((e: { status: string; username: string }) => [e.status, e.username])
    expect(events).toEqual([['found', 'inspector'], ['referred', 'inspector'], ['rectified', 'inspector'], ['verified', 'inspector']])
    const audit = await t.db.sql<{ action: string }[]>`select action from audit_log where entity = 'hazard' and entity_id = ${String(h.id)} order by id`
    expect(audit.map(a => a.action)).toEqual(['hazard.create', 'hazard.refer', 'hazard.rectify', 'hazard.verify'])
  })

  it('lets the police rectify their own hazard without referring it', async () => {
    const p = await newPremises()
    const h = await newHazard(p.id, { itemCode: 'PS-01', severity: 'general' })
    expect((await post(`/api/hazards/${h.id}/rectify`, {})).json().status).toBe('rectified')
  })

  it.each([
    ['found', 'verify', /Only a rectified hazard can be verified/],
    ['referred', 'refer', /already been referred/],
    ['referred', 'verify', /Only a rectified hazard can be verified/],
    ['rectified', 'refer', /already rectified/],
    ['rectified', 'rectify', /already marked rectified/],
    ['verified', 'refer', /nothing more can be done/],
    ['verified', 'rectify', /nothing more can be done/],
    ['verified', 'verify', /already been verified/],
  ] as const)('refuses to %s → %s with 409 and says why, changing nothing', async (state, action, message) => {
    const p = await newPremises()
    const h = await newHazard(p.id)
    const path = { found: [], referred: ['refer'], rectified: ['refer', 'rectify'], verified: ['refer', 'rectify', 'verify'] }[state]
    for (const step of path) {
      if (step === 'verify') await insertAfterPhoto(t.db.sql, h.id)
      expect((await post(`/api/hazards/${h.id}/${step}`, {})).statusCode).toBe(200)
    }
    const before = await t.db.sql`select * from hazard where id = ${h.id}`
    const events = await t.db.sql`select count(*)::int as n from hazard_event where hazard_id = ${h.id}`
    const res = await post(`/api/hazards/${h.id}/${action}`, {})
    expect(res.statusCode).toBe(409)
    expect(res.json().message).toMatch(message)
    expect(res.json().messageZh).toMatch(/^此隐患|^只有已整改的隐患才能验收/)
    expect(await t.db.sql`select * from hazard where id = ${h.id}`).toEqual(before)
    expect(await t.db.sql`select count(*)::int as n from hazard_event where hazard_id = ${h.id}`).toEqual(events)
  })

  it.each([
    [{ itemCode: 'FIRE-99' }, 400, /not an item of the hazard dictionary/],
    [{ itemCode: 'FIRE-13' }, 400, /needs a description/],
    [{ itemCode: 'FIRE-06', otherText: 'x' }, 400, /takes no free text/],
    [{ itemCode: 'fire06' }, 400, /itemCode has the wrong form/],
    [{ severity: 'huge' }, 400, /severity/],
    [{ deadline: '2019-01-01' }, 400, /cannot be before the hazard was found/],
    [{ departmentCode: 'nasa' }, 400, /not a department/],
    [{ foundAt: '2999-01-01T00:00:00Z' }, 400, /cannot be in the future/],
  ])('refuses a hazard %j with a reason', async (bad, status, message) => {
    const p = await newPremises()
    const res = await post(`/api/premises/${p.id}/hazards`, { itemCode: 'FIRE-06', severity: 'general', ...bad })
    expect(res.statusCode).toBe(status)
    expect(res.json().message).toMatch(message)
    const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from hazard where premises_id = ${p.id}`
    expect(n!.n).toBe(0)
  })

  it('accepts an "other" hazard with its description, and a step time given for a paper ledger entry', async () => {
    const p = await newPremises()
    const h = await newHazard(p.id, { itemCode: 'OTHER-01', otherText: '楼道照明损坏', severity: 'general', foundAt: '2020-06-01T10:00:00+08:00', deadline: '2020-06-30' })
    const early = await post(`/api/hazards/${h.id}/rectify`, { at: '2020-05-01T10:00:00+08:00' })
    expect(early.statusCode).toBe(400)
    expect(early.json().message).toMatch(/before the previous step/)
    const ok = await post(`/api/hazards/${h.id}/rectify`, { at: '2020-06-20T10:00:00+08:00', note: '已更换灯具' })
    expect(ok.json().rectifiedAt).toBe('2020-06-20T02:00:00.000Z')
    const [e] = await t.db.sql<{ note: string }[]>`select note from hazard_event where hazard_id = ${h.id} and status = 'rectified'`
    expect(e!.note).toBe('已更换灯具')
  })

  it('sets a deadline on an open hazard only', async () => {
    const p = await newPremises()
    const h = await newHazard(p.id)
    expect((await patch(`/api/hazards/${h.id}`, { deadline: '2099-06-30' })).json().deadline).toBe('2099-06-30')
    await post(`/api/hazards/${h.id}/rectify`, {})
    expect((await patch(`/api/hazards/${h.id}`, { deadline: '2099-07-30' })).statusCode).toBe(409)
  })

  it('answers 404 to every step and edit of a hazard outside the jurisdiction, and changes nothing', async () => {
    // A hazard just found in a town of its own, which the inspector's jurisdiction does not reach.
    const f = factory(t.db)
    const town = await f.town()
    const h = await f.hazard({ premises: await f.premises({ town }), status: 'found' })
    for (const [url, send] of [['refer', post], ['rectify', post], ['verify', post], ['', patch]] as const) {
      const res = await send(`/api/hazards/${h.id}${url ? `/${url}` : ''}`, url ? {} : { deadline: '2099-01-31' })
      expect(res.statusCode, url || 'PATCH').toBe(404)
    }
    const [row] = await t.db.sql<{ status: string; deadline: string }[]>`select status, deadline from hazard where id = ${h.id}`
    expect(row).toEqual({ status: 'found', deadline: '2020-04-30' })
  })
})
