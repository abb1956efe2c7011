import { randomUUID } from 'node:crypto'
import type { Sql, Tx } from '../db/index.js'
import { pgArray } from '../db/arrays.js'
import { PolygonIndex } from '../domain/geo.js'
import { startOfDay } from '../domain/calendar.js'
import type { EnforcementKind, PlaceKind, PremisesKind } from '../domain/lists.js'
import { residentIdCheckChar, maskIdNumber  } from '../domain/id-number.js'
import { encryptIdNumber, hmacIdNumber, type PiiKeys } from '../domain/pii.js'
import { hashPassword } from '../domain/passwords.js'
import { Random } from '../domain/random.js'
import { type AreaRecord, blob, buildGeography, type Geography, offset, randomPointIn, townSpecs } from './geography.js'
import { givenChars, localRegionCodes, migrantRegionCodes, otherTexts, roadNames, surnames } from './names.js'
import { streetTiles } from './street-tiles.js'
import { buildStreets } from './streets.js'

/**
 * The demo district: deterministic for a seed, scalable by the number of premises. Everything is
 * written in one transaction, so a failed seed leaves the database as it was.
 */

export interface SeedOptions {
  premises: number
  seed: number
  keys: PiiKeys
  /** Multiplies the number of hazards per premises (the benchmarks load 3 per premises). */
  hazardScale?: number
  /** Rows per bulk statement. */
  batch?: number
  /**
   * Demo mode: also create one user per role with the password demo1234 and mark the database as
   * a demo. Only the embedded demo (and the test suite) asks for this; never a real deployment.
   */
  demoUsers?: boolean
  log?: (message: string) => void
}

export interface SeedSummary {
  towns: number
  communities: number
  grids: number
  policeStations: number
  pois: number
  premises: number
  residents: number
  hazards: number
  enforcementEvents: number
  keyAreas: number
  ms: number
}

type Kind = PremisesKind

const DAY = 86_400_000
/** Calendar dates are handled as whole days since 1970-01-01; times as UTC milliseconds. */
const dayOf = (iso: string) => Math.round(Date.parse(`${iso}T00:00:00Z`) / DAY)
const isoOf = (day: number) => new Date(day * DAY).toISOString().slice(0, 10)
/** A moment on a district calendar day, at a local hour. */
const atLocal = (day: number, hour: number) => startOfDay(isoOf(day)).getTime() + hour * 3_600_000

/** Where premises gather, and how: the notice's list of places (section four). */
const anchorRules: Record<PlaceKind, { weight: number; sigma: number; kinds: [Kind, number][] }> = {
  urban_village: { weight: 5, sigma: 160, kinds: [['group_rental', 0.5], ['rental', 0.45], ['family_hotel', 0.05]] },
  campus: { weight: 4, sigma: 260, kinds: [['group_rental', 0.4], ['rental', 0.4], ['homestay', 0.12], ['family_hotel', 0.08]] },
  factory: { weight: 2.5, sigma: 320, kinds: [['factory_dormitory', 0.22], ['group_rental', 0.46], ['rental', 0.29], ['family_hotel', 0.03]] },
  urban_rural_fringe: { weight: 3, sigma: 420, kinds: [['group_rental', 0.4], ['rental', 0.5], ['care_home', 0.03], ['family_hotel', 0.07]] },
  resettlement_estate: { weight: 2, sigma: 150, kinds: [['group_rental', 0.35], ['rental', 0.6], ['homestay', 0.05]] },
  underground_space: { weight: 1, sigma: 70, kinds: [['group_rental', 0.8], ['rental', 0.2]] },
}
const backgroundKinds: [Kind, number][] = [
  ['rental', 0.55], ['group_rental', 0.2], ['homestay', 0.08], ['family_hotel', 0.06], ['factory_dormitory', 0.05], ['care_home', 0.06],
]
/** Share of premises placed around a point of interest rather than anywhere in a town. */
const clusteredShare = 0.72

/** Mean hazards found per premises, by kind. */
const hazardMeans: Record<Kind, number> = {
  group_rental: 2.1, rental: 0.45, homestay: 0.7, family_hotel: 0.9, factory_dormitory: 2.2, care_home: 1.4,
}
const categoryMix: [string, number][] = [['fire', 0.48], ['public_security', 0.27], ['housing', 0.2], ['other', 0.05]]
/** Relative frequency of dictionary items within their category (e-bikes and wiring dominate fire). */
const itemWeights: Record<string, [string, number][]> = {
  public_security: [['PS-01', 8], ['PS-02', 2], ['PS-03', 9], ['PS-04', 2], ['PS-05', 0.3], ['PS-06', 0.3], ['PS-07', 0.05], ['PS-08', 10], ['PS-09', 4], ['PS-10', 1]],
  fire: [['FIRE-01', 5], ['FIRE-02', 6], ['FIRE-03', 2], ['FIRE-04', 1], ['FIRE-05', 5], ['FIRE-06', 12], ['FIRE-07', 11], ['FIRE-08', 4], ['FIRE-09', 1], ['FIRE-10', 6], ['FIRE-11', 4], ['FIRE-12', 2], ['FIRE-13', 1.5]],
  housing: [['HOUSING-01', 6], ['HOUSING-02', 5], ['HOUSING-03', 9], ['HOUSING-04', 1.5], ['HOUSING-05', 4], ['HOUSING-06', 1]],
  other: [['OTHER-01', 1]],
}
/** Items that are major more often: open flames, flammable partitions, chemicals, structure, terrorism. */
const majorOdds: Record<string, number> = { 'FIRE-05': 0.35, 'FIRE-08': 0.35, 'FIRE-09': 0.6, 'FIRE-11': 0.25, 'HOUSING-04': 0.5, 'PS-05': 0.5, 'PS-07': 1 }
const enforcementKinds: [EnforcementKind, number][] = [
  ['landlord_penalised', 20], ['floating_person_penalised', 25], ['criminal_case_solved', 6], ['public_security_case_solved', 14],
  ['fugitive_caught', 3], ['arrest', 4], ['criminal_coercive_measure', 3], ['administrative_penalty', 25],
]

interface Dictionary {
  items: Map<string, { category: string; department: string }>
}

async function loadDictionary(tx: Tx): Promise<Dictionary> {
  const rows = await tx<{ code: string; categoryCode: string; department: string }[]>`
    select i.code, i.category_code, coalesce(i.department_code, c.department_code) as department
    from hazard_item i join hazard_category c on c.code = i.category_code`
  return { items: new Map(rows.map(r => [r.code, { category: r.categoryCode, department: r.department }])) }
}

const geoJson = (g: unknown) => JSON.stringify(g)

async function insertAreas(tx: Tx, records: AreaRecord[], ids: Map<string, number>): Promise<void> {
  const rows = await tx<{ id: number; code: string }[]>`
    insert into admin_area (level, subkind, code, parent_id, name_zh, name_en, geom)
    select level, subkind, code, parent_id, name_zh, name_en,
           st_multi(st_collectionextract(st_makevalid(st_setsrid(st_geomfromgeojson(g), 4326)), 3))
    from unnest(${pgArray(records.map(r => r.level))}::text[], ${pgArray(records.map(r => r.subkind))}::text[],
                ${pgArray(records.map(r => r.code))}::text[], ${pgArray(records.map(r => (r.parentKey ? ids.get(r.parentKey)! : null)))}::int[],
                ${pgArray(records.map(r => r.zh))}::text[], ${pgArray(records.map(r => r.en))}::text[],
                ${pgArray(records.map(r => geoJson(r.geom)))}::text[])
      as t(level, subkind, code, parent_id, name_zh, name_en, g)
    returning id, code`
  const byCode = new Map(rows.map(r => [r.code, r.id]))
  for (const r of records) ids.set(r.key, byCode.get(r.code)!)
}

function personName(rng: Random): string {
  return rng.pick(surnames) + rng.pick(givenChars) + (rng.chance(0.7) ? rng.pick(givenChars) : '')
}

function phone(rng: Random): string {
  return `1${rng.pick(['3', '5', '7', '8', '9'])}${String(rng.int(0, 999_999_999)).padStart(9, '0')}`
}

/** A synthetic identity document: mostly resident IDs with a valid check digit. */
function identity(rng: Random, floating: boolean): { type: string; number: string } {
  const t = rng.weighted([['resident_id', 0.97], ['passport', 0.015], ['hk_macao_permit', 0.008], ['taiwan_permit', 0.004], ['other', 0.003]] as const)
  const digits = (n: number) => String(rng.int(0, 10 ** n - 1)).padStart(n, '0')
  switch (t) {
    case 'resident_id': {
      const region = floating ? rng.pick(migrantRegionCodes) : rng.pick(localRegionCodes)
      const birth = isoOf(rng.int(dayOf('1958-01-01'), dayOf('2002-12-31'))).replaceAll('-', '')
      const first17 = region + birth + digits(3)
      return { type: t, number: first17 + residentIdCheckChar(first17) }
    }
    case 'passport': return { type: t, number: `E${digits(8)}` }
    case 'hk_macao_permit': return { type: t, number: `H${digits(8)}` }
    case 'taiwan_permit': return { type: t, number: digits(8) }
    default: return { type: t, number: `X${digits(9)}` }
  }
}

/** Column buffers for one batch of rows. */
class Columns<K extends string> {
  readonly data: Record<K, (string | number | boolean | null)[]>
  constructor(names: readonly K[]) {
    this.data = Object.fromEntries(names.map(n => [n, []])) as unknown as Record<K, (string | number | boolean | null)[]>
  }

  push(row: Record<K, string | number | boolean | null>): void {
    for (const k in row) this.data[k].push(row[k])
  }

  get length(): number {
    return (Object.values(this.data)[0] as unknown[]).length
  }

  col(name: K): string {
    return pgArray(this.data[name])
  }
}

const premisesCols = ['id', 'kind', 'address', 'lon', 'lat', 'town', 'community', 'grid', 'station', 'rooms', 'beds', 'occupants',
  'ownerName', 'ownerPhone', 'slName', 'slPhone', 'slCollected', 'statement', 'lease', 'found', 'registered', 'deregistered'] as const
const residentCols = ['id', 'premises', 'name', 'idType', 'cipher', 'hmac', 'masked', 'phone', 'floating', 'movedIn', 'movedOut', 'registered', 'deregistered'] as const
const flagCols = ['resident', 'category', 'flagged'] as const
const hazardCols = ['id', 'premises', 'item', 'text', 'severity', 'status', 'department', 'found', 'referred', 'rectified', 'verified', 'deadline'] as const
const eventCols = ['kind', 'day', 'count', 'premises', 'lon', 'lat', 'town', 'station'] as const

async function flush(tx: Tx, p: Columns<typeof premisesCols[number]>, r: Columns<typeof residentCols[number]>,
  f: Columns<typeof flagCols[number]>, h: Columns<typeof hazardCols[number]>, e: Columns<typeof eventCols[number]>): Promise<void> {
  if (p.length) {
    await tx`
      insert into premises (id, kind, address, geom, town_id, community_id, grid_id, police_station_id, rooms_let, beds_let, occupants,
        owner_name, owner_phone, second_landlord_name, second_landlord_phone, second_landlord_collected_on,
        statement_signed_on, lease_filed_on, found_on, registered_on, deregistered_on)
      select id, kind, address, st_setsrid(st_makepoint(lon, lat), 4326), town, community, grid, station, rooms, beds, occupants,
        owner_name, owner_phone, sl_name, sl_phone, sl_collected, statement, lease, found, registered, deregistered
      from unnest(${p.col('id')}::bigint[], ${p.col('kind')}::text[], ${p.col('address')}::text[], ${p.col('lon')}::float8[],
        ${p.col('lat')}::float8[], ${p.col('town')}::int[], ${p.col('community')}::int[], ${p.col('grid')}::int[], ${p.col('station')}::int[],
        ${p.col('rooms')}::int[], ${p.col('beds')}::int[], ${p.col('occupants')}::int[], ${p.col('ownerName')}::text[],
        ${p.col('ownerPhone')}::text[], ${p.col('slName')}::text[], ${p.col('slPhone')}::text[], ${p.col('slCollected')}::date[],
        ${p.col('statement')}::date[], ${p.col('lease')}::date[], ${p.col('found')}::date[], ${p.col('registered')}::date[],
        ${p.col('deregistered')}::date[])
        as t(id, kind, address, lon, lat, town, community, grid, station, rooms, beds, occupants, owner_name, owner_phone,
             sl_name, sl_phone, sl_collected, statement, lease, found, registered, deregistered)`
  }
  if (r.length) {
    await tx`
      insert into resident (id, premises_id, name, id_type, id_number_cipher, id_number_hmac, id_number_masked, phone, floating,
        moved_in_on, moved_out_on, registered_on, deregistered_on)
      select id, premises, name, id_type, decode(cipher, 'base64'), decode(hmac, 'base64'), masked, phone, floating,
        moved_in, moved_out, registered, deregistered
      from unnest(${r.col('id')}::bigint[], ${r.col('premises')}::bigint[], ${r.col('name')}::text[], ${r.col('idType')}::text[],
        ${r.col('cipher')}::text[], ${r.col('hmac')}::text[], ${r.col('masked')}::text[], ${r.col('phone')}::text[],
        ${r.col('floating')}::bool[], ${r.col('movedIn')}::date[], ${r.col('movedOut')}::date[], ${r.col('registered')}::date[],
        ${r.col('deregistered')}::date[])
        as t(id, premises, name, id_type, cipher, hmac, masked, phone, floating, moved_in, moved_out, registered, deregistered)`
  }
  if (f.length) {
    await tx`
      insert into resident_flag (resident_id, category, flagged_on)
      select * from unnest(${f.col('resident')}::bigint[], ${f.col('category')}::text[], ${f.col('flagged')}::date[])`
  }
  if (h.length) {
    await tx`
      insert into hazard (id, premises_id, item_code, other_text, severity, status, department_code,
        found_at, referred_at, rectified_at, verified_at, deadline)
      select id, premises, item, txt, severity, status, department,
        to_timestamp(found / 1000.0), to_timestamp(referred / 1000.0), to_timestamp(rectified / 1000.0),
        to_timestamp(verified / 1000.0), deadline
      from unnest(${h.col('id')}::bigint[], ${h.col('premises')}::bigint[], ${h.col('item')}::text[], ${h.col('text')}::text[],
        ${h.col('severity')}::text[], ${h.col('status')}::text[], ${h.col('department')}::text[], ${h.col('found')}::float8[],
        ${h.col('referred')}::float8[], ${h.col('rectified')}::float8[], ${h.col('verified')}::float8[], ${h.col('deadline')}::date[])
        as t(id, premises, item, txt, severity, status, department, found, referred, rectified, verified, deadline)`
  }
  if (e.length) {
    await tx`
      insert into enforcement_event (kind, occurred_on, count, premises_id, geom, town_id, police_station_id)
      select kind, day, count, premises, st_setsrid(st_makepoint(lon, lat), 4326), town, station
      from unnest(${e.col('kind')}::text[], ${e.col('day')}::date[], ${e.col('count')}::int[], ${e.col('premises')}::bigint[],
        ${e.col('lon')}::float8[], ${e.col('lat')}::float8[], ${e.col('town')}::int[], ${e.col('station')}::int[])
        as t(kind, day, count, premises, lon, lat, town, station)`
  }
}

/** True when the database holds no places yet (a fresh database after migrations). */
export async function isEmpty(sql: Sql): Promise<boolean> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from admin_area`
  return row!.n === 0
}

/** Seeds the demo district. Refuses a database that already has places. */
export async function seedDemo(sql: Sql, opts: SeedOptions): Promise<SeedSummary> {
  const started = Date.now()
  const log = opts.log ?? (() => {})
  if (!Number.isInteger(opts.premises) || opts.premises < 1) throw new Error('the number of premises must be a positive integer')
  if (!(await isEmpty(sql))) throw new Error('the database already holds data; run `npm run db:reset` first')
  const rng = new Random(opts.seed)
  const geo = buildGeography(rng)
  const streets = buildStreets(opts.seed, geo)
  const hazardScale = opts.hazardScale ?? 1
  const batch = opts.batch ?? 5000

  return sql.begin(async (tx) => {
    // Seeding a big district runs statements of minutes, past the application's time limit.
    await tx`set local statement_timeout = 0`
    const [campaign] = await tx<{ id: number; startsOn: string; endsOn: string }[]>`
      select id, starts_on, ends_on from campaign order by starts_on limit 1`
    if (!campaign) throw new Error('no campaign in the database: migrations did not run')
    const start = dayOf(campaign.startsOn)
    const end = dayOf(campaign.endsOn)
    const endMs = atLocal(end + 1, 0) - 1
    const lastInspection = dayOf('2020-11-30')
    const dict = await loadDictionary(tx)

    // Bulk load: the row triggers would do per row what is done below once for all rows.
    await tx`alter table premises disable trigger user`
    await tx`alter table hazard disable trigger user`
    await tx`alter table resident disable trigger user`

    const ids = new Map<string, number>()
    await insertAreas(tx, [geo.district], ids)
    await insertAreas(tx, geo.towns, ids)
    await insertAreas(tx, geo.communities, ids)
    await insertAreas(tx, geo.grids, ids)
    const stationRows = await tx<{ id: number; code: string }[]>`
      insert into police_station (code, name_zh, name_en, geom)
      select code, zh, en, st_multi(st_collectionextract(st_makevalid(st_setsrid(st_geomfromgeojson(g), 4326)), 3))
      from unnest(${pgArray(geo.stations.map(s => s.code))}::text[], ${pgArray(geo.stations.map(s => s.zh))}::text[],
                  ${pgArray(geo.stations.map(s => s.en))}::text[], ${pgArray(geo.stations.map(s => geoJson(s.geom)))}::text[]) as t(code, zh, en, g)
      returning id, code`
    const stationIds = geo.stations.map(s => stationRows.find(r => r.code === s.code)!.id)
    await tx`
      insert into poi (kind, name_zh, name_en, town_id, geom)
      select kind, zh, en, town, st_setsrid(st_makepoint(lon, lat), 4326)
      from unnest(${pgArray(geo.pois.map(p => p.kind))}::text[], ${pgArray(geo.pois.map(p => p.zh))}::text[],
                  ${pgArray(geo.pois.map(p => p.en))}::text[], ${pgArray(geo.pois.map(p => ids.get(geo.towns[p.town]!.key)!))}::int[],
                  ${pgArray(geo.pois.map(p => p.at[0]))}::float8[], ${pgArray(geo.pois.map(p => p.at[1]))}::float8[]) as t(kind, zh, en, town, lon, lat)`
    log(`places: ${geo.towns.length} towns/streets, ${geo.communities.length} communities, ${geo.grids.length} grid cells, ${geo.stations.length} police stations, ${geo.pois.length} points of interest`)

    const gridIndex = new PolygonIndex(geo.bbox, 60, geo.grids.map(g => ({ item: g, geom: g.geom })))
    const stationIndex = new PolygonIndex(geo.bbox, 30, geo.stations.map((s, i) => ({ item: i, geom: s.geom })))
    const communityByKey = new Map(geo.communities.map(c => [c.key, c]))
    const anchors = geo.pois.map(p => [p, anchorRules[p.kind].weight] as const)
    const townWeights = townSpecs.map((t, i) => [i, t.communities * (0.5 + t.urban)] as const)

    const P = new Columns(premisesCols)
    const R = new Columns(residentCols)
    const F = new Columns(flagCols)
    const H = new Columns(hazardCols)
    const E = new Columns(eventCols)
    let residentId = 0
    let hazardId = 0
    let events = 0

    for (let id = 1; id <= opts.premises; id++) {
      // Place: around a point of interest, or anywhere in a town; resample points outside the district.
      let kind: Kind
      let at: [number, number]
      let grid: AreaRecord | undefined
      for (;;) {
        if (rng.chance(clusteredShare)) {
          const poi = rng.weighted(anchors)
          const rule = anchorRules[poi.kind]
          kind = rng.weighted(rule.kinds)
          at = offset(poi.at, rng.normal() * rule.sigma, rng.normal() * rule.sigma)
        }
        else {
          kind = rng.weighted(backgroundKinds)
          at = randomPointIn(rng, geo.towns[rng.weighted(townWeights)]!.geom)
        }
        // A house stands in a block, not on the road or in the canal the street map draws there.
        at = streets.settle(at)
        grid = gridIndex.find(at[0], at[1])
        if (grid) break
      }
      const community = communityByKey.get(grid.parentKey!)!
      const ti = grid.town
      const e = townSpecs[ti]!.efficiency
      const station = stationIndex.find(at[0], at[1]) ?? 0

      // The group-rental facts. Some ordinary rentals meet the rule without being registered as
      // group rentals: "found but not registered", more of them where the town is slower.
      let rooms: number
      let beds: number
      let occupants: number
      const hidden = kind === 'rental' && rng.chance(0.01 + 0.06 * (1 - e))
      switch (kind) {
        case 'group_rental':
          occupants = 10 + Math.min(30, Math.round(rng.exponential(3)))
          rooms = rng.int(3, Math.max(4, Math.ceil(occupants / 1.5)))
          beds = occupants + rng.int(0, 4)
          break
        case 'rental':
          occupants = hidden ? rng.int(10, 16) : rng.int(1, 8)
          rooms = hidden ? rng.int(4, 9) : rng.int(1, Math.min(6, occupants))
          beds = Math.max(occupants, rooms) + rng.int(0, 1)
          break
        case 'homestay': rooms = rng.int(2, 9); beds = rooms + rng.int(0, 6); occupants = rng.int(0, 2); break
        case 'family_hotel': rooms = rng.int(5, 9); beds = rooms + rng.int(2, 8); occupants = rng.int(1, 3); break
        case 'factory_dormitory': rooms = rng.int(10, 60); beds = rooms * rng.int(4, 6); occupants = Math.round(beds * rng.uniform(0.6, 0.95)); break
        case 'care_home': rooms = rng.int(10, 40); beds = rooms * 2; occupants = Math.round(beds * rng.uniform(0.5, 0.9)); break
      }

      // When: inspections peak early in the campaign; efficient towns find their premises sooner.
      const found = start + Math.floor(rng.next() ** (1.1 + e) * (lastInspection - start + 1))
      let registered: number | null = null
      if (kind !== 'group_rental' || !rng.chance(0.12 * (1 - e))) {
        const r = found + Math.round(rng.exponential(kind === 'group_rental' ? 22 / e : 10))
        registered = r <= end ? r : null
      }
      const deregistered = registered !== null && kind === 'group_rental' && rng.chance(0.04)
        ? registered + rng.int(30, 200) : null
      const slName = kind === 'group_rental' && rng.chance(0.3) ? personName(rng) : null
      const slCollected = slName && rng.chance(0.85) ? found + rng.int(0, 20) : null
      const statement = (kind === 'group_rental' || hidden) ? (rng.chance(0.88) ? found + rng.int(0, 30) : null)
        : (kind === 'rental' && rng.chance(0.5) ? found + rng.int(0, 30) : null)
      const lease = kind === 'group_rental' || kind === 'rental' ? (rng.chance(0.6) ? found + rng.int(0, 60) : null) : null
      const within = (d: number | null) => (d !== null && d <= end ? isoOf(d) : null)
      P.push({
        id, kind, address: `${community.zh}${rng.pick(roadNames)}${rng.int(1, 899)}号${rng.chance(0.5) ? `${rng.int(1, 30)}幢` : ''}`,
        lon: Math.round(at[0] * 1e7) / 1e7, lat: Math.round(at[1] * 1e7) / 1e7,
        town: ids.get(geo.towns[ti]!.key)!, community: ids.get(community.key)!, grid: ids.get(grid.key)!, station: stationIds[station]!,
        rooms, beds, occupants, ownerName: personName(rng), ownerPhone: phone(rng),
        slName, slPhone: slName ? phone(rng) : null, slCollected: within(slCollected),
        statement: within(statement), lease: within(lease), found: isoOf(found),
        registered: registered === null ? null : isoOf(registered),
        deregistered: deregistered !== null && deregistered <= end ? isoOf(deregistered) : null,
      })

      // Residents: the people living there now, plus some who have moved out.
      if (kind === 'group_rental' || kind === 'rental') {
        const leavers = rng.poisson(occupants * 0.12)
        for (let k = 0; k < occupants + leavers; k++) {
          const floating = rng.chance(0.86)
          const doc = identity(rng, floating)
          // Leavers were there when the premises was found and left later in the campaign.
          const leaver = k >= occupants
          const movedIn = leaver ? found - rng.int(0, 30)
            : rng.chance(0.8) ? found - rng.int(0, 180) : found + rng.int(0, Math.max(0, Math.min(200, end - found)))
          const movedOut = leaver ? found + rng.int(Math.min(15, end - found), Math.max(Math.min(15, end - found), Math.min(300, end - found))) : null
          let reg: number | null = null
          if (rng.chance(0.9 + 0.1 * e)) {
            const r = Math.max(movedIn, found) + Math.round(rng.exponential(12 / e))
            if (r <= end) reg = r
          }
          if (reg !== null && movedOut !== null && reg > movedOut) reg = movedOut
          const dereg = reg !== null && movedOut !== null ? movedOut : null
          residentId++
          R.push({
            id: residentId, premises: id, name: personName(rng), idType: doc.type,
            cipher: encryptIdNumber(opts.keys, doc.number).toString('base64'),
            hmac: hmacIdNumber(opts.keys, doc.number).toString('base64'),
            masked: maskIdNumber(doc.number), phone: rng.chance(0.95) ? phone(rng) : null, floating,
            movedIn: isoOf(movedIn), movedOut: movedOut === null ? null : isoOf(movedOut),
            registered: reg === null ? null : isoOf(reg), deregistered: dereg === null ? null : isoOf(dereg),
          })
          for (const [category, p] of [['mental_illness', 0.003], ['person_of_concern', 0.008]] as const) {
            if (rng.chance(p)) F.push({ resident: residentId, category, flagged: isoOf(Math.max(movedIn, found)) })
          }
        }
      }

      // Hazards found at the first inspection or at follow-ups, each with its life so far.
      const nHazards = rng.poisson(hazardMeans[kind] * (hidden ? 3 : 1) * hazardScale)
      for (let k = 0; k < nHazards; k++) {
        const category = rng.weighted(categoryMix)
        const item = rng.weighted(itemWeights[category]!)
        const major = rng.chance(majorOdds[item] ?? 0.09)
        // Follow-up visits spread over the rest of the campaign up to the last inspections (a clamp
        // at its end piled them on the last report day, and every measure dropped there).
        const foundDay = rng.chance(0.75) ? found : found + rng.int(1, Math.max(1, Math.min(200, lastInspection - found)))
        const foundAt = atLocal(foundDay, rng.uniform(8.5, 17.5))
        const department = dict.items.get(item)!.department
        let referred: number | null = department !== 'police' || rng.chance(0.35) ? foundAt + rng.uniform(0.1, 3) * DAY : null
        const deadline = foundDay + (major ? rng.int(7, 15) : rng.int(20, 60))
        let rectified: number | null = null
        if (rng.chance(major ? 0.9 + 0.1 * e : 0.78 + 0.2 * e)) {
          rectified = foundAt + (1 + rng.exponential(major ? 10 / e : 30 / e)) * DAY
          if (referred !== null && rectified < referred) rectified = referred + 0.5 * DAY
        }
        if (referred !== null && referred > endMs) referred = null
        if (rectified !== null && rectified > endMs) rectified = null
        let verified: number | null = rectified !== null && rng.chance(0.85) ? rectified + rng.uniform(1, 10) * DAY : null
        if (verified !== null && verified > endMs) verified = null
        const status = verified !== null ? 'verified' : rectified !== null ? 'rectified' : referred !== null ? 'referred' : 'found'
        const texts = otherTexts[item]
        H.push({
          id: ++hazardId, premises: id, item, text: texts ? rng.pick(texts) : null, severity: major ? 'major' : 'general',
          status, department, found: foundAt, referred, rectified, verified, deadline: isoOf(deadline),
        })
      }

      // Enforcement results, placed at the premises where they happened.
      if (rng.chance(kind === 'group_rental' ? 0.1 : 0.03)) {
        const ek = rng.weighted(enforcementKinds)
        E.push({
          kind: ek, day: isoOf(found + rng.int(0, Math.max(0, Math.min(120, end - found)))), count: ek.endsWith('_solved') ? 1 : rng.int(1, 2),
          premises: id, lon: at[0], lat: at[1], town: ids.get(geo.towns[ti]!.key)!, station: stationIds[station]!,
        })
        events++
      }

      if (P.length >= batch || id === opts.premises) {
        await flush(tx, P, R, F, H, E)
        for (const c of [P, R, F, H, E]) for (const k in c.data) (c.data as Record<string, unknown[]>)[k]!.length = 0
        if (id % (batch * 10) === 0 || id === opts.premises) log(`premises: ${id.toLocaleString('en')} of ${opts.premises.toLocaleString('en')}`)
      }
    }

    // What the disabled triggers would have done, once for all rows.
    await tx`
      insert into hazard_event (hazard_id, status, at, department_code)
      select h.id, v.status, v.at, v.department_code
      from hazard h cross join lateral (values
        ('found', h.found_at, null::text), ('referred', h.referred_at, h.department_code),
        ('rectified', h.rectified_at, null), ('verified', h.verified_at, null)) as v(status, at, department_code)
      where v.at is not null
      order by h.id, v.at`
    await tx`select refresh_all_hazard_summaries()`
    await tx`select refresh_premises_cells()`
    // The demo's group rentals were group rentals from the day they were found (premises_track_kind).
    await tx`update premises set group_rental_since = found_on where kind = 'group_rental'`
    await tx`select refresh_measure_deltas()`
    await tx`alter table premises enable trigger user`
    await tx`alter table hazard enable trigger user`
    await tx`alter table resident enable trigger user`
    await tx`select setval('premises_id_seq', greatest(${opts.premises}, 1))`
    await tx`select setval('resident_id_seq', greatest(${residentId}, 1))`
    await tx`select setval('hazard_id_seq', greatest(${hazardId}, 1))`

    const tilesStarted = Date.now()
    const tiles = streetTiles(streets.features)
    for (let i = 0; i < tiles.length; i += 500) {
      const part = tiles.slice(i, i + 500)
      await tx`
        insert into basemap_tile (z, x, y, data)
        select z, x, y, decode(b64, 'base64')
        from unnest(${pgArray(part.map(t => t.z))}::smallint[], ${pgArray(part.map(t => t.x))}::int[], ${pgArray(part.map(t => t.y))}::int[],
                    ${pgArray(part.map(t => t.data.toString('base64')))}::text[]) as t(z, x, y, b64)`
    }
    log(`street map: ${tiles.length} tiles in ${((Date.now() - tilesStarted) / 1000).toFixed(1)} s`)

    const keyAreas = await seedKeyAreas(tx, rng, geo, ids, campaign.id)
    if (opts.demoUsers) {
      await seedDemoUsers(tx, ids.get(geo.towns[0]!.key)!)
      await seedDemoTasks(tx, ids.get(geo.towns[0]!.key)!)
    }
    log(`premises ${opts.premises}, residents ${residentId}, hazards ${hazardId}, enforcement events ${events}, key areas ${keyAreas}`)
    return {
      towns: geo.towns.length, communities: geo.communities.length, grids: geo.grids.length, policeStations: geo.stations.length,
      pois: geo.pois.length, premises: opts.premises, residents: residentId, hazards: hazardId, enforcementEvents: events, keyAreas,
      ms: Date.now() - started,
    }
  })
}

/**
 * One user per role, all with the password demo1234; the commander and the inspector work in the
 * first town (三井街道), everybody else district-wide; 'bureau' is the district police sub-bureau's
 * commander, who submits the district's biweekly table.
 */
async function seedDemoUsers(tx: Tx, townId: number): Promise<void> {
  const hash = await hashPassword('demo1234')
  const users: [string, string, string][] = [
    ['leader', 'leader', '领导小组（演示）'],
    ['commander', 'commander', '三井街道指挥长（演示）'],
    ['analyst', 'analyst', '研判分析员（演示）'],
    ['inspector', 'inspector', '三井街道排查员（演示）'],
    ['admin', 'admin', '系统管理员（演示）'],
    ['bureau', 'commander', '区公安分局（演示）'],
  ]
  for (const [username, role, displayName] of users) {
    const local = username === 'commander' || username === 'inspector'
    await tx`
      insert into app_user (username, display_name, password_hash, role, jurisdiction_kind, jurisdiction_town_id, is_demo)
      values (${username}, ${displayName}, ${hash}, ${role}, ${local ? 'town' : 'district'}, ${local ? townId : null}, true)`
  }
  await tx`insert into app_setting (key, value) values ('demo_mode', 'true') on conflict (key) do update set value = 'true'`
}

/**
 * A dozen visits given by the demo commander to the demo inspector, due over the coming days (one
 * overdue), so that "my tasks" on a phone shows work from the start: group rentals to inspect
 * and rectified hazards to verify.
 */
async function seedDemoTasks(tx: Tx, townId: number): Promise<void> {
  const batch = randomUUID()
  await tx`
    with users as (
      select (select id from app_user where username = 'inspector') as inspector, (select id from app_user where username = 'commander') as commander
    ), picked as (
      (select 'inspect' as kind, p.id as premises_id, null::bigint as hazard_id from premises p
       where p.town_id = ${townId} and p.kind = 'group_rental' order by p.id limit 8)
      union all
      (select 'verify', h.premises_id, h.id from hazard h join premises p on p.id = h.premises_id
       where p.town_id = ${townId} and h.status = 'rectified' order by h.id limit 4)
    )
    insert into task (kind, premises_id, hazard_id, assignee_id, assigned_by, batch_id, due_on, note)
    select k.kind, k.premises_id, k.hazard_id, u.inspector, u.commander, ${batch},
           local_day(now()) + (row_number() over (order by k.kind, k.premises_id))::int - 2, '演示任务'
    from picked k, users u`
}

/** Two key areas per town: around its urban villages first, then its factories. */
async function seedKeyAreas(tx: Tx, rng: Random, geo: Geography, ids: Map<string, number>, campaignId: number): Promise<number> {
  const preference: PlaceKind[] = ['urban_village', 'factory', 'urban_rural_fringe', 'resettlement_estate', 'campus']
  let n = 0
  for (const [ti, town] of geo.towns.entries()) {
    const candidates = geo.pois.filter(p => p.town === ti)
      .sort((a, b) => preference.indexOf(a.kind) - preference.indexOf(b.kind))
      .filter(p => preference.includes(p.kind))
      .slice(0, 2)
    for (const poi of candidates) {
      const geom = blob(rng, poi.at, rng.uniform(450, 800), town.geom)
      if (!geom) continue
      const [zh, en] = poi.kind === 'urban_village' ? [poi.zh, poi.en] : [`${poi.zh}周边`, `Around ${poi.en}`]
      const listed = rng.chance(0.7) ? '2019-12-29' : isoOf(dayOf('2020-01-05') + rng.int(0, 40))
      const deadline = isoOf(dayOf('2020-05-31') + rng.int(0, 150))
      // Every fourth key area was cleared to zero by its deadline (attachment 5 counts them).
      const cleared = n % 4 === 3
      const [row] = await tx<{ id: number }[]>`
        insert into key_area (campaign_id, name_zh, name_en, town_id, status, listed_on, deadline, cleared_on, geom)
        values (${campaignId}, ${zh}, ${en}, ${ids.get(town.key)!}, ${cleared ? 'cleared' : 'listed'}, ${listed}, ${deadline},
          ${cleared ? (deadline < '2020-11-29' ? deadline : '2020-11-29') : null},
          st_multi(st_collectionextract(st_makevalid(st_setsrid(st_geomfromgeojson(${geoJson(geom)}), 4326)), 3)))
        returning id`
      n++
      // Hand-entered figures of attachment 3, made plausible from what lies inside the boundary.
      await tx`
        update key_area k set
          police_station_id = (select s.id from police_station s where st_intersects(s.geom, st_pointonsurface(k.geom)) order by s.id limit 1),
          actual_population = (select coalesce(round(sum(p.occupants) * 1.6), 0) from premises p where st_intersects(k.geom, p.geom)),
          floating_population = (select coalesce(round(sum(p.occupants) * 1.1), 0) from premises p where st_intersects(k.geom, p.geom)),
          mental_illness_count = ${rng.int(0, 3)},
          persons_of_concern_count = ${rng.int(0, 8)}
        where k.id = ${row!.id}`
      await tx`
        insert into key_area_version (key_area_id, version, geom, attributes)
        select id, version, geom, jsonb_build_object('nameZh', name_zh, 'townId', town_id, 'policeStationId', police_station_id,
          'listedOn', listed_on, 'deadline', deadline, 'status', status)
        from key_area where id = ${row!.id}`
    }
  }
  return n
}
