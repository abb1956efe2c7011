import { type Static, type TSchema, Type } from 'typebox'
import { AnyGeometry, DateString } from './common.js'
import { PoiKindSchema } from './reference.js'
import { PolygonGeometrySchema, ProblemSchema } from './key-areas.js'
import { MapFilterProperties } from './premises.js'

// The query gives these defaults; a proposal records what was run, so it has none.
/** What a cluster analysis runs over. */
export const ClusterOfSchema = Type.Union([Type.Literal('group-rentals'), Type.Literal('open-hazards')])
/** DBSCAN's neighbourhood distance, in metres. */
export const EpsSchema = Type.Integer({ minimum: 10, maximum: 2000, description: 'Neighbourhood distance in metres' })
/** DBSCAN's minimum size of a core point's neighbourhood. */
export const MinPointsSchema = Type.Integer({ minimum: 2, maximum: 500, description: 'Points within eps that make a core point (itself included)' })

const Count = Type.Integer({ minimum: 0, maximum: 100_000_000 })

/**
 * The map's filters as a proposal records them: the same fields and forms as the query, each
 * string at most 500 characters, so that what is stored with a draft stays small.
 */
const ProposalFilters = Type.Object(
  Object.fromEntries(Object.entries(MapFilterProperties).map(([k, s]) =>
    [k, 'pattern' in s ? Type.Optional(Type.Unsafe<string>({ ...(s as TSchema), maxLength: 500 })) : s])) as typeof MapFilterProperties,
  { additionalProperties: false },
)

/** The analysis a proposed key area came from: bounded, every field named. */
export const ProposalParametersSchema = Type.Object({
  of: ClusterOfSchema,
  eps: EpsSchema,
  minPoints: MinPointsSchema,
  asOf: Type.Optional(DateString),
  cluster: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'The cluster\'s number in the result' })),
  points: Type.Optional(Count),
  noise: Type.Optional(Count),
  filters: Type.Optional(ProposalFilters),
  counts: Type.Optional(Type.Object({
    points: Type.Optional(Count),
    premises: Type.Optional(Count),
    groupRentals: Type.Optional(Count),
    openHazards: Type.Optional(Count),
    openMajor: Type.Optional(Count),
    people: Type.Optional(Count),
  }, { additionalProperties: false, description: 'The cluster\'s figures when it was proposed' })),
}, { additionalProperties: false, description: 'The analysis that found the cluster' })
export type ProposalParameters = Static<typeof ProposalParametersSchema>

export const ProposalInputSchema = Type.Object({
  geometry: PolygonGeometrySchema,
  nameZh: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  parameters: ProposalParametersSchema,
}, { additionalProperties: false })

export const ProposalResultSchema = Type.Object({
  keyAreaId: Type.Integer(),
  townId: Type.Integer(),
  commanderUserId: Type.Union([Type.Integer(), Type.Null()], { description: 'The town\'s commander who receives the draft (null: the town has none yet)' }),
  warnings: Type.Array(ProblemSchema, { description: 'Overlaps with key areas, named only where you may see them' }),
})

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Counted = {
  premises: Type.Integer(),
  groupRentals: Type.Integer(),
  openHazards: Type.Integer(),
  openMajor: Type.Integer(),
  people: Type.Integer({ description: 'People living there' }),
}

/** One ring around a place with what lies inside it; ranked by group rentals, open major hazards, open hazards. */
export const RingSchema = Type.Object({
  rank: Type.Integer(),
  poiId: Type.Integer(),
  kind: PoiKindSchema,
  nameZh: Type.String(),
  nameEn: Type.String(),
  radius: Type.Integer({ description: 'Metres' }),
  lon: Type.Number(),
  lat: Type.Number(),
  ...Counted,
})
export type Ring = Static<typeof RingSchema>

export const RingsSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(Type.Object({ type: Type.Literal('Feature'), geometry: AnyGeometry, properties: RingSchema })),
})
export type Rings = Static<typeof RingsSchema>

/** One density cluster: its counts, the town holding most of its points and the nearest place. */
export const ClusterSchema = Type.Object({
  cluster: Type.Integer(),
  points: Type.Integer(),
  ...Counted,
  townId: Type.Integer(),
  nearestId: Nullable(Type.Integer()),
  nearestKind: Nullable(PoiKindSchema),
  nearestNameZh: Nullable(Type.String()),
  nearestNameEn: Nullable(Type.String()),
  nearestMetres: Nullable(Type.Integer()),
})
export type Cluster = Static<typeof ClusterSchema>

export const ClustersSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  parameters: Type.Object({
    of: ClusterOfSchema, eps: Type.Integer(), minPoints: Type.Integer(), asOf: Type.String(), points: Type.Integer(), noise: Type.Integer(),
  }, { description: 'What the run was asked, and how many points it clustered or left as noise' }),
  features: Type.Array(Type.Object({ type: Type.Literal('Feature'), geometry: AnyGeometry, properties: ClusterSchema })),
})
export type Clusters = Static<typeof ClustersSchema>
