/**
 * What each premises of a batch brings to the key-area cells, worked out from the batch's own rows
 * while they are turned into COPY text: the seed's COPY load writes premises_cell_day_source and
 * premises_cell_event_source from this instead of having PostgreSQL derive them from the loaded
 * tables (premises_cell_day_rows and premises_cell_event_rows in server/db/functions/key-area-cells.sql,
 * about 270 s of one core at 1,000,000 premises, against seconds here). The rules are those
 * functions', line for line; the seed's test holds the two loads' tables equal, and the SQL stays
 * what every later write uses. The cell, town and station are added in SQL from the premises row,
 * so that the cell is PostGIS's own arithmetic.
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

/** The local (Asia/Shanghai, UTC+8 without summer time since 1991) day of an instant in microseconds since 1970. */
export function localDay(unixUs: number): Day {
  return new Date(Math.floor(unixUs / 1000) + 8 * 3_600_000).toISOString().slice(0, 10)
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

/** The premises' days of change as premises_cell_day_rows gives them (an array of cell_day_delta), or null when none. */
function dayDeltas(spans: Span[]): string | null {
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
  if (!days.size) return null
  const rows = [...days].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([day, d]) => `"(${day},${d.h},${d.rh},${d.g},${d.gh},${d.r},${d.ps},${d.fire},${d.housing},${d.other})"`)
  return `{${rows.join(',')}}`
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

/** The COPY text (premises id, changes) and (premises id, days, events) of one batch, for the seed's staging tables. */
export function keyAreaSourceText(b: BatchData, microsOf: (ms: unknown) => number | null): { days: string; events: string } {
  const { P: p, R: r, H: h } = b
  const residentsOf = byPremises(r.premises)
  const hazardsOf = byPremises(h.premises)
  let days = ''
  let events = ''
  const dayOf = (ms: unknown) => localDayOf(ms, microsOf)
  for (let i = 0; i < p.id.length; i++) {
    const id = Number(p.id[i])
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

    const deltas = dayDeltas(spans)
    if (deltas !== null) days += `${id}\t${deltas}\n`
    evs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]))
    events += `${id}\t{${evs.map(e => e[0]).join(',')}}\t{${evs.map(e => `"${reportEvents[e[1]]!}"`).join(',')}}\n`
  }
  return { days, events }
}
