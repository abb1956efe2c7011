import type { NoticeDto } from '../../../server/schemas/notices'
import { getJson, postJson } from './client'

export type Notice = NoticeDto

export const fetchNotices = (unread = false) => getJson<Notice[]>('/notices', { unread: unread || undefined, limit: 200 })
export const markNotice = (id: number, read: boolean) => postJson<Notice>(`/notices/${id}/${read ? 'read' : 'unread'}`)
export const markAllNotices = () => postJson<{ unread: number }>('/notices/read-all')

/** The live stream of my notices (Server-Sent Events); the session's cookie goes with it. */
export const noticeStreamUrl = '/api/notices/stream'
