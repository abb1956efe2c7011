import type { HazardStatus } from '../../api/premises'

/**
 * Hazard-status colours from the Okabe–Ito palette, which stays distinguishable with the common
 * colour-vision deficiencies; size and outline add a second cue for the two urgent states.
 */
export const statusColours: Record<HazardStatus, string> = {
  none: '#9A9A9A',
  rectified: '#0072B2',
  open_general: '#E69F00',
  open_major: '#D55E00',
  overdue: '#1A1A1A',
}

export const statusRadius: Record<HazardStatus, number> = {
  none: 2.5,
  rectified: 3,
  open_general: 4,
  open_major: 5,
  overdue: 5,
}

/** Drawing order: the urgent states on top. */
export const statusOrder: Record<HazardStatus, number> = {
  none: 0, rectified: 1, open_general: 2, open_major: 3, overdue: 4,
}

export const poiColour = '#7B3294'

/** Opacity of a cell of counts by the premises in it ([count, opacity] stops): density at a glance. */
export const aggregateOpacity: [number, number][] = [[1, 0.55], [20, 0.75], [200, 0.9], [2000, 1]]
