import type { Static } from 'typebox'
import type { AcceptanceStageSchema } from '../../../server/schemas/acceptance'
import { getJson, postJson } from './client'

export type AcceptanceStage = Static<typeof AcceptanceStageSchema>

export const fetchAcceptance = (keyAreaId: number) => getJson<AcceptanceStage>(`/acceptance/key-areas/${keyAreaId}`)
export const submitAcceptance = (keyAreaId: number, body: { checklist: Record<string, boolean>; note?: string; documents: string[]; photoIds: number[] }) =>
  postJson<unknown>(`/acceptance/key-areas/${keyAreaId}`, body)
export const decideAcceptance = (id: number, decision: 'accepted' | 'returned', reasons?: string) => postJson<unknown>(`/acceptance/${id}/decision`, { decision, reasons })
