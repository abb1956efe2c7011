import type { Static } from 'typebox'
import type { PremisesCollectionSchema } from '../../../server/schemas/premises'
import { getJson } from './client'

export type PremisesCollection = Static<typeof PremisesCollectionSchema>
export type HazardStatus = PremisesCollection['features'][number]['properties']['status']

export const hazardStatuses: HazardStatus[] = ['none', 'rectified', 'open_general', 'open_major', 'overdue']

export const fetchPremises = (params: { asOf?: string; limit?: number }) =>
  getJson<PremisesCollection>('/premises', { limit: 100000, ...params })
