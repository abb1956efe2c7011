import type { Static } from 'typebox'
import type { ClosingSchema } from '../../../server/schemas/closing'
import type { AreaCollectionSchema, CampaignDto, PoiCollectionSchema, StationCollectionSchema } from '../../../server/schemas/reference'
import { getJson } from './client'

export type AreaCollection = Static<typeof AreaCollectionSchema>
export type StationCollection = Static<typeof StationCollectionSchema>
export type PoiCollection = Static<typeof PoiCollectionSchema>
export type Campaign = CampaignDto
export type Closing = Static<typeof ClosingSchema>

export const fetchAreas = (level: 'district' | 'town' | 'community' | 'grid') => getJson<AreaCollection>('/areas', { level })
export const fetchPoliceStations = () => getJson<StationCollection>('/police-stations')
export const fetchPois = () => getJson<PoiCollection>('/pois')
export const fetchCampaign = () => getJson<Campaign>('/campaign')
/** The closing phase's checklist (commanders). */
export const fetchClosing = () => getJson<Closing>('/closing')
