/**
 * What each premises brings to the key-area cells, and the cells' sums, worked out from the demo's
 * rows as the COPY load hands each batch on (KeyAreaSums.add, on the main thread), their COPY data
 * made by the COPY worker after the last batch (KeyAreaSums.text): the seed's COPY load writes
 * premises_cell_day_source, premises_cell_event_source, premises_cell_day, premises_block_day and
 * premises_cell_event from this instead of having PostgreSQL derive them from the loaded tables
 * (premises_cell_day_rows, premises_cell_event_rows and the sums over them in
 * server/db/functions/key-area-cells.sql: about 270 s of one core at 1,000,000 premises for the rows,
 * 74-81 s more for the sums). The rules are those functions', line for line; the seed's test holds
 * the two loads' tables equal, and the SQL stays what every later write uses.
 *
 * A premises' cell is worked out here from its point as PostGIS projects it (Web Mercator, the
 * formula PROJ uses). The longitude's arithmetic is PROJ's exactly; the latitude's asinh and tan are
 * V8's, which differ from the C library's in the last bit for a few points in a hundred. A point
 * that close to a cell's edge is a chance far below one in a billion, but the seed checks every
 * premises' cell against PostGIS's after the load and moves any that differ with the function every
 * later write uses (placeKeyAreaSources in load.ts).
 */
import type { BatchData } from './copy-text.js'

/** report_event's labels in the enum's order (migration 040): events sort by it. */
const reportEvents = [
  'grRegistered', 'grDeregistered', 'statementsSigned', 'secondLandlords',
  'grResidentsRegistered', 'grResidentsDeregistered', 'floatingRegistered', 'floatingDeregistered',
  'gr:found:public_security', 'gr:found:fire', 'gr:found:housing', 'gr:found:other',
  'gr:rectified:public_security', 'gr:rectified:fire', 'gr:rectified:housing', 'gr:rectified:other',
  'all:found:public_security', 'all:found:fire', 'all:found:housing', 'all:found:other',
  'all:rectified:public_security', 'all:rectified:fire', 'all:rectified:housing', 'all:rectified:other',
] as const
const eventOrder = new Map<string, number>(reportEvents.map((e, i) => [e, i]))

/** A date as 'YYYY-MM-DD'; 'infinity' sorts after every one of them, as in PostgreSQL. */
export type Day = string
const infinity = 'infinity'
export const later = (a: Day, b: Day) => (a > b ? a : b)
const earlier = (a: Day, b: Day) => (a < b ? a : b)

const localDays = new Map<number, Day>()

/** The local (Asia/Shanghai, UTC+8 without summer time since 1991) day of an instant in microseconds since 1970. */
export function localDay(unixUs: number): Day {
  // Kept by local day: the seed asks for the days of millions of moments over a few hundred days.
  const ms = Math.floor(unixUs / 1000) + 8 * 3_600_000
  const day = Math.floor(ms / 86_400_000)
  let text = localDays.get(day)
  if (text === undefined) localDays.set(day, text = new Date(ms).toISOString().slice(0, 10))
  return text
}

/** Whether a batch's premises row counts as a group rental: is_group_rental_candidate over premises.meets_rule. */
export function isGroupRentalCandidate(p: BatchData['P'], i: number): boolean {
  const kind = p.kind[i]
  const meetsRule = Number(p.rooms[i]) >= 10 || Number(p.beds[i]) >= 10 || Number(p.occupants[i]) >= 10
  return kind === 'group_rental' || (kind === 'rental' && meetsRule)
}

/** The day a batch's premises row counts as a registered group rental, or null: group_rental_registered_on. */
export function groupRentalRegisteredOn(p: BatchData['P'], i: number): Day | null {
  const registered = p.registered[i] as Day | null
  const since = p.grSince[i] as Day | null
  return p.kind[i] === 'group_rental' && registered !== null ? later(registered, since ?? registered) : null
}

/** The local day of a time given in milliseconds, as the COPY text stores the time (`microsOf`). */
export function localDayOf(ms: unknown, microsOf: (ms: unknown) => number | null): Day | null {
  const us = microsOf(ms)
  return us === null ? null : localDay(us)
}

/** Counts one day changes by: houses, rental houses, group rentals, with open hazards, registered residents, hazards by category. */
interface Delta { h: number; rh: number; g: number; gh: number; r: number; ps: number; fire: number; housing: number; other: number }
const categoryKey: Record<string, keyof Delta> = { public_security: 'ps', fire: 'fire', housing: 'housing', other: 'other' }

/** What counts from `s` until before `e`; `c` a hazard's category. */
interface Span { s: Day; e: Day; h?: number; rh?: number; g?: number; gh?: number; r?: number; c?: string }

/** The premises' days of change as premises_cell_day_rows gives them (its cell_day_delta array), by day. */
function dayDeltas(spans: Span[]): [Day, Delta][] {
  const days = new Map<Day, Delta>()
  const add = (day: Day, sign: number, span: Span) => {
    let d = days.get(day)
    if (!d) days.set(day, d = { h: 0, rh: 0, g: 0, gh: 0, r: 0, ps: 0, fire: 0, housing: 0, other: 0 })
    d.h += sign * (span.h ?? 0)
    d.rh += sign * (span.rh ?? 0)
    d.g += sign * (span.g ?? 0)
    d.gh += sign * (span.gh ?? 0)
    d.r += sign * (span.r ?? 0)
    const k = span.c === undefined ? undefined : categoryKey[span.c]
    if (k) d[k] += sign
  }
  for (const span of spans) {
    if (!(span.e > span.s)) continue
    add(span.s, 1, span)
    if (span.e !== infinity) add(span.e, -1, span)
  }
  return [...days].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

/** Hazards' open intervals joined where they overlap or touch, in the order of their starts (the islands of open hazards). */
function islands(intervals: { s: Day; e: Day }[]): { s: Day; e: Day }[] {
  const sorted = [...intervals].sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : a.e < b.e ? -1 : a.e > b.e ? 1 : 0))
  const out: { s: Day; e: Day }[] = []
  for (const i of sorted) {
    const last = out[out.length - 1]
    if (last && i.s <= last.e) last.e = later(last.e, i.e)
    else out.push({ ...i })
  }
  return out
}

/** Indices of a batch's rows by their premises id. */
function byPremises(ids: unknown[]): Map<number, number[]> {
  const out = new Map<number, number[]>()
  for (let i = 0; i < ids.length; i++) {
    const id = Number(ids[i])
    const list = out.get(id)
    if (list) list.push(i)
    else out.set(id, [i])
  }
  return out
}

/**
 * A growing list of numbers in a typed array, outside the JavaScript heap (tens of millions of them
 * at 1,000,000 premises): 32-bit integers, or the premises' coordinates as 64-bit floats.
 */
class Numbers<A extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>> {
  constructor(public a: A, public n = 0) {}
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new (this.a.constructor as new (length: number) => A)(this.a.length * 2)
      b.set(this.a)
      this.a = b
    }
    this.a[this.n++] = v
  }
}
type Ints = Numbers<Int32Array<ArrayBuffer>>
type Floats = Numbers<Float64Array<ArrayBuffer>>

const dayMs = 86_400_000
/** A date as days since 1970, and back. */
const dayNumber = (day: Day) => Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))) / dayMs
const dayTexts = new Map<number, Day>()
function dayText(n: number): Day {
  let t = dayTexts.get(n)
  if (t === undefined) dayTexts.set(n, t = new Date(n * dayMs).toISOString().slice(0, 10))
  return t
}

// A cell's number from a point as premises_cell_x and premises_cell_y (migration 006) take it from
// st_transform(geom, 3857): PROJ's spherical Mercator, x = a * lon in radians, y = a * asinh(tan(lat)).
const radius = 6378137
/** PROJ's DEG_TO_RAD, 0.017453292519943296: the same double. */
const degree = Math.PI / 180
const halfWorld = 20037508.342789244
const cellSize = 40075016.68557849 / 524288
export const cellX = (lon: number) => Math.floor((radius * (lon * degree) + halfWorld) / cellSize)
export const cellY = (lat: number) => Math.floor((halfWorld - radius * Math.asinh(Math.tan(lat * degree))) / cellSize)

/** A town and police station in one 32-bit number: station below 2^12, town below 2^19 (checked as they come). */
const stationSpan = 4096

/** The day changes' width: the day, then cell_day_delta's nine counts. */
const W = 10

/**
 * COPY data written byte by byte into buffers of a megabyte, each handed on when full (to the main
 * thread, which COPYs it while the next is made): the key-area tables are tens of millions of
 * numbers at 1,000,000 premises, and making a string of each took the worker about 42 s. Text for the
 * sums, COPY's binary format for the premises' sources: their arrays of composites and enums cost
 * PostgreSQL a third less to take in binary than to parse.
 */
class CopyData {
  private buf = new Uint8Array(1 << 20)
  private view = new DataView(this.buf.buffer)
  private at = 0
  constructor(private readonly emit: (chunk: Uint8Array) => void) {}

  /** Room for `n` more bytes in the current buffer (a row is written whole into one). */
  room(n: number): void {
    if (this.at + n <= this.buf.length) return
    if (this.at) this.emit(this.buf.subarray(0, this.at))
    this.buf = new Uint8Array(Math.max(1 << 20, n))
    this.view = new DataView(this.buf.buffer)
    this.at = 0
  }

  int16(v: number): void {
    this.view.setInt16(this.at, v)
    this.at += 2
  }

  int32(v: number): void {
    this.view.setInt32(this.at, v)
    this.at += 4
  }

  /** A non-negative integer below 2^53 as a bigint. */
  int64(v: number): void {
    this.view.setUint32(this.at, Math.floor(v / 2 ** 32))
    this.view.setUint32(this.at + 4, v >>> 0)
    this.at += 8
  }

  uint32le(v: number): void {
    this.view.setUint32(this.at, v, true)
    this.at += 4
  }

  float64le(v: number): void {
    this.view.setFloat64(this.at, v, true)
    this.at += 8
  }

  byte(c: number): void {
    this.buf[this.at++] = c
  }

  /** A few bytes (a day, an event's name): copied one by one, cheaper than a typed array's set for so few. */
  bytes(b: Uint8Array): void {
    for (let i = 0; i < b.length; i++) this.buf[this.at++] = b[i]!
  }

  /** An integer in decimal: at most 11 bytes for 32 bits. */
  int(n: number): void {
    if (n < 0) {
      this.byte(45)
      n = -n
    }
    const start = this.at
    do {
      this.buf[this.at++] = 48 + (n % 10)
      n = Math.floor(n / 10)
    } while (n > 0)
    for (let i = start, j = this.at - 1; i < j; i++, j--) {
      const c = this.buf[i]!
      this.buf[i] = this.buf[j]!
      this.buf[j] = c
    }
  }

  /** Hands on what is left. */
  end(): void {
    if (this.at) this.emit(this.buf.subarray(0, this.at))
    this.buf = new Uint8Array(0)
    this.at = 0
  }
}

const TAB = 9
const NEWLINE = 10
const COMMA = 44
/** COPY's binary format: its signature, flags and header extension; the end. */
const binaryHeader = new Uint8Array([0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00, 0, 0, 0, 0, 0, 0, 0, 0])
const binaryTrailer = -1
/** Type oids of date and int4 (fixed in PostgreSQL), as binary arrays and composites name their elements' types. */
const dateOid = 1082
const int4Oid = 23
/** Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch for dates. */
const postgresEpochDays = 10_957
const ascii = (text: string) => new TextEncoder().encode(text)
/** report_event's labels quoted for an array literal, as bytes. */
const eventBytes = reportEvents.map(e => ascii(`"${e}"`))
/** The labels as bytes, unquoted (enum_recv's input). */
const eventLabels = reportEvents.map(e => ascii(e))
/** A day's 'YYYY-MM-DD' as bytes, by its number. */
const dayBytesOf = new Map<number, Uint8Array>()
function dayBytes(n: number): Uint8Array {
  let b = dayBytesOf.get(n)
  if (b === undefined) dayBytesOf.set(n, b = ascii(dayText(n)))
  return b
}

/** KeyAreaSums' lists: numbers and how many of them are used. */
export type KeyAreaSumsPoints = Record<'lon' | 'lat', { a: Float64Array<ArrayBuffer>; n: number }>
export type KeyAreaSumsState = Record<'id' | 'cx' | 'cy' | 'tp' | 'dayAt' | 'eventAt' | 'days' | 'events', { a: Int32Array<ArrayBuffer>; n: number }> & KeyAreaSumsPoints

/** The oids of the database's own types the sources' binary COPY data names. */
export interface KeyAreaTypes { cellDayDelta: number; reportEvent: number }

/** The five key-area tables, in the order their COPY text is made. */
export const keyAreaTables = ['premises_cell_day_source', 'premises_cell_event_source', 'premises_cell_day', 'premises_cell_event', 'premises_block_day'] as const
export type KeyAreaTable = typeof keyAreaTables[number]

/**
 * Every premises' changes and events, added batch by batch, and at the end their sources and the
 * cells' and blocks' sums as COPY text: premises_cell_day_source and premises_cell_event_source laid
 * out by cell (cx, cy, premises id: refresh_all_premises_cell_days' order), premises_cell_day and
 * premises_block_day as premises_cell_days_from_source and refresh_all_premises_block_days sum them
 * (a day's changes summed, a day on which they cancel left out, then running totals by day), and
 * premises_cell_event as premises_cell_events_from_source counts them.
 */
export class KeyAreaSums {
  // Per premises, in the order given (id order): id, cell, town and station, where its changes and events start.
  private readonly id: Ints
  private readonly cx: Ints
  private readonly cy: Ints
  /** Each premises' point, written beside its changes (migration 048): the same numbers as its geom. */
  private readonly lon: Floats
  private readonly lat: Floats
  private readonly tp: Ints
  private readonly dayAt: Ints
  private readonly eventAt: Ints
  /** Each premises' days of change, W numbers each. */
  private readonly days: Ints
  /** Each premises' events: day, then the event's place in report_event. */
  private readonly events: Ints

  /** Empty, or the sums another thread handed over (`state`). */
  constructor(state?: KeyAreaSumsState) {
    const list = (name: Exclude<keyof KeyAreaSumsState, keyof KeyAreaSumsPoints>): Ints => new Numbers(state?.[name].a ?? new Int32Array(1 << 16), state?.[name].n)
    this.id = list('id')
    this.cx = list('cx')
    this.cy = list('cy')
    const floats = (name: keyof KeyAreaSumsPoints): Floats => new Numbers(state?.[name].a ?? new Float64Array(1 << 16), state?.[name].n)
    this.lon = floats('lon')
    this.lat = floats('lat')
    this.tp = list('tp')
    this.dayAt = list('dayAt')
    this.eventAt = list('eventAt')
    this.days = list('days')
    this.events = list('events')
  }

  /** The lists, to hand to the worker thread that makes the text (their buffers transferred: this object is spent). */
  state(): { state: KeyAreaSumsState; transfer: ArrayBuffer[] } {
    const state = Object.fromEntries((['id', 'cx', 'cy', 'tp', 'dayAt', 'eventAt', 'days', 'events', 'lon', 'lat'] as const)
      .map(k => [k, { a: this[k].a, n: this[k].n }])) as KeyAreaSumsState
    return { state, transfer: Object.values(state).map(l => l.a.buffer as ArrayBuffer) }
  }

  add(b: BatchData, microsOf: (ms: unknown) => number | null): void {
    const { P: p, R: r, H: h } = b
    const residentsOf = byPremises(r.premises)
    const hazardsOf = byPremises(h.premises)
    const dayOf = (ms: unknown) => localDayOf(ms, microsOf)
    for (let i = 0; i < p.id.length; i++) {
      const id = Number(p.id[i])
      const town = Number(p.town[i])
      const station = Number(p.station[i] ?? 0)
      if (!(Number.isInteger(town) && town >= 0 && town < 2 ** 19 && Number.isInteger(station) && station >= 0 && station < stationSpan)) {
        throw new Error(`premises ${id}: town ${town} or police station ${station} out of the range the key-area sums hold`)
      }
      this.id.push(id)
      const lon = Number(p.lon[i])
      const lat = Number(p.lat[i])
      this.cx.push(cellX(lon))
      this.cy.push(cellY(lat))
      this.lon.push(lon)
      this.lat.push(lat)
      this.tp.push(town * stationSpan + station)
      this.dayAt.push(this.days.n)
      this.eventAt.push(this.events.n)

      const kind = p.kind[i] as string
      const found = p.found[i] as Day
      const end = (p.deregistered[i] as Day | null) ?? infinity
      const rental = kind === 'rental' || kind === 'group_rental'
      const gr = isGroupRentalCandidate(p, i)
      const registered = p.registered[i] as Day | null
      const since = p.grSince[i] as Day | null
      const hazards = (hazardsOf.get(id) ?? []).map(k => ({
        category: h.category[k] as string, found: dayOf(h.found[k])!, rectified: dayOf(h.rectified[k]),
      }))

      const spans: Span[] = [{ s: found, e: end, h: 1, rh: rental ? 1 : 0, g: gr ? 1 : 0 }]
      const evs: [Day, number][] = []
      const event = (day: Day | null, name: string) => {
        if (day === null) return
        const order = eventOrder.get(name)
        if (order === undefined) throw new Error(`no report event ${name} (a hazard category report_event does not know?)`)
        evs.push([day, order])
      }
      event(groupRentalRegisteredOn(p, i), 'grRegistered')
      event(kind === 'group_rental' && registered !== null ? p.deregistered[i] as Day | null : null, 'grDeregistered')
      event(gr ? p.statement[i] as Day | null : null, 'statementsSigned')
      event(gr ? p.slCollected[i] as Day | null : null, 'secondLandlords')

      for (const k of residentsOf.get(id) ?? []) {
        const reg = r.registered[k] as Day | null
        const dereg = r.deregistered[k] as Day | null
        if (reg !== null) {
          spans.push({ s: later(later(r.movedIn[k] as Day, reg), found), e: earlier((r.movedOut[k] as Day | null) ?? infinity, end), r: 1 })
        }
        event(gr ? reg : null, 'grResidentsRegistered')
        event(gr ? dereg : null, 'grResidentsDeregistered')
        if (r.floating[k]) {
          event(reg, 'floatingRegistered')
          event(dereg, 'floatingDeregistered')
        }
      }

      for (const z of hazards) {
        spans.push({ s: later(z.found, found), e: earlier(z.rectified ?? infinity, end), c: z.category })
        const whose = gr && (since === null || z.found >= since) ? 'gr' : 'all'
        event(z.found, `${whose}:found:${z.category}`)
        event(z.rectified, `${whose}:rectified:${z.category}`)
      }
      if (gr) {
        for (const island of islands(hazards.map(z => ({ s: z.found, e: z.rectified ?? infinity })))) {
          spans.push({ s: later(island.s, found), e: earlier(island.e, end), gh: 1 })
        }
      }

      for (const [day, d] of dayDeltas(spans)) {
        this.days.push(dayNumber(day))
        for (const v of [d.h, d.rh, d.g, d.gh, d.r, d.ps, d.fire, d.housing, d.other]) this.days.push(v)
      }
      evs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]))
      for (const [day, order] of evs) {
        this.events.push(dayNumber(day))
        this.events.push(order)
      }
    }
  }

  /**
   * The five tables' COPY text from every premises given, table after table (keyAreaTables' order),
   * in chunks handed to `emit` as they are made; a table's end as a null chunk.
   */
  text(types: KeyAreaTypes, emit: (table: KeyAreaTable, chunk: Uint8Array | null) => void): void {
    const writer = (table: KeyAreaTable) => new CopyData(chunk => emit(table, chunk))
    const done = (table: KeyAreaTable, out: CopyData) => {
      out.end()
      emit(table, null)
    }
    const n = this.id.n
    // Sentinels: the premises after the last starts where the lists end.
    this.dayAt.push(this.days.n)
    this.eventAt.push(this.events.n)
    const id = this.id.a
    const cx = this.cx.a
    const cy = this.cy.a
    const lon = this.lon.a
    const lat = this.lat.a
    const tp = this.tp.a
    const dayAt = this.dayAt.a
    const eventAt = this.eventAt.a
    const days = this.days.a
    const events = this.events.a
    /** A row's start: its key's numbers, each followed by a tab. */
    const lead = (out: CopyData, ...values: number[]) => {
      for (const v of values) {
        out.int(v)
        out.byte(TAB)
      }
    }
    const town = (place: number) => Math.floor(place / stationSpan)
    const station = (place: number) => place % stationSpan

    const byCell = Array.from({ length: n }, (_, i) => i)
      .sort((a, b) => cx[a]! - cx[b]! || cy[a]! - cy[b]! || id[a]! - id[b]!)

    // The sources in COPY's binary format: a row's fields each with its length; an array as its
    // dimensions and element type, then its elements; a composite as its columns' types and values.
    const sourceKey = (out: CopyData, i: number, fields: number) => {
      out.int16(fields)
      out.int32(8)
      out.int64(id[i]!)
      for (const v of [cx[i]!, cy[i]!, town(tp[i]!), station(tp[i]!)]) {
        out.int32(4)
        out.int32(v)
      }
    }
    const arrayHeader = (out: CopyData, bytes: number, elementOid: number, length: number) => {
      if (length === 0) {
        out.int32(12)
        out.int32(0)
        out.int32(0)
        out.int32(elementOid)
        return
      }
      out.int32(20 + bytes)
      out.int32(1)
      out.int32(0)
      out.int32(elementOid)
      out.int32(length)
      out.int32(1)
    }

    // A point as PostGIS takes it in binary (EWKB, little-endian): byte order, type with the SRID
    // flag, SRID, x, y.
    const pointBytes = 1 + 4 + 4 + 8 + 8
    const point = (out: CopyData, x: number, y: number) => {
      out.int32(pointBytes)
      out.byte(1)
      out.uint32le(0x20000001)
      out.uint32le(4326)
      out.float64le(x)
      out.float64le(y)
    }
    const daySources = writer('premises_cell_day_source')
    daySources.bytes(binaryHeader)
    // A cell_day_delta: its ten columns (day, then nine counts), each as type, length and value.
    const deltaBytes = 4 + 4 + W * 12
    const sums = new Float64Array(W)
    const delta = (out: CopyData, from: ArrayLike<number>, k: number) => {
      out.int32(deltaBytes - 4)
      out.int32(W)
      out.int32(dateOid)
      out.int32(4)
      out.int32(from[k]! - postgresEpochDays)
      for (let v = 1; v < W; v++) {
        out.int32(int4Oid)
        out.int32(4)
        out.int32(from[k + v]!)
      }
    }
    for (const i of byCell) {
      const d0 = dayAt[i]!
      const d1 = dayAt[i + 1]!
      if (d1 === d0) continue
      const length = (d1 - d0) / W
      const out = daySources
      out.room(64 + 20 + (length + 1) * deltaBytes + 4 + pointBytes)
      sourceKey(out, i, 8)
      arrayHeader(out, length * deltaBytes, types.cellDayDelta, length)
      sums.fill(0)
      sums[0] = -Infinity
      for (let k = d0; k < d1; k += W) {
        delta(out, days, k)
        sums[0] = Math.max(sums[0]!, days[k]!)
        for (let v = 1; v < W; v++) sums[v]! += days[k + v]!
      }
      // Their total (cell_day_total, migration 052): the last day of change, then each count summed.
      delta(out, sums, 0)
      point(out, lon[i]!, lat[i]!)
    }
    daySources.room(2)
    daySources.int16(binaryTrailer)
    done('premises_cell_day_source', daySources)

    const eventSources = writer('premises_cell_event_source')
    eventSources.bytes(binaryHeader)
    for (const i of byCell) {
      const e0 = eventAt[i]!
      const e1 = eventAt[i + 1]!
      const length = (e1 - e0) / 2
      let labelBytes = 0
      for (let k = e0; k < e1; k += 2) labelBytes += 4 + eventLabels[events[k + 1]!]!.length
      const out = eventSources
      out.room(64 + 48 + length * 8 + labelBytes)
      sourceKey(out, i, 7)
      arrayHeader(out, length * 8, dateOid, length)
      for (let k = e0; k < e1; k += 2) {
        out.int32(4)
        out.int32(events[k]! - postgresEpochDays)
      }
      arrayHeader(out, labelBytes, types.reportEvent, length)
      for (let k = e0; k < e1; k += 2) {
        const label = eventLabels[events[k + 1]!]!
        out.int32(label.length)
        out.bytes(label)
      }
    }
    eventSources.room(2)
    eventSources.int16(binaryTrailer)
    done('premises_cell_event_source', eventSources)

    // Premises in runs of one cell (or block), each run's changes by town and station, then by day.
    const runs = (order: number[], same: (a: number, b: number) => boolean, each: (members: number[]) => void) => {
      for (let s = 0; s < order.length;) {
        let e = s + 1
        while (e < order.length && same(order[s]!, order[e]!)) e++
        each(order.slice(s, e))
        s = e
      }
    }
    /** Lists by town and station (in their order), of numbers each member adds. */
    const byPlace = (members: number[], add: (i: number, list: number[]) => void) => {
      const lists = new Map<number, number[]>()
      for (const i of members) {
        let list = lists.get(tp[i]!)
        if (!list) lists.set(tp[i]!, list = [])
        add(i, list)
      }
      return [...lists].sort((a, b) => a[0] - b[0])
    }
    const total = new Int32Array(W - 1)
    const sum = new Int32Array(W - 1)
    const sumDays = (members: number[], out: CopyData, x: number, y: number) => {
      // Each change as its day and row, day first: sorted as numbers, a place's changes come by day.
      const lists = byPlace(members, (i, list) => {
        for (let k = dayAt[i]!; k < dayAt[i + 1]!; k += W) list.push(days[k]! * 2 ** 32 + k)
      })
      for (const [place, list] of lists) {
        const keys = Float64Array.from(list).sort()
        total.fill(0)
        for (let s = 0; s < keys.length;) {
          const day = Math.floor(keys[s]! / 2 ** 32)
          sum.fill(0)
          let e = s
          for (; e < keys.length && Math.floor(keys[e]! / 2 ** 32) === day; e++) {
            const k = keys[e]! % 2 ** 32
            for (let v = 0; v < W - 1; v++) sum[v]! += days[k + 1 + v]!
          }
          s = e
          if (sum.every(v => v === 0)) continue
          out.room(200)
          lead(out, x, y, town(place), station(place))
          out.bytes(dayBytes(day))
          for (let v = 0; v < W - 1; v++) {
            total[v]! += sum[v]!
            out.byte(TAB)
            out.int(total[v]!)
          }
          out.byte(NEWLINE)
        }
      }
    }

    const sameCell = (a: number, b: number) => cx[a] === cx[b] && cy[a] === cy[b]
    const cellDays = writer('premises_cell_day')
    runs(byCell, sameCell, members => sumDays(members, cellDays, cx[members[0]!]!, cy[members[0]!]!))
    done('premises_cell_day', cellDays)

    const cellEvents = writer('premises_cell_event')
    runs(byCell, sameCell, (members) => {
      const x = cx[members[0]!]!
      const y = cy[members[0]!]!
      // The cell's events by town and station, counted by day and event.
      const lists = byPlace(members, (i, list) => {
        for (let k = eventAt[i]!; k < eventAt[i + 1]!; k += 2) list.push(events[k]! * 32 + events[k + 1]!)
      })
      for (const [place, list] of lists) {
        if (!list.length) continue
        const keys = Float64Array.from(list).sort()
        const out = cellEvents
        out.room(80 + keys.length * 60)
        lead(out, x, y, town(place), station(place))
        const each = (write: (s: number, e: number) => void) => {
          out.byte(123)
          for (let s = 0; s < keys.length;) {
            let e = s
            while (e < keys.length && keys[e] === keys[s]) e++
            if (s > 0) out.byte(COMMA)
            write(s, e)
            s = e
          }
          out.byte(125)
        }
        each(s => out.bytes(dayBytes(Math.floor(keys[s]! / 32))))
        out.byte(TAB)
        each(s => out.bytes(eventBytes[keys[s]! % 32]!))
        out.byte(TAB)
        each((s, e) => out.int(e - s))
        out.byte(NEWLINE)
      }
    })
    done('premises_cell_event', cellEvents)

    const bx = (i: number) => Math.floor(cx[i]! / 4)
    const by = (i: number) => Math.floor(cy[i]! / 4)
    const byBlock = [...byCell].sort((a, b) => bx(a) - bx(b) || by(a) - by(b))
    const blockDays = writer('premises_block_day')
    runs(byBlock, (a, b) => bx(a) === bx(b) && by(a) === by(b), members => sumDays(members, blockDays, bx(members[0]!), by(members[0]!)))
    done('premises_block_day', blockDays)
  }
}
