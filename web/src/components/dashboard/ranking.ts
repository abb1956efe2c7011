import type { TownSummary } from '../../api/stats'

/** What the ranking sorts by: the assessment score, or one measure's rate. */
export type RankBy = 'score' | 'group_rentals_registered' | 'residents_registered' | 'major_hazards_rectified' | 'hazards_rectified'

/**
 * The assessment score: the mean, over the measures with a target, of the rate as a share of its
 * target (capped at 1).
 */
export function score(town: TownSummary): number {
  const scored = town.measures.filter(m => m.target !== null && m.target > 0 && m.rate !== null)
  if (!scored.length) return 0
  return scored.reduce((a, m) => a + Math.min(1, m.rate! / m.target!), 0) / scored.length
}

/**
 * The towns in the ranking's order (best first): by score, then by all hazards rectified; or by
 * one measure. The table and the meeting's ← / → keys both read this order.
 */
export function rankTowns(towns: readonly TownSummary[], by: RankBy): TownSummary[] {
  const rate = (town: TownSummary, key: string) => town.measures.find(m => m.key === key)?.rate ?? -1
  return [...towns].sort((a, b) => by === 'score'
    ? score(b) - score(a) || rate(b, 'hazards_rectified') - rate(a, 'hazards_rectified')
    : rate(b, by) - rate(a, by))
}
