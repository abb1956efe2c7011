import { createRequire } from 'node:module'

/**
 * The lead score: how strongly a premises' or an address's signals suggest a group rental nobody
 * has registered. Explainable by construction: each signal becomes a piece of evidence (0 for an
 * ordinary dwelling, positive the more it looks like a group rental), the score is the logistic of
 * a weighted sum, and the reasons shown are the signals that added most. The first model is rules
 * with weights set by hand from the public reports (version 0); once visits have recorded enough
 * outcomes, a logistic regression trained on them takes over (versions 1, 2, ...).
 */

export const leadFeatures = [
  'elecVsNorm', 'restDayRatio', 'nightShare', 'peakToValley', 'seasonalSwing', 'holidayDip',
  'waterVsNorm', 'waterPerResident', 'gasVsNorm', 'registeredResidents', 'residentTurnover', 'meetsRule',
] as const
export type LeadFeature = typeof leadFeatures[number]

/** A subject's signals; null where its data cannot say (no readings of that kind, no premises). */
export type Features = Partial<Record<LeadFeature, number | null>>

const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x))
const log2 = (x: number) => Math.log2(Math.max(x, 1e-3))

/**
 * Signal → evidence, each non-decreasing in the direction that suggests a group rental and 0 for an
 * ordinary household, clipped so that no single signal decides alone:
 * - use against the norm of its area and size, on a log scale (twice the norm: +1);
 * - rest days' use against working days' (households ~1.1; people at home on weekends: more);
 * - the night (valley) share of electricity (~0.35; e-bikes charged overnight, shift work: more);
 * - the day's peak against its valley, from hourly data (~1.5);
 * - how far the busiest month rises above the usual one (households with air conditioning ~1.6;
 *   many people under one roof use much all year: less);
 * - use over the Spring Festival against the weeks before (migrant tenants go home: a deep dip);
 * - water per registered resident (~4 m³ a month; people living there unregistered: more);
 * - residents registered at the premises and their turnover in the last half year;
 * - the group-rental rule by the register (10 or more rooms, beds or people).
 */
export const evidence: Record<LeadFeature, (x: number) => number> = {
  elecVsNorm: x => clip(log2(x), -2, 3),
  restDayRatio: x => clip((x - 1.1) / 0.1, -2, 3),
  nightShare: x => clip((x - 0.35) / 0.05, -2, 3),
  peakToValley: x => clip((x - 1.5) / 0.5, -2, 3),
  seasonalSwing: x => clip((1.6 - x) / 0.2, -2, 3),
  holidayDip: x => clip((0.85 - x) / 0.15, -2, 3),
  waterVsNorm: x => clip(log2(x), -2, 3),
  waterPerResident: x => clip(log2(x / 4), -2, 3),
  gasVsNorm: x => clip(log2(x), -2, 3),
  registeredResidents: x => clip((x - 4) / 3, 0, 3),
  residentTurnover: x => clip(x / 5, 0, 3),
  meetsRule: x => (x >= 1 ? 3 : 0),
}

/** The evidence vector of a subject, in leadFeatures' order (0 where a signal is missing). */
export function evidenceOf(f: Features): number[] {
  return leadFeatures.map((k) => {
    const v = f[k]
    return v === null || v === undefined || !Number.isFinite(v) ? 0 : evidence[k](v)
  })
}

export interface LinearModel {
  /** 0 for the rules; a lead_model version for a trained model. */
  version: number
  kind: 'rules' | 'logistic_regression'
  bias: number
  weights: Record<LeadFeature, number>
}

/** The rules: every weight positive, so more of any signal never lowers the score. */
export const rulesModel: LinearModel = {
  version: 0,
  kind: 'rules',
  bias: -3.2,
  weights: {
    elecVsNorm: 1.1, restDayRatio: 0.3, nightShare: 0.45, peakToValley: 0.35, seasonalSwing: 0.3, holidayDip: 0.35,
    waterVsNorm: 0.7, waterPerResident: 0.5, gasVsNorm: 0.25, registeredResidents: 0.4, residentTurnover: 0.25, meetsRule: 1.4,
  },
}

export type Band = 'A' | 'B' | 'C' | 'D'
/** Score bands, from the most to the least likely: what precision is reported by. */
export const bands: { band: Band; from: number }[] = [{ band: 'A', from: 0.75 }, { band: 'B', from: 0.5 }, { band: 'C', from: 0.25 }, { band: 'D', from: 0 }]
export const bandOf = (score: number): Band => bands.find(b => score >= b.from)!.band

export interface Reason {
  feature: LeadFeature
  value: number
  /** What it added to the log-odds. */
  contribution: number
}

export interface Scored {
  score: number
  band: Band
  reasons: Reason[]
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z))

/** The score of a subject with its reasons: the (at most three) signals that raised it most. */
export function scoreOf(model: LinearModel, f: Features): Scored {
  const e = evidenceOf(f)
  let z = model.bias
  const parts: Reason[] = []
  leadFeatures.forEach((k, i) => {
    const c = model.weights[k] * e[i]!
    z += c
    const v = f[k]
    if (c > 0.15 && v !== null && v !== undefined) parts.push({ feature: k, value: Math.round(v * 1000) / 1000, contribution: Math.round(c * 100) / 100 })
  })
  const score = Math.round(sigmoid(z) * 10_000) / 10_000
  parts.sort((a, b) => b.contribution - a.contribution)
  return { score, band: bandOf(score), reasons: parts.slice(0, 3) }
}

/** Outcomes needed before a model may be trained: enough of each kind to learn anything. */
export const minTraining = { total: 20, each: 5 }

export interface TrainingExample {
  leadId: number
  features: Features
  /** A group rental found at the visit. */
  positive: boolean
}

interface LogisticRegressionLib {
  new (options: { numSteps: number; learningRate: number }): {
    train: (x: unknown, y: unknown) => void
    classifiers: { weights: { to1DArray: () => number[] } }[]
    toJSON: () => unknown
  }
}
interface MatrixLib {
  new (rows: number[][]): unknown
  columnVector: (values: number[]) => unknown
}
const require = createRequire(import.meta.url)
const LogisticRegression = require('ml-logistic-regression') as LogisticRegressionLib
const { Matrix } = require('ml-matrix') as { Matrix: MatrixLib }

/** The area under the ROC curve of scores against labels (the chance that a positive outranks a negative). */
export function auc(scores: number[], labels: boolean[]): number | null {
  const pos = scores.filter((_, i) => labels[i])
  const neg = scores.filter((_, i) => !labels[i])
  if (!pos.length || !neg.length) return null
  let wins = 0
  for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0
  return Math.round((wins / (pos.length * neg.length)) * 1000) / 1000
}

/**
 * A logistic regression (ml-logistic-regression) on the evidence vectors of the visited leads, with
 * a constant column for the intercept. The library sums the gradient over the examples, so its
 * learning rate is divided by their number. Deterministic: it starts from zero weights.
 */
export function trainLogistic(examples: TrainingExample[]): { model: Omit<LinearModel, 'version'>; library: unknown; metrics: { auc: number | null; rulesAuc: number | null; accuracy: number } } {
  const x = examples.map(ex => [1, ...evidenceOf(ex.features)])
  const y = examples.map(ex => (ex.positive ? 1 : 0))
  const lr = new LogisticRegression({ numSteps: 2000, learningRate: 0.5 / examples.length })
  lr.train(new Matrix(x), Matrix.columnVector(y))
  // With two classes the first classifier separates "not class 0" from class 0: the chance of a group rental.
  const w = lr.classifiers[0]!.weights.to1DArray()
  const model = {
    kind: 'logistic_regression' as const,
    bias: w[0]!,
    weights: Object.fromEntries(leadFeatures.map((k, i) => [k, Math.round(w[i + 1]! * 10_000) / 10_000])) as Record<LeadFeature, number>,
  }
  const trained = examples.map(ex => scoreOf({ ...model, version: -1 }, ex.features).score)
  const rules = examples.map(ex => scoreOf(rulesModel, ex.features).score)
  const labels = examples.map(ex => ex.positive)
  const accuracy = trained.filter((s, i) => (s >= 0.5) === labels[i]).length / examples.length
  return { model, library: lr.toJSON(), metrics: { auc: auc(trained, labels), rulesAuc: auc(rules, labels), accuracy: Math.round(accuracy * 1000) / 1000 } }
}
