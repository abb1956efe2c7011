import { Readable, type Writable } from 'node:stream'
import { Worker } from 'node:worker_threads'
import { pipeline } from 'node:stream/promises'
import type { Sql, Tx } from '../db/index.js'
import { pgArray } from '../db/arrays.js'
import { encryptIdNumbers, hmacIdNumber, type PiiKeys } from '../domain/pii.js'
import { type BatchData, type BatchText, unixMicros } from './copy-text.js'
import { type KeyAreaTable, keyAreaTables, KeyAreaSums, type KeyAreaTypes } from './key-area-source.js'
import { ReportDeltas } from './report-deltas.js'

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
  /** The column names and their arrays in the same order, to push a row's values without walking its keys. */
  private readonly names: readonly K[]
  private readonly lists: Value[][]
  constructor(names: readonly K[]) {
    this.data = Object.fromEntries(names.map(n => [n, []])) as unknown as Record<K, Value[]>
    this.names = names
    this.lists = names.map(name => this.data[name])
  }

  push(row: Record<K, Value>): void {
    // The seed pushes tens of millions of rows: an indexed loop rather than an entry destructured per
    // column (1.4 s of the main thread's 21.8 at 100,000 premises before, 1.3 s after).
    const { names, lists } = this
    for (let i = 0; i < names.length; i++) lists[i]!.push(row[names[i]!] ?? null)
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
  'hazards', 'open', 'openMajor', 'openMinDeadline', 'grSince', 'firstPsFound', 'firstFireFound', 'firstHousingFound', 'firstOtherFound'] as const
export const residentCols = ['id', 'premises', 'name', 'idType', 'idNumber', 'masked', 'phone', 'floating', 'movedIn', 'movedOut', 'registered', 'deregistered'] as const
export const flagCols = ['resident', 'category', 'flagged'] as const
export const hazardCols = ['id', 'premises', 'item', 'category', 'text', 'severity', 'status', 'department', 'found', 'referred', 'rectified', 'verified', 'deadline'] as const
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
async function insertBatch(tx: Tx, keys: PiiKeys, { P: p, R: r, F: f, H: h, E: e }: Batch): Promise<void> {
  if (p.length) {
    await tx`
      insert into premises (id, kind, address, geom, town_id, community_id, grid_id, police_station_id, rooms_let, beds_let, occupants,
        owner_name, owner_phone, second_landlord_name, second_landlord_phone, second_landlord_collected_on,
        statement_signed_on, lease_filed_on, found_on, registered_on, deregistered_on,
        hazard_count, open_count, open_major_count, open_min_deadline, group_rental_since,
        first_public_security_found_on, first_fire_found_on, first_housing_found_on, first_other_found_on)
      select id, kind, address, st_setsrid(st_makepoint(lon, lat), 4326), town, community, grid, station, rooms, beds, occupants,
        owner_name, owner_phone, sl_name, sl_phone, sl_collected, statement, lease, found, registered, deregistered,
        hazards, open, open_major, open_min_deadline, gr_since, first_ps, first_fire, first_housing, first_other
      from unnest(${p.col('id')}::bigint[], ${p.col('kind')}::text[], ${p.col('address')}::text[], ${p.col('lon')}::float8[],
        ${p.col('lat')}::float8[], ${p.col('town')}::int[], ${p.col('community')}::int[], ${p.col('grid')}::int[], ${p.col('station')}::int[],
        ${p.col('rooms')}::int[], ${p.col('beds')}::int[], ${p.col('occupants')}::int[], ${p.col('ownerName')}::text[],
        ${p.col('ownerPhone')}::text[], ${p.col('slName')}::text[], ${p.col('slPhone')}::text[], ${p.col('slCollected')}::date[],
        ${p.col('statement')}::date[], ${p.col('lease')}::date[], ${p.col('found')}::date[], ${p.col('registered')}::date[],
        ${p.col('deregistered')}::date[], ${p.col('hazards')}::int[], ${p.col('open')}::int[], ${p.col('openMajor')}::int[],
        ${p.col('openMinDeadline')}::date[], ${p.col('grSince')}::date[], ${p.col('firstPsFound')}::date[], ${p.col('firstFireFound')}::date[],
        ${p.col('firstHousingFound')}::date[], ${p.col('firstOtherFound')}::date[])
        as t(id, kind, address, lon, lat, town, community, grid, station, rooms, beds, occupants, owner_name, owner_phone,
             sl_name, sl_phone, sl_collected, statement, lease, found, registered, deregistered,
             hazards, open, open_major, open_min_deadline, gr_since, first_ps, first_fire, first_housing, first_other)`
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

async function copyInto(into: { writable: () => Promise<Writable> }, lines: (string | Uint8Array)[] | AsyncIterable<Uint8Array>): Promise<void> {
  if (Array.isArray(lines) && !lines.length) return
  const w = await into.writable()
  await pipeline(Readable.from(lines), w)
}

/**
 * Writes batches of the demo's rows into the loaded tables, one after another in the order given
 * (a batch may be handed over before the one before it is written), and lets go of what it holds
 * at the end.
 */
export interface BatchWriter {
  write: (tx: Tx, batch: Batch) => Promise<void>
  close: () => Promise<void>
}

/** COPY's writer also sums the reports' daily changes and the key-area cells over the batches it was given, and writes them. */
export interface CopyWriter extends BatchWriter {
  /** Writes measure_delta, hazard_delta and group_rental_hazard_delta (emptied first) from every batch written. */
  writeReportDeltas: (tx: Tx) => Promise<void>
  /**
   * Hands the key-area sums of every batch written to the worker, which makes their COPY data at once
   * while the database does other work; the function returned writes them, emptied first, into
   * premises_cell_day_source, premises_cell_event_source, premises_cell_day, premises_block_day and
   * premises_cell_event.
   */
  sumKeyAreaCells: (types: KeyAreaTypes) => (tx: Tx) => Promise<void>
}

/** Runs `step`s one after another, each when the one before has ended; after a failure, none (each fails as it did). */
function inTurn(): (step: () => Promise<void>) => Promise<void> {
  let last: Promise<void> = Promise.resolve()
  let failed: { error: unknown } | undefined
  return (step) => {
    const run = last.then(() => {
      if (failed) throw failed.error
      return step()
    })
    last = run.catch((error: unknown) => {
      failed ??= { error }
    })
    return run
  }
}

/** Multi-row inserts (the embedded database). */
export function insertWriter(keys: PiiKeys): BatchWriter {
  const turn = inTurn()
  return { write: (tx, batch) => turn(() => insertBatch(tx, keys, batch)), close: async () => {} }
}

/**
 * COPY FROM STDIN, one per table, with the rows turned into COPY text (ID numbers sealed, names
 * keyed) in a worker thread: that work is about a third of the load's CPU in Node, and on its own
 * core it runs while the main thread makes the next batch. Its young generation is larger than V8's
 * default (as `npm run seed` and `npm run bench` give the main thread, --max-semi-space-size): a
 * batch's text is millions of short-lived strings, and collecting them in V8's default young
 * generation took a seventh of Node's CPU (100,000 premises: 42 -> 36 s with both larger).
 */
export function copyWriter(keys: PiiKeys): CopyWriter {
  const worker = new Worker(new URL('./copy-text-entry.mjs', import.meta.url), {
    workerData: { enc: keys.enc, mac: keys.mac }, resourceLimits: { maxYoungGenerationSizeMb: 192 },
  })
  let nextId = 1
  const pending = new Map<number, { resolve: (reply: Reply) => void; reject: (err: Error) => void }>()
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err)
    pending.clear()
    for (const stream of streams.values()) stream({ error: err.message })
    streams.clear()
  }
  // The key-area tables' text, chunk by chunk, by the id of its request.
  const streams = new Map<number, (m: StreamMessage) => void>()
  worker.on('message', (m: Reply & { id: number; error?: string }) => {
    const stream = streams.get(m.id)
    if (stream) return stream(m as StreamMessage)
    const p = pending.get(m.id)
    if (!p) return
    pending.delete(m.id)
    if (m.error !== undefined) p.reject(new Error(`turning rows into COPY text failed: ${m.error}`))
    else p.resolve(m)
  })
  worker.on('error', failAll)
  worker.on('exit', (code) => {
    if (pending.size || streams.size) failAll(new Error(`the COPY text worker stopped (exit code ${code})`))
  })
  const ask = (batch: BatchData) => new Promise<Reply>((resolve, reject) => {
    const id = nextId++
    pending.set(id, { resolve, reject })
    worker.postMessage({ id, batch })
  })
  const turn = inTurn()
  // The reports' daily changes and the key-area cells are summed here while the worker makes the
  // text: the worker's share of the load was the larger (its text, and before the sums were moved
  // here, 27 of 33 s at 100,000 premises against 18 s here).
  const deltas = new ReportDeltas()
  const cells = new KeyAreaSums()
  return {
    write(tx, batch) {
      // The worker makes this batch's text while the database still loads the one before.
      const data = { P: batch.P.data, R: batch.R.data, F: batch.F.data, H: batch.H.data, E: batch.E.data }
      const texting = ask(data).then(reply => reply.text!)
      texting.catch(() => {})
      deltas.add(data, unixMicros)
      cells.add(data, unixMicros)
      return turn(() => texting.then(text => copyBatch(tx, text)))
    },
    writeReportDeltas(tx) {
      return turn(async () => {
        const text = deltas.text()
        await tx`delete from measure_delta`
        await tx`delete from hazard_delta`
        await tx`delete from group_rental_hazard_delta`
        await copyInto(tx`
          copy measure_delta (day, town_id, police_station_id, kind, gr_found, gr_registered, res_counted, res_registered,
            ev_gr_res_registered, ev_gr_res_deregistered, ev_floating_registered, ev_floating_deregistered,
            ev_gr_registered, ev_gr_deregistered, ev_statements_signed, ev_second_landlords) from stdin`, [text.measures])
        await copyInto(tx`
          copy hazard_delta (day, town_id, police_station_id, kind, category_code, department_code,
            found, rectified, major_found, major_rectified, overdue) from stdin`, [text.hazards])
        await copyInto(tx`
          copy group_rental_hazard_delta (day, town_id, police_station_id, category_code, found, rectified) from stdin`,
        [text.groupRentalHazards])
      })
    },
    sumKeyAreaCells(types) {
      // The sums' lists go to the worker, which makes the tables' COPY data while the database works.
      const { state, transfer } = cells.state()
      const id = nextId++
      const queues = new Map(keyAreaTables.map(t => [t, new ChunkQueue()]))
      streams.set(id, (m) => {
        if (m.error !== undefined) {
          streams.delete(id)
          for (const q of queues.values()) q.fail(new Error(`making the key-area tables' text failed: ${m.error}`))
          return
        }
        const q = queues.get(m.table!)!
        if (m.end) q.end()
        else q.push(m.chunk!)
        if (m.end && m.table === keyAreaTables.at(-1)) streams.delete(id)
      })
      worker.postMessage({ id, cells: state, types }, transfer)
      return tx => turn(() => copyKeyAreaCells(tx, queues))
    },
    async close() {
      await worker.terminate()
    },
  }
}

/** The worker's answer to a batch: its COPY text. */
interface Reply { text?: BatchText }

/** The worker's key-area text: a chunk of a table's, a table's end, or a failure. */
interface StreamMessage { table?: KeyAreaTable; chunk?: Uint8Array; end?: boolean; error?: string }

/** Chunks as they arrive from the worker, read by a COPY as they come; ended or failed by the worker's message. */
class ChunkQueue implements AsyncIterable<Uint8Array> {
  private readonly items: Uint8Array[] = []
  private next = 0
  private ended = false
  private error: Error | undefined
  private wake: (() => void) | undefined

  push(chunk: Uint8Array): void {
    this.items.push(chunk)
    this.wake?.()
  }

  end(): void {
    this.ended = true
    this.wake?.()
  }

  fail(error: Error): void {
    this.error = error
    this.wake?.()
  }

  async* [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (this.error) throw this.error
      if (this.next < this.items.length) {
        const chunk = this.items[this.next]!
        // Let go of what was written.
        this.items[this.next++] = new Uint8Array(0)
        yield chunk
        continue
      }
      if (this.ended) return
      await new Promise<void>((resolve) => {
        this.wake = resolve
      })
      this.wake = undefined
    }
  }
}

/** The key-area tables from the worker's COPY data (key-area-source.ts), emptied first, each COPYd as its data comes. */
async function copyKeyAreaCells(tx: Tx, text: Map<KeyAreaTable, AsyncIterable<Uint8Array>>): Promise<void> {
  for (const table of keyAreaTables) await tx.unsafe(`delete from ${table}`)
  // Loaded without their keys and indexes, which are built after (at 1,000,000 premises the COPYs
  // took a third less, the keys and indexes 10 s to build).
  const stripped = await stripTables(tx, keyAreaTables, true)
  await copyInto(tx`copy premises_cell_day_source (premises_id, cx, cy, town_id, police_station_id, deltas, total, geom) from stdin with (format binary)`,
    text.get('premises_cell_day_source')!)
  await copyInto(tx`copy premises_cell_event_source (premises_id, cx, cy, town_id, police_station_id, days, events) from stdin with (format binary)`,
    text.get('premises_cell_event_source')!)
  await copyInto(tx`
    copy premises_cell_day (cx, cy, town_id, police_station_id, day, houses, rental_houses, group_rentals, group_rentals_with_hazards,
      residents_registered, hz_public_security, hz_fire, hz_housing, hz_other) from stdin`, text.get('premises_cell_day')!)
  await copyInto(tx`copy premises_cell_event (cx, cy, town_id, police_station_id, days, events, counts) from stdin`,
    text.get('premises_cell_event')!)
  await copyInto(tx`
    copy premises_block_day (block_x, block_y, town_id, police_station_id, day, houses, rental_houses, group_rentals, group_rentals_with_hazards,
      residents_registered, hz_public_security, hz_fire, hz_housing, hz_other) from stdin`, text.get('premises_block_day')!)
  await restoreTables(tx, stripped, () => {})
}

/**
 * Moves every premises whose key-area sources (as the COPY worker placed them, key-area-source.ts)
 * name another cell, town or police station than PostGIS and the premises row give it, as every
 * later write of a premises moves it (refresh_premises_cell_days); returns how many there were.
 */
export async function placeKeyAreaSources(tx: Tx): Promise<number> {
  // Every premises has its row of events; its changes' row, when it has one, was written from the same place.
  const rows = await tx<{ id: string }[]>`
    select s.premises_id as id from premises_cell_event_source s join premises p on p.id = s.premises_id
    where (s.cx, s.cy, s.town_id, s.police_station_id)
          <> (premises_cell_x(st_x(p.geom_m)), premises_cell_y(st_y(p.geom_m)), p.town_id, coalesce(p.police_station_id, 0))
    order by 1`
  if (rows.length) await tx`select refresh_premises_cell_days(${rows.map(r => r.id)}::bigint[])`
  return rows.length
}

/** One batch's COPY text into its tables. */
async function copyBatch(tx: Tx, text: BatchText): Promise<void> {
  await copyInto(tx`
    copy premises (id, kind, address, geom, town_id, community_id, grid_id, police_station_id, rooms_let, beds_let, occupants,
      owner_name, owner_phone, second_landlord_name, second_landlord_phone, second_landlord_collected_on,
      statement_signed_on, lease_filed_on, found_on, registered_on, deregistered_on,
      hazard_count, open_count, open_major_count, open_min_deadline, group_rental_since,
      first_public_security_found_on, first_fire_found_on, first_housing_found_on, first_other_found_on) from stdin`, text.P)
  await copyInto(tx`
    copy resident (id, premises_id, name, id_type, id_number_cipher, id_number_hmac, id_number_masked, phone, floating,
      moved_in_on, moved_out_on, registered_on, deregistered_on) from stdin`, text.R)
  await copyInto(tx`copy resident_flag (resident_id, category, flagged_on) from stdin`, text.F)
  await copyInto(tx`
    copy hazard (id, premises_id, item_code, other_text, severity, status, department_code,
      found_at, referred_at, rectified_at, verified_at, deadline) from stdin`, text.H)
  await copyInto(tx`copy hazard_event (hazard_id, status, at, department_code) from stdin`, text.history)
  await copyInto(tx`copy enforcement_event (kind, occurred_on, count, premises_id, geom, town_id, police_station_id) from stdin`, text.E)
}

/** What a COPY load took off the tables it loads, to put back after it. */
export interface Stripped {
  primaryKeys: { table: string; name: string; definition: string }[]
  indexes: string[]
  foreignKeys: { table: string; name: string; definition: string }[]
}

/**
 * Drops the secondary indexes and the foreign keys of the given tables, and their primary keys if
 * asked (in the transaction, so a failed load puts them back): building an index once over all
 * rows, and checking a foreign key with one join, is many times faster than keeping them row by row.
 */
async function stripTables(tx: Tx, tables: readonly string[], primaryKeys: boolean): Promise<Stripped> {
  const keys = primaryKeys
    ? await tx<{ table: string; name: string; definition: string }[]>`
        select conrelid::regclass::text as table, quote_ident(conname) as name, pg_get_constraintdef(oid) as definition
        from pg_constraint where contype = 'p' and conrelid = any(${tables}::regclass[]) order by 1, 2`
    : []
  const indexes = await tx<{ name: string; definition: string }[]>`
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
    from pg_index i
    where i.indrelid = any(${tables}::regclass[])
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
    order by 1`
  const foreignKeys = await tx<{ table: string; name: string; definition: string }[]>`
    select conrelid::regclass::text as table, quote_ident(conname) as name, pg_get_constraintdef(oid) as definition
    from pg_constraint
    where contype = 'f' and conrelid = any(${tables}::regclass[])
    order by 1, 2`
  for (const fk of foreignKeys) await tx.unsafe(`alter table ${fk.table} drop constraint ${fk.name}`)
  for (const ix of indexes) await tx.unsafe(`drop index ${ix.name}`)
  for (const pk of keys) await tx.unsafe(`alter table ${pk.table} drop constraint ${pk.name}`)
  return { primaryKeys: keys, indexes: indexes.map(i => i.definition), foreignKeys }
}

/** Drops the secondary indexes and the foreign keys of the tables the demo loads in bulk. */
export function stripLoadedTables(tx: Tx): Promise<Stripped> {
  return stripTables(tx, loadedTables, false)
}

/** Builds again what stripTables dropped, and checks the foreign keys over the loaded rows. */
export async function restoreTables(tx: Tx, stripped: Stripped, log: (message: string) => void): Promise<void> {
  for (const pk of stripped.primaryKeys) await tx.unsafe(`alter table ${pk.table} add constraint ${pk.name} ${pk.definition}`)
  for (const definition of stripped.indexes) {
    const t0 = Date.now()
    await tx.unsafe(definition)
    log(`  ${definition.replace(/^CREATE (UNIQUE )?INDEX (\S+) .*$/, '$2')}: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  }
  for (const fk of stripped.foreignKeys) await tx.unsafe(`alter table ${fk.table} add constraint ${fk.name} ${fk.definition}`)
}
