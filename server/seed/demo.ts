import { randomUUID } from 'node:crypto'
import type { Sql, Tx } from '../db/index.js'
import { pgArray } from '../db/arrays.js'
import { PolygonIndex } from '../domain/geo.js'
import { startOfDay } from '../domain/calendar.js'
import type { EnforcementKind, PlaceKind, PremisesKind } from '../domain/lists.js'
import { residentIdCheckChar, maskIdNumber  } from '../domain/id-number.js'
import type { PiiKeys } from '../domain/pii.js'
import { hashPassword } from '../domain/passwords.js'
import { Random } from '../domain/random.js'
import { type AreaRecord, blob, buildGeography, type Geography, offset, randomPointIn, townSpecs } from './geography.js'
import { givenChars, localRegionCodes, migrantRegionCodes, otherTexts, roadNames, surnames } from './names.js'
import {
  type Batch, type BatchWriter, copyWriter, insertWriter, type LoadMethod, loadMethodFor, newBatch, placeKeyAreaSources, restoreTables,
  stripLoadedTables,
} from './load.js'
import type { KeyAreaTypes } from './key-area-source.js'
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
  /** How rows are written; by default COPY where the database speaks it (see LoadMethod). */
  load?: LoadMethod
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
/** Each day's text made once: the seed writes some 40 dates for every premises, 40,000,000 at 1,000,000. */
const isoDays = new Map<number, string>()
const isoOf = (day: number) => {
  let iso = isoDays.get(day)
  if (iso === undefined) isoDays.set(day, iso = new Date(day * DAY).toISOString().slice(0, 10))
  return iso
}
/** A moment on a district calendar day, at a local hour. */
const atLocal = (day: number, hour: number) => startOfDay(isoOf(day)).getTime() + hour * 3_600_000
/** The span of residents' birthdays. */
const firstBirthday = dayOf('1958-01-01')
const lastBirthday = dayOf('2002-12-31')

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
/** The premises' field of the day its first hazard of a category was found (the row triggers' refresh_hazard_summaries). */
const firstFoundField: Record<string, 'firstPsFound' | 'firstFireFound' | 'firstHousingFound' | 'firstOtherFound'> = {
  public_security: 'firstPsFound', fire: 'firstFireFound', housing: 'firstHousingFound', other: 'firstOtherFound',
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

const identityTypes = [['resident_id', 0.97], ['passport', 0.015], ['hk_macao_permit', 0.008], ['taiwan_permit', 0.004], ['other', 0.003]] as const

/** A synthetic identity document: mostly resident IDs with a valid check digit. */
function identity(rng: Random, floating: boolean): { type: string; number: string } {
  const t = rng.weighted(identityTypes)
  const digits = (n: number) => String(rng.int(0, 10 ** n - 1)).padStart(n, '0')
  switch (t) {
    case 'resident_id': {
      const region = floating ? rng.pick(migrantRegionCodes) : rng.pick(localRegionCodes)
      const birth = isoOf(rng.int(firstBirthday, lastBirthday)).replaceAll('-', '')
      const first17 = region + birth + digits(3)
      return { type: t, number: first17 + residentIdCheckChar(first17) }
    }
    case 'passport': return { type: t, number: `E${digits(8)}` }
    case 'hk_macao_permit': return { type: t, number: `H${digits(8)}` }
    case 'taiwan_permit': return { type: t, number: digits(8) }
    default: return { type: t, number: `X${digits(9)}` }
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

    const load = opts.load ?? await loadMethodFor(tx)
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

    const stripped = load === 'copy' ? await stripLoadedTables(tx) : null
    const copy = load === 'copy' ? copyWriter(opts.keys) : null
    const writer: BatchWriter = copy ?? insertWriter(opts.keys)
    let { P, R, F, H, E } = newBatch()
    // The batch being written while the next is made: the database loads one while Node computes the other.
    let writing: Promise<void> = Promise.resolve()
    const loadStarted = Date.now()
    let residentId = 0
    let hazardId = 0
    let events = 0

    try {
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
        const premisesRow = {
          id, kind, address: `${community.zh}${rng.pick(roadNames)}${rng.int(1, 899)}号${rng.chance(0.5) ? `${rng.int(1, 30)}幢` : ''}`,
          lon: Math.round(at[0] * 1e7) / 1e7, lat: Math.round(at[1] * 1e7) / 1e7,
          town: ids.get(geo.towns[ti]!.key)!, community: ids.get(community.key)!, grid: ids.get(grid.key)!, station: stationIds[station]!,
          rooms, beds, occupants, ownerName: personName(rng), ownerPhone: phone(rng),
          slName, slPhone: slName ? phone(rng) : null, slCollected: within(slCollected),
          statement: within(statement), lease: within(lease), found: isoOf(found),
          registered: registered === null ? null : isoOf(registered),
          deregistered: deregistered !== null && deregistered <= end ? isoOf(deregistered) : null,
          // The hazard summary and the day it became a group rental, as the row triggers would set them.
          hazards: 0, open: 0, openMajor: 0, openMinDeadline: null as string | null,
          firstPsFound: null as string | null, firstFireFound: null as string | null,
          firstHousingFound: null as string | null, firstOtherFound: null as string | null,
          grSince: kind === 'group_rental' ? isoOf(found) : null,
        }

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
              id: residentId, premises: id, name: personName(rng), idType: doc.type, idNumber: doc.number,
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
            id: ++hazardId, premises: id, item, category: dict.items.get(item)!.category, text: texts ? rng.pick(texts) : null, severity: major ? 'major' : 'general',
            status, department, found: foundAt, referred, rectified, verified, deadline: isoOf(deadline),
          })
          premisesRow.hazards++
          const first = firstFoundField[dict.items.get(item)!.category]!
          if (premisesRow[first] === null || isoOf(foundDay) < premisesRow[first]) premisesRow[first] = isoOf(foundDay)
          if (rectified === null) {
            premisesRow.open++
            if (major) premisesRow.openMajor++
            if (premisesRow.openMinDeadline === null || isoOf(deadline) < premisesRow.openMinDeadline) premisesRow.openMinDeadline = isoOf(deadline)
          }
        }
        P.push(premisesRow)

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
          const full: Batch = { P, R, F, H, E };
          ({ P, R, F, H, E } = newBatch())
          // Handed over at once (its COPY text is made while the batch before is loaded), and the
          // next batch made once the one before is written: at most three batches in memory.
          const before = writing
          writing = writer.write(tx, full)
          // Awaited at the next batch; until then a failure must not count as unhandled.
          writing.catch(() => {})
          await before
          if (id % (batch * 10) === 0 || id === opts.premises) {
            log(`premises: ${id.toLocaleString('en')} of ${opts.premises.toLocaleString('en')} (${((Date.now() - loadStarted) / 1000).toFixed(1)} s)`)
          }
        }
        // Now and then let the connection send what is written, so that the database loads meanwhile.
        if (id % 500 === 0) await new Promise(resolve => setImmediate(resolve))
      }
      await writing
      log(`rows written in ${((Date.now() - loadStarted) / 1000).toFixed(1)} s (${load})`)
      // The key-area tables' text is made by the COPY worker while the database lays out the premises
      // and fills the tile cells, and then COPYd as it comes (key-area-source.ts).
      const [types] = copy ? await tx<KeyAreaTypes[]>`
        select 'cell_day_delta'::regtype::oid::int as cell_day_delta, 'report_event'::regtype::oid::int as report_event` : []
      const writeKeyAreaCells = copy?.sumKeyAreaCells(types!)
      if (copy) {
        // The reports' daily changes, summed as the batches went (report-deltas.ts).
        const t0 = Date.now()
        await copy.writeReportDeltas(tx)
        log(`  daily changes: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
      }

      // What the disabled triggers would have done, once for all rows (the hazard summaries and the
      // day a group rental became one were written with the premises).
      const derivedStarted = Date.now()
      const step = async (what: string, run: () => Promise<unknown>) => {
        const t0 = Date.now()
        await run()
        log(`  ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
      }
      // The premises laid out on disk by place (geohash order: nearby premises on the same pages), as
      // PostGIS's manual advises for tables read by area. Generated in id order, a premises shared no
      // page with its neighbours: the premises of a ring, a tile or a preview's boundary were each a
      // page read (rings at 1,000,000 premises 5.9 -> 2.1 s, the load test's p99 2.1 -> 0.9 s). Ids
      // are unchanged; an operator does the same after a large import (docs/scale.md).
      if (stripped) {
        await step('premises laid out by place', async () => {
          await tx`create index premises_load_order on premises (st_geohash(geom, 9) collate "C")`
          await tx`cluster premises using premises_load_order`
          await tx`drop index premises_load_order`
        })
      }
      // Fresh statistics for the statements below: without them the planner takes the loaded tables
      // for empty ones and joins them row by row.
      if (stripped) await step('analyze', () => tx`analyze premises, resident, resident_flag, hazard, enforcement_event`)
      // A bulk load's grouping of millions of rows (the tile cells below, and any premises the key-area
      // check moves) sorts and hashes in memory rather than on disk. The embedded database loads a
      // demo's size and keeps its default.
      if (stripped) await tx`set local work_mem = '512MB'`
      // COPY brought the hazards' histories with the hazards, and the daily changes came above.
      if (!copy) await step('hazard history', () => tx`
        insert into hazard_event (hazard_id, status, at, department_code)
        select h.id, v.status, v.at, v.department_code
        from hazard h cross join lateral (values
          ('found', h.found_at, null::text), ('referred', h.referred_at, h.department_code),
          ('rectified', h.rectified_at, null), ('verified', h.verified_at, null)) as v(status, at, department_code)
        where v.at is not null
        order by h.id, v.at`)
      await step('tile cells', () => tx`select refresh_premises_cells()`)
      if (!copy) await step('daily changes', () => tx`select refresh_measure_deltas()`)
      await step('key-area cells', async () => {
        if (!writeKeyAreaCells) return tx`select refresh_all_premises_cell_days()`
        await writeKeyAreaCells(tx)
        // The worker placed each premises in its cell by its own arithmetic: any premises PostGIS puts
        // in another cell is moved there.
        const moved = await placeKeyAreaSources(tx)
        if (moved) log(`  key-area cells: ${moved} premises moved to the cell PostGIS puts them in`)
      })
      log(`derived tables in ${((Date.now() - derivedStarted) / 1000).toFixed(1)} s`)
      if (stripped) {
        const indexesStarted = Date.now()
        await tx`set local maintenance_work_mem = '256MB'`
        await restoreTables(tx, stripped, log)
        log(`indexes and foreign keys in ${((Date.now() - indexesStarted) / 1000).toFixed(1)} s`)
      }
    }
    finally {
      await writer.close()
    }
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
