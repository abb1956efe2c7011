import { type Static, Type } from 'typebox'
import { ledgerKinds } from '../domain/ledger-fields.js'
import { coordinateSystems } from '../domain/lists.js'
import { OneOf } from './common.js'

const Nullable = <T extends import('typebox').TSchema>(t: T) => Type.Union([t, Type.Null()])

export const LedgerKindSchema = OneOf(ledgerKinds)
export const CrsSchema = OneOf(coordinateSystems, { description: 'wgs84 (GPS), gcj02 (AutoNavi, Tencent) or bd09 (Baidu)' })

/** A problem of one row of a ledger. */
export const RowErrorSchema = Type.Object({ line: Type.Integer(), column: Type.String(), value: Type.String(), reason: Type.String() })

/** A field a row changes: its value in the database and in the file, as a person reads them. */
export const FieldChangeSchema = Type.Object({ field: Type.String(), before: Type.String(), after: Type.String() })
export type FieldChange = Static<typeof FieldChangeSchema>

/** A row that creates a record or updates some of its fields. */
export const RowChangeSchema = Type.Object({
  line: Type.Integer(),
  ref: Type.String(),
  action: Type.Union([Type.Literal('create'), Type.Literal('update')]),
  label: Type.String({ description: 'What the record is, for the eye: an address, a name (ID number masked), a dictionary item' }),
  fields: Type.Array(FieldChangeSchema, { description: 'For an update: each field it changes' }),
})
export type RowChange = Static<typeof RowChangeSchema>

export const importJobStatuses = ['uploaded', 'checking', 'validated', 'committing', 'committed', 'failed'] as const

/** An import as its page follows it: progress, then what the dry run or the commit found. */
export const ImportJobSchema = Type.Object({
  id: Type.String(),
  kind: LedgerKindSchema,
  fileName: Type.String(),
  status: OneOf(importJobStatuses),
  phase: Nullable(OneOf(['reading', 'checking', 'writing', 'merging'], { description: 'What the job is doing, and how far along' })),
  done: Type.Integer(),
  total: Type.Integer(),
  rows: Type.Integer(),
  headings: Type.Array(Type.String()),
  suggestedMapping: Type.Record(Type.String(), Type.String()),
  crs: Nullable(CrsSchema),
  mapping: Nullable(Type.Record(Type.String(), Type.String())),
  summary: Nullable(Type.Object({
    rows: Type.Integer(), valid: Type.Integer(), invalid: Type.Integer(), create: Type.Integer(), update: Type.Integer(), unchanged: Type.Integer(), committed: Type.Boolean(),
  }, { description: 'After a dry run or a commit: what it found / did' })),
  errors: Type.Array(RowErrorSchema, { description: 'The first problems (the full list is the error report)' }),
  errorCount: Type.Integer(),
  changes: Type.Array(RowChangeSchema, { description: 'The first rows that create or update a record (the full list is the change report)' }),
  changeCount: Type.Integer(),
  message: Nullable(Type.String()),
  messageZh: Nullable(Type.String({ description: 'The message for the Chinese screen' })),
  createdAt: Type.String(),
})
export type ImportJob = Static<typeof ImportJobSchema>

/** One of the user's recent imports, as the database keeps it. */
export const RecentImportSchema = Type.Object({
  id: Type.String(),
  kind: LedgerKindSchema,
  fileName: Type.String(),
  status: Type.String({ description: 'uploaded, validated, committing, committed, failed or discarded' }),
  rowsTotal: Type.Integer(),
  rowsInvalid: Type.Integer(),
  createdAt: Type.String(),
  committedAt: Nullable(Type.String()),
})
export type RecentImport = Static<typeof RecentImportSchema>
