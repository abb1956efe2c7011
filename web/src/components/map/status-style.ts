import type { HazardStatus } from '../../api/premises'
import type { ExpressionSpecification } from 'maplibre-gl'

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

/**
 * The radius of a cell of counts: larger with more premises in it, and never so large that it covers
 * the cells beside it. A tile of counts puts its cells 16 px apart at its own zoom, and MapLibre draws
 * it up to twice as large until the next zoom's tiles take over; so the radius (at most 7 px, twice
 * that just before the next zoom) grows with the zoom's fraction and falls back at each whole zoom.
 * Sized by count alone (up to 22 px), at a million premises nearly every cell was drawn at its
 * largest and the district's view was one solid mass.
 */
const byCount: ExpressionSpecification = ['interpolate', ['linear'], ['sqrt', ['get', 'count']], 1, 2.5, 10, 5, 40, 7]
export const cellRadius = ['interpolate', ['exponential', 2], ['zoom'],
  ...Array.from({ length: 17 }, (_, z) => [z, byCount, z + 0.999, ['*', 2, byCount]]).flat()] as unknown as ExpressionSpecification
