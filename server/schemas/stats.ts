import { type Static, Type } from 'typebox'
import { measureKeys } from '../domain/lists.js'
import { DateString, OneOf } from './common.js'
import { MapFilterProperties } from './premises.js'

export const MeasureKeySchema = OneOf(measureKeys)

export const MeasureSchema = Type.Object({
  key: MeasureKeySchema,
  numerator: Type.Integer(),
  denominator: Type.Integer(),
  rate: Type.Union([Type.Number(), Type.Null()]),
  target: Type.Union([Type.Number(), Type.Null()]),
  met: Type.Union([Type.Boolean(), Type.Null()]),
  previous: Type.Optional(Type.Union([Type.Object({
    numerator: Type.Integer(), denominator: Type.Integer(), rate: Type.Union([Type.Number(), Type.Null()]),
  }), Type.Null()], { description: 'The same measure on the previous report day' })),
})

export const CountsSchema = Type.Object({
  groupRentalsFound: Type.Integer(),
  groupRentalsRegistered: Type.Integer(),
  residentsCounted: Type.Integer(),
  residentsRegistered: Type.Integer(),
  hazardsFound: Type.Integer(),
  hazardsRectified: Type.Integer(),
  majorHazardsFound: Type.Integer(),
  majorHazardsRectified: Type.Integer(),
})

const AreaMeasures = {
  nameZh: Type.String(),
  nameEn: Type.String(),
  counts: CountsSchema,
  measures: Type.Array(MeasureSchema),
}

export const SummarySchema = Type.Object({
  asOf: DateString,
  campaign: Type.Object({
    code: Type.String(), nameZh: Type.String(), nameEn: Type.String(), startsOn: DateString, endsOn: DateString,
  }),
  previousReportDate: Type.Union([DateString, Type.Null()], { description: 'The last report day (14th or 29th) before asOf' }),
  scope: Type.Union([Type.Literal('district'), Type.Literal('town'), Type.Literal('police_station')], {
    description: 'The jurisdiction the figures cover; "district" holds the jurisdiction\'s totals',
  }),
  district: Type.Object({ id: Type.Union([Type.Integer(), Type.Null()]), ...AreaMeasures }),
  towns: Type.Array(Type.Object({ id: Type.Integer(), code: Type.String(), ...AreaMeasures })),
})
export type Summary = Static<typeof SummarySchema>

/** The day, and the map's filters: the measures of what the map shows. */
export const SummaryQuerySchema = Type.Object(MapFilterProperties, { additionalProperties: false })

export const SeriesSchema = Type.Object({
  asOf: DateString,
  points: Type.Array(Type.Object({ date: DateString, counts: CountsSchema, measures: Type.Array(MeasureSchema) })),
})
export type Series = Static<typeof SeriesSchema>

export const HazardStatsSchema = Type.Object({
  asOf: DateString,
  byCategory: Type.Array(Type.Object({ category: Type.String(), found: Type.Integer(), rectified: Type.Integer(), open: Type.Integer() })),
  overdue: Type.Array(Type.Object({ townId: Type.Integer(), departmentCode: Type.String(), overdue: Type.Integer() })),
})
export type HazardStats = Static<typeof HazardStatsSchema>
