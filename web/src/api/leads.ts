import type { Static } from 'typebox'
import type {
  LeadDetailSchema, LeadIssuedSchema, LeadModelSchema, LeadPageSchema, LeadTrainedSchema, LeadSchema, LeadStatsSchema, LeadVisitedSchema, LeadVisitSchema,
} from '../../../server/schemas/leads'
import type { ReadingJobSchema } from '../../../server/schemas/readings'
import { getJson, postFile, postJson, send } from './client'

export { otherRentalKinds, visitOutcomes } from '../../../server/domain/lists'

export type Lead = Static<typeof LeadSchema>
export type LeadDetail = Static<typeof LeadDetailSchema>
export type LeadPage = Static<typeof LeadPageSchema>
export type LeadStats = Static<typeof LeadStatsSchema>
export type LeadVisit = Static<typeof LeadVisitSchema>
export type LeadVisited = Static<typeof LeadVisitedSchema>
export type LeadIssued = Static<typeof LeadIssuedSchema>
export type ReadingJob = Static<typeof ReadingJobSchema>
export type LeadModel = Static<typeof LeadModelSchema>
export type LeadTrained = Static<typeof LeadTrainedSchema>
export type Utility = ReadingJob['utility']

export const utilities: Utility[] = ['electricity', 'water', 'gas']

export interface LeadQuery {
  town?: string
  community?: string
  policeStation?: string
  status?: string
  band?: string
  subject?: 'premises' | 'address'
  assignedToMe?: boolean
  limit?: number
  offset?: number
}

export const fetchLeads = (q: LeadQuery) => getJson<LeadPage>('/leads', { ...q })
export const fetchLead = (id: number) => getJson<LeadDetail>(`/leads/${id}`)
export const fetchLeadPoints = (q: Omit<LeadQuery, 'subject' | 'assignedToMe' | 'offset'>) => getJson<GeoJSON.FeatureCollection<GeoJSON.Point, { id: number; score: number; band: string; status: string }>>('/leads/points', { ...q })
export const fetchLeadStats = (town?: string) => getJson<LeadStats>('/leads/stats', { town })
export const issueLeads = (body: { leadIds: number[]; assigneeId: number; dueOn: string; note?: string | null }) => postJson<LeadIssued>('/leads/tasks', body)
export const recordLeadVisit = (id: number, body: LeadVisit) => postJson<LeadVisited>(`/leads/${id}/visits`, body)

export const uploadReadings = (utility: Utility, file: File) => postFile<ReadingJob>('/readings', file, { utility, fileName: file.name })
export const fetchReadingJob = (id: string) => getJson<ReadingJob>(`/readings/${id}`)
export const runReadings = (id: string, action: 'dry-run' | 'commit', body: { mapping: Record<string, string>; crs: 'wgs84' | 'gcj02' | 'bd09'; matchDistance: number }) =>
  postJson<ReadingJob>(`/readings/${id}/${action}`, body)
export const discardReadings = (id: string) => send<null>('DELETE', `/readings/${id}`)

export const fetchLeadModels = () => getJson<LeadModel[]>('/leads/models')
export const trainLeadModel = () => postJson<LeadTrained>('/leads/models')
