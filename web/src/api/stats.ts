import type { Static } from 'typebox'
import type { AccountabilitySchema } from '../../../server/schemas/accountability'
import type { HazardStats, Series, Summary } from '../../../server/schemas/stats'
import { getJson } from './client'

export type { HazardStats, Series, Summary }
export type MeasureItem = Summary['district']['measures'][number]
export type TownSummary = Summary['towns'][number]

/** The measures on a day, for what the map's filters select. */
export const fetchSummary = (query: Record<string, string>) => getJson<Summary>('/stats/summary', query)
export const fetchSeries = (query: Record<string, string>) => getJson<Series>('/stats/series', query)
export const fetchHazardStats = (query: Record<string, string>) => getJson<HazardStats>('/stats/hazards', query)

export type Accountability = Static<typeof AccountabilitySchema>
/** Accountability by unit on a day (the campaign's reference day by default). */
export const fetchAccountability = (asOf?: string) => getJson<Accountability>('/accountability', { asOf })
