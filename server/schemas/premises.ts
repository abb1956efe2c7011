import { type Static, Type } from 'typebox'
import { shapeMaxCorners } from '../domain/drawn-shape.js'
import { hazardCategories, hazardStatuses, premisesKinds } from '../domain/lists.js'
import { BboxString, DateString, IdList, ListOf, OneOf } from './common.js'

export const PremisesKindSchema = OneOf(premisesKinds)
export const HazardStatusSchema = OneOf(hazardStatuses, {
  description: 'none: no hazard ever found; rectified: all rectified; open_general / open_major: open hazards; overdue: an open hazard past its deadline',
})

/** The map's filters as query parameters: shared by points, tiles, counts and the summary. */
export const MapFilterProperties = {
  kind: Type.Optional(ListOf(premisesKinds, 'Kinds, comma-separated')),
  status: Type.Optional(ListOf(hazardStatuses, 'Hazard statuses, comma-separated')),
  category: Type.Optional(ListOf(hazardCategories, 'Premises with a hazard of these categories, comma-separated')),
  town: Type.Optional(IdList),
  community: Type.Optional(IdList),
  policeStation: Type.Optional(IdList),
  major: Type.Optional(Type.Boolean({ description: 'Only premises with an open major hazard' })),
  overdue: Type.Optional(Type.Boolean({ description: 'Only premises with an open hazard past its deadline' })),
  foundFrom: Type.Optional(DateString),
  foundTo: Type.Optional(DateString),
  asOf: Type.Optional(Type.Unsafe<string>({ ...DateString, description: 'Day on which the status is judged (default: the campaign reference day)' })),
  within: Type.Optional(Type.String({
    maxLength: shapeMaxCorners * 2 * 12,
    description: `Only premises inside a drawn polygon: its corners as lon,lat pairs, comma-separated, in order (the ring closes itself); 3 to ${shapeMaxCorners} corners, not crossing itself`,
  })),
}
export type MapFilterQuery = Static<typeof MapFilterQuerySchema>
export const MapFilterQuerySchema = Type.Object(MapFilterProperties, { additionalProperties: false })

export const PremisesQuerySchema = Type.Object({
  bbox: Type.Optional(BboxString),
  ...MapFilterProperties,
  limit: Type.Integer({ minimum: 1, maximum: 100_000, default: 10_000 }),
}, { additionalProperties: false })

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
