import { type Static, type TSchema, Type } from 'typebox'
import { DateString } from './common.js'
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
