import { type Static, Type } from 'typebox'
import { DateString, Id } from './common.js'
import { PolygonGeometrySchema } from './key-areas.js'
import { MapFilterProperties } from './premises.js'

const Nullable = <T extends import('typebox').TSchema>(t: T) => Type.Union([t, Type.Null()])

export const TaskKindSchema = Type.Union([Type.Literal('inspect'), Type.Literal('revisit'), Type.Literal('verify')], {
  description: 'inspect: visit and record these premises; revisit: go back to them; verify: check these rectifications and verify them',
})
export const TaskStatusSchema = Type.Union([Type.Literal('open'), Type.Literal('done'), Type.Literal('cancelled')])

/** The most tasks one assignment makes. */
export const maxTasksPerAssignment = 2000

export const TaskCreateSchema = Type.Object({
  kind: TaskKindSchema,
  assigneeId: Id('The inspector who makes the visits'),
  dueOn: Type.Unsafe<string>({ ...DateString, description: 'The day by which the visits are due (today or later)' }),
  note: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 500 }))),
  premisesIds: Type.Optional(Type.Array(Id(), { minItems: 1, maxItems: maxTasksPerAssignment, description: 'Premises picked from a list; all must lie in the inspector\'s jurisdiction' })),
  geometry: Type.Optional(PolygonGeometrySchema),
  filter: Type.Optional(Type.Object(MapFilterProperties, { additionalProperties: false, description: 'The map\'s filters (as on /api/premises): the premises they select, within the area when one is drawn too' })),
  dryRun: Type.Optional(Type.Boolean({ description: 'Only count what would be assigned; nothing is written' })),
}, { additionalProperties: false, description: 'Either premisesIds, or a drawn area (geometry) and/or the map\'s filter' })

const Person = Type.Object({ id: Type.Integer(), username: Type.String(), displayName: Type.String() })

export const TaskSchema = Type.Object({
  id: Type.Integer(),
  kind: TaskKindSchema,
  status: TaskStatusSchema,
  premisesId: Type.Integer(),
  premisesKind: Type.String(),
  address: Type.String(),
  lon: Type.Number(),
  lat: Type.Number(),
  hazard: Nullable(Type.Object({
    id: Type.Integer(), itemCode: Type.String(), severity: Type.String(), status: Type.String(), deadline: Nullable(Type.String()),
  }, { description: 'For a verification: the hazard to verify' })),
  assignee: Person,
  assignedBy: Person,
  batchId: Type.String(),
  dueOn: Type.String(),
  overdue: Type.Boolean({ description: 'Open past its due date' }),
  note: Nullable(Type.String()),
  createdAt: Type.String(),
  closedAt: Nullable(Type.String()),
  closedBy: Nullable(Type.String({ description: 'User name of who closed it' })),
  closedByAction: Nullable(Type.String({ description: 'What closed it: premises.update, hazard.create, photo.upload, hazard.rectify, hazard.verify, task.complete or task.cancel' })),
  closingNote: Nullable(Type.String()),
  distanceM: Nullable(Type.Number({ description: 'Metres from the point given as near=' })),
})
export type TaskDto = Static<typeof TaskSchema>

export const TaskCreatedSchema = Type.Object({
  dryRun: Type.Boolean(),
  batchId: Nullable(Type.String()),
  count: Type.Integer({ description: 'Tasks made (or, on a dry run, that would be made)' }),
  skipped: Type.Object({
    outsideAssignee: Type.Integer({ description: 'Premises of the selection outside the inspector\'s jurisdiction' }),
    alreadyOpen: Type.Integer({ description: 'Visits of this kind already open there' }),
    nothingToVerify: Type.Integer({ description: 'For verify: premises with no rectified hazard awaiting verification' }),
  }),
  tasks: Type.Array(TaskSchema),
})

const Near = Type.String({ pattern: '^\\s*-?\\d+(\\.\\d+)?\\s*,\\s*-?\\d+(\\.\\d+)?\\s*$', description: 'lon,lat (WGS-84) of where the user is: tasks get their distance' })

export const MyTasksQuery = Type.Object({
  status: Type.Union([Type.Literal('open'), Type.Literal('done'), Type.Literal('all')], { default: 'open' }),
  near: Type.Optional(Near),
}, { additionalProperties: false })

export const TaskListQuery = Type.Object({
  assigneeId: Type.Optional(Id('Only this inspector\'s tasks')),
  status: Type.Union([Type.Literal('open'), Type.Literal('done'), Type.Literal('cancelled'), Type.Literal('all')], { default: 'open' }),
  kind: Type.Optional(TaskKindSchema),
  overdue: Type.Optional(Type.Boolean({ description: 'Only open tasks past their due date' })),
  limit: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
}, { additionalProperties: false })

export const TaskCompleteSchema = Type.Object({
  clientId: Type.String({ format: 'uuid', description: 'Made by the client for this completion: sent again, it answers the task as first closed' }),
  note: Type.String({ minLength: 1, maxLength: 500, description: 'What the visit found (nothing needed recording)' }),
}, { additionalProperties: false })

export const TaskCancelSchema = Type.Object({
  note: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 500 }))),
}, { additionalProperties: false })

export const ProgressSchema = Type.Object({
  today: Type.String(),
  inspectors: Type.Array(Type.Object({
    id: Type.Integer(),
    username: Type.String(),
    displayName: Type.String(),
    open: Type.Integer(),
    overdue: Type.Integer({ description: 'Open past the due date' }),
    done: Type.Integer(),
    doneLate: Type.Integer({ description: 'Done after the due date' }),
    cancelled: Type.Integer(),
  })),
})

export const AssigneeSchema = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  displayName: Type.String(),
  jurisdiction: Type.Object({ kind: Type.String(), id: Nullable(Type.Integer()), nameZh: Type.String(), nameEn: Type.String() }),
})
