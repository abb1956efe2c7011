import type { Summary } from '../../../server/schemas/stats'
import { getJson } from './client'

export type { Summary }
export type MeasureItem = Summary['district']['measures'][number]

/** The measures on a day, for what the map's filters select. */
export const fetchSummary = (query: Record<string, string>) => getJson<Summary>('/stats/summary', query)
