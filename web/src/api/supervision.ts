import type { SupervisionItemDto } from '../../../server/schemas/supervision'
import { getJson, postJson } from './client'

export type SupervisionItem = SupervisionItemDto
export type BoardFilter = 'open' | 'overdue' | 'closed' | 'all'

/** The items of my jurisdiction: open, overdue (open past the deadline), closed or all. */
export const fetchSupervision = (filter: BoardFilter) =>
  getJson<SupervisionItem[]>('/supervision/items', filter === 'overdue' ? { state: 'open', overdue: true } : { state: filter })
export const closeSupervision = (id: number, note: string, photoIds: number[]) => postJson<SupervisionItem>(`/supervision/items/${id}/close`, { note, photoIds })

/** The 督办通报 workbook of what is overdue. */
export const noticeWorkbookUrl = '/api/supervision/notice.xlsx'
