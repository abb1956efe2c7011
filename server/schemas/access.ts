import { type Static, Type } from 'typebox'
import { roles } from '../domain/lists.js'
import { Id, OneOf } from './common.js'

export const RoleSchema = OneOf(roles)

export const JurisdictionInputSchema = Type.Object({
  kind: Type.Union([Type.Literal('district'), Type.Literal('town'), Type.Literal('police_station')]),
  id: Type.Optional(Type.Union([Id(), Type.Null()])),
}, { additionalProperties: false, description: 'The whole district, one town/street (id of the town) or one police station\'s area (id of the station)' })

export const JurisdictionSchema = Type.Object({
  kind: Type.Union([Type.Literal('district'), Type.Literal('town'), Type.Literal('police_station')]),
  id: Type.Union([Type.Integer(), Type.Null()]),
  nameZh: Type.String(),
  nameEn: Type.String(),
})

export const LoginSchema = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 100 }),
  password: Type.String({ minLength: 1, maxLength: 200 }),
}, { additionalProperties: false })

export const MeSchema = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  displayName: Type.String(),
  role: RoleSchema,
  jurisdiction: JurisdictionSchema,
  permissions: Type.Array(Type.String()),
  sessionExpiresInMinutes: Type.Integer({ description: 'Idle minutes after which the session ends' }),
})
export type Me = Static<typeof MeSchema>

export const SessionStateSchema = Type.Object({
  user: Type.Union([MeSchema, Type.Null()], { description: 'The signed-in user, or null' }),
  ended: Type.Union([Type.String(), Type.Null()], { description: 'Why the session cookie sent no longer signs in: session-expired, session-revoked or account-disabled' }),
})
export type SessionState = Static<typeof SessionStateSchema>

export const DemoSchema = Type.Object({
  demo: Type.Boolean(),
  password: Type.Union([Type.String(), Type.Null()]),
  users: Type.Array(Type.Object({ username: Type.String(), role: RoleSchema, displayName: Type.String() })),
})

export const UserSchema = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  displayName: Type.String(),
  role: RoleSchema,
  jurisdiction: JurisdictionSchema,
  isDemo: Type.Boolean(),
  disabled: Type.Boolean(),
  createdAt: Type.String(),
  passwordChangedAt: Type.String(),
})
export type UserDto = Static<typeof UserSchema>

export const NewUserSchema = Type.Object({
  username: Type.String({ pattern: '^[a-zA-Z0-9_.-]{2,40}$', description: '2–40 letters, digits, dot, dash or underscore' }),
  displayName: Type.String({ minLength: 1, maxLength: 100 }),
  role: RoleSchema,
  jurisdiction: JurisdictionInputSchema,
  password: Type.String({ minLength: 8, maxLength: 200 }),
}, { additionalProperties: false })

export const UserChangeSchema = Type.Object({
  displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  role: Type.Optional(RoleSchema),
  jurisdiction: Type.Optional(JurisdictionInputSchema),
  disabled: Type.Optional(Type.Boolean()),
}, { additionalProperties: false, minProperties: 1 })

export const PasswordResetSchema = Type.Object({
  password: Type.String({ minLength: 8, maxLength: 200 }),
}, { additionalProperties: false })

export const IdParams = Type.Object({ id: Id() })

export const AuditQuerySchema = Type.Object({
  user: Type.Optional(Type.String({ maxLength: 40, description: 'User name' })),
  entity: Type.Optional(Type.String({ maxLength: 40 })),
  entityId: Type.Optional(Type.String({ maxLength: 80 })),
  action: Type.Optional(Type.String({ maxLength: 60 })),
  outcome: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('denied'), Type.Literal('failed')])),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'ISO time, inclusive' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'ISO time, exclusive' })),
  beforeId: Type.Optional(Id('The last id of the previous page')),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
}, { additionalProperties: false })

export const AuditRowSchema = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  userId: Type.Union([Type.Integer(), Type.Null()]),
  username: Type.Union([Type.String(), Type.Null()]),
  userName: Type.Union([Type.String(), Type.Null()], { description: 'The display name of who acted' }),
  action: Type.String(),
  entity: Type.Union([Type.String(), Type.Null()]),
  entityId: Type.Union([Type.String(), Type.Null()]),
  recordName: Type.Union([Type.String(), Type.Null()], { description: 'The record by its name (an address, a key area\'s or a view\'s name); none for people' }),
  before: Type.Unknown(),
  after: Type.Unknown(),
  reason: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
})
