import type { Static } from 'typebox'
import type { EnforcementKind, FlagCategory } from '../../../server/domain/lists'
import type { EnforcementRecordSchema, FlagSchema } from '../../../server/schemas/enforcement'
import { getJson, patchJson, postJson } from './client'

export type EnforcementRecord = Static<typeof EnforcementRecordSchema>
export type Flag = Static<typeof FlagSchema>
export type { EnforcementKind, FlagCategory }

export { enforcementKinds, flagCategories } from '../../../server/domain/lists'

export interface EnforcementBody {
  kind: EnforcementKind
  occurredOn: string
  count: number
  caseNumber?: string | null
  premisesId?: number | null
  policeStationId?: number | null
  note?: string | null
}

export const fetchEnforcementRecords = (query: { premisesId?: number; policeStationId?: number; includeVoided?: boolean } = {}) =>
  getJson<EnforcementRecord[]>('/enforcement', {
    premisesId: query.premisesId, policeStationId: query.policeStationId, includeVoided: query.includeVoided ? 'true' : undefined,
  })
export const createEnforcement = (body: EnforcementBody) => postJson<EnforcementRecord>('/enforcement', body)
export const updateEnforcement = (id: number, body: Partial<EnforcementBody>) => patchJson<EnforcementRecord>(`/enforcement/${id}`, body)
export const voidEnforcement = (id: number, reason: string) => postJson<EnforcementRecord>(`/enforcement/${id}/void`, { reason })

export const setFlag = (residentId: number, body: { category: FlagCategory; flaggedOn: string; reason: string }) =>
  postJson<Flag[]>(`/residents/${residentId}/flags`, body)
export const clearFlag = (residentId: number, body: { category: FlagCategory; clearedOn: string; reason: string }) =>
  postJson<Flag[]>(`/residents/${residentId}/flags/clear`, body)
