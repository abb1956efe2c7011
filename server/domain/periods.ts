/**
 * Report periods of the biweekly tables (attachments 4 and 5 of the notice): reported "every month
 * on the 14th and the 29th". The rules decided here:
 *
 * - A period ends on a report day of a month: each of the campaign's report days (14 and 29).
 * - A report day past the end of a short month falls on its last day: in February the 29th is the
 *   29th in a leap year and the 28th in a common year ("on its last day when that comes before").
 * - The first period runs from the campaign's first day to its first report day on or after it.
 * - The last period ends on the campaign's last day when that is not a report day itself (the
 *   campaign of the notice ends on 31 December, after the report of the 29th), so that the
 *   cumulative figures reach the end of the campaign.
 * - A period runs from the day after the previous end to its own end, both included.
 */

import { addDays } from './calendar.js'

export interface Period {
  /** First day, included. */
  from: string
  /** Last day (the report day), included. */
  to: string
}

const iso = (y: number, m: number, d: number) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
const lastDay = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate()

/** Every report day from start to end (both included), plus the end itself when it is not one. */
export function reportDates(start: string, end: string, reportDays: number[] = [14, 29]): string[] {
  const days = [...new Set(reportDays)].sort((a, b) => a - b)
  const out: string[] = []
  let y = Number(start.slice(0, 4))
  let m = Number(start.slice(5, 7))
  while (iso(y, m, 1) <= end) {
    for (const d of days) {
      const day = iso(y, m, Math.min(d, lastDay(y, m)))
      if (day >= start && day <= end && out[out.length - 1] !== day) out.push(day)
    }
    if (++m > 12) {
      m = 1
      y++
    }
  }
  if (out[out.length - 1] !== end) out.push(end)
  return out
}

/** The campaign's periods in order. */
export function periods(start: string, end: string, reportDays?: number[]): Period[] {
  const ends = reportDates(start, end, reportDays)
  return ends.map((to, i) => ({ from: i === 0 ? start : addDays(ends[i - 1]!, 1), to }))
}

/** The period that ends on a report day, or undefined when the day is not one. */
export function periodEndingOn(day: string, start: string, end: string, reportDays?: number[]): Period | undefined {
  return periods(start, end, reportDays).find(p => p.to === day)
}

/** The last report day strictly before a day, or null before the first one. */
export function previousReportDate(day: string, start: string, end: string, reportDays?: number[]): string | null {
  const before = reportDates(start, end, reportDays).filter(d => d < day)
  return before.length ? before[before.length - 1]! : null
}
