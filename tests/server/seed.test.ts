import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database, Sql } from '../../server/db/index.js'
import { residentIdProblem } from '../../server/domain/id-number.js'
import { decryptIdNumber, hmacIdNumber } from '../../server/domain/pii.js'
import { premisesKinds } from '../../server/domain/lists.js'
import { seedDemo } from '../../server/seed/demo.js'
import { openTestDatabase, type TestDatabase } from '../helpers/db.js'
import { testKeys, testSeed } from '../helpers/keys.js'

let db: Database
beforeAll(async () => {
  db = await openTestDatabase('seeded')
})
afterAll(() => db.close())

const one = async <T>(q: Promise<T[]>) => (await q)[0]!

/** The values a column's check constraint admits ("kind in ('a', 'b')"), sorted: the database's own list. */
async function allowedValues(table: string, column: string): Promise<string[]> {
  const rows = await db.sql<{ def: string }[]>`
    select pg_get_constraintdef(c.oid) as def from pg_constraint c
    where c.conrelid = ${table}::regclass and c.contype = 'c' and pg_get_constraintdef(c.oid) ~ ${`^CHECK \\(\\(${column} = ANY`}`
  expect(rows, `${table}.${column} has one check of its values`).toHaveLength(1)
  return [...rows[0]!.def.matchAll(/'([^']+)'::text/g)].map(m => m[1]!).sort()
}

describe('the demo district', () => {
  it('has the district, 10 towns/streets named as Xinbei\'s, about 80 communities, grid cells and 8 police stations', async () => {
    const levels = await db.sql<{ level: string; n: number }[]>`select level, count(*)::int as n from admin_area group by level`
    const n = Object.fromEntries(levels.map(l => [l.level, l.n]))
    expect(n.district).toBe(1)
    expect(n.town).toBe(10)
    expect(n.community).toBe(80)
    expect(n.grid).toBeGreaterThanOrEqual(n.community!)
    const towns = await db.sql<{ nameZh: string }[]>`select name_zh from admin_area where level = 'town' order by name_zh`
    expect(towns.map(t => t.nameZh)).toEqual(expect.arrayContaining(['三井街道', '河海街道', '龙虎塘街道', '春江镇', '新桥镇', '薛家镇', '罗溪镇', '西夏墅镇', '孟河镇', '奔牛镇']))
    expect((await one(db.sql<{ n: number }[]>`select count(*)::int as n from police_station`)).n).toBe(8)
  })

  it('lies within 119°46\'–120°01\' E and 31°48\'–32°03\' N', async () => {
    const b = await one(db.sql<{ x0: number; y0: number; x1: number; y1: number }[]>`
      select st_xmin(e) as x0, st_ymin(e) as y0, st_xmax(e) as x1, st_ymax(e) as y1
      from (select st_extent(geom)::geometry as e from admin_area) s`)
    expect(b.x0).toBeGreaterThanOrEqual(119 + 46 / 60 - 1e-9)
    expect(b.x1).toBeLessThanOrEqual(120 + 1 / 60 + 1e-9)
    expect(b.y0).toBeGreaterThanOrEqual(31.8 - 1e-9)
    expect(b.y1).toBeLessThanOrEqual(32.05 + 1e-9)
  })

  it('has towns that tile the district and police-station areas that cut across them', async () => {
    const cover = await one(db.sql<{ ratio: number }[]>`
      select (select sum(st_area(geom::geography)) from admin_area where level = 'town')
           / (select st_area(geom::geography) from admin_area where level = 'district') as ratio`)
    expect(cover.ratio).toBeCloseTo(1, 3)
    // A station whose area overlaps two or more towns substantially: the two systems do not line up.
    const crossing = await one(db.sql<{ n: number }[]>`
      select count(*)::int as n from police_station s
      where (select count(*) from admin_area t where t.level = 'town'
               and st_area(st_intersection(t.geom, s.geom)::geography) > 0.1 * st_area(s.geom::geography)) >= 2`)
    expect(crossing.n).toBeGreaterThanOrEqual(3)
  })

  it('has points of interest of every kind the notice names (those the database admits)', async () => {
    const admitted = await allowedValues('poi', 'kind')
    expect(admitted).toEqual(['campus', 'factory', 'resettlement_estate', 'underground_space', 'urban_rural_fringe', 'urban_village'])
    const kinds = await db.sql<{ kind: string }[]>`select distinct kind from poi order by kind`
    expect(kinds.map(k => k.kind)).toEqual(admitted)
  })

  it('has premises of every kind, clustered around the points of interest', async () => {
    const kinds = await db.sql<{ kind: string }[]>`select distinct kind from premises order by kind`
    expect(kinds.map(k => k.kind)).toEqual([...premisesKinds].sort())
    expect(await allowedValues('premises', 'kind')).toEqual([...premisesKinds].sort())
    expect((await one(db.sql<{ n: number }[]>`select count(*)::int as n from premises`)).n).toBe(testSeed.premises)
    // Median distance to the nearest point of interest, premises against uniform random points.
    const d = await one(db.sql<{ premises: number; random: number }[]>`
      with r as (select (st_dump(st_generatepoints(geom, 600, 1))).geom as geom from admin_area where level = 'district'),
      dp as (select (select min(st_distance(p.geom::geography, o.geom::geography)) from poi o) as d from premises p),
      dr as (select (select min(st_distance(r.geom::geography, o.geom::geography)) from poi o) as d from r)
      select (select percentile_cont(0.5) within group (order by d) from dp) as premises,
             (select percentile_cont(0.5) within group (order by d) from dr) as random`)
    expect(d.premises).toBeLessThan(d.random / 2)
  })

  it('records every group rental as meeting the group-rental rule, and has rentals found but not registered', async () => {
    const broken = await one(db.sql<{ n: number }[]>`select count(*)::int as n from premises where kind = 'group_rental' and not meets_rule`)
    expect(broken.n).toBe(0)
    const rule = await one(db.sql<{ n: number }[]>`
      select count(*)::int as n from premises where meets_rule <> (rooms_let >= 10 or beds_let >= 10 or occupants >= 10)`)
    expect(rule.n).toBe(0)
    const hidden = await one(db.sql<{ n: number }[]>`select count(*)::int as n from premises where kind = 'rental' and meets_rule`)
    expect(hidden.n).toBeGreaterThan(0)
    const unregistered = await one(db.sql<{ n: number }[]>`select count(*)::int as n from premises where kind = 'group_rental' and registered_on is null`)
    expect(unregistered.n).toBeGreaterThan(0)
  })

  it('has about a dozen residents per group rental, with valid masked, encrypted and hashed ID numbers', async () => {
    const avg = await one(db.sql<{ a: number }[]>`
      select avg(n)::float8 as a from (select count(*) as n from resident r join premises p on p.id = r.premises_id
        where p.kind = 'group_rental' and r.moved_out_on is null group by p.id) s`)
    expect(avg.a).toBeGreaterThan(10)
    expect(avg.a).toBeLessThan(16)
    const sample = await db.sql<{ idType: string; idNumberCipher: Uint8Array; idNumberHmac: Uint8Array; idNumberMasked: string }[]>`
      select id_type, id_number_cipher, id_number_hmac, id_number_masked from resident order by id limit 300`
    for (const r of sample) {
      const plain = decryptIdNumber(testKeys, r.idNumberCipher)
      expect(Buffer.from(r.idNumberHmac).equals(hmacIdNumber(testKeys, plain))).toBe(true)
      expect(r.idNumberMasked).toBe(plain.slice(0, 3) + '*'.repeat(plain.length - 7) + plain.slice(-4))
      if (r.idType === 'resident_id') expect(residentIdProblem(plain)).toBeNull()
    }
    const flags = await db.sql<{ category: string }[]>`select distinct category from resident_flag order by 1`
    expect(flags.map(f => f.category)).toEqual(['mental_illness', 'person_of_concern'])
  })

  it('has hazards from the dictionary with a plausible category mix, descriptions where the item asks for one', async () => {
    const mix = await db.sql<{ category: string; share: number }[]>`
      select i.category_code as category, count(*)::float8 / sum(count(*)) over () as share
      from hazard h join hazard_item i on i.code = h.item_code group by 1`
    const share = Object.fromEntries(mix.map(m => [m.category, m.share]))
    expect(share.fire).toBeGreaterThan(share.public_security!)
    expect(share.public_security).toBeGreaterThan(share.other!)
    expect(share.housing).toBeGreaterThan(0.05)
    const text = await one(db.sql<{ n: number }[]>`
      select count(*)::int as n from hazard h join hazard_item i on i.code = h.item_code
      where i.needs_text <> (h.other_text is not null)`)
    expect(text.n).toBe(0)
    const major = await one(db.sql<{ share: number }[]>`select avg((severity = 'major')::int)::float8 as share from hazard`)
    expect(major.share).toBeGreaterThan(0.05)
    expect(major.share).toBeLessThan(0.3)
  })

  it('has status histories in order, within the campaign, matching each hazard\'s status', async () => {
    const bad = await one(db.sql<{ n: number }[]>`
      select count(*)::int as n from hazard
      where not (found_at <= coalesce(referred_at, found_at) and coalesce(referred_at, found_at) <= coalesce(rectified_at, 'infinity')
                 and coalesce(rectified_at, found_at) <= coalesce(verified_at, 'infinity'))
         or found_at < '2019-12-15 00:00+08' or greatest(found_at, referred_at, rectified_at, verified_at) >= '2021-01-01 00:00+08'`)
    expect(bad.n).toBe(0)
    const mismatched = await one(db.sql<{ n: number }[]>`
      select count(*)::int as n from hazard h
      where (select array_agg(status order by at) from hazard_event e where e.hazard_id = h.id)
         <> array_remove(array[ 'found',
              case when referred_at is not null then 'referred' end,
              case when rectified_at is not null then 'rectified' end,
              case when verified_at is not null then 'verified' end], null)`)
    expect(mismatched.n).toBe(0)
    const statuses = await db.sql<{ status: string }[]>`select distinct status from hazard order by 1`
    expect(statuses.map(s => s.status)).toEqual(['found', 'rectified', 'referred', 'verified'])
  })

  it('spreads hazards found and residents moving in or out over the campaign, piling none on its last day', async () => {
    const [c] = await db.sql<{ startsOn: string; endsOn: string }[]>`select starts_on::text, ends_on::text from campaign order by starts_on limit 1`
    const days = await one(db.sql<{ n: number }[]>`select (${c!.endsOn}::date - ${c!.startsOn}::date + 1)::int as n`)
    // Events per campaign day, and on its last day: a real campaign's last day is an ordinary one.
    const counts = await db.sql<{ what: string; total: number; last: number }[]>`
      select 'hazards found' as what, count(*)::int as total, count(*) filter (where (found_at at time zone 'Asia/Shanghai')::date = ${c!.endsOn}::date)::int as last
      from hazard where (found_at at time zone 'Asia/Shanghai')::date between ${c!.startsOn}::date and ${c!.endsOn}::date
      union all
      select 'residents moving in', count(*)::int, count(*) filter (where moved_in_on = ${c!.endsOn}::date)::int
      from resident where moved_in_on between ${c!.startsOn}::date and ${c!.endsOn}::date
      union all
      select 'residents moving out', count(*)::int, count(*) filter (where moved_out_on = ${c!.endsOn}::date)::int
      from resident where moved_out_on between ${c!.startsOn}::date and ${c!.endsOn}::date`
    for (const x of counts) {
      expect(x.total, x.what).toBeGreaterThan(0)
      expect(x.last, `${x.what} on the last day (${x.last} of ${x.total} over ${days.n} days)`).toBeLessThanOrEqual(Math.max(3, 4 * x.total / days.n))
    }
  })

  it('keeps the per-premises hazard summary equal to a recount', async () => {
    const off = await one(db.sql<{ n: number }[]>`
      select count(*)::int as n from premises p
      cross join lateral (
        select count(*)::int as total, count(*) filter (where rectified_at is null)::int as open,
               count(*) filter (where rectified_at is null and severity = 'major')::int as open_major,
               min(deadline) filter (where rectified_at is null) as deadline
        from hazard h where h.premises_id = p.id) r
      where (p.hazard_count, p.open_count, p.open_major_count, p.open_min_deadline)
            is distinct from (r.total, r.open, r.open_major, r.deadline)`)
    expect(off.n).toBe(0)
  })

  it('dates every group rental from the day it was found, and no other premises', async () => {
    const r = await one(db.sql<{ rentals: number; off: number }[]>`
      select count(*) filter (where kind = 'group_rental')::int as rentals,
             count(*) filter (where group_rental_since is distinct from case when kind = 'group_rental' then found_on end)::int as off
      from premises`)
    expect(r.rentals).toBeGreaterThan(0)
    expect(r.off).toBe(0)
  })

  it('has rates that rise over the campaign and differ between towns, and overdue hazards', async () => {
    const byMonth = await db.sql<{ m: string; rate: number }[]>`
      select m::date::text as m,
             (select avg((rectified_at < m)::int)::float8 from hazard where found_at < m) as rate
      from unnest(array['2020-03-01'::timestamptz, '2020-07-01', '2021-01-01']) as m`
    expect(byMonth[0]!.rate).toBeLessThan(byMonth[1]!.rate)
    expect(byMonth[1]!.rate).toBeLessThan(byMonth[2]!.rate)
    const towns = await db.sql<{ rate: number }[]>`
      select avg((h.rectified_at is not null)::int)::float8 as rate from hazard h join premises p on p.id = h.premises_id group by p.town_id`
    const rates = towns.map(t => t.rate)
    expect(Math.max(...rates) - Math.min(...rates)).toBeGreaterThan(0.02)
    const overdue = await one(db.sql<{ n: number }[]>`select count(*)::int as n from hazard where rectified_at is null and deadline < '2020-12-31'`)
    expect(overdue.n).toBeGreaterThan(0)
  })

  it('has enforcement events of several kinds, dated and placed in the district', async () => {
    const rows = await db.sql<{ kind: string }[]>`select distinct kind from enforcement_event`
    expect(rows.length).toBeGreaterThanOrEqual(4)
    const outside = await one(db.sql<{ n: number }[]>`
      select count(*)::int as n from enforcement_event e
      where not exists (select 1 from admin_area d where d.level = 'district' and st_intersects(d.geom, e.geom))
         or occurred_on not between '2019-12-15' and '2020-12-31'`)
    expect(outside.n).toBe(0)
  })

  it('has key areas listed in every town with a deadline', async () => {
    const without = await db.sql<{ nameZh: string }[]>`
      select t.name_zh from admin_area t where t.level = 'town' and t.valid_to is null
        and not exists (select 1 from key_area k where k.town_id = t.id and k.status = 'listed' and k.deadline is not null)`
    expect(without.map(t => t.nameZh)).toEqual([])
    expect((await one(db.sql<{ n: number }[]>`select count(*)::int as n from key_area where status = 'listed'`)).n).toBeGreaterThanOrEqual(10)
  })
})

describe('seedDemo', () => {
  /** A fingerprint of the generated content (ciphertexts differ by their random nonce, so they are left out). */
  async function fingerprint(sql: Sql): Promise<string> {
    const [row] = await sql<{ f: string }[]>`
      select md5(
        (select string_agg(concat_ws('|', id, kind, address, st_astext(geom), town_id, community_id, grid_id, police_station_id,
           rooms_let, beds_let, occupants, owner_name, found_on, registered_on, deregistered_on), ';' order by id) from premises) ||
        (select string_agg(concat_ws('|', id, premises_id, name, id_number_masked, encode(id_number_hmac, 'hex'), registered_on), ';' order by id) from resident) ||
        (select string_agg(concat_ws('|', id, premises_id, item_code, severity, status, found_at, rectified_at, deadline), ';' order by id) from hazard) ||
        (select string_agg(concat_ws('|', name_zh, st_astext(geom)), ';' order by code) from admin_area)) as f`
    return row!.f
  }

  // Four databases, one seeded here and one in each test, so that no single test runs for long on
  // a busy machine (each seed on the embedded database takes seconds).
  let dbs: TestDatabase[] = []
  let first: Awaited<ReturnType<typeof seedDemo>>
  beforeAll(async () => {
    dbs = await Promise.all([0, 1, 2, 3].map(() => openTestDatabase('migrated')))
    // The seed switches row triggers off with ALTER TABLE: it runs as the owner, never as the app.
    first = await seedDemo(dbs[0]!.owner, { premises: 150, seed: 7, keys: testKeys })
  })
  afterAll(() => Promise.all(dbs.map(x => x.close())))

  it('gives the very same data for the same seed', async () => {
    await seedDemo(dbs[1]!.owner, { premises: 150, seed: 7, keys: testKeys })
    expect(await fingerprint(dbs[0]!.sql)).toBe(await fingerprint(dbs[1]!.sql))
  })

  it('gives other data for another seed', async () => {
    await seedDemo(dbs[2]!.owner, { premises: 150, seed: 8, keys: testKeys })
    expect(await fingerprint(dbs[0]!.sql)).not.toBe(await fingerprint(dbs[2]!.sql))
  })

  it('scales residents and hazards with the number of premises', async () => {
    const more = await seedDemo(dbs[3]!.owner, { premises: 450, seed: 7, keys: testKeys })
    expect(more.premises).toBe(3 * first.premises)
    expect(more.residents / first.residents).toBeGreaterThan(2.2)
    expect(more.residents / first.residents).toBeLessThan(3.8)
    expect(more.hazards / first.hazards).toBeGreaterThan(2.2)
    expect(more.hazards / first.hazards).toBeLessThan(3.8)
  })

  it('refuses to seed a database that holds data', async () => {
    await expect(seedDemo(dbs[0]!.owner, { premises: 10, seed: 1, keys: testKeys })).rejects.toThrow(/already holds data/)
  })
})
