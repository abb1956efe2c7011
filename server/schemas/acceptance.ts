import { Type } from 'typebox'
import { acceptanceChecklist, acceptanceStages } from '../domain/lists.js'
import { Id, OneOf } from './common.js'

export const AcceptanceSubmitSchema = Type.Object({
  checklist: Type.Object(Object.fromEntries(acceptanceChecklist.map(k => [k, Type.Boolean()])), { additionalProperties: false, description: 'Each point of the checklist, confirmed (true) or not' }),
  note: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  photoIds: Type.Array(Id(), { maxItems: 20, default: [] }),
  documents: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 20, default: [], description: 'File numbers of the town\'s papers' }),
}, { additionalProperties: false })

export const AcceptanceDecisionSchema = Type.Object({
  decision: Type.Union([Type.Literal('accepted'), Type.Literal('returned')], { description: 'accepted: the key area is delisted (摘牌); returned: back to the town, with the reasons' }),
  reasons: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
}, { additionalProperties: false })

export const AcceptanceSchema = Type.Object({
  id: Type.Integer(),
  keyAreaId: Type.Integer(),
  submittedBy: Type.String(),
  submittedAt: Type.String(),
  checklist: Type.Record(Type.String(), Type.Boolean()),
  note: Type.Union([Type.String(), Type.Null()]),
  photoIds: Type.Array(Type.Integer()),
  documents: Type.Array(Type.String()),
  decision: Type.Union([Type.Literal('accepted'), Type.Literal('returned'), Type.Null()]),
  reasons: Type.Union([Type.String(), Type.Null()]),
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  decidedAt: Type.Union([Type.String(), Type.Null()]),
})

export const AcceptanceStageSchema = Type.Object({
  keyAreaId: Type.Integer(),
  status: Type.String({ description: 'The key area\'s status: listed, cleared, delisted' }),
  stage: OneOf(acceptanceStages),
  openHazards: Type.Integer(),
  deadline: Type.Union([Type.String(), Type.Null()]),
  daysToDeadline: Type.Union([Type.Integer(), Type.Null()], { description: 'Negative once the deadline has passed' }),
  history: Type.Array(AcceptanceSchema),
})
