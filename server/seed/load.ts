import { Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Sql, Tx } from '../db/index.js'
import { pgArray } from '../db/arrays.js'
import { encryptIdNumbers, hmacIdNumber, type PiiKeys } from '../domain/pii.js'

/**
 * How the demo's rows reach the database. `copy`: COPY FROM STDIN into tables stripped of their
 * secondary indexes and foreign keys, which are built again after the load (real PostgreSQL; a
 * million premises in minutes). `insert`: multi-row inserts into the tables as they are (the
 * embedded database, whose socket does not speak COPY's sub-protocol).
 */
export type LoadMethod = 'copy' | 'insert'

type Value = string | number | boolean | null

/** Column buffers for one batch of rows. */
export class Columns<K extends string> {
  readonly data: Record<K, Value[]>
  constructor(names: readonly K[]) {
    this.data = Object.fromEntries(names.map(n => [n, []])) as unknown as Record<K, Value[]>
  }

  push(row: Record<K, Value>): void {
    for (const k in row) this.data[k].push(row[k])
  }

  get length(): number {
    return (Object.values(this.data)[0] as unknown[]).length
  }

  col(name: K): string {
    return pgArray(this.data[name])
  }
}

export const premisesCols = ['id', 'kind', 'address', 'lon', 'lat', 'town', 'community', 'grid', 'station', 'rooms', 'beds', 'occupants',
  'ownerName', 'ownerPhone', 'slName', 'slPhone', 'slCollected', 'statement', 'lease', 'found', 'registered', 'deregistered',
  'hazards', 'open', 'openMajor', 'openMinDeadline', 'grSince'] as const
export const residentCols = ['id', 'premises', 'name', 'idType', 'idNumber', 'masked', 'phone', 'floating', 'movedIn', 'movedOut', 'registered', 'deregistered'] as const
export const flagCols = ['resident', 'category', 'flagged'] as const
export const hazardCols = ['id', 'premises', 'item', 'text', 'severity', 'status', 'department', 'found', 'referred', 'rectified', 'verified', 'deadline'] as const
export const eventCols = ['kind', 'day', 'count', 'premises', 'lon', 'lat', 'town', 'station'] as const

/** One batch of the demo's rows, table by table. */
export interface Batch {
  P: Columns<typeof premisesCols[number]>
  R: Columns<typeof residentCols[number]>
  F: Columns<typeof flagCols[number]>
  H: Columns<typeof hazardCols[number]>
  E: Columns<typeof eventCols[number]>
}

/** An empty batch. */
export function newBatch(): Batch {
  return { P: new Columns(premisesCols), R: new Columns(residentCols), F: new Columns(flagCols), H: new Columns(hazardCols), E: new Columns(eventCols) }
}

/** The tables the demo loads in bulk; their secondary indexes and foreign keys wait for the end of a COPY load. */
const loadedTables = ['premises', 'resident', 'resident_flag', 'hazard', 'hazard_event', 'enforcement_event']

/**
 * COPY where the server speaks it. The embedded database says PGlite in its version; probing with a
 * COPY instead would cost it its connection.
 */
export async function loadMethodFor(sql: Sql | Tx): Promise<LoadMethod> {
  const [row] = await sql<{ v: string }[]>`select version() as v`
  return row!.v.includes('PGlite') ? 'insert' : 'copy'
}

/** Writes one batch with multi-row inserts, one statement per table. */
export async function insertBatch(tx: Tx, keys: PiiKeys, { P: p, R: r, F: f, H: h, E: e }: Batch): Promise<void> {
  if (p.length) {
    await tx`
      insert into premises (id, kind, address, geom, town_id, community_id, grid_id, police_station_id, rooms_let, beds_let, occupants,
        owner_name, owner_phone, second_landlord_name, second_landlord_phone, second_landlord_collected_on,
        statement_signed_on, lease_filed_on, found_on, registered_on, deregistered_on,
        hazard_count, open_count, open_major_count, open_min_deadline, group_rental_since)
      select id, kind, address, st_setsrid(st_makepoint(lon, lat), 4326), town, community, grid, station, rooms, beds, occupants,
        owner_name, owner_phone, sl_name, sl_phone, sl_collected, statement, lease, found, registered, deregistered,
        hazards, open, open_major, open_min_deadline, gr_since
      from unnest(${p.col('id')}::bigint[], ${p.col('kind')}::text[], ${p.col('address')}::text[], ${p.col('lon')}::float8[],
        ${p.col('lat')}::float8[], ${p.col('town')}::int[], ${p.col('community')}::int[], ${p.col('grid')}::int[], ${p.col('station')}::int[],
        ${p.col('rooms')}::int[], ${p.col('beds')}::int[], ${p.col('occupants')}::int[], ${p.col('ownerName')}::text[],
        ${p.col('ownerPhone')}::text[], ${p.col('slName')}::text[], ${p.col('slPhone')}::text[], ${p.col('slCollected')}::date[],
        ${p.col('statement')}::date[], ${p.col('lease')}::date[], ${p.col('found')}::date[], ${p.col('registered')}::date[],
        ${p.col('deregistered')}::date[], ${p.col('hazards')}::int[], ${p.col('open')}::int[], ${p.col('openMajor')}::int[],
        ${p.col('openMinDeadline')}::date[], ${p.col('grSince')}::date[])
        as t(id, kind, address, lon, lat, town, community, grid, station, rooms, beds, occupants, owner_name, owner_phone,
             sl_name, sl_phone, sl_collected, statement, lease, found, registered, deregistered,
             hazards, open, open_major, open_min_deadline, gr_since)`
  }
  if (r.length) {
    const numbers = r.data.idNumber as string[]
    const cipher = pgArray(encryptIdNumbers(keys, numbers).map(b => b.toString('base64')))
    const hmac = pgArray(numbers.map(n => hmacIdNumber(keys, n).toString('base64')))
    await tx`
      insert into resident (id, premises_id, name, id_type, id_number_cipher, id_number_hmac, id_number_masked, phone, floating,
        moved_in_on, moved_out_on, registered_on, deregistered_on)
      select id, premises, name, id_type, decode(cipher, 'base64'), decode(hmac, 'base64'), masked, phone, floating,
        moved_in, moved_out, registered, deregistered
      from unnest(${r.col('id')}::bigint[], ${r.col('premises')}::bigint[], ${r.col('name')}::text[], ${r.col('idType')}::text[],
        ${cipher}::text[], ${hmac}::text[], ${r.col('masked')}::text[], ${r.col('phone')}::text[],
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

/** A value in COPY's text format. */
function t(v: Value | undefined): string {
  if (v === null || v === undefined) return '\\N'
  if (typeof v === 'boolean') return v ? 't' : 'f'
  if (typeof v === 'number') return String(v)
  return v.replace(/[\\\t\n\r]/g, c => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
}

const line = (...cells: string[]) => cells.join('\t')
const point = (lon: Value | undefined, lat: Value | undefined) => `SRID=4326;POINT(${String(lon)} ${String(lat)})`
/** bytea in hex, its backslash doubled for COPY. */
const bytes = (b: Buffer) => `\\\\x${b.toString('hex')}`

const postgresEpochSeconds = 946_684_800

/**
 * A time given in milliseconds, written as to_timestamp(ms / 1000.0) makes it: microseconds
 * rounded half to even from the same floating-point seconds, so that both loads store one instant.
 */
function timestamp(ms: Value | undefined): string {
  if (ms === null || ms === undefined) return '\\N'
  const x = (Number(ms) / 1000 - postgresEpochSeconds) * 1e6
  let us = Math.round(x)
  if (us - x === 0.5 && us % 2 !== 0) us -= 1
  const unixUs = us + postgresEpochSeconds * 1_000_000
  const whole = Math.floor(unixUs / 1000)
  return `${new Date(whole).toISOString().slice(0, 23)}${String(unixUs - whole * 1000).padStart(3, '0')}+00`
}

async function copyInto(into: { writable: () => Promise<Writable> }, lines: string[]): Promise<void> {
  if (!lines.length) return
  const w = await into.writable()
  await pipeline(Readable.from(lines), w)
}

/** Rows joined into chunks of COPY data, a few thousand rows each. */
function chunks(n: number, line: (i: number) => string): string[] {
  const out: string[] = []
  for (let i = 0; i < n; i += 4096) {
    let s = ''
    for (let j = i; j < Math.min(n, i + 4096); j++) s += `${line(j)}\n`
    out.push(s)
  }
  return out
}

/** Writes one batch with COPY FROM STDIN, one per table. */
export async function copyBatch(tx: Tx, keys: PiiKeys, { P: p, R: r, F: f, H: h, E: e }: Batch): Promise<void> {
  const pd = p.data
  await copyInto(tx`
    copy premises (id, kind, address, geom, town_id, community_id, grid_id, police_station_id, rooms_let, beds_let, occupants,
      owner_name, owner_phone, second_landlord_name, second_landlord_phone, second_landlord_collected_on,
      statement_signed_on, lease_filed_on, found_on, registered_on, deregistered_on,
      hazard_count, open_count, open_major_count, open_min_deadline, group_rental_since) from stdin`,
  chunks(p.length, i => line(t(pd.id[i]), t(pd.kind[i]), t(pd.address[i]), point(pd.lon[i], pd.lat[i]), t(pd.town[i]), t(pd.community[i]),
    t(pd.grid[i]), t(pd.station[i]), t(pd.rooms[i]), t(pd.beds[i]), t(pd.occupants[i]), t(pd.ownerName[i]), t(pd.ownerPhone[i]),
    t(pd.slName[i]), t(pd.slPhone[i]), t(pd.slCollected[i]), t(pd.statement[i]), t(pd.lease[i]), t(pd.found[i]), t(pd.registered[i]),
    t(pd.deregistered[i]), t(pd.hazards[i]), t(pd.open[i]), t(pd.openMajor[i]), t(pd.openMinDeadline[i]), t(pd.grSince[i]))))

  const rd = r.data
  const numbers = rd.idNumber as string[]
  const cipher = encryptIdNumbers(keys, numbers)
  await copyInto(tx`
    copy resident (id, premises_id, name, id_type, id_number_cipher, id_number_hmac, id_number_masked, phone, floating,
      moved_in_on, moved_out_on, registered_on, deregistered_on) from stdin`,
  chunks(r.length, i => line(t(rd.id[i]), t(rd.premises[i]), t(rd.name[i]), t(rd.idType[i]), bytes(cipher[i]!), bytes(hmacIdNumber(keys, numbers[i]!)),
    t(rd.masked[i]), t(rd.phone[i]), t(rd.floating[i]), t(rd.movedIn[i]), t(rd.movedOut[i]), t(rd.registered[i]), t(rd.deregistered[i]))))

  const fd = f.data
  await copyInto(tx`copy resident_flag (resident_id, category, flagged_on) from stdin`,
    chunks(f.length, i => line(t(fd.resident[i]), t(fd.category[i]), t(fd.flagged[i]))))

  const hd = h.data
  await copyInto(tx`
    copy hazard (id, premises_id, item_code, other_text, severity, status, department_code,
      found_at, referred_at, rectified_at, verified_at, deadline) from stdin`,
  chunks(h.length, i => line(t(hd.id[i]), t(hd.premises[i]), t(hd.item[i]), t(hd.text[i]), t(hd.severity[i]), t(hd.status[i]),
    t(hd.department[i]), timestamp(hd.found[i]), timestamp(hd.referred[i]), timestamp(hd.rectified[i]), timestamp(hd.verified[i]),
    t(hd.deadline[i]))))

  const ed = e.data
  await copyInto(tx`copy enforcement_event (kind, occurred_on, count, premises_id, geom, town_id, police_station_id) from stdin`,
    chunks(e.length, i => line(t(ed.kind[i]), t(ed.day[i]), t(ed.count[i]), t(ed.premises[i]), point(ed.lon[i], ed.lat[i]),
      t(ed.town[i]), t(ed.station[i]))))
}

/** What a COPY load took off the loaded tables, to put back after it. */
export interface Stripped {
  indexes: string[]
  foreignKeys: { table: string; name: string; definition: string }[]
}

/**
 * Drops the secondary indexes and the foreign keys of the loaded tables (in the transaction, so a
 * failed load puts them back): building an index once over all rows, and checking a foreign key
 * with one join, is many times faster than keeping them row by row.
 */
export async function stripLoadedTables(tx: Tx): Promise<Stripped> {
  const indexes = await tx<{ name: string; definition: string }[]>`
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
    from pg_index i
    where i.indrelid = any(${loadedTables}::regclass[])
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
    order by 1`
  const foreignKeys = await tx<{ table: string; name: string; definition: string }[]>`
    select conrelid::regclass::text as table, quote_ident(conname) as name, pg_get_constraintdef(oid) as definition
    from pg_constraint
    where contype = 'f' and conrelid = any(${loadedTables}::regclass[])
    order by 1, 2`
  for (const fk of foreignKeys) await tx.unsafe(`alter table ${fk.table} drop constraint ${fk.name}`)
  for (const ix of indexes) await tx.unsafe(`drop index ${ix.name}`)
  return { indexes: indexes.map(i => i.definition), foreignKeys }
}

/** Builds again what stripLoadedTables dropped, and checks the foreign keys over the loaded rows. */
export async function restoreLoadedTables(tx: Tx, stripped: Stripped, log: (message: string) => void): Promise<void> {
  for (const definition of stripped.indexes) {
    const t0 = Date.now()
    await tx.unsafe(definition)
    log(`  ${definition.replace(/^CREATE (UNIQUE )?INDEX (\S+) .*$/, '$2')}: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  }
  for (const fk of stripped.foreignKeys) await tx.unsafe(`alter table ${fk.table} add constraint ${fk.name} ${fk.definition}`)
}
