import { type Static, type TSchema, Type } from 'typebox'
import { escalationAudiences, supervisingLevels, supervisionKinds } from '../domain/lists.js'
import { maxEscalationLevel } from '../domain/supervision.js'
import { DateString, Id, OneOf } from './common.js'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

export const SupervisionKindSchema = OneOf(supervisionKinds, { description: 'hazard: a major hazard; premises: a premises; key_area: a key area' })

export const SupervisingLevelSchema = OneOf(supervisingLevels, { description: 'Who supervises it (督办层级): the district or the town/street; a town\'s user lists at the town\'s level only' })

export const UnitInputSchema = Type.Union([
  Type.Object({ kind: Type.Literal('department'), code: Type.String({ minLength: 1, maxLength: 40, description: 'A department code of the reference data' }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('town'), id: Id('A town/street') }, { additionalProperties: false }),
], { description: 'The unit responsible: a department or a town/street' })

export const SupervisionCreateSchema = Type.Object({
  kind: SupervisionKindSchema,
  hazardId: Type.Optional(Id('For kind hazard: the major hazard')),
  premisesId: Type.Optional(Id('For kind premises')),
  keyAreaId: Type.Optional(Id('For kind key_area')),
  unit: UnitInputSchema,
  responsiblePerson: Type.String({ minLength: 1, maxLength: 100, description: 'The official who answers for it (name and post)' }),
  responsibleUserId: Type.Optional(Nullable(Id('The official\'s account, when they have one: they are told of escalations'))),
  reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why it is listed' }),
  deadline: Type.Unsafe<string>({ ...DateString, description: 'The day by which it must be closed (today or later)' }),
  supervisingLevel: Type.Optional(SupervisingLevelSchema),
}, { additionalProperties: false, description: 'Without supervisingLevel, the item is supervised at the level of the lister\'s jurisdiction (the district for a district-wide user, the town otherwise)' })

export const SupervisionCloseSchema = Type.Object({
  note: Type.String({ minLength: 4, maxLength: 1000, description: 'What was done: the evidence in words' }),
  photoIds: Type.Array(Id(), { maxItems: 20, description: 'Photos of the subject\'s premises showing the work done (at least one for a hazard or premises)' }),
}, { additionalProperties: false })

export const SupervisionListQuery = Type.Object({
  state: Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Literal('all')], { default: 'open' }),
  kind: Type.Optional(SupervisionKindSchema),
  overdue: Type.Optional(Type.Boolean({ description: 'Only open items past their deadline' })),
  limit: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
}, { additionalProperties: false })

const Named = Type.Object({ id: Type.Integer(), nameZh: Type.String(), nameEn: Type.String() })

export const SupervisionItemSchema = Type.Object({
  id: Type.Integer(),
  kind: SupervisionKindSchema,
  hazardId: Nullable(Type.Integer()),
  premisesId: Nullable(Type.Integer()),
  keyAreaId: Nullable(Type.Integer()),
  subject: Type.String({ description: 'The premises\' address, or the key area\'s name' }),
  hazardItemCode: Nullable(Type.String()),
  hazardStatus: Nullable(Type.String()),
  lon: Type.Number(),
  lat: Type.Number(),
  town: Named,
  unit: Type.Object({ kind: Type.Union([Type.Literal('department'), Type.Literal('town')]), code: Type.String(), nameZh: Type.String(), nameEn: Type.String() }),
  responsiblePerson: Type.String(),
  responsibleUserId: Nullable(Type.Integer()),
  reason: Type.String(),
  supervisingLevel: SupervisingLevelSchema,
  listedOn: Type.String(),
  deadline: Type.String(),
  daysOverdue: Type.Integer({ description: 'Days past the deadline today (0: not yet due, or closed)' }),
  level: Type.Integer({ description: 'The highest escalation level reached (0: none)' }),
  state: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  closedAt: Nullable(Type.String()),
  closingNote: Nullable(Type.String()),
  closingPhotoIds: Type.Array(Type.Integer()),
})
export type SupervisionItemDto = Static<typeof SupervisionItemSchema>

export const SupervisionDetailSchema = Type.Intersect([SupervisionItemSchema, Type.Object({
  escalations: Type.Array(Type.Object({ level: Type.Integer(), reachedOn: Type.String(), daysOverdue: Type.Integer() })),
})])

export const EscalationRuleSchema = Type.Object({
  fromLevel: Type.Integer({ minimum: 0, maximum: maxEscalationLevel - 1 }),
  toLevel: Type.Integer({ minimum: 1, maximum: maxEscalationLevel }),
  afterDays: Type.Integer({ minimum: -10_000, maximum: 366, description: 'Days past the deadline after which the level is reached (0: the day after the deadline)' }),
  notify: OneOf(escalationAudiences, { description: 'Who is told: the commanders whose jurisdiction holds the item, or the district (district-wide commanders and leaders)' }),
}, { additionalProperties: false })

export const EscalationRulesSchema = Type.Object({
  rules: Type.Array(EscalationRuleSchema, { maxItems: maxEscalationLevel }),
}, { additionalProperties: false })

const UnitFigures = Type.Object({
  kind: Type.Union([Type.Literal('department'), Type.Literal('town')]),
  code: Type.String(),
  nameZh: Type.String(),
  nameEn: Type.String(),
  listed: Type.Integer({ description: 'Supervision items the unit answers for' }),
  open: Type.Integer(),
  overdue: Type.Integer({ description: 'Open past the deadline today' }),
  closedOnTime: Type.Integer(),
  closedLate: Type.Integer(),
  escalated: Type.Integer({ description: 'Items that reached level 1 or higher' }),
  onTimeRate: Type.Union([Type.Number(), Type.Null()], { description: 'Closed on time over closed and overdue (null: none of either)' }),
})

export const AccountabilitySchema = Type.Object({
  day: Type.String(),
  units: Type.Array(UnitFigures),
})
