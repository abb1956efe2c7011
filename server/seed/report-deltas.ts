/**
 * The reports' daily changes (measure_delta, hazard_delta, group_rental_hazard_delta) summed from the
 * demo's rows while they are turned into COPY text, as refresh_measure_deltas sums them from the loaded
 * tables (server/db/functions/measures.sql). That function joined 7.9 million residents to their
 * premises and grouped some 27 million changes: 33-54 s of one core at 1,000,000 premises, with Node
 * idle. Here each batch adds to totals of a few tens of thousands of keys, and the seed COPYs them once
 * all rows are loaded. The rules are the function's, line for line; the seed's test holds the COPY
 * load's tables equal to the insert load's, which calls the function.
 */
import type { BatchData } from './copy-text.js'
import { type Day, groupRentalRegisteredOn, isGroupRentalCandidate, later, localDayOf } from './key-area-source.js'

type Value = string | number | boolean | null

/** The day after a date given as 'YYYY-MM-DD'. */
function nextDay(day: Day): Day {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
}

/**
 * Totals by day and the rest of their key (its values, each after a tab, as COPY wants them), each a
 * fixed number of counters. By the two apart: the rest is made once for a premises or a hazard, and
 * the day is a string of the batch, so no key is joined and hashed anew for each change.
 */
class Totals {
  readonly rows = new Map<string, Map<Day, number[]>>()
  constructor(readonly width: number) {}

  add(day: Day, rest: string, at: number, n: number): void {
    let days = this.rows.get(rest)
    if (!days) this.rows.set(rest, days = new Map())
    let row = days.get(day)
    if (!row) days.set(day, row = Array.from({ length: this.width }, () => 0))
    row[at]! += n
  }

  text(): string {
    let out = ''
    for (const [rest, days] of this.rows) {
      for (const [day, row] of days) out += `${day}${rest}\t${row.join('\t')}\n`
    }
    return out
  }
}

/** The COPY text of the three tables, in their columns' order. */
export interface ReportDeltasText { measures: string; hazards: string; groupRentalHazards: string }

/** Measure columns of measure_delta, in the table's order after its key. */
const M = {
  grFound: 0, grRegistered: 1, resCounted: 2, resRegistered: 3, evGrResRegistered: 4, evGrResDeregistered: 5,
  evFloatingRegistered: 6, evFloatingDeregistered: 7, evGrRegistered: 8, evGrDeregistered: 9, evStatementsSigned: 10, evSecondLandlords: 11,
} as const
/** hazard_delta's: found, rectified, major found, major rectified, overdue. */
const H = { found: 0, rectified: 1, majorFound: 2, majorRectified: 3, overdue: 4 } as const

/** A premises as its residents and hazards are counted: `m` adds to its measures' totals on a day. */
interface Premises {
  town: Value
  ps: Value
  kind: string
  gr: boolean
  since: Day | null
  found: Day
  dereg: Day | null
  m: (day: Day | null, at: number, n: number) => void
}

/** The running sums of every batch given so far. */
export class ReportDeltas {
  private readonly measures = new Totals(12)
  private readonly hazards = new Totals(5)
  private readonly groupRentalHazards = new Totals(2)

  add(b: BatchData, microsOf: (ms: unknown) => number | null): void {
    const { P: p, R: r, H: h } = b
    const dayOf = (ms: Value | undefined) => localDayOf(ms, microsOf)
    // What residents and hazards need of their premises, by premises id (a batch holds its premises' rows).
    const premises = new Map<number, Premises>()
    for (let i = 0; i < p.id.length; i++) {
      const kind = p.kind[i] as string
      const town = p.town[i]!
      const ps = p.station[i] ?? 0
      const found = p.found[i] as Day
      const dereg = p.deregistered[i] as Day | null
      const gr = isGroupRentalCandidate(p, i)
      const since = p.grSince[i] as Day | null
      const reg = groupRentalRegisteredOn(p, i)
      const rest = `\t${String(town)}\t${String(ps)}\t${kind}`
      const m = (day: Day | null, at: number, n: number) => {
        if (day !== null) this.measures.add(day, rest, at, n)
      }
      if (gr) {
        m(found, M.grFound, 1)
        m(dereg, M.grFound, -1)
        m(p.statement[i] as Day | null, M.evStatementsSigned, 1)
        m(p.slCollected[i] as Day | null, M.evSecondLandlords, 1)
      }
      if (reg !== null) {
        if (dereg === null || reg < dereg) m(reg, M.grRegistered, 1)
        if (dereg !== null && reg < dereg) m(dereg, M.grRegistered, -1)
        m(reg, M.evGrRegistered, 1)
        m(dereg, M.evGrDeregistered, 1)
      }
      premises.set(Number(p.id[i]), { town, ps, kind, gr, since, found, dereg, m })
    }

    for (let k = 0; k < r.id.length; k++) {
      const q = premises.get(Number(r.premises[k]))!
      const registered = r.registered[k] as Day | null
      const deregistered = r.deregistered[k] as Day | null
      const floating = r.floating[k] === true
      if (q.gr) {
        // A resident counts from moving in (not before the premises was found) until moving out or the
        // premises' deregistration (least() of the two that are known), registered from registering.
        const movedIn = r.movedIn[k] as Day
        const movedOut = r.movedOut[k] as Day | null
        const s = later(movedIn, q.found)
        const e = movedOut === null ? q.dereg : q.dereg === null ? movedOut : (movedOut < q.dereg ? movedOut : q.dereg)
        if (e === null || e > s) q.m(s, M.resCounted, 1)
        if (e !== null && e > s) q.m(e, M.resCounted, -1)
        if (registered !== null) {
          const rs = later(later(movedIn, q.found), registered)
          if (e === null || e > rs) q.m(rs, M.resRegistered, 1)
          if (e !== null && e > rs) q.m(e, M.resRegistered, -1)
        }
        q.m(registered, M.evGrResRegistered, 1)
        q.m(deregistered, M.evGrResDeregistered, 1)
      }
      if (floating) {
        q.m(registered, M.evFloatingRegistered, 1)
        q.m(deregistered, M.evFloatingDeregistered, 1)
      }
    }

    for (let k = 0; k < h.id.length; k++) {
      const q = premises.get(Number(h.premises[k]))!
      const c = h.category[k] as string
      const dep = h.department[k] as string
      const f = dayOf(h.found[k])!
      const rectified = dayOf(h.rectified[k])
      const deadline = h.deadline[k] as Day | null
      const major = h.severity[k] === 'major' ? 1 : 0
      const rest = `\t${String(q.town)}\t${String(q.ps)}\t${q.kind}\t${c}\t${dep}`
      this.hazards.add(f, rest, H.found, 1)
      this.hazards.add(f, rest, H.majorFound, major)
      if (rectified !== null) {
        this.hazards.add(rectified, rest, H.rectified, 1)
        this.hazards.add(rectified, rest, H.majorRectified, major)
      }
      if (deadline !== null) {
        // Overdue from the day after its deadline (not before it was found) until rectified.
        const o = later(nextDay(deadline), f)
        if (rectified === null || rectified > o) this.hazards.add(o, rest, H.overdue, 1)
        if (rectified !== null && rectified > o) this.hazards.add(rectified, rest, H.overdue, -1)
      }
      if (q.gr && (q.since === null || f >= q.since)) {
        const grRest = `\t${String(q.town)}\t${String(q.ps)}\t${c}`
        this.groupRentalHazards.add(f, grRest, 0, 1)
        if (rectified !== null) this.groupRentalHazards.add(rectified, grRest, 1, 1)
      }
    }
  }

  text(): ReportDeltasText {
    return { measures: this.measures.text(), hazards: this.hazards.text(), groupRentalHazards: this.groupRentalHazards.text() }
  }
}
