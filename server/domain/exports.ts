import { PassThrough } from 'node:stream'
import ExcelJS from 'exceljs'

/** A column of a table export: its key in the rows and its heading (Chinese first, as the users read it). */
export interface ExportColumn {
  key: string
  header: string
  width?: number
}

/**
 * A text a spreadsheet would take for a formula: one that starts, after optional spaces, with = + - @,
 * or starts with a tab or carriage return (OWASP, "CSV Injection"). "-1+1+cmd|' /C calc'!A0" is one
 * even though it starts like a number.
 */
const formulaLike = /^(?:\s*[=+\-@]|[\t\r])/

/**
 * A cell's value made safe to open in a spreadsheet: a formula-like text gets a leading apostrophe
 * (shown as text, never run); numbers, dates and other texts are unchanged, so a negative number
 * stays a number. Every CSV and XLSX writer passes its cells through this.
 */
export function spreadsheetValue<T>(v: T): T | string {
  return typeof v === 'string' && formulaLike.test(v) ? `'${v}` : v
}

/** Every text cell of a workbook made safe with {@link spreadsheetValue}, just before it is written. */
export function withoutFormulas(wb: ExcelJS.Workbook): ExcelJS.Workbook {
  wb.eachSheet((ws) => {
    ws.eachRow({ includeEmpty: false }, (row) => {
      row.eachCell({ includeEmpty: false }, (cell) => {
        // A merged range holds its value in its top-left cell only.
        if (cell.isMerged && cell.master !== cell) return
        const safe = spreadsheetValue(cell.value)
        if (safe !== cell.value) cell.value = safe
      })
    })
  })
  return wb
}

const csvCell = (v: unknown) => {
  if (v === null || v === undefined) return ''
  const text = v instanceof Date ? v.toISOString() : String(v)
  // Only texts: a number's minus sign is not a formula.
  const s = typeof v === 'string' ? spreadsheetValue(v) : text
  // An escaped cell is always quoted, as OWASP advises; others only when they must be.
  return s !== text || /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** CSV with a UTF-8 byte-order mark, so that Excel on Chinese Windows reads the Chinese text right. */
export function toCsv(columns: ExportColumn[], rows: Record<string, unknown>[]): Buffer {
  const lines = [columns.map(c => csvCell(c.header)).join(','), ...rows.map(r => columns.map(c => csvCell(r[c.key])).join(','))]
  return Buffer.concat([Buffer.from([0xEF, 0xBB, 0xBF]), Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8')])
}

/** A one-sheet workbook with a title row, bold headings and frozen panes. */
export async function toXlsx(title: string, columns: ExportColumn[], rows: Record<string, unknown>[], note?: string): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  wb.creator = 'group-rental-dashboard'
  const ws = wb.addWorksheet(title.slice(0, 31).replace(/[\\/?*[\]:]/g, ' '))
  ws.addRow([title]).font = { bold: true, size: 14 }
  ws.mergeCells(1, 1, 1, Math.max(1, columns.length))
  if (note) ws.addRow([note]).font = { italic: true, color: { argb: 'FF555555' } }
  const head = ws.addRow(columns.map(c => c.header))
  head.font = { bold: true }
  head.eachCell((cell) => {
    cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8EEF4' } }
    cell.border = { bottom: { style: 'thin' } }
  })
  for (const r of rows) ws.addRow(columns.map(c => r[c.key] ?? null))
  columns.forEach((c, i) => {
    ws.getColumn(i + 1).width = c.width ?? Math.max(10, Math.min(40, c.header.length * 2 + 2))
  })
  ws.views = [{ state: 'frozen', ySplit: head.number }]
  return Buffer.from(await withoutFormulas(wb).xlsx.writeBuffer())
}

export const exportTypes = {
  geojson: 'application/geo+json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const
export type ExportFormat = keyof typeof exportTypes

/** A row of a streamed export: its cells by column key, with the point it is drawn at. */
export type ExportRow = Record<string, unknown> & { id: number; lon: number; lat: number }

/**
 * Writes pages of rows out in a format as they come, so that a district-wide export never sits in
 * memory. `finish` (the audit row) runs after the last row and before the stream ends, so that
 * every completed download has been recorded; when reading or writing fails, it runs with the
 * rows sent so far, `onError` hears of the failure and the stream is destroyed. `done` settles
 * when the stream has ended either way.
 */
export function exportStream(format: ExportFormat, title: string, columns: ExportColumn[], source: AsyncIterable<ExportRow[]>,
  finish: (rows: number) => Promise<void>, onError: (err: unknown, what: string) => void): { body: PassThrough; done: Promise<void> } {
  const out = new PassThrough()
  let n = 0
  const write = async () => {
    if (format === 'csv') {
      let first = true
      for await (const rows of source) {
        const csv = toCsv(columns, rows)
        // The byte-order mark and the heading once, at the start.
        out.write(first ? csv : csv.subarray(csv.indexOf('\r\n') + 2))
        first = false
        n += rows.length
      }
      if (first) out.write(toCsv(columns, []))
    }
    else if (format === 'geojson') {
      out.write('{"type":"FeatureCollection","features":[')
      for await (const rows of source) {
        const text = rows.map(({ lon, lat, ...p }) => JSON.stringify({ type: 'Feature', id: p.id, geometry: { type: 'Point', coordinates: [lon, lat] }, properties: p }))
        out.write(`${n ? ',' : ''}${text.join(',')}`)
        n += rows.length
      }
      out.write(']}')
    }
    else {
      // The workbook writer ends its stream when it commits; ours stays open for the audit row.
      const zip = new PassThrough()
      zip.pipe(out, { end: false })
      const zipped = new Promise(resolve => zip.on('end', resolve))
      const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: zip, useStyles: true })
      const ws = wb.addWorksheet(title.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] })
      ws.columns = columns.map(c => ({ header: c.header, key: c.key, width: c.width ?? 12 }))
      ws.getRow(1).font = { bold: true }
      for await (const rows of source) {
        for (const r of rows) ws.addRow(columns.map(c => spreadsheetValue(r[c.key] ?? null))).commit()
        n += rows.length
      }
      ws.commit()
      await wb.commit()
      await zipped
    }
    await finish(n)
    out.end()
  }
  const done = write().catch(async (e: unknown) => {
    onError(e, 'export failed while streaming')
    // The rows sent before the failure are recorded all the same.
    await finish(n).catch((a: unknown) => onError(a, 'export audit failed'))
    out.destroy(e as Error)
  })
  return { body: out, done }
}
