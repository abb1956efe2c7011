import { type Static, type TProperties, Type } from 'typebox'
import { placeKinds } from '../domain/lists.js'
import { AnyGeometry, DateString, Id, ListOf, OneOf } from './common.js'

const feature = <P extends TProperties>(properties: P) => Type.Object({
  type: Type.Literal('Feature'),
  id: Type.Integer(),
  geometry: AnyGeometry,
  properties: Type.Object(properties),
})
const collection = <P extends TProperties>(properties: P) => Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(feature(properties)),
})

export const AreaLevelSchema = Type.Union([Type.Literal('district'), Type.Literal('town'), Type.Literal('community'), Type.Literal('grid')])

export const AreasQuerySchema = Type.Object({
  level: AreaLevelSchema,
  parent: Type.Optional(Id()),
}, { additionalProperties: false })

export const AreaCollectionSchema = collection({
  id: Type.Integer(),
  code: Type.String(),
  level: AreaLevelSchema,
  subkind: Type.Union([Type.String(), Type.Null()]),
  parentId: Type.Union([Type.Integer(), Type.Null()]),
  nameZh: Type.String(),
  nameEn: Type.String(),
  labelPoint: Type.Array(Type.Number()),
})

export const StationCollectionSchema = collection({
  id: Type.Integer(),
  code: Type.String(),
  nameZh: Type.String(),
  nameEn: Type.String(),
  labelPoint: Type.Array(Type.Number()),
})

export const PoiKindSchema = OneOf(placeKinds)
export const PoiQuerySchema = Type.Object({
  kind: Type.Optional(ListOf(placeKinds, 'Kinds, comma-separated')),
}, { additionalProperties: false })
export const PoiCollectionSchema = collection({
  id: Type.Integer(),
  kind: PoiKindSchema,
  nameZh: Type.String(),
  nameEn: Type.String(),
  townId: Type.Union([Type.Integer(), Type.Null()]),
})

const Department = Type.Object({ code: Type.String(), nameZh: Type.String(), nameEn: Type.String(), remitEn: Type.String() })
export const DictionarySchema = Type.Object({
  departments: Type.Array(Department),
  categories: Type.Array(Type.Object({
    code: Type.String(),
    seq: Type.Integer(),
    nameZh: Type.String(),
    nameEn: Type.String(),
    departmentCode: Type.String(),
    items: Type.Array(Type.Object({
      code: Type.String(),
      categoryCode: Type.String(),
      seq: Type.Integer(),
      nameZh: Type.String(),
      nameEn: Type.String(),
      needsText: Type.Boolean(),
      departmentCode: Type.String(),
    })),
  })),
})
export type Dictionary = Static<typeof DictionarySchema>

export const CampaignSchema = Type.Object({
  code: Type.String(),
  nameZh: Type.String(),
  nameEn: Type.String(),
  startsOn: DateString,
  endsOn: DateString,
  reportDays: Type.Array(Type.Integer()),
  verifyNeedsPhoto: Type.Boolean({ description: 'A rectification is verified only with an "after" photo of it' }),
  concernIncludesMentalIllness: Type.Boolean({ description: 'The biweekly tables count the mentally ill among 关注对象 too (the notice\'s note 3); otherwise the columns are disjoint' }),
  referenceDate: Type.Unsafe<string>({ ...DateString, description: 'The day screens show by default' }),
  reportDates: Type.Array(DateString, { description: 'The report days (14th, 29th; see server/domain/periods.ts), ending with the last day' }),
  phases: Type.Array(Type.Object({
    seq: Type.Integer(), code: Type.String(), nameZh: Type.String(), nameEn: Type.String(), startsOn: DateString, endsOn: DateString,
  })),
  targets: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()])),
})
export type CampaignDto = Static<typeof CampaignSchema>
