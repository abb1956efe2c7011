import ExcelJS from 'exceljs'

/** A column of a table export: its key in the rows and its heading (Chinese first, as the users read it). */
export interface ExportColumn {
  key: string
  header: string
  width?: number
}

const csvCell = (v: unknown) => {
  if (v === null || v === undefined) return ''
  const s = v instanceof Date ? v.toISOString() : String(v)
  // Quote when needed; a leading =,+,-,@ is neutralised so a spreadsheet never runs it as a formula.
  const safe = /^[=+\-@]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
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
  return Buffer.from(await wb.xlsx.writeBuffer())
}

export const exportTypes = {
  geojson: 'application/geo+json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const
export type ExportFormat = keyof typeof exportTypes
