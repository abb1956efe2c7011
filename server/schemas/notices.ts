import { type Static, Type } from 'typebox'
import { noticeKinds } from '../domain/lists.js'
import { OneOf } from './common.js'

export const NoticeSchema = Type.Object({
  id: Type.Integer(),
  kind: OneOf(noticeKinds, { description: 'task-assigned, escalation (a supervision item reached a level), key-area-proposal, submission-due, report-overdue' }),
  payload: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Null()]), { description: 'Ids, dates and counts of the subject; never a person\'s details' }),
  createdAt: Type.String(),
  readAt: Type.Union([Type.String(), Type.Null()]),
})
export type NoticeDto = Static<typeof NoticeSchema>

export const NoticeListQuery = Type.Object({
  unread: Type.Optional(Type.Boolean({ description: 'Only the unread ones' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
}, { additionalProperties: false })

export const UnreadSchema = Type.Object({ unread: Type.Integer() })

export const StreamQuery = Type.Object({
  once: Type.Optional(Type.Boolean({ description: 'Send the opening event (the unread count) and close: for a client that polls, or to check that a proxy passes the stream' })),
}, { additionalProperties: false })
