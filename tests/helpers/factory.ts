import { pgArray } from '../../server/db/arrays.js'
import { setBulkLoad } from '../../server/db/bulk-load.js'
import type { Sql, Tx } from '../../server/db/index.js'
import type { Role } from '../../server/domain/access.js'
import { maskIdNumber, residentIdCheckChar } from '../../server/domain/id-number.js'
import { hashPassword } from '../../server/domain/passwords.js'
import { encryptIdNumber, hmacIdNumber } from '../../server/domain/pii.js'
import type { PremisesKind } from '../../server/domain/lists.js'
import type { TestDatabase } from './db.js'
import { testKeys } from './keys.js'

/**
 * A test-data factory (the idea of immich's medium tests): each function inserts exactly the rows a
 * test asks for, with plain defaults, and answers their ids, so that a test states what it stands
 * on instead of searching the demo district for a row that happens to fit.
 *
 * It writes as the app's own database role (`db.sql`, the restricted role on PostgreSQL), through
 * the rules the database keeps: a premises gets its town, community, grid cell and police station
 * from its point, a hazard its history, the map and the measures their derived rows. It works on
 * the 'migrated' template, which holds no place at all, as on the 'seeded' one: its towns are
 * squares laid out east of every town already there, and the district (made on first use when
 * there is none) is widened to take them in.
 */

/** [west, south, east, north] in degrees (WGS-84). */
export type Box = [west: number, south: number, east: number, north: number]

export interface FactoryTown {
  id: number
  nameZh: string
  box: Box
  /** Its communities, west to east, each split into grid cells (south, north). */
  communities: { id: number; nameZh: string; box: Box; grids: number[] }[]
}

export interface FactoryStation {
  id: number
  nameZh: string
  /** The boxes its area is made of. */
  area: Box[]
}

export interface FactoryPremises {
  id: number
  at: [number, number]
  townId: number
  policeStationId: number | null
}

export interface FactoryResident {
  id: number
  /** The full ID number, as the app decrypts it. */
  idNumber: string
}

export interface FactoryUser {
  id: number
  username: string
  password: string
}

/** Where a premises goes: a point, or a fresh point inside a town, a station, or where both meet. */
export interface Placement {
  at?: [number, number]
  town?: FactoryTown
  station?: FactoryStation
}

export interface PremisesOptions extends Placement {
  kind?: PremisesKind
  address?: string
  rooms?: number
  beds?: number
  occupants?: number
  foundOn?: string
  registeredOn?: string | null
  ownerName?: string | null
  ownerPhone?: string | null
  secondLandlordName?: string | null
  secondLandlordPhone?: string | null
}

export type HazardStatus = 'found' | 'referred' | 'rectified' | 'verified'

export interface HazardOptions {
  item?: string
  otherText?: string | null
  severity?: 'general' | 'major'
  status?: HazardStatus
  /** When it was found (an ISO time); each later step follows a day apart. */
  foundAt?: string
  deadline?: string | null
}

const townSize = 0.02
const townGap = 0.01
const townSouth = 31.89
/** Rows from which a set-wise write goes the bulk-load way (below it the row triggers are quicker than rebuilding). */
const bulkFrom = 200
/** How far inside a box generated points keep from its edge (a point on a border belongs to both sides). */
const margin = 0.08

const geomOf = (boxes: Box[]) =>
  JSON.stringify({ type: 'MultiPolygon', coordinates: boxes.map(([w, s, e, n]) => [[[w, s], [e, s], [e, n], [w, n], [w, s]]]) })

/** The western or eastern half of a box. */
export function halfOf(box: Box, half: 'west' | 'east'): Box {
  const mid = (box[0] + box[2]) / 2
  return half === 'west' ? [box[0], box[1], mid, box[3]] : [mid, box[1], box[2], box[3]]
}

/** Where two boxes overlap, or null when they do not. */
function overlap(a: Box, b: Box): Box | null {
  const o: Box = [Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])]
  return o[0] < o[2] && o[1] < o[3] ? o : null
}

/** The box a placement asks for: the town's, the part of it the station serves, or the station's first box. */
function regionOf(p: Placement): Box {
  if (p.town && p.station) {
    const town = p.town.box
    const part = p.station.area.map(b => overlap(town, b)).find(o => o !== null)
    if (!part) throw new Error(`police station ${p.station.nameZh} does not reach ${p.town.nameZh}`)
    return part
  }
  if (p.town) return p.town.box
  if (p.station) return p.station.area[0]!
  throw new Error('say where the premises goes: at, town or station')
}

/** The point of cell i of a cols × rows lattice laid over the inner part of a box. */
function latticePoint(box: Box, i: number, cols: number, rows: number): [number, number] {
  const [w, s, e, n] = box
  const mx = (e - w) * margin
  const my = (n - s) * margin
  const x = w + mx + ((i % cols) + 0.5) * ((e - w - 2 * mx) / cols)
  const y = s + my + (Math.floor(i / cols) + 0.5) * ((n - s - 2 * my) / rows)
  return [Math.round(x * 1e7) / 1e7, Math.round(y * 1e7) / 1e7]
}

/** A valid 18-character resident ID number (a birth date and a serial number made from n), different for each n below 13,440,000. */
export function residentIdNumber(n: number): string {
  const d = Math.floor(n / 1000)
  const date = `${1960 + (d % 40)}${String(1 + (Math.floor(d / 40) % 12)).padStart(2, '0')}${String(1 + (Math.floor(d / 480) % 28)).padStart(2, '0')}`
  const first17 = `320411${date}${String(n % 1000).padStart(3, '0')}`
  return first17 + residentIdCheckChar(first17)
}

/**
 * A factory bound to a test's database. Ids, names and codes it makes are new in that database, so
 * several factories (or several calls) never collide.
 */
export function factory(db: TestDatabase | { sql: Sql }) {
  const sql = db.sql
  let serial = 0
  /** Points handed out per region, so that each premises made one by one gets a place of its own. */
  const placed = new Map<string, number>()

  async function district(box: Box): Promise<number> {
    const [d] = await sql<{ id: number }[]>`select id from admin_area where level = 'district' and valid_to is null order by id limit 1`
    if (d) {
      // Widened, not replaced: a district-wide user's area (where key areas may be drawn) is the district's outline.
      await sql`
        update admin_area set geom = st_multi(st_union(geom, st_setsrid(st_geomfromgeojson(${geomOf([box])}), 4326)))
        where id = ${d.id} and not st_covers(geom, st_setsrid(st_geomfromgeojson(${geomOf([box])}), 4326))`
      return d.id
    }
    const [row] = await sql<{ id: number }[]>`
      insert into admin_area (level, code, name_zh, name_en, geom)
      values ('district', 'FX', '测试区', 'Test District', st_setsrid(st_geomfromgeojson(${geomOf([box])}), 4326))
      returning id`
    return row!.id
  }

  /**
   * A set-wise write made as a large ledger import makes it (server/db/bulk-load.ts): the triggers
   * that keep derived data wait, and what they keep (the new hazards' history, the hazard summaries,
   * the map's cells, the daily changes, the data version) is rebuilt once before the commit. Row by
   * row, 10,000 hazards took ten seconds on a busy machine.
   */
  async function inBulk(write: (tx: Tx) => Promise<number[]>, what: 'premises' | 'hazards'): Promise<number[]> {
    return sql.begin(async (tx) => {
      await setBulkLoad(tx, true)
      const ids = await write(tx)
      if (what === 'hazards') {
        await tx`
          insert into hazard_event (hazard_id, status, at, department_code)
          select h.id, v.status, v.at, v.department_code
          from hazard h cross join lateral (values ('found', h.found_at, null::text), ('referred', h.referred_at, h.department_code),
            ('rectified', h.rectified_at, null), ('verified', h.verified_at, null)) as v(status, at, department_code)
          where h.id in (select unnest(${pgArray(ids)}::bigint[])) and v.at is not null
          order by h.id, v.at`
        await tx`select refresh_all_hazard_summaries()`
      }
      await tx`select refresh_premises_cells()`
      await tx`select refresh_measure_deltas()`
      await tx`update data_version set version = version + 1`
      await setBulkLoad(tx, false)
      return ids
    }) as Promise<number[]>
  }

  /** One hazard at each of the given premises, in one statement; answers their ids in that order. */
  async function manyHazards(premisesIds: number[], o: HazardOptions = {}): Promise<number[]> {
    const status = o.status ?? 'found'
    const step = ['found', 'referred', 'rectified', 'verified'].indexOf(status)
    const foundAt = o.foundAt ?? '2020-03-02T10:00:00+08:00'
    const write = async (q: Sql | Tx) => (await q<{ id: number }[]>`
      insert into hazard (premises_id, item_code, other_text, severity, status, department_code, found_at, referred_at, rectified_at, verified_at, deadline)
      select t.premises, i.code, ${o.otherText ?? null}, ${o.severity ?? 'general'}, ${status}, coalesce(i.department_code, c.department_code),
             f.at, case when ${step} >= 1 then f.at + interval '1 day' end, case when ${step} >= 2 then f.at + interval '2 days' end,
             case when ${step} >= 3 then f.at + interval '3 days' end, ${o.deadline === undefined ? '2020-04-30' : o.deadline}
      from unnest(${pgArray(premisesIds)}::bigint[]) with ordinality as t(premises, n)
      cross join (select ${foundAt}::timestamptz as at) f
      join hazard_item i on i.code = ${o.item ?? 'FIRE-06'}
      join hazard_category c on c.code = i.category_code
      order by t.n
      returning id`).map(h => h.id)
    const made = premisesIds.length > bulkFrom ? await inBulk(write, 'hazards') : await write(sql)
    if (made.length !== premisesIds.length) throw new Error(`no hazard item ${o.item}`)
    return made.sort((a, b) => a - b)
  }

  return {
    /**
     * A town (or street) as a square east of every town there is, with its communities as strips
     * from west to east, each split into a southern and a northern grid cell. No police station:
     * make one with policeStation().
     */
    async town(o: { nameZh?: string; subkind?: 'town' | 'street'; communities?: number } = {}): Promise<FactoryTown> {
      const [edge] = await sql<{ east: number | null; n: number }[]>`
        select max(st_xmax(geom)) as east, count(*) filter (where code like 'FX-%')::int as n from admin_area where level = 'town'`
      const k = edge!.n + 1
      const west = Math.ceil(((edge!.east ?? 119.9) + townGap) * 1000) / 1000
      const box: Box = [west, townSouth, west + townSize, townSouth + townSize]
      const districtId = await district(box)
      const nameZh = o.nameZh ?? `测试${k}${o.subkind === 'street' ? '街道' : '镇'}`
      const [town] = await sql<{ id: number }[]>`
        insert into admin_area (level, subkind, code, parent_id, name_zh, name_en, geom)
        values ('town', ${o.subkind ?? 'town'}, ${`FX-${k}`}, ${districtId}, ${nameZh}, ${`Test town ${k}`},
                st_setsrid(st_geomfromgeojson(${geomOf([box])}), 4326))
        returning id`
      const communities: FactoryTown['communities'] = []
      const count = o.communities ?? 2
      for (let c = 0; c < count; c++) {
        const cw = west + (townSize * c) / count
        const cbox: Box = [cw, box[1], west + (townSize * (c + 1)) / count, box[3]]
        const cName = `${nameZh}第${c + 1}社区`
        const [community] = await sql<{ id: number }[]>`
          insert into admin_area (level, subkind, code, parent_id, name_zh, name_en, geom)
          values ('community', 'community', ${`FX-${k}-${c + 1}`}, ${town!.id}, ${cName}, ${`Test community ${k}-${c + 1}`},
                  st_setsrid(st_geomfromgeojson(${geomOf([cbox])}), 4326))
          returning id`
        const mid = (cbox[1] + cbox[3]) / 2
        const grids = await sql<{ id: number }[]>`
          insert into admin_area (level, code, parent_id, name_zh, name_en, geom)
          select 'grid', ${`FX-${k}-${c + 1}-`} || g, ${community!.id}, ${cName} || '网格' || g, 'Test grid cell ' || g,
                 st_setsrid(st_geomfromgeojson(geom), 4326)
          from unnest(array[1, 2], array[${geomOf([[cbox[0], cbox[1], cbox[2], mid]])}, ${geomOf([[cbox[0], mid, cbox[2], cbox[3]]])}]) as t(g, geom)
          order by g
          returning id`
        communities.push({ id: community!.id, nameZh: cName, box: cbox, grids: grids.map(g => g.id) })
      }
      return { id: town!.id, nameZh, box, communities }
    },

    /**
     * A police station over the given boxes: by default the whole town, or its western or eastern
     * half. Premises made afterwards inside its area are served by it.
     */
    async policeStation(o: { town?: FactoryTown; half?: 'west' | 'east'; area?: Box[]; nameZh?: string }): Promise<FactoryStation> {
      const area = o.area ?? (o.town ? [o.half ? halfOf(o.town.box, o.half) : o.town.box] : undefined)
      if (!area?.length) throw new Error('a police station needs a town or an area')
      const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from police_station where code like 'FX-%'` as unknown as [{ n: number }]
      const nameZh = o.nameZh ?? `测试${n + 1}派出所`
      // Boxes that touch are merged: a multipolygon's parts may not share an edge.
      const [row] = await sql<{ id: number }[]>`
        insert into police_station (code, name_zh, name_en, geom)
        select ${`FX-PS-${n + 1}`}, ${nameZh}, ${`Test police station ${n + 1}`}, st_multi(st_union(st_setsrid(st_geomfromgeojson(g), 4326)))
        from unnest(${pgArray(area.map(b => geomOf([b])))}::text[]) as g
        returning id`
      return { id: row!.id, nameZh, area }
    },

    /**
     * One premises. Without `at` it gets a point of its own inside the town, the station or where
     * both meet; the database gives it its areas, and the factory checks they are the ones asked for.
     */
    async premises(o: PremisesOptions): Promise<FactoryPremises> {
      let at = o.at
      if (!at) {
        const region = regionOf(o)
        const key = region.join(',')
        const i = placed.get(key) ?? 0
        placed.set(key, i + 1)
        // A 40 × 40 lattice, filled in an order that spreads the first points over the region (the
        // 1,601st premises of a region shares a point with the first, which no rule forbids).
        at = latticePoint(region, (i * 367) % 1600, 40, 40)
      }
      const n = ++serial
      const [p] = await sql<{ id: number; townId: number; policeStationId: number | null }[]>`
        insert into premises (kind, address, geom, rooms_let, beds_let, occupants, owner_name, owner_phone,
                              second_landlord_name, second_landlord_phone, found_on, registered_on)
        values (${o.kind ?? 'rental'}, ${o.address ?? `测试路${n}号`}, st_setsrid(st_makepoint(${at[0]}, ${at[1]}), 4326),
                ${o.rooms ?? 2}, ${o.beds ?? 3}, ${o.occupants ?? 2}, ${o.ownerName === undefined ? `房东${n}` : o.ownerName},
                ${o.ownerPhone === undefined ? `139${String(n).padStart(8, '0')}` : o.ownerPhone},
                ${o.secondLandlordName ?? null}, ${o.secondLandlordPhone ?? null},
                ${o.foundOn ?? '2020-03-01'}, ${o.registeredOn === undefined ? null : o.registeredOn})
        returning id, town_id, police_station_id`
      if (o.town && p!.townId !== o.town.id) throw new Error(`premises at ${at.join(',')} lies in town ${p!.townId}, not in ${o.town.nameZh}`)
      if (o.station && p!.policeStationId !== o.station.id) throw new Error(`premises at ${at.join(',')} is served by police station ${p!.policeStationId}, not by ${o.station.nameZh}`)
      return { id: p!.id, at, townId: p!.townId, policeStationId: p!.policeStationId }
    },

    /**
     * Many premises in one statement, on a lattice over the region (a town, a station or where both
     * meet), each with its areas from the database's rules. `kinds` are dealt out in turn. Answers
     * their ids in the order made, which is the order of their ids.
     */
    async manyPremises(count: number, o: Omit<PremisesOptions, 'at' | 'kind' | 'address'> & { kinds?: PremisesKind[]; addressPrefix?: string }): Promise<number[]> {
      const region = regionOf(o)
      const cols = Math.ceil(Math.sqrt(count))
      const rows = Math.ceil(count / cols)
      const points = Array.from({ length: count }, (_, i) => latticePoint(region, i, cols, rows))
      const kinds = o.kinds ?? ['rental']
      const prefix = o.addressPrefix ?? `测试批量路${++serial}-`
      type Made = { id: number; townId: number; policeStationId: number | null }
      const write = (q: Sql | Tx) => q<Made[]>`
        insert into premises (kind, address, geom, rooms_let, beds_let, occupants, owner_name, found_on, registered_on)
        select (${pgArray(kinds)}::text[])[1 + (i - 1) % ${kinds.length}], ${prefix} || i || '号',
               st_setsrid(st_makepoint(x, y), 4326), ${o.rooms ?? 2}, ${o.beds ?? 3}, ${o.occupants ?? 2},
               ${o.ownerName === undefined ? null : o.ownerName}, ${o.foundOn ?? '2020-03-01'}, ${o.registeredOn ?? null}
        from unnest(${pgArray(points.map(p => p[0]))}::float8[], ${pgArray(points.map(p => p[1]))}::float8[]) with ordinality as t(x, y, i)
        order by i
        returning id, town_id, police_station_id`
      let made: Made[] = []
      if (count > bulkFrom) await inBulk(async tx => (made = await write(tx)).map(p => p.id), 'premises')
      else made = await write(sql)
      const wrong = made.find(p => (o.town && p.townId !== o.town.id) || (o.station && p.policeStationId !== o.station.id))
      if (wrong) throw new Error(`premises ${wrong.id} landed in town ${wrong.townId}, police station ${wrong.policeStationId}: not where asked`)
      return made.map(p => p.id).sort((a, b) => a - b)
    },

    /** A resident living in a premises, with an encrypted ID number as the app writes them. */
    async resident(o: { premises: { id: number }; name?: string; idNumber?: string; phone?: string | null; movedInOn?: string; registeredOn?: string | null; floating?: boolean }): Promise<FactoryResident> {
      const n = ++serial
      // Numbered after the residents already there (the demo's, other factories'), so that no two share a number.
      const [next] = await sql<{ n: number }[]>`select coalesce(max(id), 0)::int + 1 as n from resident`
      const idNumber = o.idNumber ?? residentIdNumber(next!.n)
      const [r] = await sql<{ id: number }[]>`
        insert into resident (premises_id, name, id_type, id_number_cipher, id_number_hmac, id_number_masked, phone, floating, moved_in_on, registered_on)
        values (${o.premises.id}, ${o.name ?? `住户${n}`}, 'resident_id', ${encryptIdNumber(testKeys, idNumber)}, ${hmacIdNumber(testKeys, idNumber)},
                ${maskIdNumber(idNumber)}, ${o.phone === undefined ? `137${String(n).padStart(8, '0')}` : o.phone}, ${o.floating ?? true},
                ${o.movedInOn ?? '2020-02-01'}, ${o.registeredOn === undefined ? '2020-03-05' : o.registeredOn})
        returning id`
      return { id: r!.id, idNumber }
    },

    /**
     * A hazard at a premises, at the step asked for: found, then referred to its department, then
     * rectified, then verified, a day apart. Its department is the dictionary's for the item.
     */
    async hazard(o: HazardOptions & { premises: { id: number } }): Promise<{ id: number }> {
      const [id] = await manyHazards([o.premises.id], o)
      return { id: id! }
    },

    manyHazards,

    /**
     * A key area (version 1, as one saved through the API) of a town, and of a police station when
     * given: by default the part of the town the station serves, less a margin, so that the premises
     * made there lie inside it.
     */
    async keyArea(o: { town: FactoryTown; station?: FactoryStation; box?: Box; nameZh?: string; status?: 'draft' | 'listed' | 'cleared'; listedOn?: string; deadline?: string }): Promise<{ id: number }> {
      const [w, s, e, n] = o.box ?? regionOf(o)
      const inner: Box = o.box ?? [w + (e - w) * 0.02, s + (n - s) * 0.02, e - (e - w) * 0.02, n - (n - s) * 0.02]
      const status = o.status ?? 'listed'
      const [k] = await sql<{ id: number }[]>`
        insert into key_area (campaign_id, name_zh, town_id, police_station_id, status, listed_on, deadline, cleared_on, geom)
        values ((select id from campaign order by starts_on limit 1), ${o.nameZh ?? `测试重点地区${++serial}`}, ${o.town.id}, ${o.station?.id ?? null},
                ${status}, ${status === 'draft' ? null : (o.listedOn ?? '2020-03-01')}, ${o.deadline ?? '2020-09-30'},
                ${status === 'cleared' ? (o.deadline ?? '2020-09-30') : null}, st_setsrid(st_geomfromgeojson(${geomOf([inner])}), 4326))
        returning id`
      await sql`
        insert into key_area_version (key_area_id, version, geom, attributes)
        select id, version, geom, jsonb_build_object('nameZh', name_zh, 'townId', town_id, 'policeStationId', police_station_id,
          'listedOn', listed_on, 'deadline', deadline, 'status', status)
        from key_area where id = ${k!.id}`
      return { id: k!.id }
    },

    /** A user who can sign in with the returned password; district-wide unless a town or a station is given. */
    async user(o: { role: Role; town?: { id: number }; station?: { id: number }; username?: string; password?: string }): Promise<FactoryUser> {
      const username = o.username ?? `fx.${o.role}.${++serial}`
      const password = o.password ?? 'factory-password'
      const kind = o.station ? 'police_station' : o.town ? 'town' : 'district'
      const [u] = await sql<{ id: number }[]>`
        insert into app_user (username, display_name, password_hash, role, jurisdiction_kind, jurisdiction_town_id, jurisdiction_station_id)
        values (${username}, ${`测试${o.role}`}, ${await hashPassword(password)}, ${o.role}, ${kind}, ${o.town?.id ?? null}, ${o.station?.id ?? null})
        returning id`
      return { id: u!.id, username, password }
    },
  }
}

