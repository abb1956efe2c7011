import type { Summary } from '../../../server/schemas/stats'
import { getJson } from './client'

export type { Summary }
export type MeasureItem = Summary['district']['measures'][number]

export const fetchSummary = (asOf?: string) => getJson<Summary>('/stats/summary', { asOf })
