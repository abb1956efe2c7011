import { Type } from 'typebox'
import { type EnforcementKind, enforcementKinds, type FlagCategory, flagCategories } from '../domain/lists.js'
import { DateString, Id } from './common.js'

const Nullable = <T extends import('typebox').TSchema>(t: T) => Type.Union([t, Type.Null()])

export const EnforcementKindSchema = Type.Unsafe<EnforcementKind>({
  type: 'string', enum: [...enforcementKinds],
  description: 'landlord_penalised 处罚违规出租户主, floating_person_penalised 处罚违规流动人口, criminal_case_solved 破获刑事案件, '
    + 'public_security_case_solved 破获治安案件, fugitive_caught 比对抓获在逃人员, arrest 逮捕, criminal_coercive_measure 其他刑事强制措施, '
    + 'administrative_penalty 治安处罚',
})

const fields = {
  kind: EnforcementKindSchema,
  occurredOn: { ...DateString, description: 'The day it happened (the tables count it in the period of this day)' },
  count: Type.Integer({ minimum: 1, maximum: 10_000, description: 'Persons for penalties and measures, cases for cases solved' }),
  caseNumber: Nullable(Type.String({ maxLength: 60, description: 'Case or decision number (案件编号 / 决定书文号)' })),
  premisesId: Nullable(Id('The premises it happened at, if any: its town, station and place are taken from it')),
  policeStationId: Nullable(Id('Without premises: the police station it belongs to (a station user\'s own by default)')),
  townId: Nullable(Id('Without premises: the town or street, if any (a town user\'s own)')),
  note: Nullable(Type.String({ maxLength: 500 })),
}

export const EnforcementCreateSchema = Type.Object({
  kind: fields.kind,
  occurredOn: fields.occurredOn,
  count: Type.Optional({ ...fields.count, default: 1 }),
  caseNumber: Type.Optional(fields.caseNumber),
  premisesId: Type.Optional(fields.premisesId),
  policeStationId: Type.Optional(fields.policeStationId),
  townId: Type.Optional(fields.townId),
  note: Type.Optional(fields.note),
}, { additionalProperties: false })

export const EnforcementPatchSchema = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 })

export const EnforcementVoidSchema = Type.Object({
  reason: Type.String({ minLength: 2, maxLength: 200, description: 'Why the record no longer counts (kept with it and in the audit trail)' }),
}, { additionalProperties: false })

export const EnforcementQuerySchema = Type.Object({
  premisesId: Type.Optional(Id()),
  policeStationId: Type.Optional(Id()),
  from: Type.Optional(DateString),
  to: Type.Optional(DateString),
  includeVoided: Type.Optional(Type.Boolean({ default: false })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }),
}, { additionalProperties: false })

export const EnforcementRecordSchema = Type.Object({
  id: Type.Integer(),
  kind: EnforcementKindSchema,
  occurredOn: Type.String(),
  count: Type.Integer(),
  caseNumber: Nullable(Type.String()),
  premisesId: Nullable(Type.Integer()),
  address: Nullable(Type.String()),
  policeStationId: Nullable(Type.Integer()),
  policeStationNameZh: Nullable(Type.String()),
  townId: Nullable(Type.Integer()),
  note: Nullable(Type.String()),
  createdAt: Type.String(),
  createdBy: Nullable(Type.String()),
  voidedAt: Nullable(Type.String()),
  voidReason: Nullable(Type.String()),
})

export const FlagCategorySchema = Type.Unsafe<FlagCategory>({
  type: 'string', enum: [...flagCategories],
  description: 'mental_illness 可能肇事肇祸精神病人, person_of_concern 关注对象',
})

export const FlagSetSchema = Type.Object({
  category: FlagCategorySchema,
  flaggedOn: { ...DateString, description: 'From when the flag is in force' },
  reason: Type.String({ minLength: 2, maxLength: 200 }),
}, { additionalProperties: false })

export const FlagClearSchema = Type.Object({
  category: FlagCategorySchema,
  clearedOn: { ...DateString, description: 'The first day the flag is no longer in force' },
  reason: Type.String({ minLength: 2, maxLength: 200 }),
}, { additionalProperties: false })

export const FlagSchema = Type.Object({
  id: Type.Integer(),
  category: FlagCategorySchema,
  flaggedOn: Type.String(),
  clearedOn: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  clearedReason: Nullable(Type.String()),
  setBy: Nullable(Type.String()),
  clearedBy: Nullable(Type.String()),
})
