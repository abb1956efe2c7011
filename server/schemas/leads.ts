import { Type } from 'typebox'
import { leadBands, leadStatuses, otherRentalKinds, visitOutcomes } from '../domain/lists.js'
import { DateString, Id, IdList, OneOf, Offset } from './common.js'

/**
 * Schemas of the leads (routes/api/leads): the list, the map layer, issuing, visits, measures,
 * models. The lists of bands, statuses, outcomes and kinds are in domain/lists.ts.
 */

const Band = OneOf(leadBands, { description: 'Score band: A ≥ 0.75, B ≥ 0.5, C ≥ 0.25, D below' })
const Status = OneOf(leadStatuses)
const Outcome = OneOf(visitOutcomes, {
  description: 'group_rental (registered on the spot, found by data analysis), other_rental, not_rental, no_access (to try again)',
})
/** Kinds an "another kind of rental" outcome may record. */
const OtherRentalKind = OneOf(otherRentalKinds, { description: 'For other_rental: which kind' })
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

export const LeadQuery = Type.Object({
  town: Type.Optional(IdList), community: Type.Optional(IdList), policeStation: Type.Optional(IdList),
  status: Type.Optional(Type.String({ pattern: '^(active|new|open|assigned|visited)(,(active|new|open|assigned|visited))*$', description: 'active (new, open, assigned) or statuses separated by commas' })),
  band: Type.Optional(Type.String({ pattern: '^[ABCD](,[ABCD])*$' })),
  minScore: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  subject: Type.Optional(Type.Union([Type.Literal('premises'), Type.Literal('address')], { description: 'premises not registered as group rentals, or addresses with no premises' })),
  assignedToMe: Type.Optional(Type.Boolean()),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  offset: Offset(),
}, { additionalProperties: false })

export const LeadPointsQuery = Type.Object({
  town: Type.Optional(IdList), community: Type.Optional(IdList), policeStation: Type.Optional(IdList),
  status: Type.Optional(LeadQuery.properties.status), band: Type.Optional(LeadQuery.properties.band),
  minScore: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  limit: Type.Integer({ minimum: 1, maximum: 20_000, default: 5000 }),
}, { additionalProperties: false })

/** The leads as a GeoJSON layer for the map: no addresses, highest scores first. */
export const LeadPointsSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  truncated: Type.Boolean({ description: 'More leads matched than the limit' }),
  features: Type.Array(Type.Object({
    type: Type.Literal('Feature'),
    id: Type.Integer(),
    geometry: Type.Object({ type: Type.Literal('Point'), coordinates: Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }) }),
    properties: Type.Object({
      id: Type.Integer(), score: Type.Number(), band: Band, status: Status,
      subject: OneOf(['premises', 'address'], { description: 'A lead on known premises, or on an address with none' }),
    }),
  })),
})

export const ReasonSchema = Type.Object({
  feature: Type.String({ description: 'The signal, e.g. elecVsNorm, nightShare, restDayRatio' }),
  value: Type.Number(), contribution: Type.Number({ description: 'What it added to the log-odds of the score' }),
})

export const LeadSchema = Type.Object({
  id: Type.Integer(), subject: Type.Union([Type.Literal('premises'), Type.Literal('address')]),
  premisesId: Type.Union([Type.Integer(), Type.Null()]), premisesKind: Nullable(Type.String()),
  address: Type.String({ description: 'Masked for roles that do not see people' }), lon: Type.Number(), lat: Type.Number(),
  townId: Type.Integer(), townNameZh: Type.String(), townNameEn: Type.String(), communityNameZh: Nullable(Type.String()),
  policeStationId: Type.Union([Type.Integer(), Type.Null()]),
  score: Type.Number(), band: Band, reasons: Type.Array(ReasonSchema), modelVersion: Type.Integer(),
  status: Status, outcome: Type.Union([Outcome, Type.Null()]), outcomeOn: Nullable(Type.String()), attempts: Type.Integer(),
  assignedTo: Type.Union([Type.Integer(), Type.Null()]), assignedName: Nullable(Type.String()), taskId: Type.Union([Type.Integer(), Type.Null()]),
  issuedAt: Nullable(Type.String()), issuedBand: Type.Union([Band, Type.Null()]), resultPremisesId: Type.Union([Type.Integer(), Type.Null()]),
})

export const LeadPageSchema = Type.Object({ total: Type.Integer(), items: Type.Array(LeadSchema) })

export const LeadDetailSchema = Type.Object({
  ...LeadSchema.properties,
  features: Type.Record(Type.String(), Type.Unknown(), { description: 'Every signal and its norm' }),
  issuedScore: Type.Union([Type.Number(), Type.Null()]), issuedModel: Type.Union([Type.Integer(), Type.Null()]),
  accounts: Type.Array(Type.Object({
    utility: Type.String(), accountNo: Type.String(), address: Nullable(Type.String()), matchMethod: Nullable(Type.String()),
    matchDistanceM: Type.Union([Type.Number(), Type.Null()]),
    holderName: Type.Optional(Nullable(Type.String({ description: 'The account holder: only for roles that see people' }))),
  })),
  months: Type.Array(Type.Object({ utility: Type.String(), month: Type.String(), perDay: Type.Number() })),
  visits: Type.Array(Type.Object({
    id: Type.Integer(), outcome: Outcome, visitedOn: Type.String(), userName: Nullable(Type.String()),
    premisesId: Type.Union([Type.Integer(), Type.Null()]), note: Nullable(Type.String()),
  })),
})

export const LeadIssueSchema = Type.Object({
  leadIds: Type.Array(Id(), { minItems: 1, maxItems: 500 }),
  assigneeId: Id('The inspector'),
  dueOn: DateString,
  note: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
}, { additionalProperties: false })

export const LeadIssuedSchema = Type.Object({
  batchId: Type.Union([Type.String(), Type.Null()], { description: 'The task batch made for the premises leads (none when every one had an open inspect task)' }),
  leads: Type.Array(Type.Object({
    id: Type.Integer(), status: Status, assignedTo: Type.Union([Type.Integer(), Type.Null()]), taskId: Type.Union([Type.Integer(), Type.Null()]),
    issuedScore: Type.Number(), issuedBand: Band,
  })),
})

export const LeadVisitSchema = Type.Object({
  outcome: Outcome,
  visitedOn: Type.Optional(DateString),
  kind: Type.Optional(OtherRentalKind),
  roomsLet: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  bedsLet: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  occupants: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  note: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
}, { additionalProperties: false })

export const LeadVisitedSchema = Type.Object({
  lead: Type.Object({ id: Type.Integer(), status: Status, outcome: Outcome, attempts: Type.Integer(), resultPremisesId: Type.Union([Type.Integer(), Type.Null()]) }),
  visitId: Type.Integer(),
  premisesId: Type.Union([Type.Integer(), Type.Null()], { description: 'The premises registered or changed at the visit' }),
  closedTasks: Type.Array(Type.Integer()),
})

const Tally = { issued: Type.Integer(), visited: Type.Integer(), confirmed: Type.Integer(), precision: Type.Union([Type.Number(), Type.Null()]) }
export const LeadStatsQuery = Type.Object({ town: Type.Optional(IdList) }, { additionalProperties: false })
export const LeadStatsSchema = Type.Object({
  issued: Type.Integer(), visited: Type.Integer(), confirmed: Type.Integer(), otherRental: Type.Integer(), notRental: Type.Integer(),
  noAccessPending: Type.Integer(), candidates: Type.Integer(), precision: Type.Union([Type.Number(), Type.Null()]),
  byBand: Type.Array(Type.Object({ band: Band, ...Tally })),
  byTown: Type.Array(Type.Object({ id: Type.Integer(), nameZh: Type.String(), nameEn: Type.String(), ...Tally })),
  registered: Type.Object({
    total: Type.Integer(), dataAnalysis: Type.Integer(), patrol: Type.Integer(), ledgerImport: Type.Integer(), report: Type.Integer(), other: Type.Integer(),
    uplift: Type.Union([Type.Number(), Type.Null()], { description: 'Group rentals found by data analysis against those found otherwise' }),
  }),
  model: Type.Object({ version: Type.Integer(), kind: Type.String(), trainedAt: Nullable(Type.String()), examples: Type.Union([Type.Integer(), Type.Null()]) }),
})

export const LeadModelSchema = Type.Object({
  version: Type.Integer(), kind: Type.String(), active: Type.Boolean(), trainedAt: Nullable(Type.String({ description: 'Null for the rules' })), trainedBy: Nullable(Type.String()),
  training: Type.Record(Type.String(), Type.Unknown()), model: Type.Record(Type.String(), Type.Unknown()),
})

export const LeadTrainedSchema = Type.Object({
  version: Type.Integer(), examples: Type.Integer(), positives: Type.Integer(), negatives: Type.Integer(),
  metrics: Type.Object({ auc: Type.Union([Type.Number(), Type.Null()]), rulesAuc: Type.Union([Type.Number(), Type.Null()]), accuracy: Type.Number() }),
  bias: Type.Number(), weights: Type.Record(Type.String(), Type.Number()), scored: Type.Integer(),
})

export const LeadRefreshedSchema = Type.Object({
  accounts: Type.Integer(), scored: Type.Integer(), modelVersion: Type.Integer(), ms: Type.Integer(),
  phases: Type.Object({ statsMs: Type.Integer(), signalsMs: Type.Integer(), scoreMs: Type.Integer(), vacuumMs: Type.Integer() }, { description: 'Where the time went' }),
})
