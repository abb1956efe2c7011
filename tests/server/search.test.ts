import type { PendingQuery, Row } from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decryptIdNumber } from '../../server/domain/pii.js'
import type { SearchAnswer, SearchResult } from '../../server/schemas/search.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { testKeys } from '../helpers/keys.js'

let t: TestApp
const cookies: Record<string, string> = {}
let town = 0
let station = 0

beforeAll(async () => {
  t = await buildTestApp()
  for (const u of ['inspector', 'commander', 'leader', 'analyst', 'admin', 'bureau']) cookies[u] = await signIn(t.app, u)
  town = (await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'inspector'`)[0]!.id
  // A police-station inspector: the station with most premises in the inspector's town, which also serves other towns.
  station = (await t.db.sql<{ id: number }[]>`
    select police_station_id as id from premises where town_id = ${town} and police_station_id is not null
      and police_station_id in (select police_station_id from premises where town_id <> ${town})
    group by 1 order by count(*) desc limit 1`)[0]!.id
  const res = await t.app.inject({
    method: 'POST', url: '/api/users', headers: { cookie: cookies.admin! },
    payload: { username: 'search.station', displayName: '派出所搜索', role: 'inspector', jurisdiction: { kind: 'police_station', id: station }, password: 'station-password' },
  })
  expect(res.statusCode, res.body).toBe(201)
  cookies.station = await signIn(t.app, 'search.station', 'station-password')
})
afterAll(() => t.close())

async function get(q: string, user: string, limit = 50) {
  return t.app.inject({ url: `/api/search?${new URLSearchParams({ q, limit: String(limit) })}`, headers: { cookie: cookies[user]! } })
}
async function post(q: string, user: string, limit = 50) {
  return t.app.inject({ method: 'POST', url: '/api/search', payload: { q, limit }, headers: { cookie: cookies[user]! } })
}
async function search(q: string, user: string, limit = 50): Promise<SearchAnswer> {
  const res = await get(q, user, limit)
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}
const premisesIds = (a: SearchAnswer) => a.results.filter(r => r.kind === 'premises').map(r => r.id).sort((x, y) => x - y)

/**
 * A fragment of `chars` Chinese characters taken from the addresses of the inspector's town, and
 * the premises of the town whose address holds it (counted from the rows), between 2 and 30 of them.
 */
async function fragment(chars: number): Promise<{ text: string; ids: number[] }> {
  const rows = await t.db.sql<{ address: string }[]>`select address from premises where town_id = ${town} order by id`
  const seen = new Set<string>()
  for (const { address } of rows) {
    const cs = [...address]
    for (let i = 0; i + chars <= cs.length; i++) {
      const text = cs.slice(i, i + chars).join('')
      if (!/^\p{Script=Han}+$/u.test(text) || seen.has(text)) continue
      seen.add(text)
      const ids = (await t.db.sql<{ id: number }[]>`select id from premises where town_id = ${town} and strpos(address, ${text}) > 0 order by id`).map(r => r.id)
      if (ids.length >= 2 && ids.length <= 30) return { text, ids }
    }
  }
  throw new Error(`no fragment of ${chars} characters matches 2 to 30 premises`)
}

describe('searching addresses', () => {
  it.each([2, 3])('finds every premises of the jurisdiction whose address holds a fragment of %i Chinese characters, and no other', async (chars) => {
    const { text, ids } = await fragment(chars)
    const answer = await search(text, 'inspector')
    expect(answer.truncated).toBe(false)
    expect(premisesIds(answer)).toEqual(ids)
    for (const r of answer.results.filter(x => x.kind === 'premises')) {
      expect(r.label).toContain(text)
      expect(r.matched).toBe('address')
      expect(r.premisesId).toBe(r.id)
    }
  })

  it('has the bigram index serve a two-character fragment (the plan reads premises_search_bigrams_idx)', async () => {
    const { text } = await fragment(2)
    const plan = await t.db.sql.begin(async (tx) => {
      await tx`set local enable_seqscan = off`
      return tx<Record<string, string>[]>`
        explain select id from premises p
        where premises_search_bigrams(p.address, p.external_ref) @> search_bigrams(${text}) and p.address ilike ${`%${text}%`}`
    })
    expect(plan.map(r => Object.values(r).join('')).join('\n')).toContain('premises_search_bigrams_idx')
  })

  it('finds an address by several terms typed with blanks between them, each anywhere in it', async () => {
    const [p] = await t.db.sql<{ id: number; address: string }[]>`select id, address from premises where town_id = ${town} and address ~ '号' order by id limit 1`
    const [, road, number] = /^(.*?路|.*?街|.*?道)(\d+号)/.exec(p!.address) ?? []
    expect(road, p!.address).toBeTruthy()
    const answer = await search(`${road!.slice(-3)} ${number}`, 'inspector')
    expect(premisesIds(answer)).toContain(p!.id)
    for (const r of answer.results.filter(x => x.kind === 'premises')) {
      expect(r.label).toContain(road!.slice(-3))
      expect(r.label).toContain(number!)
    }
  })

  it('ranks the premises whose address is exactly the text first', async () => {
    const [p] = await t.db.sql<{ id: number; address: string }[]>`select id, address from premises where town_id = ${town} order by id limit 1`
    const answer = await search(p!.address, 'inspector')
    expect(answer.results[0]).toMatchObject({ kind: 'premises', id: p!.id, label: p!.address })
    expect(answer.results[0]!.score).toBeGreaterThanOrEqual(100)
  })

  it('finds premises by part of a ledger ref, and by the whole ref first', async () => {
    const [p] = await t.db.sql<{ id: number }[]>`select id from premises where town_id = ${town} order by id desc limit 1`
    await t.db.owner`update premises set external_ref = 'SJ-2020-04711' where id = ${p!.id}`
    const part = await search('2020-047', 'inspector')
    expect(part.results.find(r => r.id === p!.id)).toMatchObject({ kind: 'premises', matched: 'ledger_ref', ledgerRef: 'SJ-2020-04711' })
    const whole = await search('sj-2020-04711', 'inspector')
    expect(whole.results[0]).toMatchObject({ kind: 'premises', id: p!.id, matched: 'ledger_ref' })
  })

  it('takes % _ and \\ in the text literally', async () => {
    for (const q of ['%%', '__', '\\\\', '%路']) expect((await search(q, 'leader')).results).toEqual([])
  })

  it('refuses a text with nothing of two characters to look for, saying so', async () => {
    const res = await get('a b', 'inspector')
    expect(res.statusCode).toBe(400)
    expect(res.json().reason).toBe('search-too-short')
    expect((await get('x', 'inspector')).statusCode).toBe(400)
  })
})

describe('searching areas', () => {
  it('finds a community of the jurisdiction by part of its name, with its extent, and not one of another town', async () => {
    const [mine] = await t.db.sql<{ id: number; nameZh: string }[]>`select id, name_zh from admin_area where level = 'community' and parent_id = ${town} order by code limit 1`
    const found = (await search(mine!.nameZh.slice(0, 3), 'inspector')).results.find(r => r.kind === 'community' && r.id === mine!.id)
    expect(found).toMatchObject({ label: mine!.nameZh, matched: 'name' })
    expect(found!.bbox).toHaveLength(4)
    const [other] = await t.db.sql<{ id: number; nameZh: string }[]>`select id, name_zh from admin_area where level = 'community' and parent_id <> ${town} order by code limit 1`
    expect((await search(other!.nameZh, 'inspector')).results.some(r => r.kind === 'community' && r.id === other!.id)).toBe(false)
    expect((await search(other!.nameZh, 'leader')).results.some(r => r.kind === 'community' && r.id === other!.id)).toBe(true)
  })

  it('finds key areas by name within the jurisdiction only, drafts only for commanders', async () => {
    const [k] = await t.db.owner<{ id: number }[]>`
      insert into key_area (campaign_id, name_zh, town_id, status, geom)
      select (select id from campaign limit 1), '搜索测试草稿片区', ${town}, 'draft', st_multi(st_buffer(st_centroid(geom), 0.002)) from admin_area where id = ${town}
      returning id`
    const has = async (user: string) => (await search('搜索测试草稿', user)).results.some(r => r.kind === 'key_area' && r.id === k!.id)
    expect(await has('commander')).toBe(true)
    expect(await has('inspector')).toBe(false)
    expect(await has('leader')).toBe(false)
    await t.db.owner`update key_area set status = 'listed', listed_on = '2020-03-01' where id = ${k!.id}`
    expect(await has('inspector')).toBe(true)
    expect(await has('leader')).toBe(true)
    const [other] = await t.db.sql<{ id: number }[]>`select id from admin_area where level = 'town' and id <> ${town} order by id limit 1`
    await t.db.owner`update key_area set town_id = ${other!.id} where id = ${k!.id}`
    expect(await has('inspector')).toBe(false)
  })
})

describe('jurisdiction', () => {
  it('gives a town inspector, a police-station inspector and a district user exactly the premises of their jurisdiction that match', async () => {
    // A road name: its premises lie in several towns and in and out of the police station's area.
    const [frag] = await t.db.sql<{ f: string }[]>`
      select substring(address from '[^社区村]{2}路') as f from premises where address ~ '[^社区村]{2}路' group by 1
      having count(distinct town_id) > 1 and count(*) filter (where town_id = ${town}) > 0
         and count(*) filter (where police_station_id = ${station}) > 0 and count(*) filter (where police_station_id <> ${station}) > 0
         and count(*) <= 50
      order by count(*), 1 limit 1`
    const text = frag!.f
    const expected = async (where: PendingQuery<Row[]>) =>
      (await t.db.sql<{ id: number }[]>`select id from premises p where strpos(address, ${text}) > 0 and ${where} order by id`).map(r => r.id)
    expect(premisesIds(await search(text, 'inspector'))).toEqual(await expected(t.db.sql`p.town_id = ${town}`))
    expect(premisesIds(await search(text, 'station'))).toEqual(await expected(t.db.sql`p.police_station_id = ${station}`))
    expect(premisesIds(await search(text, 'leader'))).toEqual(await expected(t.db.sql`true`))
  })
})

describe('people', () => {
  /** A premises of the inspector's town with an owner and a resident. */
  async function household() {
    const [p] = await t.db.sql<{ id: number; ownerName: string; ownerPhone: string; residentId: number; residentName: string; residentPhone: string; cipher: Uint8Array }[]>`
      select p.id, p.owner_name, p.owner_phone, r.id as resident_id, r.name as resident_name, r.phone as resident_phone, r.id_number_cipher as cipher
      from premises p join resident r on r.premises_id = p.id
      where p.town_id = ${town} and p.owner_name is not null and p.owner_phone is not null and r.phone is not null
      order by p.id, r.id limit 1`
    return { ...p!, idNumber: decryptIdNumber(testKeys, p!.cipher) }
  }

  it('finds owners and residents by the beginning of their name, with phones, for inspectors and commanders', async () => {
    const h = await household()
    for (const user of ['inspector', 'commander']) {
      const owner = (await search(h.ownerName, user)).results.find(r => r.kind === 'owner' && r.id === h.id)
      expect(owner).toMatchObject({ label: h.ownerName, phone: h.ownerPhone, premisesId: h.id, matched: 'name' })
      const resident = (await search(h.residentName, user)).results.find(r => r.kind === 'resident' && r.id === h.residentId)
      expect(resident).toMatchObject({ label: h.residentName, phone: h.residentPhone, premisesId: h.id })
      expect(resident!.idNumberMasked).toMatch(/^.{3}\*+.{4}$/)
    }
    const beginning = (await search(h.residentName.slice(0, 2), 'inspector')).results.filter(r => r.kind === 'resident')
    expect(beginning.length).toBeGreaterThan(0)
    for (const r of beginning) expect(r.label.startsWith(h.residentName.slice(0, 2))).toBe(true)
  })

  it('finds owners and residents by the beginning of their phone, separators ignored', async () => {
    const h = await household()
    const typed = `${h.residentPhone.slice(0, 3)} ${h.residentPhone.slice(3, 7)}`
    const found = (await search(typed, 'inspector')).results.filter(r => r.kind === 'resident')
    expect(found.map(r => r.id)).toContain(h.residentId)
    for (const r of found) expect(r.phone!.replace(/\D/g, '').startsWith(h.residentPhone.slice(0, 7))).toBe(true)
    const owner = (await search(h.ownerPhone, 'inspector')).results.find(r => r.kind === 'owner' && r.id === h.id)
    expect(owner).toMatchObject({ matched: 'phone', score: expect.any(Number) })
  })

  it.each(['leader', 'analyst', 'admin'])('gives the %s no person, name or phone, whatever is typed', async (user) => {
    const h = await household()
    for (const q of [h.ownerName, h.residentName, h.ownerPhone, h.residentPhone]) {
      const res = await get(q, user)
      expect(res.statusCode).toBe(200)
      const answer = res.json() as SearchAnswer
      expect(answer.results.filter(r => ['owner', 'second_landlord', 'resident'].includes(r.kind))).toEqual([])
      for (const secret of [h.ownerName, h.ownerPhone, h.residentName, h.residentPhone]) {
        // A name may also be part of a place name; phones never are.
        if (/\d/.test(secret) || !answer.results.some(r => r.label.includes(secret) || r.placeZh.includes(secret))) expect(res.body).not.toContain(secret)
      }
    }
  })

  it('does not tell a role that sees no people which address holds a phone number typed into it', async () => {
    const [p] = await t.db.sql<{ id: number }[]>`select id from premises where town_id = ${town} order by id limit 1 offset 3`
    await t.db.owner`update premises set address = '搜索测试巷8号（房东13912345678）' where id = ${p!.id}`
    expect((await search('13912345678', 'leader')).results.map(r => r.id)).not.toContain(p!.id)
    expect((await search('1391234', 'analyst')).results.map(r => r.id)).not.toContain(p!.id)
    const byAddress = (await search('搜索测试巷8号', 'leader')).results.find(r => r.id === p!.id)
    expect(byAddress!.label).toBe('搜索测试巷8号（房东139****5678）')
    expect((await search('13912345678', 'inspector')).results.find(r => r.id === p!.id)).toMatchObject({ label: '搜索测试巷8号（房东13912345678）' })
  })

  it('finds a resident by the exact ID number, by HMAC, in a POST body only, within the jurisdiction', async () => {
    const h = await household()
    const typed = ` ${h.idNumber.slice(0, 6)} ${h.idNumber.slice(6).toLowerCase()} `
    const res = await post(typed, 'inspector')
    expect(res.statusCode, res.body).toBe(200)
    const first = (res.json() as SearchAnswer).results[0]!
    expect(first).toMatchObject({ kind: 'resident', id: h.residentId, matched: 'id_number', premisesId: h.id })
    expect(res.body).not.toContain(h.idNumber)

    for (const q of [h.idNumber, `住户 ${h.idNumber}`, `${h.idNumber.slice(0, 6)} ${h.idNumber.slice(6, 14)} ${h.idNumber.slice(14)}`]) {
      const inUrl = await get(q, 'inspector')
      expect(inUrl.statusCode, q).toBe(400)
      expect(inUrl.json().reason).toBe('id-number-in-url')
    }

    expect(((await post(h.idNumber, 'leader')).json() as SearchAnswer).results.some(r => r.kind === 'resident')).toBe(false)
    const [o] = await t.db.sql<{ id: number; cipher: Uint8Array }[]>`
      select r.id, r.id_number_cipher as cipher from resident r join premises p on p.id = r.premises_id where p.town_id <> ${town} order by r.id limit 1`
    const outside = decryptIdNumber(testKeys, o!.cipher)
    expect(((await post(outside, 'inspector')).json() as SearchAnswer).results.some(r => r.id === o!.id && r.kind === 'resident')).toBe(false)
    expect(((await post(outside, 'bureau')).json() as SearchAnswer).results[0]).toMatchObject({ kind: 'resident', id: o!.id })
  })

  it('audits a search that found people as a search of people: who, and whom, never the text', async () => {
    const h = await household()
    const before = (await t.db.sql<{ id: number }[]>`select coalesce(max(id), 0)::int as id from audit_log`)[0]!.id
    await post(h.idNumber, 'inspector')
    await search(h.residentName, 'inspector')
    await search('搜索不到的地方名', 'inspector')
    await search(h.residentName, 'leader')
    const rows = await t.db.sql<{ username: string; after: { residents: number[]; landlordsOf: number[]; byIdNumber: boolean } }[]>`
      select username, after from audit_log where id > ${before} and action = 'people.search' order by id`
    expect(rows.map(r => r.username)).toEqual(['inspector', 'inspector'])
    expect(rows[0]!.after).toMatchObject({ byIdNumber: true, residents: [h.residentId] })
    expect(rows[1]!.after.residents).toContain(h.residentId)
    const text = JSON.stringify(await t.db.sql`select * from audit_log where id > ${before}`)
    for (const secret of [h.idNumber, h.residentName]) expect(text).not.toContain(secret)
  })
})

describe('premises near a point', () => {
  /** Metres between two points on a sphere of the earth's mean radius (PostGIS measures on the ellipsoid: within 0.5%). */
  function metres(a: [number, number], b: [number, number]): number {
    const r = Math.PI / 180
    const h = Math.sin(((b[1] - a[1]) * r) / 2) ** 2 + Math.cos(a[1] * r) * Math.cos(b[1] * r) * Math.sin(((b[0] - a[0]) * r) / 2) ** 2
    return 2 * 6_371_008.8 * Math.asin(Math.sqrt(h))
  }

  it('lists the nearest premises of the jurisdiction, nearest first, with the distance in metres', async () => {
    const [c] = await t.db.sql<{ lon: number; lat: number }[]>`select st_x(st_pointonsurface(geom)) as lon, st_y(st_pointonsurface(geom)) as lat from admin_area where id = ${town}`
    const at: [number, number] = [c!.lon, c!.lat]
    const res = await t.app.inject({ url: `/api/premises/near?lon=${at[0]}&lat=${at[1]}&limit=10`, headers: { cookie: cookies.inspector! } })
    expect(res.statusCode, res.body).toBe(200)
    const near = res.json() as { id: number; distanceM: number; lon: number; lat: number }[]
    expect(near).toHaveLength(10)
    const all = (await t.db.sql<{ id: number; lon: number; lat: number }[]>`select id, st_x(geom) as lon, st_y(geom) as lat from premises where town_id = ${town}`)
      .map(p => ({ id: p.id, d: metres(at, [p.lon, p.lat]) })).sort((a, b) => a.d - b.d)
    for (const [i, n] of near.entries()) {
      if (i) expect(n.distanceM).toBeGreaterThanOrEqual(near[i - 1]!.distanceM)
      expect(Math.abs(n.distanceM - metres(at, [n.lon, n.lat]))).toBeLessThan(0.005 * n.distanceM + 1)
    }
    // Nothing of the town nearer than the farthest listed was left out (beyond the two measures' difference).
    const last = near.at(-1)!.distanceM
    expect(all.filter(p => p.d < last * 0.99).map(p => p.id).filter(id => !near.some(n => n.id === id))).toEqual([])
    expect(all.slice(0, 10).map(p => p.id).filter(id => !near.some(n => n.id === id)).length).toBeLessThanOrEqual(1)
  })

  it('lists nothing outside the jurisdiction, however near', async () => {
    const [o] = await t.db.sql<{ id: number; lon: number; lat: number }[]>`select id, st_x(geom) as lon, st_y(geom) as lat from premises where town_id <> ${town} order by id limit 1`
    const near = (await t.app.inject({ url: `/api/premises/near?lon=${o!.lon}&lat=${o!.lat}&limit=100`, headers: { cookie: cookies.inspector! } })).json() as { id: number }[]
    expect(near.length).toBeGreaterThan(0)
    const ids = near.map(n => n.id)
    const [outside] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from premises where id in ${t.db.sql(ids)} and town_id <> ${town}`
    expect(outside!.n).toBe(0)
    const leader = (await t.app.inject({ url: `/api/premises/near?lon=${o!.lon}&lat=${o!.lat}&limit=1`, headers: { cookie: cookies.leader! } })).json() as { id: number; distanceM: number }[]
    expect(leader[0]).toMatchObject({ id: o!.id, distanceM: 0 })
  })

  it('answers for any point on the earth, the poles and the date line included', async () => {
    for (const [lon, lat] of [[0, 90], [180, -90], [-180, 89.999], [119.95, 31.85]]) {
      const res = await t.app.inject({ url: `/api/premises/near?lon=${lon}&lat=${lat}&limit=3`, headers: { cookie: cookies.leader! } })
      expect(res.statusCode, `${lon},${lat}: ${res.body}`).toBe(200)
      expect(res.json()).toHaveLength(3)
    }
  })

  it('has the spatial index order the candidates (the plan reads premises_geom_m_idx)', async () => {
    const plan = await t.db.sql.begin(async (tx) => {
      await tx`set local enable_seqscan = off`
      return tx<Record<string, string>[]>`
        explain select id from premises p order by p.geom_m <-> st_transform(st_setsrid(st_makepoint(${119.95}, ${31.85}), 4326), 3857) limit 30`
    })
    expect(plan.map(r => Object.values(r).join('')).join('\n')).toContain('premises_geom_m_idx')
  })
})

describe('answers', () => {
  it('ranks results best first and keeps to the limit', async () => {
    const { text } = await fragment(2)
    const answer = await search(text, 'inspector', 3)
    expect(answer.results.length).toBeLessThanOrEqual(3)
    const scores = answer.results.map((r: SearchResult) => r.score)
    expect(scores).toEqual([...scores].sort((a, b) => b - a))
  })
})
