import type { Static } from 'typebox'
import type { ClosingSchema } from '../../../server/schemas/closing'
import type { AreaCollectionSchema, CampaignDto, PoiCollectionSchema, StationCollectionSchema } from '../../../server/schemas/reference'
import { getJson } from './client'

export type AreaCollection = Static<typeof AreaCollectionSchema>
export type StationCollection = Static<typeof StationCollectionSchema>
export type PoiCollection = Static<typeof PoiCollectionSchema>
export type Campaign = CampaignDto
export type Closing = Static<typeof ClosingSchema>

const inFlight = new Map<string, Promise<unknown>>()

/** One request for what several components ask for at the same moment (the map and its filter panel). */
function shared<T>(key: string, get: () => Promise<T>): Promise<T> {
  let p = inFlight.get(key) as Promise<T> | undefined
  if (!p) {
    p = get().finally(() => inFlight.delete(key))
    inFlight.set(key, p)
  }
  return p
}

export const fetchAreas = (level: 'district' | 'town' | 'community' | 'grid') => shared(`areas:${level}`, () => getJson<AreaCollection>('/areas', { level }))
export const fetchPoliceStations = () => shared('police-stations', () => getJson<StationCollection>('/police-stations'))
export const fetchPois = () => getJson<PoiCollection>('/pois')
export const fetchCampaign = () => getJson<Campaign>('/campaign')
/** The closing phase's checklist (commanders). */
export const fetchClosing = () => getJson<Closing>('/closing')
