import { Type } from 'typebox'
import { DateString } from './common.js'

export const AccountabilityQuery = Type.Object({
  asOf: Type.Optional(Type.Unsafe<string>({ ...DateString, description: 'The day; the campaign\'s reference day by default' })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('xlsx')], { default: 'json', description: 'xlsx: the workbook for the assessment (考核)' })),
}, { additionalProperties: false })

const Figures = {
  referred: Type.Integer({ description: 'Hazards referred to the unit (found up to the day)' }),
  major: Type.Integer(),
  rectifiedOnTime: Type.Integer(),
  rectifiedLate: Type.Integer(),
  overdue: Type.Integer({ description: 'Open past their deadline on the day' }),
  openInTime: Type.Integer(),
  onTimeRate: Type.Union([Type.Number(), Type.Null()], { description: 'Rectified on time / those whose deadline has come' }),
}

export const AccountabilitySchema = Type.Object({
  asOf: DateString,
  departments: Type.Array(Type.Object({ code: Type.String(), nameZh: Type.String(), nameEn: Type.String(), ...Figures })),
  towns: Type.Array(Type.Object({ id: Type.Integer(), nameZh: Type.String(), nameEn: Type.String(), ...Figures })),
})
