import { daysBetween } from './calendar.js'

/**
 * The campaign's phases (动员部署, 排查整治, 总结巩固: campaign settings, table campaign_phase) and
 * where a day falls among them. Pure: the web app's header uses it too.
 */

export interface Phase {
  seq: number
  code: string
  nameZh: string
  nameEn: string
  startsOn: string
  endsOn: string
}

export interface PhaseOn {
  /** The phase the day falls in; before the campaign the first, after it the last. */
  phase: Phase | null
  /** Where the day is: before the first phase, in a phase, or after the last. */
  state: 'before' | 'during' | 'after'
  /** Days from the day to the phase's last day, counting both (1 on its last day); null outside the phase. */
  daysLeft: number | null
}

/** The phase a (district) day falls in, and how many days of it are left. */
export function phaseOn(phases: readonly Phase[], day: string): PhaseOn {
  const sorted = [...phases].sort((a, b) => a.seq - b.seq)
  if (!sorted.length) return { phase: null, state: 'during', daysLeft: null }
  if (day < sorted[0]!.startsOn) return { phase: sorted[0]!, state: 'before', daysLeft: null }
  const last = sorted[sorted.length - 1]!
  if (day > last.endsOn) return { phase: last, state: 'after', daysLeft: null }
  // A day in a gap between two phases belongs to the one that comes next.
  const phase = sorted.find(p => day <= p.endsOn)!
  return { phase, state: 'during', daysLeft: daysBetween(day, phase.endsOn) + 1 }
}
