import { describe, expect, it } from 'vitest'
import { type Features, leadFeatures, rulesModel, scoreOf, trainLogistic, type TrainingExample } from '../../server/domain/leads-model.js'
import { Random } from '../../server/domain/random.js'
import { trainInWorker } from '../../server/plugins/app/leads-train.js'

/** An ordinary let flat: every signal at a household's usual value. */
const household: Features = {
  elecVsNorm: 1, restDayRatio: 1.1, nightShare: 0.33, peakToValley: 1.5, seasonalSwing: 1.6, holidayDip: 0.9,
  waterVsNorm: 1, waterPerResident: 4, gasVsNorm: 1, registeredResidents: 3, residentTurnover: 0, meetsRule: 0,
}

/** For each signal, values from an ordinary household's towards a group rental's (seasonal swing and the festival dip fall). */
const towardsGroupRental: Record<string, number[]> = {
  elecVsNorm: [0.5, 1, 1.5, 2, 3, 5, 10], restDayRatio: [0.9, 1.1, 1.2, 1.3, 1.5, 2], nightShare: [0.2, 0.33, 0.4, 0.45, 0.55, 0.7],
  peakToValley: [1, 1.5, 2, 2.5, 3, 4], seasonalSwing: [2.2, 1.6, 1.4, 1.2, 1.0], holidayDip: [1.1, 0.9, 0.7, 0.5, 0.3, 0.1],
  waterVsNorm: [0.5, 1, 2, 3, 6], waterPerResident: [2, 4, 8, 16, 40], gasVsNorm: [0.5, 1, 2, 4], registeredResidents: [0, 3, 5, 8, 12, 20],
  residentTurnover: [0, 1, 3, 6, 12], meetsRule: [0, 1],
}

describe('the rule-based score', () => {
  it('never falls as any one signal moves towards a group rental\'s, the others held at a household\'s', () => {
    for (const feature of leadFeatures) {
      const values = towardsGroupRental[feature]!
      const scores = values.map(v => scoreOf(rulesModel, { ...household, [feature]: v }).score)
      for (let i = 1; i < scores.length; i++) expect(scores[i], `${feature} at ${values[i]}`).toBeGreaterThanOrEqual(scores[i - 1]!)
      // And somewhere along the way it rises: every signal counts.
      expect(scores.at(-1)!, feature).toBeGreaterThan(scores[0]!)
    }
  })

  it('scores a crafted group rental above a household and names the signals that raised it, the largest first', () => {
    const groupRental: Features = { ...household, elecVsNorm: 3.2, nightShare: 0.5, holidayDip: 0.35, restDayRatio: 1.35 }
    const a = scoreOf(rulesModel, household)
    const b = scoreOf(rulesModel, groupRental)
    expect(b.score).toBeGreaterThan(0.5)
    expect(a.score).toBeLessThan(0.1)
    expect(b.reasons.map(r => r.feature)).toEqual(['elecVsNorm', 'nightShare', 'holidayDip'])
    const contributions = b.reasons.map(r => r.contribution)
    expect([...contributions].sort((x, y) => y - x)).toEqual(contributions)
    expect(a.reasons).toEqual([])
  })

  it('gives a score with a missing signal as if that signal were ordinary', () => {
    const { waterVsNorm: _w, waterPerResident: _r, ...noWater } = household
    expect(scoreOf(rulesModel, noWater).score).toBe(scoreOf(rulesModel, household).score)
  })
})

/** Outcomes of visits: group rentals use much more and at night; the others do not. */
function outcomes(n: number, seed: number): TrainingExample[] {
  const rng = new Random(seed)
  return Array.from({ length: n }, (_, i) => {
    const positive = i % 3 === 0
    return {
      leadId: i + 1,
      positive,
      features: { ...household, elecVsNorm: (positive ? 2.5 : 1.1) * rng.uniform(0.7, 1.3), nightShare: (positive ? 0.45 : 0.33) + rng.uniform(-0.05, 0.05) },
    }
  })
}

describe('the trained model', () => {
  it('learns from visit outcomes to rank group rentals first, and records how well it fits', () => {
    const { model, metrics } = trainLogistic(outcomes(60, 7))
    expect(model.kind).toBe('logistic_regression')
    expect(model.weights.elecVsNorm).toBeGreaterThan(0)
    expect(metrics.auc).toBeGreaterThan(0.9)
    expect(metrics.accuracy).toBeGreaterThan(0.8)
  })

  it('trains in a worker thread to the same model as in the caller\'s thread', async () => {
    const examples = outcomes(40, 3)
    const inWorker = await trainInWorker(examples)
    expect(inWorker.model).toEqual(trainLogistic(examples).model)
  })
})
