import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sql, Tx } from '../../server/db/index.js'
import { seedDemo } from '../../server/seed/demo.js'
import { cellX, cellY } from '../../server/seed/key-area-source.js'
import { loadMethodFor, placeKeyAreaSources } from '../../server/seed/load.js'
import { maskIdNumber } from '../../server/domain/id-number.js'
import { decryptIdNumber } from '../../server/domain/pii.js'
import { openTestDatabase, type TestDatabase } from '../helpers/db.js'
import { testKeys } from '../helpers/keys.js'

/**
 * The demo's COPY load on PostgreSQL (the embedded database takes the inserts, seed.test.ts): the
 * same rows as the inserts, and the indexes and foreign keys it drops for the load are all back.
 */

/** Every column the seed writes into the bulk-loaded tables, in id order (ciphertexts differ by their random nonces). */
async function fingerprint(sql: Sql | Tx): Promise<Record<string, string>> {
  const [row] = await sql<Record<string, string>[]>`
    select
      (select md5(string_agg(concat_ws('|', id, kind, address, st_asewkb(geom)::text, town_id, community_id, grid_id, police_station_id,
         rooms_let, beds_let, occupants, owner_name, owner_phone, second_landlord_name, second_landlord_phone, second_landlord_collected_on,
         statement_signed_on, lease_filed_on, found_on, registered_on, deregistered_on, hazard_count, open_count, open_major_count,
         open_min_deadline, group_rental_since, first_public_security_found_on, first_fire_found_on, first_housing_found_on,
         first_other_found_on), ';' order by id)) from premises) as premises,
      (select md5(string_agg(concat_ws('|', id, premises_id, name, id_type, encode(id_number_hmac, 'hex'), id_number_masked, phone, floating,
         moved_in_on, moved_out_on, registered_on, deregistered_on, length(id_number_cipher)), ';' order by id)) from resident) as residents,
      (select md5(string_agg(concat_ws('|', id, resident_id, category, flagged_on, st_asewkb(geom)::text), ';' order by id)) from resident_flag) as flags,
      (select md5(string_agg(concat_ws('|', id, premises_id, item_code, other_text, severity, status, department_code,
         extract(epoch from found_at), extract(epoch from referred_at), extract(epoch from rectified_at), extract(epoch from verified_at), deadline),
         ';' order by id)) from hazard) as hazards,
      (select md5(string_agg(concat_ws('|', id, hazard_id, status, extract(epoch from at), department_code), ';' order by id)) from hazard_event) as history,
      (select md5(string_agg(concat_ws('|', id, kind, occurred_on, count, premises_id, st_asewkb(geom)::text, town_id, police_station_id), ';' order by id))
         from enforcement_event) as events,
      (select md5(string_agg(t::text, ';' order by t::text)) from premises_cell t) as cells,
      (select md5(string_agg(t::text, ';' order by t::text)) from measure_delta t) as measures,
      (select md5(string_agg(t::text, ';' order by t::text)) from hazard_delta t) as hazard_deltas,
      (select md5(string_agg(t::text, ';' order by t::text)) from group_rental_hazard_delta t) as group_rental_hazard_deltas,
      (select md5(string_agg(t::text, ';' order by t::text)) from premises_cell_day_source t) as key_area_sources,
      (select md5(string_agg(t::text, ';' order by t::text)) from premises_cell_day t) as key_area_cells,
      (select md5(string_agg(t::text, ';' order by t::text)) from premises_block_day t) as key_area_blocks,
      (select md5(string_agg(t::text, ';' order by t::text)) from premises_cell_event_source t) as key_area_event_sources,
      (select md5(string_agg(t::text, ';' order by t::text)) from premises_cell_event t) as key_area_events`
  return row!
}

/** The indexes and constraints of the bulk-loaded tables and the key-area tables, by name and definition. */
async function structure(sql: Sql): Promise<string[]> {
  const tables = ['premises', 'resident', 'resident_flag', 'hazard', 'hazard_event', 'enforcement_event', 'premises_cell_day_source',
    'premises_cell_event_source', 'premises_cell_day', 'premises_cell_event', 'premises_block_day']
  const rows = await sql<{ d: string }[]>`
    select concat_ws(' ', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid), c.convalidated) as d from pg_constraint c
    where c.conrelid = any(${tables}::regclass[])
    union all
    select pg_get_indexdef(i.indexrelid) from pg_index i
    where i.indrelid = any(${tables}::regclass[])
    order by 1`
  return rows.map(r => r.d)
}

let copied: TestDatabase
let inserted: TestDatabase
let before: string[]
beforeAll(async () => {
  [copied, inserted] = await Promise.all([openTestDatabase('migrated'), openTestDatabase('migrated')])
  before = await structure(copied.owner)
  await seedDemo(copied.owner, { premises: 1500, seed: 11, keys: testKeys, load: 'copy', batch: 400 })
  await seedDemo(inserted.owner, { premises: 1500, seed: 11, keys: testKeys, load: 'insert', batch: 400 })
})
afterAll(() => Promise.all([copied?.close(), inserted?.close()]))

describe('the demo loaded with COPY', () => {
  it('is what PostgreSQL loads with unless told otherwise', async () => {
    expect(await loadMethodFor(copied.owner)).toBe('copy')
  })

  it('holds the very same rows and derived tables as the demo loaded with inserts', async () => {
    const a = await fingerprint(copied.owner)
    const b = await fingerprint(inserted.owner)
    expect(Object.values(a).every(v => typeof v === 'string' && v.length === 32)).toBe(true)
    expect(a).toEqual(b)
  })

  it('has every index and foreign key of the loaded tables back, validated', async () => {
    expect(await structure(copied.owner)).toEqual(before)
  })

  it('writes ID numbers that decrypt to the masked numbers it shows', async () => {
    const rows = await copied.owner<{ cipher: Uint8Array; masked: string }[]>`
      select id_number_cipher as cipher, id_number_masked as masked from resident order by id limit 200`
    expect(rows).toHaveLength(200)
    for (const r of rows) {
      expect(maskIdNumber(decryptIdNumber(testKeys, r.cipher))).toBe(r.masked)
    }
  })

  it('places premises in the cells PostGIS puts them in (the COPY worker works the cells out itself)', async () => {
    // Points over the district and well beyond it, against premises_cell_x/y over st_transform.
    const points = Array.from({ length: 20_000 }, (_, i) => [120.5 + ((i * 7919) % 20_000) / 20_000, 30.5 + ((i * 104_729) % 20_000) / 20_000 + i * 1e-9])
    const rows = await copied.owner<{ cx: number; cy: number }[]>`
      select premises_cell_x(st_x(m)) as cx, premises_cell_y(st_y(m)) as cy
      from unnest(${points.map(p => p[0]!)}::float8[], ${points.map(p => p[1]!)}::float8[]) with ordinality as t(lon, lat, n)
      cross join lateral st_transform(st_setsrid(st_makepoint(lon, lat), 4326), 3857) as m
      order by n`
    expect(rows.map(r => [r.cx, r.cy])).toEqual(points.map(([lon, lat]) => [cellX(lon!), cellY(lat!)]))
  })

  it('moves a premises whose sources name another cell to its own, as a write would', async () => {
    // Two premises moved without their triggers stand for ones the worker placed in other cells: put
    // right, the key-area tables are what the same move makes of them through the triggers.
    const keyArea = async (tx: Tx) => Object.fromEntries(Object.entries(await fingerprint(tx)).filter(([k]) => /^key_?area/i.test(k)))
    const inRollback = async (run: (tx: Tx) => Promise<Record<string, string>>) => {
      let result: Record<string, string> | undefined
      await copied.owner.begin(async (tx) => {
        result = await run(tx)
        throw new Error('rolled back')
      }).catch((err: unknown) => {
        if (!(err instanceof Error && err.message === 'rolled back')) throw err
      })
      return result!
    }
    const move = (tx: Tx) => tx`update premises set geom = st_translate(geom, 0.004, -0.003) where id in (7, 8)`
    const loaded = await inRollback(keyArea)
    // The triggers also put a moved premises in the areas and police station of its new place.
    let areas: { id: string; town: number; community: number; grid: number; station: number | null }[] = []
    const written = await inRollback(async (tx) => {
      await move(tx)
      areas = await tx`select id, town_id as town, community_id as community, grid_id as grid, police_station_id as station from premises where id in (7, 8)`
      return keyArea(tx)
    })
    const placed = await inRollback(async (tx) => {
      await tx`alter table premises disable trigger user`
      await move(tx)
      for (const a of areas) {
        await tx`update premises set town_id = ${a.town}, community_id = ${a.community}, grid_id = ${a.grid},
                 police_station_id = ${a.station} where id = ${a.id}`
      }
      expect(await placeKeyAreaSources(tx)).toBe(2)
      expect(await placeKeyAreaSources(tx)).toBe(0)
      return keyArea(tx)
    })
    expect(Object.keys(placed)).toHaveLength(5)
    expect(placed).not.toEqual(loaded)
    expect(placed).toEqual(written)
  })
})
