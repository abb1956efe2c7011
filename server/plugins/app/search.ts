import fp from 'fastify-plugin'
import type { PendingQuery, Row } from 'postgres'
import type { Sql } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { hmacIdNumber, type PiiKeys } from '../../domain/pii.js'
import { maskPersonalText } from '../../domain/redact.js'
import { containsPattern, prefixRange, searchMinChars, type SearchText } from '../../domain/search.js'
import type { NearPremises, SearchResult } from '../../schemas/search.js'
import { keyAreaNameFor, keyAreaScope, type KeyAreaViewer } from './key-areas-scope.js'
import { statusSql } from './premises.js'

/**
 * Who searches: where they may look, whether they see drafts of key areas (as key areas show
 * them), whether they see people. Without people no name, phone or document number is looked up,
 * and a match is kept only if the text is found in what the role is shown (addresses and names
 * with ID and phone numbers masked): a search must not tell which address holds a phone number.
 */
export type SearchViewer = KeyAreaViewer

/** Candidates read per kind before ranking: enough to rank well, few enough to stay fast at a million premises. */
export const searchCandidates = 200

/** How a match ranks: exact over beginning over part; within one, a shorter text (a closer match) first. */
function score(match: 'exact' | 'start' | 'part', query: string, text: string, bonus: number): number {
  const base = match === 'exact' ? 100 : match === 'start' ? 80 : 60
  const closeness = 10 * Math.min(1, [...query].length / Math.max(1, [...text].length))
  return Math.round((base + bonus + closeness) * 100) / 100
}

/** Areas and people above premises when they match as well: there are few of them, and many premises. */
const kindBonus = { community: 8, key_area: 6, person: 4, premises: 0 } as const

const lower = (s: string) => s.toLowerCase()
function matchOf(terms: string[], text: string | null): 'exact' | 'start' | 'part' | null {
  if (text === null) return null
  const t = lower(text)
  const whole = lower(terms.join(''))
  if (t === whole) return 'exact'
  if (!terms.every(x => t.includes(lower(x)))) return null
  return t.startsWith(lower(terms[0]!)) ? 'start' : 'part'
}

type Bbox = [number, number, number, number]
interface PlaceRow { placeZh: string; placeEn: string }

export function searchRepository(sql: Sql, keys: PiiKeys) {
  /** Every term in one of the columns (ILIKE, its own wildcards taken literally). */
  function allTermsIn(terms: string[], columns: PendingQuery<Row[]>[]) {
    return terms.map(t => sql`(${columns.map(c => sql`${c} ilike ${containsPattern(t)}`).reduce((a, b) => sql`${a} or ${b}`)})`)
      .reduce((a, b) => sql`${a} and ${b}`)
  }

  /** The bigrams every match must hold (from the terms long enough to have one). */
  function bigramsOf(terms: string[]) {
    return terms.filter(t => [...t].length >= searchMinChars).map(t => sql`search_bigrams(${t})`).reduce((a, b) => sql`${a} || ${b}`)
  }

  /** A community lies in a jurisdiction when it is in the town, or its inner point is in the police station's area. */
  function communityScope(scope: Jurisdiction) {
    switch (scope.kind) {
      case 'district': return sql`true`
      case 'town': return sql`c.parent_id = ${scope.id!}`
      case 'police_station': return sql`exists (select 1 from police_station s where s.id = ${scope.id!} and st_intersects(s.geom, st_pointonsurface(c.geom)))`
    }
  }

  async function premises(viewer: SearchViewer, terms: string[], limit: number): Promise<{ results: SearchResult[]; truncated: boolean }> {
    if (!terms.some(t => [...t].length >= searchMinChars)) return { results: [], truncated: false }
    const rows = await sql<({ id: number; address: string; externalRef: string | null; lon: number; lat: number; candidates: number } & PlaceRow)[]>`
      with c as (
        select p.id, p.address, p.external_ref, p.geom, p.town_id, p.community_id
        from premises p
        where premises_search_bigrams(p.address, p.external_ref) @> (${bigramsOf(terms)})
          and ${allTermsIn(terms, [sql`p.address`, sql`p.external_ref`])}
          and ${inJurisdiction(sql, viewer.jurisdiction)}
        limit ${searchCandidates + 1}
      )
      select c.id, c.address, c.external_ref, st_x(c.geom) as lon, st_y(c.geom) as lat,
             concat_ws(' · ', t.name_zh, m.name_zh) as place_zh, concat_ws(' · ', t.name_en, m.name_en) as place_en,
             (select count(*)::int from c) as candidates
      from c join admin_area t on t.id = c.town_id left join admin_area m on m.id = c.community_id`
    const results: SearchResult[] = []
    for (const r of rows.slice(0, searchCandidates)) {
      const address = viewer.people ? r.address : maskPersonalText(r.address)
      const byAddress = matchOf(terms, address)
      const byRef = matchOf(terms, r.externalRef)
      const match = byRef === 'exact' ? byRef : byAddress ?? byRef
      if (!match) continue
      const matched = byRef === 'exact' || !byAddress ? 'ledger_ref' : 'address'
      results.push({
        kind: 'premises', id: r.id, premisesId: r.id, label: address, labelEn: null, address: null, placeZh: r.placeZh, placeEn: r.placeEn,
        matched, ledgerRef: r.externalRef, lon: r.lon, lat: r.lat, bbox: null,
        score: score(match, terms.join(''), matched === 'ledger_ref' ? r.externalRef! : address, kindBonus.premises),
      })
    }
    return { results: results.sort(byScore).slice(0, limit), truncated: rows.length > searchCandidates }
  }

  async function communities(viewer: SearchViewer, terms: string[]): Promise<SearchResult[]> {
    const rows = await sql<({ id: number; nameZh: string; nameEn: string; lon: number; lat: number; x0: number; y0: number; x1: number; y1: number } & PlaceRow)[]>`
      select c.id, c.name_zh, c.name_en, st_x(st_pointonsurface(c.geom)) as lon, st_y(st_pointonsurface(c.geom)) as lat,
             st_xmin(c.geom) as x0, st_ymin(c.geom) as y0, st_xmax(c.geom) as x1, st_ymax(c.geom) as y1,
             t.name_zh as place_zh, t.name_en as place_en
      from admin_area c join admin_area t on t.id = c.parent_id
      where c.level = 'community' and c.valid_to is null
        and ${allTermsIn(terms, [sql`c.name_zh`, sql`c.name_en`])} and ${communityScope(viewer.jurisdiction)}
      order by c.code limit ${searchCandidates}`
    return rows.flatMap((r) => {
      const match = matchOf(terms, r.nameZh) ?? matchOf(terms, r.nameEn)
      if (!match) return []
      return [{
        kind: 'community' as const, id: r.id, premisesId: null, label: r.nameZh, labelEn: r.nameEn, address: null, placeZh: r.placeZh, placeEn: r.placeEn,
        matched: 'name' as const, ledgerRef: null, lon: r.lon, lat: r.lat, bbox: [r.x0, r.y0, r.x1, r.y1] as Bbox,
        score: score(match, terms.join(''), r.nameZh, kindBonus.community),
      }]
    })
  }

  async function keyAreas(viewer: SearchViewer, terms: string[]): Promise<SearchResult[]> {
    const rows = await sql<({ id: number; nameZh: string; nameEn: string | null; lon: number; lat: number; x0: number; y0: number; x1: number; y1: number } & PlaceRow)[]>`
      select k.id, k.name_zh, k.name_en, st_x(st_pointonsurface(k.geom)) as lon, st_y(st_pointonsurface(k.geom)) as lat,
             st_xmin(k.geom) as x0, st_ymin(k.geom) as y0, st_xmax(k.geom) as x1, st_ymax(k.geom) as y1,
             t.name_zh as place_zh, t.name_en as place_en
      from key_area k join admin_area t on t.id = k.town_id
      where k.deleted_at is null and ${keyAreaScope(sql, viewer)} and ${allTermsIn(terms, [sql`k.name_zh`, sql`k.name_en`])}
      order by k.id limit ${searchCandidates}`
    return rows.flatMap((r) => {
      const nameZh = keyAreaNameFor(viewer, r.nameZh)
      const nameEn = keyAreaNameFor(viewer, r.nameEn)
      const match = matchOf(terms, nameZh) ?? matchOf(terms, nameEn)
      if (!match) return []
      return [{
        kind: 'key_area' as const, id: r.id, premisesId: null, label: nameZh, labelEn: nameEn, address: null, placeZh: r.placeZh, placeEn: r.placeEn,
        matched: 'name' as const, ledgerRef: null, lon: r.lon, lat: r.lat, bbox: [r.x0, r.y0, r.x1, r.y1] as Bbox,
        score: score(match, terms.join(''), nameZh, kindBonus.key_area),
      }]
    })
  }

  /** Owners and second landlords whose name or phone begins with the text. */
  async function landlords(scope: Jurisdiction, by: 'name' | 'phone', prefix: string): Promise<SearchResult[]> {
    const [lo, hi] = prefixRange(prefix)
    const column = (role: 'owner' | 'second_landlord') => {
      const c = sql(`${role}_${by}`)
      return by === 'name' ? sql`p.${c} collate "C"` : sql`phone_digits(p.${c}) collate "C"`
    }
    const one = (role: 'owner' | 'second_landlord') => sql`
      (select ${role}::text as role, p.id, p.address, st_x(p.geom) as lon, st_y(p.geom) as lat, p.external_ref,
              p.${sql(`${role}_name`)} as name, p.${sql(`${role}_phone`)} as phone, p.town_id, p.community_id
       from premises p
       where p.${sql(`${role}_${by}`)} is not null and ${column(role)} >= ${lo} and ${column(role)} < ${hi}
         and ${inJurisdiction(sql, scope)}
       order by ${column(role)}, p.id limit ${searchCandidates})`
    const rows = await sql<({ role: 'owner' | 'second_landlord'; id: number; address: string; lon: number; lat: number; externalRef: string | null; name: string | null; phone: string | null } & PlaceRow)[]>`
      select x.role, x.id, x.address, x.lon, x.lat, x.external_ref, x.name, x.phone,
             concat_ws(' · ', t.name_zh, m.name_zh) as place_zh, concat_ws(' · ', t.name_en, m.name_en) as place_en
      from (${one('owner')} union all ${one('second_landlord')}) x
      join admin_area t on t.id = x.town_id left join admin_area m on m.id = x.community_id`
    return rows.map(r => ({
      kind: r.role, id: r.id, premisesId: r.id, label: r.name ?? r.phone ?? '', labelEn: null, address: r.address, placeZh: r.placeZh, placeEn: r.placeEn,
      matched: by, ledgerRef: r.externalRef, phone: r.phone, lon: r.lon, lat: r.lat, bbox: null,
      score: personScore(by, prefix, by === 'name' ? r.name ?? '' : (r.phone ?? '').replace(/\D/g, '')),
    }))
  }

  const residentColumns = sql`
    r.id, r.premises_id, r.name, r.phone, r.id_number_masked, r.moved_out_on is not null as moved_out,
    p.address, st_x(p.geom) as lon, st_y(p.geom) as lat, p.external_ref,
    concat_ws(' · ', t.name_zh, m.name_zh) as place_zh, concat_ws(' · ', t.name_en, m.name_en) as place_en`
  type ResidentRow = { id: number; premisesId: number; name: string; phone: string | null; idNumberMasked: string; movedOut: boolean; address: string; lon: number; lat: number; externalRef: string | null } & PlaceRow
  const residentResult = (r: ResidentRow, matched: 'name' | 'phone' | 'id_number', s: number): SearchResult => ({
    kind: 'resident', id: r.id, premisesId: r.premisesId, label: r.name, labelEn: null, address: r.address, placeZh: r.placeZh, placeEn: r.placeEn,
    matched, ledgerRef: r.externalRef, phone: r.phone, idNumberMasked: r.idNumberMasked, movedOut: r.movedOut, lon: r.lon, lat: r.lat, bbox: null, score: s,
  })

  /** Residents whose name or phone begins with the text, those still living there first among equals. */
  async function residents(scope: Jurisdiction, by: 'name' | 'phone', prefix: string): Promise<SearchResult[]> {
    const [lo, hi] = prefixRange(prefix)
    const column = by === 'name' ? sql`r.name collate "C"` : sql`phone_digits(r.phone) collate "C"`
    const rows = await sql<ResidentRow[]>`
      select ${residentColumns}
      from (select r.* from resident r join premises p on p.id = r.premises_id
            where ${by === 'phone' ? sql`r.phone is not null and` : sql``} ${column} >= ${lo} and ${column} < ${hi}
              and ${inJurisdiction(sql, scope)}
            order by ${column}, r.id limit ${searchCandidates}) r
      join premises p on p.id = r.premises_id join admin_area t on t.id = p.town_id left join admin_area m on m.id = p.community_id`
    return rows.map(r => residentResult(r, by, personScore(by, prefix, by === 'name' ? r.name : (r.phone ?? '').replace(/\D/g, '')) - (r.movedOut ? 1 : 0)))
  }

  function personScore(by: 'name' | 'phone', prefix: string, value: string): number {
    return score(value === prefix ? 'exact' : 'start', prefix, value, kindBonus.person)
  }

  /** Residents with exactly this document number (found by its HMAC; nothing is decrypted). */
  async function byIdNumber(scope: Jurisdiction, idNumber: string): Promise<SearchResult[]> {
    const rows = await sql<ResidentRow[]>`
      select ${residentColumns}
      from resident r join premises p on p.id = r.premises_id
      join admin_area t on t.id = p.town_id left join admin_area m on m.id = p.community_id
      where r.id_number_hmac = ${hmacIdNumber(keys, idNumber)} and ${inJurisdiction(sql, scope)}
      order by r.moved_out_on nulls first, r.id limit ${searchCandidates}`
    // An exact document number outranks anything else the text may also match.
    return rows.map(r => residentResult(r, 'id_number', 1000 - (r.movedOut ? 1 : 0)))
  }

  return {
    /**
     * Ranked results of every kind the viewer may see, within their jurisdiction. `idNumber`: look
     * the text up as a document number too (by its HMAC; the caller makes sure it came in a body).
     */
    async search(viewer: SearchViewer, text: SearchText, limit: number, opts: { idNumber: boolean }) {
      const found = await Promise.all([
        premises(viewer, text.terms, limit),
        communities(viewer, text.terms).then(results => ({ results, truncated: false })),
        keyAreas(viewer, text.terms).then(results => ({ results, truncated: false })),
        ...(viewer.people
          ? [
              ...(text.name ? [landlords(viewer.jurisdiction, 'name', text.name), residents(viewer.jurisdiction, 'name', text.name)] : []),
              ...(text.phoneDigits ? [landlords(viewer.jurisdiction, 'phone', text.phoneDigits), residents(viewer.jurisdiction, 'phone', text.phoneDigits)] : []),
              ...(opts.idNumber && text.idNumber ? [byIdNumber(viewer.jurisdiction, text.idNumber)] : []),
            ].map(p => p.then(results => ({ results, truncated: results.length >= searchCandidates })))
          : []),
      ])
      return {
        results: found.flatMap(f => f.results).sort(byScore).slice(0, limit),
        truncated: found.some(f => f.truncated),
      }
    },

    /**
     * The premises nearest a point within the jurisdiction, nearest first, with the distance in
     * metres. The spatial index orders the candidates (Web Mercator is true to shape, so its
     * distances rank like metres near the point); the ellipsoid gives each one's exact distance.
     */
    async near(viewer: SearchViewer, lon: number, lat: number, limit: number, on: string): Promise<NearPremises[]> {
      // Web Mercator ends short of the poles: the ordering point is kept inside it (the distances are not).
      const mercatorLat = Math.max(-85, Math.min(85, lat))
      const rows = await sql<NearPremises[]>`
        select n.id, n.kind, ${statusSql(sql, on, 'n')} as status, n.address, st_x(n.geom) as lon, st_y(n.geom) as lat,
               st_distance(n.geom::geography, st_setsrid(st_makepoint(${lon}, ${lat}), 4326)::geography) as distance_m
        from (select p.* from premises p where ${inJurisdiction(sql, viewer.jurisdiction)}
              order by p.geom_m <-> st_transform(st_setsrid(st_makepoint(${lon}, ${mercatorLat}), 4326), 3857)
              limit ${limit * 2 + 10}) n
        order by distance_m, n.id limit ${limit}`
      return rows.map(r => ({ ...r, address: viewer.people ? r.address : maskPersonalText(r.address), distanceM: Math.round(r.distanceM * 10) / 10 }))
    },
  }
}

const byScore = (a: SearchResult, b: SearchResult) => b.score - a.score || a.label.localeCompare(b.label) || a.id - b.id

export type SearchRepository = ReturnType<typeof searchRepository>

declare module 'fastify' {
  interface FastifyInstance {
    /** The search box and "premises near me" (`search` is taken: Fastify's shorthand for the SEARCH method). */
    lookup: SearchRepository
  }
}

export default fp<{ keys: PiiKeys }>(async (app, opts) => {
  app.decorate('lookup', searchRepository(app.db.sql, opts.keys))
}, { name: 'search', dependencies: ['db'] })
