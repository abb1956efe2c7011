import { Type } from 'typebox'
import { DateString } from './common.js'

const PhaseSchema = Type.Object({
  seq: Type.Integer(), code: Type.String(), nameZh: Type.String(), nameEn: Type.String(), startsOn: DateString, endsOn: DateString,
})

export const ClosingSchema = Type.Object({
  today: DateString,
  asOf: Type.Unsafe<string>({ ...DateString, description: 'The day the measures are read on: today while the campaign runs, its last day after' }),
  phase: Type.Object({
    phase: Type.Union([PhaseSchema, Type.Null()]),
    state: Type.Union([Type.Literal('before'), Type.Literal('during'), Type.Literal('after')]),
    daysLeft: Type.Union([Type.Integer(), Type.Null()], { description: 'Days of the phase left, today included' }),
  }),
  finalReportDay: DateString,
  items: Type.Array(Type.Object({
    key: Type.Union([
      Type.Literal('groupRentalsRegistered'), Type.Literal('residentsRegistered'), Type.Literal('majorHazardsRectified'),
      Type.Literal('keyAreasCleared'), Type.Literal('keyAreasDelisted'), Type.Literal('revisitsDone'), Type.Literal('finalTables'),
    ]),
    done: Type.Integer(),
    total: Type.Integer(),
    target: Type.Number({ description: 'The share needed' }),
    met: Type.Boolean(),
  }), { description: 'revisitsDone counts the towns where revisits were drawn and every outcome recorded' }),
  revisits: Type.Array(Type.Object({
    id: Type.Integer(), nameZh: Type.String(), nameEn: Type.String(),
    drawn: Type.Integer({ description: 'Records drawn for revisits in the town during the campaign' }),
    recorded: Type.Integer({ description: 'Of them, those whose outcome is recorded' }),
  }), { description: 'The revisits\' progress in each town of the jurisdiction' }),
})
