import { Readable } from 'node:stream'
import ExcelJS from 'exceljs'

/**
 * Reading a ledger file, CSV or XLSX, as rows of cells. Ledgers come from Excel on Chinese
 * Windows: a CSV may be UTF-8 (with or without a byte-order mark) or GB18030/GBK, and a sheet's
 * cells may hold dates, numbers, rich text or formulas.
 */

export type Cell = string | number | Date | null

export type FileKind = 'csv' | 'xlsx'

/** Which kind of file this is, from its first bytes (an XLSX file is a zip archive). */
export function sniffFileKind(buf: Buffer): FileKind {
  return buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4B && buf[2] === 0x03 && buf[3] === 0x04 ? 'xlsx' : 'csv'
}

/** The text of a CSV file: UTF-8 when it is valid UTF-8, otherwise GB18030 (a superset of GBK). */
export function decodeText(buf: Buffer): { text: string; encoding: 'utf-8' | 'gb18030' } {
  const body = buf[0] === 0xEF && buf[1] === 0xBB && buf[2] === 0xBF ? buf.subarray(3) : buf
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(body), encoding: 'utf-8' }
  }
  catch {
    return { text: new TextDecoder('gb18030').decode(body), encoding: 'gb18030' }
  }
}

/** RFC 4180 records of a CSV text: quoted fields may hold commas, quotes ("") and line breaks. */
export function* csvRecords(text: string): Generator<string[]> {
  let row: string[] = []
  let cell = ''
  let i = 0
  const n = text.length
  while (i < n) {
    const ch = text.charCodeAt(i)
    if (ch === 34 /* " */ && cell === '') {
      // A quoted field: up to the closing quote.
      i++
      for (;;) {
        const q = text.indexOf('"', i)
        if (q < 0) {
          cell += text.slice(i)
          i = n
          break
        }
        cell += text.slice(i, q)
        if (text.charCodeAt(q + 1) === 34) {
          cell += '"'
          i = q + 2
        }
        else {
          i = q + 1
          break
        }
      }
      continue
    }
    if (ch === 44 /* , */) {
      row.push(cell)
      cell = ''
      i++
    }
    else if (ch === 10 || ch === 13) {
      row.push(cell)
      yield row
      row = []
      cell = ''
      i += ch === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1
    }
    else {
      // Plain text up to the next delimiter.
      let j = i
      while (j < n) {
        const c = text.charCodeAt(j)
        if (c === 44 || c === 10 || c === 13) break
        j++
      }
      cell += text.slice(i, j)
      i = j
    }
  }
  if (cell !== '' || row.length) {
    row.push(cell)
    yield row
  }
}

/** The value a spreadsheet cell shows: formulas give their result, rich text its plain text. */
function cellValue(v: ExcelJS.CellValue): Cell {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || typeof v === 'number' || v instanceof Date) return v
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE'
  if (typeof v === 'object') {
    if ('result' in v) return cellValue((v as ExcelJS.CellFormulaValue).result as ExcelJS.CellValue)
    if ('richText' in v) return (v as ExcelJS.CellRichTextValue).richText.map(r => r.text).join('')
    if ('text' in v) return String((v as ExcelJS.CellHyperlinkValue).text)
    if ('error' in v) return null
  }
  return String(v)
}

/** Rows of the first worksheet of an XLSX file, read as a stream (a million rows fit). */
export async function* xlsxRecords(buf: Buffer): AsyncGenerator<Cell[]> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([buf]), {
    entries: 'emit', sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'cache', worksheets: 'emit',
  })
  // eslint-disable-next-line no-unreachable-loop -- the first sheet only: the template's other sheets are help
  for await (const sheet of reader) {
    let expected = 1
    for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
      // Rows left empty in the sheet are skipped by the reader; keep the numbering of the sheet.
      for (; expected < row.number; expected++) yield []
      const values = row.values as ExcelJS.CellValue[]
      const out: Cell[] = []
      for (let c = 1; c < values.length; c++) out.push(cellValue(values[c]))
      yield out
      expected = row.number + 1
    }
    return // the first sheet only: the template's other sheets are help
  }
}

/** Every record of a ledger file as cells; line numbers are positions in this sequence, from 1. */
export async function* ledgerRecords(buf: Buffer): AsyncGenerator<Cell[]> {
  if (sniffFileKind(buf) === 'xlsx') {
    yield* xlsxRecords(buf)
    return
  }
  for (const r of csvRecords(decodeText(buf).text)) yield r
}
