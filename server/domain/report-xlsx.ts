import ExcelJS from 'exceljs'
import { localDay } from './calendar.js'
import { headerCells } from './report-columns.js'
import { withoutFormulas } from './exports.js'
import type { ReportTable } from '../plugins/app/reports.js'

/**
 * The biweekly tables as the paper form: title, reporting unit and period, the merged multi-row
 * header, the figures, the notes, and the filled-by / reviewed-by / date lines. One sheet per table.
 */

const thin = { style: 'thin' as const }
const box = { top: thin, left: thin, bottom: thin, right: thin }
const font = { name: 'SimSun', size: 10 }

/**
 * Room for text, estimated as LibreOffice and Excel lay it out: a column of w characters is about
 * 7w + 5 pixels (0.75 pt each); a CJK character takes the font's size across, a Latin letter or
 * digit about half; a wrapped line takes 1.3 times the font's size down. The estimate errs on the
 * generous side, so that no header is clipped at the page's print scale.
 */
const columnPoints = (chars: number) => (chars * 7 + 5) * 0.75
const textPoints = (text: string, size: number) => [...text].reduce((w, ch) => w + (ch.charCodeAt(0) <= 0xFF ? 0.55 : 1.05) * size, 0)
function linesFor(text: string, widthPt: number, size: number): number {
  const usable = Math.max(size, widthPt - 6)
  return String(text).split('\n').reduce((n, line) => n + Math.max(1, Math.ceil(textPoints(line, size) / usable)), 0)
}
const heightFor = (lines: number, size: number) => lines * size * 1.3 + 8

/** A sheet name Excel accepts (31 characters, no []:*?/\), unique in the workbook. */
function sheetName(wb: ExcelJS.Workbook, wanted: string): string {
  const base = wanted.replace(/[[\]:*?/\\]/g, ' ').slice(0, 28) || 'Sheet'
  let name = base
  for (let i = 2; wb.getWorksheet(name); i++) name = `${base}(${i})`.slice(0, 31)
  return name
}

export function addReportSheet(wb: ExcelJS.Workbook, t: ReportTable, name = t.unit || t.title) {
  const ws = wb.addWorksheet(sheetName(wb, name), {
    pageSetup: { orientation: 'landscape', paperSize: 9, fitToPage: true, fitToWidth: 1, fitToHeight: 0, horizontalCentered: true },
  })
  const lead = t.leading.length
  const width = lead + t.columns.length
  const { cells, depth } = headerCells(t.columns, t.leading)

  // Title and the reporting unit.
  ws.mergeCells(1, 1, 1, width)
  const title = ws.getCell(1, 1)
  title.value = t.title
  title.font = { name: 'SimHei', size: 18, bold: true }
  title.alignment = { horizontal: 'center', vertical: 'middle' }
  ws.getRow(1).height = 32
  const half = Math.max(1, Math.floor(width / 2))
  ws.mergeCells(2, 1, 2, half)
  ws.getCell(2, 1).value = `填报单位：${t.unit}`
  ws.getCell(2, 1).font = { ...font, size: 11 }
  if (width > half) {
    ws.mergeCells(2, half + 1, 2, width)
    const c = ws.getCell(2, half + 1)
    c.value = t.report === 'attachment-3' ? `截至：${t.period.to}` : `统计时段：${t.period.from} 至 ${t.period.to}`
    c.font = { ...font, size: 11 }
    c.alignment = { horizontal: 'right' }
  }

  // The header: every cell, merged as the paper form.
  const top = 3
  for (const h of cells) {
    const r = top + h.row
    const c = 1 + h.col
    if (h.rowSpan > 1 || h.colSpan > 1) ws.mergeCells(r, c, r + h.rowSpan - 1, c + h.colSpan - 1)
    const cell = ws.getCell(r, c)
    cell.value = h.text
  }
  // Column widths first: the heights follow from them.
  const widths = [lead > 1 ? 16 : 10, ...Array.from({ length: lead - 1 }, () => 9), ...t.columns.map(col => (col.key === 'name' ? 22 : col.key === 'town' || col.key === 'policeStation' ? 12 : 9))]
  widths.forEach((w, i) => { ws.getColumn(i + 1).width = w })
  const spanPoints = (c: number, span: number) => widths.slice(c - 1, c - 1 + span).reduce((a, w) => a + columnPoints(w), 0)
  // Each header row as tall as its tallest one-row cell; a cell reaching down several rows gets what
  // it lacks on its last row.
  const heights = Array.from({ length: depth }, () => 20)
  for (const h of cells.filter(x => x.rowSpan === 1)) {
    heights[h.row] = Math.max(heights[h.row]!, heightFor(linesFor(h.text, spanPoints(1 + h.col, h.colSpan), font.size), font.size))
  }
  for (const h of cells.filter(x => x.rowSpan > 1)) {
    const need = heightFor(linesFor(h.text, spanPoints(1 + h.col, h.colSpan), font.size), font.size)
    const have = heights.slice(h.row, h.row + h.rowSpan).reduce((a, b) => a + b, 0)
    if (need > have) heights[h.row + h.rowSpan - 1]! += need - have
  }
  for (let r = top; r < top + depth; r++) {
    ws.getRow(r).height = heights[r - top]!
    for (let c = 1; c <= width; c++) {
      const cell = ws.getCell(r, c)
      cell.font = { ...font, bold: true }
      cell.alignment = { horizontal: 'center', vertical: 'middle', wrapText: true }
      cell.border = box
      cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFF2F2F2' } }
    }
  }

  // The figures; a leading label repeated on consecutive rows is one merged cell (a station's two rows).
  const first = top + depth
  t.rows.forEach((row, i) => {
    const r = first + i
    row.lead.forEach((label, j) => { ws.getCell(r, 1 + j).value = label })
    t.columns.forEach((col, j) => { ws.getCell(r, 1 + lead + j).value = row.values[col.key] ?? null })
    let lines = 1
    for (let c = 1; c <= width; c++) {
      const cell = ws.getCell(r, c)
      cell.font = font
      cell.border = box
      cell.alignment = { horizontal: c <= lead || typeof cell.value === 'string' ? 'center' : 'right', vertical: 'middle', wrapText: true }
      if (typeof cell.value === 'string') lines = Math.max(lines, linesFor(cell.value, spanPoints(c, 1), font.size))
    }
    // A long key-area name wraps inside its cell instead of running over the next ones.
    ws.getRow(r).height = Math.max(18, heightFor(lines, font.size))
  })
  for (let j = 0; j < lead - 1; j++) {
    let start = 0
    for (let i = 1; i <= t.rows.length; i++) {
      if (i === t.rows.length || t.rows[i]!.lead[j] !== t.rows[start]!.lead[j]) {
        if (i - start > 1) ws.mergeCells(first + start, 1 + j, first + i - 1, 1 + j)
        start = i
      }
    }
  }

  // Notes, then the filled-by / reviewed-by / date line.
  let r = first + t.rows.length
  if (t.notes.length) {
    ws.mergeCells(r, 1, r, lead)
    ws.getCell(r, 1).value = '备注'
    ws.mergeCells(r, lead + 1, r, width)
    ws.getCell(r, lead + 1).value = t.notes.join('\n')
    ws.getRow(r).height = heightFor(t.notes.reduce((n, note) => n + linesFor(note, spanPoints(lead + 1, width - lead), font.size), 0), font.size)
    for (let c = 1; c <= width; c++) {
      const cell = ws.getCell(r, c)
      cell.font = font
      cell.border = box
      cell.alignment = { vertical: 'middle', wrapText: true, horizontal: c <= lead ? 'center' : 'left' }
    }
    r++
  }
  r++
  const third = Math.max(1, Math.floor(width / 3))
  const sign = [
    `填表人：${t.submission?.filledBy ?? ''}`,
    `审核人：${t.submission?.reviewedBy ?? ''}`,
    // The day it was submitted in the district, not in UTC (which is still yesterday before 08:00).
    `填表日期：${t.submission ? localDay(t.submission.submittedAt) : ''}`,
  ]
  sign.forEach((text, i) => {
    const from = 1 + i * third
    const to = i === 2 ? width : Math.min(width, (i + 1) * third)
    if (to > from) ws.mergeCells(r, from, r, to)
    ws.getCell(r, from).value = text
    ws.getCell(r, from).font = { ...font, size: 11 }
  })
  if (!t.submission) {
    ws.getCell(r + 1, 1).value = '（未报送：以上为实时数据，报送后固定）'
    ws.getCell(r + 1, 1).font = { ...font, italic: true, color: { argb: 'FF888888' } }
  }

  ws.views = [{ state: 'frozen', xSplit: lead, ySplit: first - 1 }]
  return ws
}

export async function reportWorkbook(tables: ReportTable[], sheetNames?: string[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  wb.creator = 'group-rental-dashboard'
  tables.forEach((t, i) => addReportSheet(wb, t, sheetNames?.[i]))
  if (!tables.length) wb.addWorksheet('无数据').getCell(1, 1).value = '没有可报送的表'
  return Buffer.from(await withoutFormulas(wb).xlsx.writeBuffer())
}
