import { pgArray } from '../db/arrays.js'
import type { Sql } from '../db/index.js'
import { Random } from '../domain/random.js'
import { leadsRepository } from '../plugins/app/leads.js'

/**
 * Synthetic utility readings for the demo district: a year of daily electricity (with its night
 * part) and monthly water for every premises, plus meters at addresses the registers do not know.
 * Ordinary households, holiday lets, vacant flats, registered group rentals and *hidden* group
 * rentals — premises registered as something smaller, or no premises at all — with noise, weekends,
 * the Spring Festival and the seasons. Deterministic from the seed.
 *
 * Which premises hide a group rental is decided here and nowhere else: `hiddenTruth` answers it for
 * tests and the benchmark; the leads model never sees it (it reads only readings and registers).
 */

export interface DemoReadingsOptions {
  seed: number
  /** The year of readings (the campaign's main year). */
  year?: number
  /** Rows per statement. */
  batch?: number
}

export interface DemoReadingsSummary {
  accounts: number
  months: number
  hiddenPremises: number
  hiddenSites: number
}

/** Share of the candidate premises (rentals, homestays, family hotels) that hide a group rental. */
export const hiddenShare = 0.15
/** Share of the candidate premises that stand empty. */
const vacantShare = 0.07
/** One meter site at an address with no premises per this many premises. */
const premisesPerSite = 120
/** Share of those sites that are group rentals (the others are households nobody registered). */
const siteGroupShare = 0.5

type Profile = 'household' | 'holiday_let' | 'vacant' | 'group_rental' | 'institution'

interface Subject {
  /** For a site with no premises: its number. */
  site?: number
  premisesId: number | null
  address: string
  lon: number
  lat: number
  townId: number
  communityId: number | null
  stationId: number | null
  profile: Profile
  /** People living there (drives use). */
  people: number
}

const candidateKinds = new Set(['rental', 'homestay', 'family_hotel'])

/** Whether a premises hides a group rental: from the seed and its id alone, so tests can ask without generating anything. */
export function hidesGroupRental(seed: number, premises: { id: number; kind: string; meetsRule: boolean | null }): boolean {
  if (!candidateKinds.has(premises.kind) || premises.meetsRule) return false
  return new Random((seed * 1_000_003 + premises.id * 7919) >>> 0).next() < hiddenShare
}

/** Whether the k-th site with no premises is a group rental (from the seed and k alone). */
function siteIsGroup(seed: number, k: number): boolean {
  return new Random((seed * 31 + k * 613 + 5) >>> 0).next() < siteGroupShare
}

function vacant(seed: number, id: number): boolean {
  return new Random((seed * 999_983 + id * 104_729 + 17) >>> 0).next() < vacantShare
}

/** The truth about the demo: premises that hide a group rental, and the meter accounts of unregistered sites that are one. */
export async function hiddenTruth(sql: Sql, seed: number): Promise<{ premises: Set<number>; siteAccounts: Set<string> }> {
  const rows = await sql<{ id: number; kind: string; meetsRule: boolean | null }[]>`select id, kind, meets_rule from premises`
  const premises = new Set(rows.filter(p => hidesGroupRental(seed, p)).map(p => p.id))
  const sites = await sql<{ accountNo: string }[]>`select account_no from meter_account where account_no like 'DS-%'`
  return { premises, siteAccounts: new Set(sites.map(s => s.accountNo).filter(no => siteIsGroup(seed, Number(no.slice(4))))) }
}

const monthFactor: Record<Profile, number[]> = {
  // Air conditioning in summer, heating in winter.
  household: [1.45, 1.3, 1.0, 0.9, 0.95, 1.2, 1.65, 1.75, 1.2, 0.95, 1.0, 1.35],
  holiday_let: [0.8, 0.9, 1.0, 1.1, 1.2, 1.2, 1.4, 1.5, 1.1, 1.3, 0.9, 0.8],
  vacant: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  // Many people under one roof use much all year: the seasons matter less.
  group_rental: [1.12, 1.05, 1.0, 0.97, 0.98, 1.05, 1.2, 1.25, 1.05, 0.98, 1.0, 1.1],
  institution: [1.2, 1.1, 1.0, 0.95, 1.0, 1.1, 1.3, 1.35, 1.1, 1.0, 1.0, 1.15],
}
const restFactor: Record<Profile, number> = { household: 1.1, holiday_let: 1.4, vacant: 1, group_rental: 1.28, institution: 1.05 }
/** During the Spring Festival: migrant tenants go home. */
const festivalFactor: Record<Profile, number> = { household: 0.95, holiday_let: 1.2, vacant: 1, group_rental: 0.38, institution: 0.7 }
const nightMean: Record<Profile, number> = { household: 0.32, holiday_let: 0.3, vacant: 0.5, group_rental: 0.45, institution: 0.36 }

function gauss(rng: Random): number {
  const u = Math.max(rng.next(), 1e-12)
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next())
}

/** kWh a day and m³ a month of a subject, before the calendar's factors. */
function baseUse(s: Subject, rng: Random): { kwh: number; water: number } {
  const spread = Math.exp(gauss(rng) * 0.3)
  switch (s.profile) {
    case 'household': return { kwh: (2.5 + 2.2 * s.people) * spread, water: 3.2 * s.people * spread }
    case 'holiday_let': return { kwh: 11 * spread, water: 16 * spread }
    case 'vacant': return { kwh: 0.4 * spread, water: 0.3 * spread }
    case 'group_rental': return { kwh: 1.55 * s.people * spread, water: 2.7 * s.people * spread }
    case 'institution': return { kwh: 2 * s.people * spread, water: 3 * s.people * spread }
  }
}

/** Writes the demo's meter accounts and readings (the caller refreshes the leads afterwards). */
export async function seedDemoReadings(sql: Sql, opts: DemoReadingsOptions): Promise<DemoReadingsSummary> {
  const year = opts.year ?? 2020
  const batch = opts.batch ?? 2000
  const rng = new Random(opts.seed ^ 0x5EED)
  const premises = await sql<{ id: number; kind: string; meetsRule: boolean | null; address: string; lon: number; lat: number; townId: number; communityId: number | null; policeStationId: number | null; occupants: number; roomsLet: number }[]>`
    select id, kind, meets_rule, address, st_x(geom) as lon, st_y(geom) as lat, town_id, community_id, police_station_id, occupants, rooms_let
    from premises where deregistered_on is null order by id`
  const festival = new Set((await sql<{ day: string }[]>`select day::text as day from calendar_day where kind = 'spring_festival' and extract(year from day) = ${year}`).map(d => d.day))
  const rest = new Set((await sql<{ day: string }[]>`
    select d::date::text as day from generate_series(${`${year}-01-01`}::date, ${`${year}-12-31`}::date, interval '1 day') d where is_rest_day(d::date)`).map(d => d.day))

  const subjects: Subject[] = []
  let hiddenPremises = 0
  for (const p of premises) {
    let profile: Profile
    let people = Math.max(1, Math.min(p.occupants || rng.int(1, 4), 6))
    if (hidesGroupRental(opts.seed, p)) {
      profile = 'group_rental'
      people = rng.int(11, 30)
      hiddenPremises++
    }
    else if (p.kind === 'group_rental') {
      profile = 'group_rental'
      people = Math.max(p.occupants, rng.int(12, 30))
    }
    else if (p.kind === 'factory_dormitory' || p.kind === 'care_home') {
      profile = 'institution'
      people = Math.max(p.occupants, rng.int(20, 60))
    }
    else if (candidateKinds.has(p.kind) && vacant(opts.seed, p.id)) profile = 'vacant'
    else if (p.kind === 'homestay' || p.kind === 'family_hotel') profile = 'holiday_let'
    else {
      profile = 'household'
      // A rental that meets the rule is a large let with many people, as registered.
      if (p.meetsRule) people = Math.max(p.occupants, 10)
    }
    subjects.push({ premisesId: p.id, address: p.address, lon: p.lon, lat: p.lat, townId: p.townId, communityId: p.communityId, stationId: p.policeStationId, profile, people })
  }
  // Sites with meters but no premises: ~400 m from a premises, at an address of their own.
  const siteCount = Math.floor(premises.length / premisesPerSite)
  let hiddenSites = 0
  for (let i = 0; i < siteCount && premises.length; i++) {
    const near = premises[rng.int(0, premises.length - 1)]!
    const group = siteIsGroup(opts.seed, i)
    if (group) hiddenSites++
    subjects.push({
      site: i, premisesId: null, address: `${near.address.replace(/\d+号.*$/, '')}新建${100 + i}号`,
      lon: near.lon + rng.uniform(-0.004, 0.004), lat: near.lat + rng.uniform(-0.004, 0.004),
      townId: near.townId, communityId: near.communityId, stationId: near.policeStationId,
      profile: group ? 'group_rental' : 'household', people: group ? rng.int(11, 30) : rng.int(1, 4),
    })
  }

  const surnames = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周']
  const accountRows: { utility: string; accountNo: string; holder: string; address: string; premisesId: number | null; lon: number; lat: number; town: number; community: number | null; station: number | null }[] = []
  const readings: { accountNo: string; utility: string; month: string; daily: string | null; night: string | null; total: number }[] = []
  subjects.forEach((s, i) => {
    // Account numbers say nothing about what lives there: a site's carries only its number.
    const no = s.site === undefined ? `DP-%s${String(i + 1).padStart(7, '0')}` : `DS-%s${s.site}`
    const elecNo = no.replace('%s', 'E')
    const waterNo = no.replace('%s', 'W')
    const holder = `${surnames[i % surnames.length]}某${'甲乙丙丁戊'[i % 5]}`
    for (const [utility, no] of [['electricity', elecNo], ['water', waterNo]] as const) {
      accountRows.push({ utility, accountNo: no, holder, address: s.address, premisesId: s.premisesId, lon: s.lon, lat: s.lat, town: s.townId, community: s.communityId, station: s.stationId })
    }
    const base = baseUse(s, rng)
    const night = Math.min(0.8, Math.max(0.1, nightMean[s.profile] + gauss(rng) * 0.03))
    for (let m = 0; m < 12; m++) {
      const month = `${year}-${String(m + 1).padStart(2, '0')}-01`
      const days = new Date(Date.UTC(year, m + 1, 0)).getUTCDate()
      const daily: number[] = []
      const nights: number[] = []
      let total = 0
      for (let d = 1; d <= days; d++) {
        const day = `${month.slice(0, 8)}${String(d).padStart(2, '0')}`
        let f = monthFactor[s.profile][m]! * Math.exp(gauss(rng) * 0.12)
        if (festival.has(day)) f *= festivalFactor[s.profile]
        else if (rest.has(day)) f *= restFactor[s.profile]
        const v = Math.round(base.kwh * f * 100)
        daily.push(v)
        nights.push(Math.round(v * Math.min(0.95, Math.max(0.05, night + gauss(rng) * 0.02))))
        total += v
      }
      readings.push({ accountNo: elecNo, utility: 'electricity', month, daily: `{${daily.join(',')}}`, night: `{${nights.join(',')}}`, total })
      const water = Math.round(base.water * Math.exp(gauss(rng) * 0.1) * (m >= 5 && m <= 8 ? 1.15 : 1) * 100)
      readings.push({ accountNo: waterNo, utility: 'water', month, daily: null, night: null, total: water })
    }
  })

  await sql.begin(async (tx) => {
    for (let i = 0; i < accountRows.length; i += batch) {
      const b = accountRows.slice(i, i + batch)
      await tx`
        insert into meter_account (utility, account_no, holder_name, address, geom, town_id, community_id, police_station_id, premises_id, match_method, unmatched_reason)
        select t.utility, t.no, t.holder, t.address, st_setsrid(st_makepoint(t.lon, t.lat), 4326), t.town, t.community, t.station, t.premises,
               case when t.premises is null then null else 'address' end, case when t.premises is null then 'no-premises' end
        from unnest(${pgArray(b.map(r => r.utility))}::text[], ${pgArray(b.map(r => r.accountNo))}::text[], ${pgArray(b.map(r => r.holder))}::text[],
          ${pgArray(b.map(r => r.address))}::text[], ${pgArray(b.map(r => r.lon))}::float8[], ${pgArray(b.map(r => r.lat))}::float8[],
          ${pgArray(b.map(r => r.town))}::int[], ${pgArray(b.map(r => r.community))}::int[], ${pgArray(b.map(r => r.station))}::int[],
          ${pgArray(b.map(r => r.premisesId))}::bigint[]) as t(utility, no, holder, address, lon, lat, town, community, station, premises)
        on conflict (utility, account_no) do nothing`
    }
    for (let i = 0; i < readings.length; i += batch) {
      const b = readings.slice(i, i + batch)
      await tx`
        insert into meter_reading (account_id, month, daily, night, total)
        select a.id, t.month, t.daily::int[], t.night::int[], t.total
        from unnest(${pgArray(b.map(r => r.utility))}::text[], ${pgArray(b.map(r => r.accountNo))}::text[], ${pgArray(b.map(r => r.month))}::date[],
          ${pgArray(b.map(r => r.daily))}::text[], ${pgArray(b.map(r => r.night))}::text[], ${pgArray(b.map(r => r.total))}::bigint[])
          as t(utility, no, month, daily, night, total)
        join meter_account a on a.utility = t.utility and a.account_no = t.no
        on conflict (account_id, month) do nothing`
    }
  })
  return { accounts: accountRows.length, months: readings.length, hiddenPremises, hiddenSites }
}

/**
 * The demo's readings and the leads they give: the readings, then one refresh of every signal and
 * score (as a committed import would do).
 */
export async function seedDemoLeads(sql: Sql, opts: DemoReadingsOptions): Promise<DemoReadingsSummary & { leads: number; ms: number }> {
  const started = Date.now()
  const summary = await seedDemoReadings(sql, opts)
  const refreshed = await leadsRepository(sql).refresh()
  return { ...summary, leads: refreshed.scored, ms: Date.now() - started }
}
