import { type Static, Type } from 'typebox'
import { BboxString, DateString, IdList } from './common.js'

export const PremisesKindSchema = Type.Union([
  Type.Literal('group_rental'), Type.Literal('rental'), Type.Literal('homestay'),
  Type.Literal('family_hotel'), Type.Literal('factory_dormitory'), Type.Literal('care_home'),
])
export const HazardStatusSchema = Type.Union([
  Type.Literal('none'), Type.Literal('rectified'), Type.Literal('open_general'), Type.Literal('open_major'), Type.Literal('overdue'),
], { description: 'none: no hazard ever found; rectified: all rectified; open_general / open_major: open hazards; overdue: an open hazard past its deadline' })

const listOf = (values: readonly string[], description: string) =>
  Type.String({ pattern: `^(${values.join('|')})(,(${values.join('|')}))*$`, description })

/** The map's filters as query parameters: shared by points, tiles, counts and the summary. */
export const MapFilterProperties = {
  kind: Type.Optional(listOf(['group_rental', 'rental', 'homestay', 'family_hotel', 'factory_dormitory', 'care_home'], 'Kinds, comma-separated')),
  status: Type.Optional(listOf(['none', 'rectified', 'open_general', 'open_major', 'overdue'], 'Hazard statuses, comma-separated')),
  category: Type.Optional(listOf(['public_security', 'fire', 'housing', 'other'], 'Premises with a hazard of these categories, comma-separated')),
  town: Type.Optional(IdList),
  community: Type.Optional(IdList),
  policeStation: Type.Optional(IdList),
  major: Type.Optional(Type.Boolean({ description: 'Only premises with an open major hazard' })),
  overdue: Type.Optional(Type.Boolean({ description: 'Only premises with an open hazard past its deadline' })),
  foundFrom: Type.Optional(DateString),
  foundTo: Type.Optional(DateString),
  asOf: Type.Optional(Type.Unsafe<string>({ ...DateString, description: 'Day on which the status is judged (default: the campaign reference day)' })),
}
export type MapFilterQuery = Static<typeof MapFilterQuerySchema>
export const MapFilterQuerySchema = Type.Object(MapFilterProperties, { additionalProperties: false })

export const PremisesQuerySchema = Type.Object({
  bbox: Type.Optional(BboxString),
  ...MapFilterProperties,
  limit: Type.Integer({ minimum: 1, maximum: 100_000, default: 10_000 }),
}, { additionalProperties: false })
export type PremisesQuery = Static<typeof PremisesQuerySchema>

export const PremisesFeatureSchema = Type.Object({
  type: Type.Literal('Feature'),
  id: Type.Integer(),
  geometry: Type.Object({ type: Type.Literal('Point'), coordinates: Type.Array(Type.Number()) }),
  properties: Type.Object({
    id: Type.Integer(),
    kind: PremisesKindSchema,
    status: HazardStatusSchema,
    unregistered: Type.Boolean({ description: 'Meets the group-rental rule but is not registered as a group rental' }),
  }),
})

export const PremisesCollectionSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  numberReturned: Type.Integer(),
  truncated: Type.Boolean({ description: 'More premises match than the limit' }),
  features: Type.Array(PremisesFeatureSchema),
})

/**
 * The same document for a handler that has it as JSON text already (built by PostgreSQL): the wire
 * format, and so the OpenAPI document, is the collection; Fastify sends a string as it is.
 */
export const PremisesCollectionText = Type.Unsafe<string>(PremisesCollectionSchema)

export const PremisesCountsSchema = Type.Object({
  total: Type.Integer(),
  byStatus: Type.Record(Type.String(), Type.Integer()),
  unregistered: Type.Integer({ description: 'Meeting the group-rental rule without being registered as a group rental' }),
})
