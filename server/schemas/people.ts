import { type Static, Type } from 'typebox'
import { PremisesKindSchema } from './premises.js'

const Nullable = <T extends import('typebox').TSchema>(t: T) => Type.Union([t, Type.Null()])

export const PremisesDetailSchema = Type.Object({
  id: Type.Integer(),
  kind: PremisesKindSchema,
  address: Type.String(),
  lon: Type.Number(),
  lat: Type.Number(),
  townId: Type.Integer(),
  townNameZh: Type.String(),
  townNameEn: Type.String(),
  communityId: Nullable(Type.Integer()),
  communityNameZh: Nullable(Type.String()),
  communityNameEn: Nullable(Type.String()),
  gridId: Nullable(Type.Integer()),
  policeStationId: Nullable(Type.Integer()),
  policeStationNameZh: Nullable(Type.String()),
  policeStationNameEn: Nullable(Type.String()),
  roomsLet: Type.Integer(),
  bedsLet: Type.Integer(),
  occupants: Type.Integer(),
  meetsRule: Type.Boolean(),
  hasSecondLandlord: Type.Boolean(),
  secondLandlordCollectedOn: Nullable(Type.String()),
  statementSignedOn: Nullable(Type.String()),
  leaseFiledOn: Nullable(Type.String()),
  foundOn: Type.String(),
  registeredOn: Nullable(Type.String()),
  deregisteredOn: Nullable(Type.String()),
  hazardCount: Type.Integer(),
  openCount: Type.Integer(),
  openMajorCount: Type.Integer(),
  openMinDeadline: Nullable(Type.String()),
  residentsLiving: Type.Integer(),
  residentsRegistered: Type.Integer(),
  // Only for roles that may see people (inspectors, commanders).
  ownerName: Type.Optional(Nullable(Type.String())),
  ownerPhone: Type.Optional(Nullable(Type.String())),
  secondLandlordName: Type.Optional(Nullable(Type.String())),
  secondLandlordPhone: Type.Optional(Nullable(Type.String())),
})
/** One premises as GET /api/premises/:id answers it. */
export type PremisesDetail = Static<typeof PremisesDetailSchema>


export const ResidentSchema = Type.Object({
  id: Type.Integer(),
  premisesId: Type.Integer(),
  name: Type.String(),
  idType: Type.String(),
  idNumberMasked: Type.String({ description: 'First 3 and last 4 characters; reveal the rest with a reason' }),
  phone: Nullable(Type.String()),
  floating: Type.Boolean(),
  movedInOn: Type.String(),
  movedOutOn: Nullable(Type.String()),
  registeredOn: Nullable(Type.String()),
  deregisteredOn: Nullable(Type.String()),
  specialCategories: Type.Optional(Type.Array(Type.String())),
})

export const RevealSchema = Type.Object({
  reason: Type.String({ minLength: 4, maxLength: 300, description: 'Why the full number is needed (kept in the audit trail)' }),
}, { additionalProperties: false })

export const SearchByIdSchema = Type.Object({
  idNumber: Type.String({ minLength: 4, maxLength: 40 }),
}, { additionalProperties: false })
