/**
 * The district's calendar: days and times as people in the district read them. China Standard Time
 * is UTC+8 all year (no daylight saving since 1991), so a fixed offset is exact and needs no time
 * zone database; the database says the same with `Asia/Shanghai` (local_day() and
 * end_of_local_day() in server/db/functions/common.sql). Pure: the web app imports it too.
 *
 * A day is an ISO date string, `YYYY-MM-DD`.
 */

/** The district's time zone, as the database names it. */
export const districtTimeZone = 'Asia/Shanghai'

const offsetMs = 8 * 3_600_000
const dayMs = 86_400_000

const instant = (at: Date | number | string): number =>
  at instanceof Date ? at.getTime() : typeof at === 'number' ? at : Date.parse(at)

/** The district's wall clock at an instant, written as if it were UTC (`YYYY-MM-DDTHH:mm:ss.sssZ`). */
const wallClock = (at: Date | number | string): string => new Date(instant(at) + offsetMs).toISOString()

/** The district's day an instant falls on. */
export function localDay(at: Date | number | string): string {
  return wallClock(at).slice(0, 10)
}

/** Today in the district (between midnight and 08:00 there, the UTC date is still yesterday). */
export function today(now: Date | number = Date.now()): string {
  return localDay(now)
}

/** The district's date and time of an instant to the minute, `YYYY-MM-DD HH:mm`, as messages show it. */
export function localMinute(at: Date | number | string): string {
  return wallClock(at).slice(0, 16).replace('T', ' ')
}

/** The district's date and time of an instant to the second, `YYYY-MM-DD HH:mm:ss`, as exports write it. */
export function localDateTime(at: Date | number | string): string {
  return wallClock(at).slice(0, 19).replace('T', ' ')
}

/** The first instant of a district day. */
export function startOfDay(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) - offsetMs)
}

/** The first instant after a district day: times before it happened on or before the day. */
export function endOfDay(day: string): Date {
  return new Date(startOfDay(day).getTime() + dayMs)
}

/** How many days `to` is after `from` (negative when before). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / dayMs)
}

/** The day `n` days after `day` (before it when `n` is negative). */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * dayMs).toISOString().slice(0, 10)
}

/**
 * The calendar day a date picker's cell stands for. Pickers build each cell as midnight in the
 * browser's own time zone, so the day is read in that zone (reading it in UTC gives the day before
 * east of Greenwich).
 */
export function pickerDay(cell: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${cell.getFullYear()}-${pad(cell.getMonth() + 1)}-${pad(cell.getDate())}`
}
