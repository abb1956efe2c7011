import { Type } from 'typebox'

/** Schemas of the utility readings import (routes/api/readings); the web app imports their types, so nothing here imports Node modules. */

export const UtilitySchema = Type.Union([Type.Literal('electricity'), Type.Literal('water'), Type.Literal('gas')], { description: 'electricity, water or gas' })

export const ReadingsUploadQuery = Type.Object({
  utility: UtilitySchema,
  fileName: Type.String({ minLength: 1, maxLength: 200 }),
}, { additionalProperties: false })

/** The largest distance within which the nearest premises is taken as an account's. */
export const maxMatchDistance = 200

export const ReadingsRunSchema = Type.Object({
  mapping: Type.Record(Type.String(), Type.String(), { description: 'For each field key, the heading of the file\'s column that holds it' }),
  crs: Type.Union([Type.Literal('wgs84'), Type.Literal('gcj02'), Type.Literal('bd09')], { description: 'wgs84 (GPS), gcj02 (AutoNavi, Tencent) or bd09 (Baidu)' }),
  matchDistance: Type.Number({ minimum: 1, maximum: maxMatchDistance, default: 30, description: 'Metres within which the nearest premises is taken as the account\'s' }),
}, { additionalProperties: false })

const RowErrorSchema = Type.Object({ line: Type.Integer(), column: Type.String(), value: Type.String(), reason: Type.String() })

export const ReadingJobSchema = Type.Object({
  id: Type.String(),
  utility: UtilitySchema,
  fileName: Type.String(),
  status: Type.Union([Type.Literal('uploaded'), Type.Literal('checking'), Type.Literal('checked'), Type.Literal('committing'), Type.Literal('committed'), Type.Literal('failed')]),
  phase: Type.Union([Type.String(), Type.Null()], { description: 'reading, checking, matching, writing or signals while it runs' }),
  bytesRead: Type.Integer(), bytes: Type.Integer(), rowsRead: Type.Integer(),
  fileKind: Type.String(), encoding: Type.String(),
  headings: Type.Array(Type.String()), suggestedMapping: Type.Record(Type.String(), Type.String()),
  mapping: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
  crs: Type.Union([Type.String(), Type.Null()]), matchDistance: Type.Union([Type.Number(), Type.Null()]),
  summary: Type.Union([Type.Null(), Type.Object({
    rows: Type.Integer(), valid: Type.Integer(), invalid: Type.Integer(),
    granularity: Type.Union([Type.Literal('h'), Type.Literal('d'), Type.Literal('m'), Type.Null()]),
    from: Type.Union([Type.String(), Type.Null()]), to: Type.Union([Type.String(), Type.Null()]),
    readings: Type.Object({ new: Type.Integer(), changed: Type.Integer(), unchanged: Type.Integer() }),
    accounts: Type.Object({
      total: Type.Integer(), new: Type.Integer(), ref: Type.Integer(), address: Type.Integer(), distance: Type.Integer(), visit: Type.Integer(),
      unmatched: Type.Integer(), noLocation: Type.Integer(),
    }),
    committed: Type.Boolean(),
  })]),
  errors: Type.Array(RowErrorSchema, { description: 'The first row problems (the full list is the error report)' }),
  errorCount: Type.Integer(),
  unmatched: Type.Array(Type.Object({
    accountNo: Type.String(), address: Type.Union([Type.String(), Type.Null()]),
    reason: Type.Union([Type.Literal('no-premises'), Type.Literal('no-location')]),
  }), { description: 'The first accounts matched to no premises (they become address leads)' }),
  unmatchedCount: Type.Integer(),
  message: Type.Union([Type.String(), Type.Null()]), messageZh: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
})
