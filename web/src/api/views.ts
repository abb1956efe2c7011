import type { SavedView, ViewCreate, ViewPage } from '../../../server/schemas/views'
import { getJson, postJson, send } from './client'

export type { SavedView, ViewPage }

/** The reader's saved views of a page, then the ones others shared. */
export const fetchViews = (page: ViewPage) => getJson<SavedView[]>('/views', { page })
export const createView = (view: ViewCreate) => postJson<SavedView>('/views', view)
export const deleteView = (id: number) => send<void>('DELETE', `/views/${id}`)
