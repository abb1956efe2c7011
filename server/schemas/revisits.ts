import { type Static, Type } from 'typebox'
import { revisitOutcomes } from '../domain/lists.js'
import { Id, OneOf } from './common.js'

export const SampleCreateSchema = Type.Object({
  subject: Type.Union([Type.Literal('hazard'), Type.Literal('premises')], { description: 'hazard: rectified (or verified) hazards; premises: registered group rentals' }),
  townId: Type.Optional(Id('Only this town/street (within my jurisdiction)')),
  proportion: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'The share of the population to draw (rounded up)' })),
  size: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, description: 'Or how many to draw' })),
  seed: Type.String({ minLength: 1, maxLength: 100, description: 'The same seed over the same population draws the same records' }),
}, { additionalProperties: false, description: 'Give proportion or size' })

export const RevisitItemSchema = Type.Object({
  id: Type.Integer(),
  hazardId: Type.Union([Type.Integer(), Type.Null()]),
  premisesId: Type.Integer(),
  address: Type.String(),
  townId: Type.Integer(),
  departmentCode: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.Union([OneOf(revisitOutcomes), Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()]),
})
export type RevisitItemDto = Static<typeof RevisitItemSchema>

export const SampleSchema = Type.Object({
  id: Type.Integer(),
  subject: Type.String(),
  townId: Type.Union([Type.Integer(), Type.Null()]),
  seed: Type.String(),
  size: Type.Integer(),
  population: Type.Integer(),
  drawnOn: Type.String(),
  items: Type.Array(RevisitItemSchema),
})

export const SampleListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
}, { additionalProperties: false })

export const SampleSummarySchema = Type.Object({
  id: Type.Integer(),
  subject: Type.Union([Type.Literal('hazard'), Type.Literal('premises')]),
  townId: Type.Union([Type.Integer(), Type.Null()], { description: 'The town it was drawn in (null: the whole jurisdiction of who drew it)' }),
  townNameZh: Type.Union([Type.String(), Type.Null()]),
  townNameEn: Type.Union([Type.String(), Type.Null()]),
  proportion: Type.Union([Type.Number(), Type.Null()]),
  seed: Type.String(),
  size: Type.Integer({ description: 'Records drawn in all' }),
  population: Type.Integer({ description: 'Records it was drawn from' }),
  drawnOn: Type.String(),
  drawn: Type.Integer({ description: 'Of the records drawn, those in my jurisdiction' }),
  recorded: Type.Integer({ description: 'Of those, the ones whose outcome is recorded' }),
})

export const OutcomeSchema = Type.Object({
  outcome: OneOf(revisitOutcomes, { description: 'still_rectified (or registered as recorded), relapsed (the hazard is back: it is reopened), record_wrong' }),
  note: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
}, { additionalProperties: false })

const Rate = Type.Object({ drawn: Type.Integer(), revisited: Type.Integer(), relapsed: Type.Integer(), recordWrong: Type.Integer(), relapseRate: Type.Union([Type.Number(), Type.Null()]) })
export const RelapseRatesSchema = Type.Object({
  towns: Type.Array(Type.Intersect([Type.Object({ id: Type.Integer(), nameZh: Type.String(), nameEn: Type.String() }), Rate])),
  departments: Type.Array(Type.Intersect([Type.Object({ code: Type.String(), nameZh: Type.String(), nameEn: Type.String() }), Rate])),
})
