import type { Static } from 'typebox'
import type { ReportTableSchema } from '../../../server/schemas/reports'
import { getJson, postJson } from './client'

export type ReportTable = Static<typeof ReportTableSchema>
export type ReportKind = 'attachment-5' | 'attachment-4' | 'attachment-3'

export interface ReportParams { period?: string; keyAreaId?: number; town?: number; on?: string }

/** The API path of a table, and its spreadsheet download with format=xlsx. */
export function reportPath(kind: ReportKind, p: ReportParams): { path: string; params: Record<string, string | number | undefined> } {
  if (kind === 'attachment-4') return { path: `/reports/attachment-4/${p.keyAreaId}`, params: { period: p.period } }
  if (kind === 'attachment-3') return { path: '/reports/attachment-3', params: { town: p.town, on: p.on } }
  return { path: '/reports/attachment-5', params: { period: p.period } }
}

export function fetchReport(kind: ReportKind, p: ReportParams) {
  const { path, params } = reportPath(kind, p)
  return getJson<ReportTable>(path, params)
}

export function reportXlsxUrl(kind: ReportKind, p: ReportParams): string {
  const { path, params } = reportPath(kind, p)
  const q = new URLSearchParams({ format: 'xlsx' })
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v))
  return `/api${path}?${q}`
}

export const submitReport = (body: { report: ReportKind; period: string; keyAreaId?: number; townId?: number; filledBy: string; reviewedBy?: string }) =>
  postJson<ReportTable>('/reports/submissions', body)
