import { Type } from 'typebox'
import { coordinateSystems, enforcementKinds } from '../domain/lists.js'
import { DateString, OneOf } from './common.js'
import { PremisesKindSchema } from './premises.js'

const Nullable = <T extends import('typebox').TSchema>(t: T) => Type.Union([t, Type.Null()])
const OptionalDate = Type.Optional(Nullable(DateString))
const Count = Type.Integer({ minimum: 0, maximum: 100_000 })
const Phone = Type.String({ pattern: '^[0-9+()\\- ]{5,20}$', description: 'digits, spaces, + - ( )' })
const PersonName = Type.String({ minLength: 1, maxLength: 100 })

export const LocationSchema = Type.Object({
  lon: Type.Number({ minimum: -180, maximum: 180 }),
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  crs: OneOf(coordinateSystems, {
    default: 'wgs84', description: 'wgs84 (GPS), gcj02 (AutoNavi, Tencent) or bd09 (Baidu); stored as WGS-84',
  }),
}, { additionalProperties: false })

/**
 * An id the client makes for one write (a UUID), so that the write sent again — an offline queue
 * replayed, a retry after a lost answer — is answered with the record the first one made or
 * changed (header Idempotent-Replayed: true) and writes nothing; reused for a different write: 409.
 */
const ClientWriteId = Type.Optional(Type.String({
  format: 'uuid',
  description: 'Made by the client for this write (a UUID): sent again, the write answers the record it made or changed the first time',
}))

const premisesFields = {
  kind: PremisesKindSchema,
  address: Type.String({ minLength: 1, maxLength: 300 }),
  location: LocationSchema,
  roomsLet: Count,
  bedsLet: Count,
  occupants: Count,
  ownerName: Type.Optional(Nullable(PersonName)),
  ownerPhone: Type.Optional(Nullable(Phone)),
  secondLandlordName: Type.Optional(Nullable(PersonName)),
  secondLandlordPhone: Type.Optional(Nullable(Phone)),
  secondLandlordCollectedOn: OptionalDate,
  statementSignedOn: OptionalDate,
  leaseFiledOn: OptionalDate,
  foundOn: DateString,
  registeredOn: OptionalDate,
  deregisteredOn: OptionalDate,
}

export const PremisesCreateSchema = Type.Object({
  ...premisesFields,
  clientId: ClientWriteId,
  roomsLet: Type.Optional(Count),
  bedsLet: Type.Optional(Count),
  occupants: Type.Optional(Count),
}, { additionalProperties: false })

export const PremisesChangeSchema = Type.Object({
  kind: Type.Optional(premisesFields.kind),
  address: Type.Optional(premisesFields.address),
  location: Type.Optional(LocationSchema),
  roomsLet: Type.Optional(Count),
  bedsLet: Type.Optional(Count),
  occupants: Type.Optional(Count),
  ownerName: premisesFields.ownerName,
  ownerPhone: premisesFields.ownerPhone,
  secondLandlordName: premisesFields.secondLandlordName,
  secondLandlordPhone: premisesFields.secondLandlordPhone,
  secondLandlordCollectedOn: OptionalDate,
  statementSignedOn: OptionalDate,
  leaseFiledOn: OptionalDate,
  foundOn: Type.Optional(DateString),
  registeredOn: OptionalDate,
  deregisteredOn: OptionalDate,
  clientId: ClientWriteId,
  expected: Type.Optional(Type.Object({
    kind: Type.Optional(premisesFields.kind),
    address: Type.Optional(premisesFields.address),
    roomsLet: Type.Optional(Count),
    bedsLet: Type.Optional(Count),
    occupants: Type.Optional(Count),
    ownerName: premisesFields.ownerName,
    ownerPhone: premisesFields.ownerPhone,
    secondLandlordName: premisesFields.secondLandlordName,
    secondLandlordPhone: premisesFields.secondLandlordPhone,
    secondLandlordCollectedOn: OptionalDate,
    statementSignedOn: OptionalDate,
    leaseFiledOn: OptionalDate,
    foundOn: Type.Optional(DateString),
    registeredOn: OptionalDate,
    deregisteredOn: OptionalDate,
  }, {
    additionalProperties: false,
    description: 'The values of the changed fields as the client saw them before the change (an edit made offline): when any differs from the stored value now, somebody else changed it meanwhile and the change is refused with 412',
  })),
}, { additionalProperties: false, minProperties: 1 })

const Time = Type.String({ format: 'date-time', description: 'ISO time; default now' })

export const HazardCreateSchema = Type.Object({
  itemCode: Type.String({ pattern: '^(PS|FIRE|HOUSING|OTHER)-[0-9]{2}$', description: 'A dictionary item, e.g. FIRE-06' }),
  otherText: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  severity: Type.Union([Type.Literal('general'), Type.Literal('major')]),
  foundAt: Type.Optional(Time),
  foundOn: Type.Optional({ ...DateString, description: 'The day it was found, when not today (a paper ledger\'s older hazard): its deadline is checked against this day. Not with foundAt' }),
  deadline: OptionalDate,
  departmentCode: Type.Optional(Type.String({ maxLength: 40, description: 'Default: the department the dictionary names' })),
  clientId: ClientWriteId,
}, { additionalProperties: false })

export const HazardStepSchema = Type.Object({
  at: Type.Optional(Time),
  note: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  clientId: ClientWriteId,
}, { additionalProperties: false })

export const HazardReferSchema = Type.Object({
  at: Type.Optional(Time),
  note: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  departmentCode: Type.Optional(Type.String({ maxLength: 40 })),
  deadline: OptionalDate,
  clientId: ClientWriteId,
}, { additionalProperties: false })

export const HazardChangeSchema = Type.Object({
  deadline: Nullable(DateString),
}, { additionalProperties: false })

const TimeOut = Type.String({ description: 'ISO time' })
export const HazardEventSchema = Type.Object({
  status: Type.String(),
  at: TimeOut,
  departmentCode: Nullable(Type.String()),
  note: Nullable(Type.String()),
  username: Nullable(Type.String()),
})

export const HazardSchema = Type.Object({
  id: Type.Integer(),
  premisesId: Type.Integer(),
  itemCode: Type.String(),
  categoryCode: Type.String(),
  itemNameZh: Type.Optional(Type.String()),
  itemNameEn: Type.Optional(Type.String()),
  otherText: Nullable(Type.String()),
  severity: Type.String(),
  status: Type.String(),
  departmentCode: Type.String(),
  foundAt: TimeOut,
  referredAt: Nullable(TimeOut),
  rectifiedAt: Nullable(TimeOut),
  verifiedAt: Nullable(TimeOut),
  deadline: Nullable(Type.String()),
  overdue: Type.Optional(Type.Boolean()),
  events: Type.Optional(Type.Array(HazardEventSchema)),
})

export const EnforcementSchema = Type.Object({
  id: Type.Integer(),
  kind: OneOf(enforcementKinds),
  occurredOn: Type.String(),
  count: Type.Integer(),
})
