import { Type } from 'typebox'
import { DateString, Id } from './common.js'

const Format = Type.Union([Type.Literal('json'), Type.Literal('xlsx')], { default: 'json', description: 'json, or xlsx: the paper form as a spreadsheet' })

export const PeriodQuery = Type.Object({
  period: Type.Optional({ ...DateString, description: 'The report day the period ends on (the 14th or 29th; end of February in February). Default: the latest one up to today' }),
  format: Format,
}, { additionalProperties: false })

export const Attachment3Query = Type.Object({
  town: Type.Optional(Id('Town or street id (a town user\'s own by default)')),
  on: Type.Optional({ ...DateString, description: 'The day the table stands on (default today, within the campaign)' }),
  format: Format,
}, { additionalProperties: false })

const Cell = Type.Union([Type.Number(), Type.String(), Type.Null()])

export const ReportTableSchema = Type.Object({
  report: Type.String(),
  title: Type.String(),
  titleEn: Type.String(),
  unit: Type.String({ description: '填报单位: who reports the table' }),
  unitEn: Type.String(),
  subject: Type.String(),
  period: Type.Object({ from: DateString, to: DateString }),
  leading: Type.Array(Type.String()),
  leadingEn: Type.Array(Type.String()),
  columns: Type.Array(Type.Object({ key: Type.String(), path: Type.Array(Type.String()), en: Type.String() })),
  rows: Type.Array(Type.Object({
    id: Type.Optional(Type.String({ description: 'What the row is about (station:3:period, total:cumulative, key_area:7); submitted rows are matched by it' })),
    lead: Type.Array(Type.String()), leadEn: Type.Array(Type.String()), values: Type.Record(Type.String(), Cell),
    late: Type.Optional(Type.Record(Type.String(), Type.Number(), { description: '含补录: what this period row holds of entries dated into periods already submitted, by column' })),
  })),
  notes: Type.Array(Type.String()),
  submission: Type.Union([Type.Null(), Type.Object({
    submittedAt: Type.String(), submittedBy: Type.String(), filledBy: Type.String(), reviewedBy: Type.Union([Type.String(), Type.Null()]),
  })]),
  differences: Type.Array(Type.Object({ row: Type.Integer(), rowId: Type.Optional(Type.String()), key: Type.String(), submitted: Cell, live: Cell })),
  reportDays: Type.Optional(Type.Array(DateString, { description: 'Every report day of the campaign up to today, for choosing a period' })),
})

export const SubmitBody = Type.Object({
  report: Type.Union([Type.Literal('attachment-3'), Type.Literal('attachment-4'), Type.Literal('attachment-5')]),
  period: { ...DateString, description: 'For attachments 4 and 5 the report day; for attachment 3 the day it stands on' },
  keyAreaId: Type.Optional(Id('Attachment 4: the key area')),
  townId: Type.Optional(Id('Attachment 3: the town or street')),
  filledBy: Type.String({ minLength: 1, maxLength: 50, description: '填表人' }),
  reviewedBy: Type.Optional(Type.String({ maxLength: 50, description: '审核人' })),
}, { additionalProperties: false })

export const SubmissionList = Type.Array(Type.Object({
  report: Type.String(), subject: Type.String(), periodTo: DateString, unit: Type.String(), submittedAt: Type.String(),
  submittedBy: Type.String(), filledBy: Type.String(), reviewedBy: Type.Union([Type.String(), Type.Null()]),
}))
