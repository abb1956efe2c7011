import { type Static, Type } from 'typebox'
import { acceptanceStages } from '../domain/lists.js'
import { polygonProblemCodes } from '../domain/polygon.js'
import { DateString, Id, OneOf } from './common.js'

const Nullable = <T extends import('typebox').TSchema>(t: T) => Type.Union([t, Type.Null()])
const Count = Type.Integer({ minimum: 0, maximum: 10_000_000 })

/** A polygon as GeoJSON; its shape is checked by the server (see server/domain/polygon.ts), not only here. */
export const PolygonGeometrySchema = Type.Object({
  type: Type.String({ description: 'Polygon or MultiPolygon' }),
  coordinates: Type.Array(Type.Unknown()),
}, { additionalProperties: true })

export const KeyAreaPropertiesInput = Type.Object({
  nameZh: Type.String({ minLength: 1, maxLength: 100 }),
  nameEn: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  townId: Type.Optional(Id('Default: the town/street the area lies in most')),
  policeStationId: Type.Optional(Nullable(Id())),
  status: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('listed'), Type.Literal('cleared'), Type.Literal('delisted')])),
  listedOn: Type.Optional(Nullable(DateString)),
  deadline: Type.Optional(Nullable(DateString)),
  commanderUserId: Type.Optional(Nullable(Id())),
  actualPopulation: Type.Optional(Nullable(Count)),
  floatingPopulation: Type.Optional(Nullable(Count)),
  mentalIllnessCount: Type.Optional(Nullable(Count)),
  personsOfConcernCount: Type.Optional(Nullable(Count)),
}, { additionalProperties: false })
/** A key area's attributes as written: the create and update bodies' properties, the edit form's fields. */
export type KeyAreaAttributes = Static<typeof KeyAreaPropertiesInput>

export const KeyAreaInputSchema = Type.Object({
  type: Type.Literal('Feature'),
  geometry: PolygonGeometrySchema,
  properties: KeyAreaPropertiesInput,
}, { additionalProperties: true })

export const KeyAreaWriteQuery = Type.Object({
  clip: Type.Optional(Type.Boolean({ description: 'Keep only the part inside your jurisdiction instead of refusing the boundary' })),
}, { additionalProperties: false })

export const PreviewInputSchema = Type.Object({
  geometry: PolygonGeometrySchema,
  excludeId: Type.Optional(Id('The key area being edited (not counted as an overlap)')),
}, { additionalProperties: false })

export const AreaCountsSchema = Type.Object({
  houses: Type.Integer({ description: 'Premises of every kind inside (房屋总数)' }),
  rentalHouses: Type.Integer({ description: 'Let dwellings: rentals and group rentals (出租房屋数)' }),
  groupRentals: Type.Integer({ description: 'Group rentals found and not deregistered (群租房数)' }),
  groupRentalsWithHazards: Type.Integer({ description: 'Of them, with an open hazard (存在安全隐患群租房数)' }),
  residentsRegistered: Type.Integer({ description: 'Residents living there with their residence declared' }),
  openHazards: Type.Object({
    total: Type.Integer(), public_security: Type.Integer(), fire: Type.Integer(), housing: Type.Integer(), other: Type.Integer(),
  }),
})

export const ProblemSchema = Type.Object({
  code: OneOf(polygonProblemCodes, { description: 'What is wrong, for programs (the message is for people)' }),
  message: Type.String(),
  messageZh: Type.String({ description: 'The same in Chinese' }),
  location: Type.Optional(Type.Array(Type.Number(), { description: '[lon, lat] where the problem is' })),
})

export const PreviewSchema = Type.Object({
  valid: Type.Boolean(),
  problems: Type.Array(ProblemSchema),
  warnings: Type.Array(ProblemSchema),
  areaKm2: Type.Union([Type.Number(), Type.Null()]),
  outsideShare: Type.Union([Type.Number(), Type.Null()], { description: 'Share of the area outside your jurisdiction (0..1)' }),
  suggested: Type.Object({ townId: Type.Union([Type.Integer(), Type.Null()]), policeStationId: Type.Union([Type.Integer(), Type.Null()]) }),
  counts: Type.Union([AreaCountsSchema, Type.Null()]),
})

export const KeyAreaPropertiesSchema = Type.Object({
  id: Type.Integer(),
  version: Type.Integer(),
  nameZh: Type.String(),
  nameEn: Type.Union([Type.String(), Type.Null()]),
  townId: Type.Integer(),
  townNameZh: Type.String(),
  townNameEn: Type.String(),
  policeStationId: Type.Union([Type.Integer(), Type.Null()]),
  policeStationNameZh: Type.Union([Type.String(), Type.Null()]),
  policeStationNameEn: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  listedOn: Type.Union([Type.String(), Type.Null()]),
  deadline: Type.Union([Type.String(), Type.Null()]),
  commanderUserId: Type.Union([Type.Integer(), Type.Null()]),
  commanderName: Type.Union([Type.String(), Type.Null()]),
  actualPopulation: Type.Union([Type.Integer(), Type.Null()]),
  floatingPopulation: Type.Union([Type.Integer(), Type.Null()]),
  mentalIllnessCount: Type.Union([Type.Integer(), Type.Null()]),
  personsOfConcernCount: Type.Union([Type.Integer(), Type.Null()]),
  areaKm2: Type.Number(),
  openHazards: Type.Integer({ description: 'Open hazards inside on the reference day' }),
  openHazardsAtListing: Type.Union([Type.Integer(), Type.Null()]),
  progress: Type.Union([Type.Number(), Type.Null()], { description: 'Share of the open hazards at listing cleared since (toward zero)' }),
  daysLeft: Type.Union([Type.Integer(), Type.Null()], { description: 'Days to the deadline (negative: overdue) on the reference day' }),
  acceptanceStage: OneOf(acceptanceStages, { description: 'Where its acceptance (检查验收) stands: not submitted, awaiting a decision, returned, or accepted and delisted' }),
  updatedAt: Type.String(),
  proposedFrom: Type.Optional(Type.Unknown()),
  labelPoint: Type.Array(Type.Number(), { description: '[lon, lat] of a point inside the area, where its name is drawn' }),
})

export type KeyAreaProperties = Static<typeof KeyAreaPropertiesSchema>

export const KeyAreaFeatureSchema = Type.Object({
  type: Type.Literal('Feature'),
  id: Type.Integer(),
  geometry: Type.Object({ type: Type.String(), coordinates: Type.Array(Type.Unknown()) }),
  properties: KeyAreaPropertiesSchema,
})

export const KeyAreaDetailSchema = Type.Object({
  type: Type.Literal('Feature'),
  id: Type.Integer(),
  geometry: Type.Object({ type: Type.String(), coordinates: Type.Array(Type.Unknown()) }),
  properties: KeyAreaPropertiesSchema,
  counts: AreaCountsSchema,
  trend: Type.Array(Type.Object({ date: DateString, open: Type.Integer(), found: Type.Integer(), rectified: Type.Integer() })),
  warnings: Type.Array(ProblemSchema),
})

export const KeyAreaCollectionSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  referenceDate: DateString,
  features: Type.Array(KeyAreaFeatureSchema),
})

export const KeyAreaVersionSchema = Type.Object({
  version: Type.Integer(),
  savedAt: Type.String(),
  savedBy: Type.Union([Type.String(), Type.Null()]),
  geometry: Type.Object({ type: Type.String(), coordinates: Type.Array(Type.Unknown()) }),
  attributes: Type.Unknown(),
})
