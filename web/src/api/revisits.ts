import type { Static } from 'typebox'
import type { RelapseRatesSchema, RevisitItemDto, SampleCreateSchema, SampleSchema, SampleSummarySchema } from '../../../server/schemas/revisits'
import type { RevisitOutcome } from '../../../server/domain/lists'
import { getJson, postJson } from './client'

export type RevisitItem = RevisitItemDto
export type Sample = Static<typeof SampleSchema>
export type SampleSummary = Static<typeof SampleSummarySchema>
export type RelapseRates = Static<typeof RelapseRatesSchema>

/** The samples holding records of my jurisdiction, the latest first. */
export const fetchSamples = () => getJson<SampleSummary[]>('/revisits/samples')
export const fetchSample = (id: number) => getJson<Sample>(`/revisits/samples/${id}`)
/** Draws a sample (明察暗访): the same seed over the same records draws the same ones. */
export const drawSample = (body: Static<typeof SampleCreateSchema>) => postJson<Sample>('/revisits/samples', body)
/** Records what a revisit found; a relapse reopens the hazard. */
export const recordOutcome = (itemId: number, outcome: RevisitOutcome, note?: string) =>
  postJson<RevisitItem>(`/revisits/items/${itemId}/outcome`, note ? { outcome, note } : { outcome })
export const fetchRates = () => getJson<RelapseRates>('/revisits/rates')
