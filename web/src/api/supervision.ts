import type { Static } from 'typebox'
import type { SupervisionCreateSchema, SupervisionItemDto } from '../../../server/schemas/supervision'
import { getJson, postJson } from './client'

export type SupervisionItem = SupervisionItemDto
export type BoardFilter = 'open' | 'overdue' | 'closed' | 'all'

/** The items of my jurisdiction: open, overdue (open past the deadline), closed or all. */
export const fetchSupervision = (filter: BoardFilter) =>
  getJson<SupervisionItem[]>('/supervision/items', filter === 'overdue' ? { state: 'open', overdue: true } : { state: filter })
export const closeSupervision = (id: number, note: string, photoIds: number[]) => postJson<SupervisionItem>(`/supervision/items/${id}/close`, { note, photoIds })

/** The 督办通报 workbook of what is overdue. */
export const noticeWorkbookUrl = '/api/supervision/notice.xlsx'

/** What the listing form lists, with what it proposes: the hazard's department and deadline, the subject's town. */
export interface SupervisionSubject {
  kind: SupervisionItem['kind']
  id: number
  /** How the form names it: an address, or a key area's name. */
  label: string
  townId: number | null
  departmentCode?: string | null
  deadline?: string | null
}

/** Lists a hazard, a premises or a key area for supervision (挂牌督办). */
export const listForSupervision = (body: Static<typeof SupervisionCreateSchema>) => postJson<SupervisionItem>('/supervision/items', body)
