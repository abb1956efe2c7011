import type { Static } from 'typebox'
import type { AccountabilitySchema } from '../../../server/schemas/supervision'
import { getJson } from './client'

export type Accountability = Static<typeof AccountabilitySchema>

export const fetchAccountability = () => getJson<Accountability>('/supervision/accountability')
/** The units' record as a workbook for the annual assessment (考核). */
export const accountabilityWorkbookUrl = '/api/supervision/accountability.xlsx'
