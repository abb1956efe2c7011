import { type Static, Type } from 'typebox'
import { HazardStatusSchema, PremisesKindSchema } from './premises.js'

const Nullable = <T extends import('typebox').TSchema>(t: T) => Type.Union([t, Type.Null()])

/** What a search result is: a place, or (for roles that see people) a person and where they live or let. */
export const SearchKindSchema = Type.Union([
  Type.Literal('premises'), Type.Literal('community'), Type.Literal('key_area'),
  Type.Literal('owner'), Type.Literal('second_landlord'), Type.Literal('resident'),
], { description: 'owner, second_landlord and resident only for roles that see people' })

export const SearchMatchSchema = Type.Union([
  Type.Literal('address'), Type.Literal('ledger_ref'), Type.Literal('name'), Type.Literal('phone'), Type.Literal('id_number'),
], { description: 'What the text was found in' })

const searchText = Type.String({
  minLength: 2, maxLength: 100,
  description: 'Part of an address or ledger ref, a community or key-area name; for roles that see people also the beginning of a name or phone. An ID number only with POST',
})
const searchLimit = Type.Integer({ minimum: 1, maximum: 50, default: 10, description: 'Results, best first' })

export const SearchQuerySchema = Type.Object({ q: searchText, limit: searchLimit }, { additionalProperties: false })
export const SearchBodySchema = Type.Object({ q: searchText, limit: searchLimit }, { additionalProperties: false })

export const SearchResultSchema = Type.Object({
  kind: SearchKindSchema,
  /** The premises, community, key area or resident found; a premises for owners and second landlords. */
  id: Type.Integer(),
  premisesId: Nullable(Type.Integer({ description: 'The premises to open: the one found, or where the person lives or lets' })),
  label: Type.String({ description: 'The address, the area\'s or the person\'s name' }),
  labelEn: Nullable(Type.String()),
  address: Nullable(Type.String({ description: 'A person\'s premises; for the other kinds the label says it' })),
  placeZh: Type.String({ description: 'Town/street and community, or the town of an area' }),
  placeEn: Type.String(),
  matched: SearchMatchSchema,
  ledgerRef: Nullable(Type.String()),
  phone: Type.Optional(Nullable(Type.String())),
  idNumberMasked: Type.Optional(Type.String()),
  movedOut: Type.Optional(Type.Boolean({ description: 'A resident who has moved out' })),
  lon: Type.Number(),
  lat: Type.Number(),
  bbox: Nullable(Type.Array(Type.Number(), { minItems: 4, maxItems: 4, description: 'An area\'s extent: minLon, minLat, maxLon, maxLat' })),
  score: Type.Number({ description: 'Higher is better: exact over beginning over part, closer matches first' }),
})
export type SearchResult = Static<typeof SearchResultSchema>

export const SearchAnswerSchema = Type.Object({
  results: Type.Array(SearchResultSchema),
  truncated: Type.Boolean({ description: 'More matched than were ranked: type more of it' }),
})
export type SearchAnswer = Static<typeof SearchAnswerSchema>

export const NearQuerySchema = Type.Object({
  lon: Type.Number({ minimum: -180, maximum: 180, description: 'WGS-84, as a phone\'s location is' }),
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
}, { additionalProperties: false })

export const NearPremisesSchema = Type.Object({
  id: Type.Integer(),
  kind: PremisesKindSchema,
  status: HazardStatusSchema,
  address: Type.String(),
  lon: Type.Number(),
  lat: Type.Number(),
  distanceM: Type.Number({ description: 'Metres from the point, on the ellipsoid' }),
})
export type NearPremises = Static<typeof NearPremisesSchema>
