import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { can, roles } from '../../server/domain/access.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * POST /api/analysis/proposals: a cluster proposed as a key area becomes a draft for the commanders
 * of its town — with bounded parameters, the boundary checks of a drawn key area, no second draft
 * of the same cluster, and seen by nobody else.
 */

let t: TestApp
const cookies: Record<string, string> = {}
/** The commander's town, a point well inside it, another town's id, and a square across its border. */
const at = { townId: 0, inside: [0, 0] as [number, number], otherTownId: 0, other: [0, 0] as [number, number], border: [] as number[][][], central: [0, 0] as [number, number] }

beforeAll(async () => {
  t = await buildTestApp()
  for (const u of ['leader', 'analyst', 'commander', 'inspector', 'bureau', 'admin']) cookies[u] = await signIn(t.app, u)
  const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
  at.townId = town!.id
  const [p] = await t.db.sql<{ lon: number; lat: number }[]>`
    select st_x(p) as lon, st_y(p) as lat from (select st_pointonsurface(st_buffer(geom, -0.01)) as p from admin_area where id = ${at.townId}) s`
  at.inside = [p!.lon, p!.lat]
  // Well inside the district, where a boundary of 6 km across lies inside it.
  const [c] = await t.db.sql<{ lon: number; lat: number }[]>`
    select st_x(p) as lon, st_y(p) as lat from (select st_pointonsurface(st_buffer(geom, -0.04)) as p from admin_area where level = 'district' and valid_to is null) s`
  at.central = [c!.lon, c!.lat]
  const [o] = await t.db.sql<{ id: number; lon: number; lat: number }[]>`
    select id, st_x(p) as lon, st_y(p) as lat from (select id, st_pointonsurface(geom) as p from admin_area where level = 'town' and id <> ${at.townId} order by id limit 1) s`
  at.otherTownId = o!.id
  at.other = [o!.lon, o!.lat]
  // A square on the town's border with another town, mostly inside the town: from the point of the
  // shared border nearest the town's inside, 200 m toward the inside.
  const [b] = await t.db.sql<{ lon: number; lat: number; inLon: number; inLat: number }[]>`
    with t as (select geom from admin_area where id = ${at.townId}),
         shared as (select st_intersection(st_boundary(t.geom), st_boundary(n.geom)) as line
                    from t, admin_area n where n.level = 'town' and n.id <> ${at.townId} and n.valid_to is null and st_touches(t.geom, n.geom)
                    order by st_length(st_intersection(st_boundary(t.geom), st_boundary(n.geom))) desc limit 1),
         e as (select st_pointonsurface(st_collectionextract(line, 2)) as pt from shared)
    select st_x(e.pt) as lon, st_y(e.pt) as lat, st_x(c) as in_lon, st_y(c) as in_lat
    from e, t, lateral (select st_closestpoint(st_buffer(t.geom, -0.003), e.pt) as c) x`
  const dx = b!.inLon - b!.lon
  const dy = b!.inLat - b!.lat
  const len = Math.hypot(dx * 94_500, dy * 110_900)
  at.border = square([b!.lon + (dx / len) * 200, b!.lat + (dy / len) * 200], 400)
})
afterAll(() => t.close())

/** A square of the given half-size in metres around a point, as GeoJSON Polygon coordinates. */
function square([x, y]: [number, number], half: number): number[][][] {
  const dx = half / 94_500
  const dy = half / 110_900
  return [[[x - dx, y - dy], [x + dx, y - dy], [x + dx, y + dy], [x - dx, y + dy], [x - dx, y - dy]]]
}

const parameters = { of: 'group-rentals', eps: 300, minPoints: 5, asOf: '2020-06-29', cluster: 1, points: 12, noise: 3, counts: { points: 12, groupRentals: 12 } }
let shift = 0
/** A square of its own well inside the commander's town: the next cell of a 5 × 5 grid of 330 m cells. */
function freshSquare(): number[][][] {
  const cell = shift++
  if (cell >= 25) throw new Error('the grid of fresh squares is used up')
  return square([at.inside[0] + ((cell % 5) - 2) * 0.0035, at.inside[1] + (Math.floor(cell / 5) - 2) * 0.0035], 120)
}
const propose = (coordinates: unknown, who = 'analyst', extra: Record<string, unknown> = {}, type = 'Polygon') =>
  t.app.inject({ method: 'POST', url: '/api/analysis/proposals', headers: { cookie: cookies[who]! }, payload: { geometry: { type, coordinates }, parameters, ...extra } })
const get = (url: string, who: string) => t.app.inject({ url, headers: { cookie: cookies[who]! } })
const count = async () => (await t.db.sql<{ n: number }[]>`select count(*)::int as n from key_area`)[0]!.n

describe('the parameters a proposal records', () => {
  it.each([
    ['a field that is not the analysis\'s', { ...parameters, note: 'x' }, /\bnote\b/],
    ['eps out of range', { ...parameters, eps: 50_000 }, /\beps\b.*2000/],
    ['minPoints out of range', { ...parameters, minPoints: 1 }, /\bminPoints\b.*2/],
    ['no kind of cluster', { eps: 300, minPoints: 5 }, /\bof\b/],
    ['a negative count', { ...parameters, counts: { points: -1 } }, /\bpoints\b.*0/],
    ['a filter string longer than 500 characters', { ...parameters, filters: { town: Array.from({ length: 200 }, (_, i) => i + 1).join(',') } }, /\btown\b.*500/],
    ['close to a megabyte of arbitrary data', { ...parameters, counts: { ...parameters.counts, blob: 'x'.repeat(900_000) } }, /\bblob\b/],
  ])('refuses %s with 400, storing nothing', async (_, p, message) => {
    const before = await count()
    const res = await propose(freshSquare(), 'analyst', { parameters: p })
    expect(res.statusCode, res.body.slice(0, 200)).toBe(400)
    expect(res.json().message).toMatch(message)
    expect(await count()).toBe(before)
  })

  it('records the analysis with the draft, the map\'s filters included, and the database holds it to a few kilobytes', async () => {
    const filters = { kind: 'group_rental,rental', town: String(at.townId), major: 'true', asOf: '2020-06-29' }
    const res = await propose(freshSquare(), 'analyst', { parameters: { ...parameters, filters } })
    expect(res.statusCode, res.body).toBe(201)
    const [row] = await t.db.sql<{ proposedFrom: Record<string, unknown> }[]>`select proposed_from from key_area where id = ${res.json().keyAreaId}`
    expect(row!.proposedFrom).toEqual({ ...parameters, filters: { ...filters, major: true }, proposedBy: 'analyst' })
    await expect(t.db.sql`update key_area set proposed_from = ${t.db.sql.json({ blob: 'x'.repeat(10_000) })} where id = ${res.json().keyAreaId}`)
      .rejects.toThrow(/key_area_proposed_from_check/)
  })
})

describe('the name a proposal gets without one given', () => {
  it('is the day in the district when proposed between midnight and 08:00 there, not the UTC date', async () => {
    // 23:30 UTC is 07:30 the next day in the district; the latest such instant before now keeps the
    // session (signed in now) valid.
    const now = Date.now()
    let at = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate(), 23, 30)
    if (at > now) at -= 86_400_000
    const utcDate = new Date(at).toISOString().slice(0, 10)
    const districtDay = new Date(at + 86_400_000).toISOString().slice(0, 10)
    vi.useFakeTimers({ toFake: ['Date'], now: at })
    let res: Awaited<ReturnType<typeof propose>>
    try {
      res = await propose(freshSquare())
    }
    finally {
      vi.useRealTimers()
    }
    expect(res.statusCode, res.body).toBe(201)
    const [k] = await t.db.sql<{ nameZh: string }[]>`select name_zh from key_area where id = ${res.json<{ keyAreaId: number }>().keyAreaId}`
    expect(k!.nameZh).toBe(`聚集区建议 ${districtDay}`)
    expect(k!.nameZh).not.toContain(utcDate)
  })
})

describe('the boundary of a proposal', () => {
  const bad: [string, () => unknown, string, RegExp][] = [
    ['a self-intersecting polygon', () => {
      const [x, y] = at.inside
      return [[[x, y], [x + 0.005, y + 0.005], [x + 0.005, y], [x, y + 0.005], [x, y]]]
    }, 'Polygon', /crosses itself at/],
    ['an unclosed ring', () => freshSquare().map(r => r.slice(0, -1)), 'Polygon', /not closed/],
    ['a speck', () => square(at.inside, 5), 'Polygon', /draw the whole key area/],
    ['an area far too large', () => square(at.central, 3000), 'Polygon', /at most 30 km²/],
    ['a point', () => at.inside, 'Point', /Polygon or MultiPolygon, not a Point/],
  ]

  it.each(bad)('is refused like a drawn one when it is %s (400, the same reason)', async (_, coordinates, type, message) => {
    const before = await count()
    const res = await propose(coordinates(), 'analyst', {}, type)
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json()).toMatchObject({ reason: 'invalid-boundary' })
    expect(res.json().message).toMatch(message)
    const preview = await t.app.inject({ method: 'POST', url: '/api/key-areas/preview', headers: { cookie: cookies.bureau! }, payload: { geometry: { type, coordinates: coordinates() } } })
    expect(preview.json().problems.map((p: { message: string }) => p.message)).toContain(res.json().message)
    expect(await count()).toBe(before)
  })

  it('is refused when it lies outside the proposer\'s jurisdiction', async () => {
    const res = await propose(square(at.other, 200), 'commander')
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ reason: 'invalid-boundary', message: 'the area lies entirely outside your jurisdiction' })
  })

  it('keeps only the part inside its town, so that the town\'s commander can list it as it stands', async () => {
    const geojson = JSON.stringify({ type: 'Polygon', coordinates: at.border })
    const towns = await t.db.sql<{ id: number }[]>`
      select id from admin_area where level = 'town' and valid_to is null and st_intersects(geom, st_setsrid(st_geomfromgeojson(${geojson}), 4326))
      order by st_area(st_intersection(geom, st_setsrid(st_geomfromgeojson(${geojson}), 4326))) desc`
    // The square reaches into a neighbouring town and lies mostly in the commander's.
    expect(towns.map(r => r.id)[0]).toBe(at.townId)
    expect(towns.length).toBeGreaterThan(1)
    const res = await propose(at.border)
    expect(res.statusCode, res.body).toBe(201)
    const { keyAreaId, townId } = res.json()
    expect(townId).toBe(at.townId)
    const [k] = await t.db.sql<{ inside: boolean; version: number }[]>`
      select st_covers(st_buffer(t.geom, 0.00001), k.geom) as inside, k.version from key_area k, admin_area t where k.id = ${keyAreaId} and t.id = ${at.townId}`
    expect(k!.inside).toBe(true)
    const draft = (await get(`/api/key-areas/${keyAreaId}`, 'commander')).json()
    const listed = await t.app.inject({
      method: 'PUT', url: `/api/key-areas/${keyAreaId}`, headers: { cookie: cookies.commander!, 'if-match': `"${k!.version}"` },
      payload: { type: 'Feature', geometry: draft.geometry, properties: { nameZh: draft.properties.nameZh, status: 'listed', listedOn: '2020-06-01' } },
    })
    expect(listed.statusCode, listed.body).toBe(200)
  })
})

describe('the same cluster proposed again', () => {
  it('is refused with 409 while the earlier proposal is a draft, by anyone, also when nearly identical', async () => {
    const coords = freshSquare()
    const first = await propose(coords)
    expect(first.statusCode, first.body).toBe(201)
    const again = await propose(coords)
    expect(again.statusCode).toBe(409)
    expect(again.json().reason).toBe('duplicate-proposal')
    expect(again.json().message).toMatch(new RegExp(`already been proposed \\(draft key area #${first.json().keyAreaId}, by analyst at `))
    expect(again.json().messageZh).toMatch(/该聚集区已被建议过/)
    // The same cluster from a run with slightly other filters: its hull moved by a few metres.
    const nudged = coords.map(r => r.map(([x, y]) => [x! + 0.00005, y! + 0.00003]))
    const byLeader = await propose(nudged, 'leader')
    expect(byLeader.statusCode).toBe(409)
    // A neighbouring, different cluster is a proposal of its own.
    const other = await propose(coords.map(r => r.map(([x, y]) => [x! + 0.0025, y!])))
    expect(other.statusCode, other.body).toBe(201)
  })

  it('is a new proposal once the earlier one has been listed', async () => {
    const coords = freshSquare()
    const first = (await propose(coords)).json()
    const draft = (await get(`/api/key-areas/${first.keyAreaId}`, 'commander')).json()
    const listed = await t.app.inject({
      method: 'PUT', url: `/api/key-areas/${first.keyAreaId}`, headers: { cookie: cookies.commander!, 'if-match': '"1"' },
      payload: { type: 'Feature', geometry: draft.geometry, properties: { nameZh: draft.properties.nameZh, status: 'listed', listedOn: '2020-06-01' } },
    })
    expect(listed.statusCode, listed.body).toBe(200)
    const again = await propose(coords)
    expect(again.statusCode, again.body).toBe(201)
    // The proposer (district-wide) may see the listed area, so the warning names it.
    expect(again.json().warnings.map((w: { message: string }) => w.message).join()).toMatch(new RegExp(`#${first.keyAreaId}\\) over 100\\.0%`))
  })

  it('is accepted once when proposed twice at the same moment', async () => {
    const coords = freshSquare()
    const answers = await Promise.all([propose(coords), propose(coords, 'leader')])
    expect(answers.map(a => a.statusCode).sort()).toEqual([201, 409])
  })
})

describe('who sees a proposed draft', () => {
  let keyAreaId = 0
  beforeAll(async () => {
    const res = await propose(freshSquare(), 'analyst', { nameZh: '建议草稿甲' })
    expect(res.statusCode, res.body).toBe(201)
    keyAreaId = res.json().keyAreaId
    expect(res.json().commanderUserId).toBe((await t.db.sql<{ id: number }[]>`select id from app_user where username = 'commander'`)[0]!.id)
  })

  const listed = async (who: string) => (await get('/api/key-areas', who)).json().features.map((f: { id: number }) => f.id) as number[]

  it.each(['commander', 'bureau'])('the %s, who may list it there, finds it in the list and opens it', async (who) => {
    expect(await listed(who)).toContain(keyAreaId)
    const res = await get(`/api/key-areas/${keyAreaId}`, who)
    expect(res.statusCode).toBe(200)
    expect(res.json().properties).toMatchObject({ status: 'draft', nameZh: '建议草稿甲', proposedFrom: { proposedBy: 'analyst' } })
    expect((await get(`/api/key-areas/${keyAreaId}/versions`, who)).statusCode).toBe(200)
    const ogc = (await get('/ogc/collections/key-areas/items?limit=10000', who)).json()
    expect(ogc.features.map((f: { id: number }) => f.id)).toContain(keyAreaId)
  })

  // Every role that may not list key areas; the demo user of each role is named after it.
  it.each(roles.filter(r => !can(r, 'key-areas:write')))('the %s does not: not in the list nor the map\'s OGC layer, and 404 by id (detail, versions, OGC item, attachment 4)', async (who) => {
    expect(await listed(who)).not.toContain(keyAreaId)
    expect((await get(`/api/key-areas/${keyAreaId}`, who)).statusCode).toBe(404)
    expect((await get(`/api/key-areas/${keyAreaId}/versions`, who)).statusCode).toBe(404)
    const ogc = (await get('/ogc/collections/key-areas/items?limit=10000', who)).json()
    expect(ogc.features.map((f: { id: number }) => f.id)).not.toContain(keyAreaId)
    expect((await get(`/ogc/collections/key-areas/items/${keyAreaId}`, who)).statusCode).toBe(404)
    expect((await get(`/api/reports/attachment-4/${keyAreaId}?period=2020-06-29`, who)).statusCode).toBe(404)
  })

  it('nor does the commander of another town, whose drawing over it is not warned of it either', async () => {
    const created = await t.app.inject({
      method: 'POST', url: '/api/users', headers: { cookie: cookies.admin! },
      payload: { username: 'other-commander', displayName: 'Other', role: 'commander', jurisdiction: { kind: 'town', id: at.otherTownId }, password: 'a-long-secret-1' },
    })
    expect(created.statusCode, created.body).toBe(201)
    const other = await signIn(t.app, 'other-commander', 'a-long-secret-1')
    expect((await t.app.inject({ url: `/api/key-areas/${keyAreaId}`, headers: { cookie: other } })).statusCode).toBe(404)
    const list = (await t.app.inject({ url: '/api/key-areas', headers: { cookie: other } })).json()
    expect(list.features.map((f: { id: number }) => f.id)).not.toContain(keyAreaId)
    const [k] = await t.db.sql<{ geometry: string }[]>`select st_asgeojson(geom) as geometry from key_area where id = ${keyAreaId}`
    const preview = (await t.app.inject({ method: 'POST', url: '/api/key-areas/preview', headers: { cookie: other }, payload: { geometry: JSON.parse(k!.geometry) } })).json()
    // Listed areas of the town there are announced without id or name; the draft not at all.
    const [{ n }] = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from key_area o, key_area k where k.id = ${keyAreaId} and o.id <> k.id and o.deleted_at is null
        and o.status <> 'draft' and st_intersects(o.geom, k.geom)` as unknown as [{ n: number }]
    expect(preview.warnings.map((w: { message: string }) => w.message)).toEqual(n ? [expect.stringMatching(/^\d+\.\d% of this area overlaps key areas outside your jurisdiction$/)] : [])
  })
})
