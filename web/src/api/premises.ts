import type { Static } from 'typebox'
import type { EnforcementSchema, HazardSchema } from '../../../server/schemas/inspection'
import type { PremisesDetailSchema, ResidentSchema } from '../../../server/schemas/people'
import type { PremisesCollectionSchema, PremisesCountsSchema } from '../../../server/schemas/premises'
import type { Dictionary } from '../../../server/schemas/reference'
import { hazardStatuses } from '../../../server/domain/lists'
import { withQueuedHazards, type ShownHazard } from '../offline/overlay'
import { getJson, postJson } from './client'
import type { CoordinateSystem } from '../../../server/domain/lists'

export type PremisesCollection = Static<typeof PremisesCollectionSchema>
export type HazardStatus = PremisesCollection['features'][number]['properties']['status']
export type PremisesCounts = Static<typeof PremisesCountsSchema>
export type PremisesDetail = Static<typeof PremisesDetailSchema>
export type Hazard = Static<typeof HazardSchema>
export type Resident = Static<typeof ResidentSchema>
export type Enforcement = Static<typeof EnforcementSchema>
export type { Dictionary }
export type Crs = CoordinateSystem

export { hazardStatuses }

export interface PremisesForm {
  kind: string
  address: string
  location: { lon: number; lat: number; crs: Crs }
  roomsLet: number
  bedsLet: number
  occupants: number
  ownerName?: string | null
  ownerPhone?: string | null
  secondLandlordName?: string | null
  secondLandlordPhone?: string | null
  statementSignedOn?: string | null
  leaseFiledOn?: string | null
  foundOn: string
  registeredOn?: string | null
  deregisteredOn?: string | null
  secondLandlordCollectedOn?: string | null
}

export const fetchCounts = (query: Record<string, string>) => getJson<PremisesCounts>('/premises/counts', query)
export const fetchPremises = (id: number) => getJson<PremisesDetail>(`/premises/${id}`)
/** The hazards of a premises, with those recorded and the steps taken on this phone and not yet sent (marked pending). */
export const fetchHazards = async (id: number, asOf?: string): Promise<ShownHazard[]> =>
  withQueuedHazards(id, await getJson<Hazard[]>(`/premises/${id}/hazards`, { asOf }))
export const fetchResidents = (id: number) => getJson<Resident[]>(`/premises/${id}/residents`)
export const fetchEnforcement = (id: number) => getJson<Enforcement[]>(`/premises/${id}/enforcement`)
export const fetchDictionary = () => getJson<Dictionary>('/hazard-dictionary')

export const revealIdNumber = (residentId: number, reason: string) => postJson<{ id: number; idNumber: string }>(`/residents/${residentId}/reveal`, { reason })
