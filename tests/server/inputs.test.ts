import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../server/app.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { isRefusalRecord, watchWrites } from '../helpers/fuzz.js'
import { testKeys } from '../helpers/keys.js'

let t: TestApp
let writes: Awaited<ReturnType<typeof watchWrites>>
const cookies: Record<string, string> = {}
const ids = { premises: 0, resident: 0, townId: 0, lon: 0, lat: 0 }

beforeAll(async () => {
  t = await buildTestApp()
  for (const role of ['admin', 'commander', 'analyst', 'inspector']) cookies[role] = await signIn(t.app, role)
  const sql = t.db.sql
  const [town] = await sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
  ids.townId = town!.id
  const [p] = await sql<{ id: number; lon: number; lat: number }[]>`
    select p.id, st_x(p.geom) as lon, st_y(p.geom) as lat from premises p
    where p.town_id = ${ids.townId} and exists (select 1 from resident r where r.premises_id = p.id)
      and st_contains(st_buffer((select geom from admin_area where id = ${ids.townId}), -0.005), p.geom)
    order by p.id limit 1`
  Object.assign(ids, { premises: p!.id, lon: p!.lon, lat: p!.lat })
  ids.resident = (await sql<{ id: number }[]>`select id from resident where premises_id = ${ids.premises} order by id limit 1`)[0]!.id
  writes = await watchWrites(t.db)
})
afterAll(() => t.close())

/** A hazard just found at the premises, so that it can be referred. */
async function freshHazard(): Promise<number> {
  const [h] = await t.db.sql<{ id: number }[]>`
    insert into hazard (premises_id, item_code, severity, status, department_code, found_at, deadline)
    values (${ids.premises}, 'FIRE-06', 'general', 'found', 'fire', now() - interval '1 day', current_date + 10)
    returning id`
  await writes.since()
  return h!.id
}

const square = (half = 0.002): number[][][] => [[
  [ids.lon - half, ids.lat - half], [ids.lon + half, ids.lat - half], [ids.lon + half, ids.lat + half], [ids.lon - half, ids.lat + half], [ids.lon - half, ids.lat - half],
]]
const withHeight = (rings: number[][][]) => rings.map(r => r.map(([x, y]) => [x!, y!, 12]))

interface Call { method: 'GET' | 'POST' | 'PATCH' | 'PUT'; url: string; payload?: unknown; role: string; headers?: Record<string, string> }

/** Sends a request and says what it wrote besides the record of a refusal. */
async function send(c: Call) {
  await writes.since()
  const res = await t.app.inject({
    method: c.method, url: c.url, payload: c.payload as string, headers: { ...(c.role ? { cookie: cookies[c.role]! } : {}), ...c.headers },
  })
  const written = (await writes.since()).filter(w => !isRefusalRecord(w)).map(w => `${w.op} ${w.tab}`)
  return { res, written }
}

describe('a NUL character (\\u0000) in a text field', () => {
  const cases: [string, () => Promise<Call>][] = [
    ['an address', async () => ({ method: 'POST', url: '/api/premises', role: 'inspector', payload: { kind: 'rental', address: '矩阵路\u00001号', location: { lon: ids.lon, lat: ids.lat }, foundOn: '2020-06-01' } })],
    ['a reveal reason', async () => ({ method: 'POST', url: `/api/residents/${ids.resident}/reveal`, role: 'commander', payload: { reason: 'checking\u0000 a ledger' } })],
    ['a login user name', async () => ({ method: 'POST', url: '/api/auth/login', role: '', payload: { username: 'ad\u0000min', password: 'demo1234' } })],
    ['an audit filter', async () => ({ method: 'GET', url: '/api/audit?user=ad%00min', role: 'admin' })],
    ['a report\'s filled-by', async () => ({ method: 'POST', url: '/api/reports/submissions', role: 'commander', payload: { report: 'attachment-3', townId: ids.townId, period: '2020-06-29', filledBy: '张\u0000三' } })],
    ['proposal parameters', async () => ({ method: 'POST', url: '/api/analysis/proposals', role: 'analyst', payload: { geometry: { type: 'Polygon', coordinates: square() }, parameters: { of: 'group-rentals', note: 'x\u0000' } } })],
    ['a key of proposal parameters', async () => ({ method: 'POST', url: '/api/analysis/proposals', role: 'analyst', payload: { geometry: { type: 'Polygon', coordinates: square() }, parameters: { 'o\u0000f': 'group-rentals' } } })],
    ['a user\'s display name', async () => ({ method: 'PATCH', url: '/api/users/2', role: 'admin', payload: { displayName: 'A\u0000B' } })],
    ['a hazard note', async () => ({ method: 'POST', url: `/api/hazards/${await freshHazard()}/refer`, role: 'commander', payload: { note: 'sent\u0000 on' } })],
  ]
  for (const [what, make] of cases) {
    it(`in ${what} is refused with 400 in English and Chinese, and nothing is written`, async () => {
      const { res, written } = await send(await make())
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json()).toMatchObject({ reason: 'nul-character', message: expect.stringContaining('NUL'), messageZh: expect.stringContaining('NUL') })
      expect(written).toEqual([])
    })
  }

  it('in a header or a query parameter is refused before the session is looked up, with the security headers', async () => {
    const header = await send({ method: 'GET', url: '/api/premises/counts', role: 'commander', headers: { 'user-agent': 'x\u0000y' } })
    expect(header.res.statusCode).toBe(400)
    expect(header.res.json().message).toMatch(/^header user-agent contains a NUL/)
    expect(header.res.headers['content-security-policy']).toEqual(expect.any(String))
    const query = await send({ method: 'GET', url: '/ogc/collections/premises/items?f=%00', role: 'commander' })
    expect(query.res.statusCode).toBe(400)
    expect(query.res.json().message).toMatch(/^query parameter f contains a NUL/)
  })

  it('in HTTP Basic credentials counts as wrong credentials and touches no sign-in record', async () => {
    const { res, written } = await send({ method: 'GET', url: '/ogc/collections', role: '', headers: { authorization: `Basic ${Buffer.from('ad\u0000min:demo1234').toString('base64')}` } })
    expect(res.statusCode).toBe(401)
    expect(written).toEqual([])
    expect(await t.db.sql`select 1 from login_throttle where username like ${'ad%'}`).toHaveLength(0)
  })
})

describe('other text that cannot be stored as sent', () => {
  it('refuses a lone surrogate (half of a UTF-16 pair) in a body text', async () => {
    const { res, written } = await send({ method: 'PATCH', url: '/api/users/2', role: 'admin', payload: '{"displayName":"A\\ud800B"}', headers: { 'content-type': 'application/json' } })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ reason: 'invalid-unicode', messageZh: expect.any(String) })
    expect(written).toEqual([])
  })

  it('refuses a body that is not valid UTF-8 instead of storing replacement characters', async () => {
    const before = (await t.db.sql<{ displayName: string }[]>`select display_name from app_user where id = 2`)[0]!.displayName
    const body = Buffer.concat([Buffer.from('{"displayName":"A'), Buffer.from([0xFF, 0xFE]), Buffer.from('B"}')])
    const { res, written } = await send({ method: 'PATCH', url: '/api/users/2', role: 'admin', payload: body, headers: { 'content-type': 'application/json' } })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ reason: 'invalid-utf8', messageZh: expect.any(String) })
    expect(written).toEqual([])
    expect((await t.db.sql<{ displayName: string }[]>`select display_name from app_user where id = 2`)[0]!.displayName).toBe(before)
  })

  it('refuses a NUL in an uploaded ledger\'s address as a problem of its row, and commits nothing', async () => {
    const csv = `台账编号,类型,地址,经度,纬度,发现日期\r\nNUL-1,群租房,矩阵路\u00001号,${ids.lon},${ids.lat},2020-03-01\r\n`
    const up = await t.app.inject({ method: 'POST', url: '/api/imports?kind=premises&fileName=nul.csv', headers: { cookie: cookies.commander!, 'content-type': 'text/csv' }, payload: csv })
    expect(up.statusCode).toBe(201)
    const id = up.json().id as string
    const mapping = { ref: '台账编号', kind: '类型', address: '地址', lon: '经度', lat: '纬度', foundOn: '发现日期' }
    await t.app.inject({ method: 'POST', url: `/api/imports/${id}/commit`, headers: { cookie: cookies.commander! }, payload: { mapping, crs: 'wgs84' } })
    let job = (await t.app.inject({ url: `/api/imports/${id}`, headers: { cookie: cookies.commander! } })).json()
    for (let i = 0; i < 200 && !['validated', 'committed', 'failed'].includes(job.status); i++) {
      await new Promise(r => setTimeout(r, 50))
      job = (await t.app.inject({ url: `/api/imports/${id}`, headers: { cookie: cookies.commander! } })).json()
    }
    expect(job.status).not.toBe('committed')
    expect(job.errors).toEqual([expect.objectContaining({ line: 2, column: '地址', reason: expect.stringContaining('NUL') })])
    expect(await t.db.sql`select 1 from premises where external_ref = 'NUL-1'`).toHaveLength(0)
  })
})

describe('numbers past a column\'s range', () => {
  const cases: [string, Call][] = [
    ['a premises id', { method: 'GET', url: '/api/premises/99999999999999999999', role: 'commander' }],
    ['an OGC offset', { method: 'GET', url: '/ogc/collections/premises/items?offset=99999999999999999999', role: 'commander' }],
    ['an audit page (beforeId)', { method: 'GET', url: '/api/audit?beforeId=99999999999999999999', role: 'admin' }],
    ['a user id one past the largest integer', { method: 'PATCH', url: '/api/users/2147483648', role: 'admin', payload: { displayName: 'X' } }],
    ['a town in the map\'s filter', { method: 'GET', url: '/api/premises/counts?town=99999999999', role: 'commander' }],
    ['a key area id (excludeId)', { method: 'POST', url: '/api/key-areas/preview', role: 'commander', payload: { geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] }, excludeId: 2147483648 } }],
  ]
  for (const [what, call] of cases) {
    it(`in ${what} is refused with 400 in English and Chinese`, async () => {
      const { res, written } = await send(call)
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().messageZh).toEqual(expect.any(String))
      expect(written).toEqual([])
    })
  }

  it('takes the largest integer itself as an id (a record that does not exist)', async () => {
    expect((await send({ method: 'PATCH', url: '/api/users/2147483647', role: 'admin', payload: { displayName: 'X' } })).res.statusCode).toBe(404)
    expect((await send({ method: 'GET', url: '/ogc/collections/premises/items?offset=2147483647', role: 'commander' })).res.json().features).toEqual([])
  })

  it('refuses "1e400", which the schema check turns into Infinity, in a body number', async () => {
    const { res, written } = await send({
      method: 'POST', url: '/api/premises', role: 'inspector',
      payload: { kind: 'rental', address: '矩阵路1号', location: { lon: ids.lon, lat: '1e400' }, foundOn: '2020-06-01' },
    })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ reason: 'not-finite', message: 'body field location.lat must be a finite number', messageZh: expect.any(String) })
    expect(written).toEqual([])
  })
})

describe('bodies the JSON parser refuses', () => {
  it('refuses JSON nested 5,000 levels deep before parsing it', async () => {
    const deep = `{"geometry":{"type":"Polygon","coordinates":${'['.repeat(5000)}${']'.repeat(5000)}}}`
    const { res } = await send({ method: 'POST', url: '/api/key-areas/preview', role: 'commander', payload: deep, headers: { 'content-type': 'application/json' } })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ reason: 'json-too-deep', messageZh: expect.any(String) })
  })

  it('answers text that is not JSON with 400 in English and Chinese', async () => {
    const { res } = await send({ method: 'PATCH', url: '/api/users/2', role: 'admin', payload: '{"displayName":', headers: { 'content-type': 'application/json' } })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ reason: 'invalid-json', messageZh: expect.any(String) })
  })
})

describe('boundaries with heights (Z)', () => {
  it('are refused on proposals, saying coordinates are [longitude, latitude], and no draft is made', async () => {
    const { res, written } = await send({ method: 'POST', url: '/api/analysis/proposals', role: 'analyst', payload: { geometry: { type: 'Polygon', coordinates: withHeight(square()) }, parameters: { of: 'group-rentals', eps: 150, minPoints: 8 } } })
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(/coordinates must be \[longitude, latitude\]/)
    expect(res.json().messageZh).toMatch(/\[经度, 纬度\]/)
    expect(written).toEqual([])
  })

  it('are refused on key areas saved as drafts', async () => {
    const { res, written } = await send({
      method: 'POST', url: '/api/key-areas', role: 'commander',
      payload: { type: 'Feature', geometry: { type: 'MultiPolygon', coordinates: [withHeight(square())] }, properties: { nameZh: '草稿', status: 'draft' } },
    })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ reason: 'invalid-boundary', message: expect.stringMatching(/coordinates must be \[longitude, latitude\]/) })
    expect(written).toEqual([])
  })

  it('are a problem of the boundary in a preview', async () => {
    const { res } = await send({ method: 'POST', url: '/api/key-areas/preview', role: 'commander', payload: { geometry: { type: 'Polygon', coordinates: withHeight(square()) } } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ valid: false, counts: null, problems: [{ message: expect.stringMatching(/point 1 has 3 values/) }] })
  })
})

describe('what the server itself refuses before any route', () => {
  it('answers an address that does not decode, a path part too long and an unknown body type in English and Chinese', async () => {
    const badUrl = await t.app.inject({ url: '/api/premises/%E4%B8', headers: { cookie: cookies.commander! } })
    expect(badUrl.statusCode).toBe(400)
    expect(badUrl.json().messageZh).toEqual(expect.any(String))
    const long = await t.app.inject({ url: `/api/premises/${'9'.repeat(200)}`, headers: { cookie: cookies.commander! } })
    expect(long.statusCode).toBe(414)
    expect(long.json()).toMatchObject({ error: 'URI Too Long', messageZh: expect.any(String) })
    const type = await t.app.inject({ method: 'PATCH', url: '/api/users/2', headers: { cookie: cookies.admin!, 'content-type': 'application/xml' }, payload: '<a/>' })
    expect(type.statusCode).toBe(415)
    expect(type.json()).toMatchObject({ message: 'a body of type "application/xml" is not accepted here', messageZh: expect.any(String) })
  })
})

describe('database refusals (the backstop behind the input checks)', () => {
  let app: FastifyInstance
  beforeAll(async () => {
    app = await buildApp({
      db: t.db, keys: testKeys,
      extraRoutes: async (a) => {
        const q: Record<string, () => Promise<unknown>> = {
          nul: () => t.db.sql`select ${'a\u0000b'}::text`,
          range: () => t.db.sql`select ${'99999999999999999999'}::int`,
          check: () => t.db.sql.begin(tx => tx`update premises set registered_on = found_on - 1 where id = ${ids.premises}`),
          reference: () => t.db.sql.begin(tx => tx`update hazard set department_code = 'nowhere' where id = (select min(id) from hazard)`),
        }
        a.get('/api/test-db/:what', { config: { permission: 'session' } }, async (req) => {
          await q[(req.params as { what: string }).what]!()
          return {}
        })
      },
    })
  })
  afterAll(() => app.close())

  const expected: [string, RegExp][] = [
    ['nul', /cannot be stored/], ['range', /outside the range/], ['check', /^registeredOn cannot be before foundOn$/], ['reference', /^there is no department with department_code "nowhere"$/],
  ]
  for (const [what, message] of expected) {
    it(`answer 400 with our own words for ${what}`, async () => {
      const res = await app.inject({ url: `/api/test-db/${what}`, headers: { cookie: cookies.commander! } })
      expect(res.statusCode).toBe(400)
      expect(res.json().message).toMatch(message)
      expect(res.json().messageZh).toEqual(expect.any(String))
    })
  }
})
