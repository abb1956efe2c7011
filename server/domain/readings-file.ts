import type { Readable } from 'node:stream'
import ExcelJS from 'exceljs'
import type { Cell, FileKind } from './tabular.js'

/**
 * Reading a CSV or XLSX file as a stream of records, so that a file of ten million rows
 * is never held in memory: the bytes are read in chunks, decoded and split as they come.
 */

export type Encoding = 'utf-8' | 'gb18030'

/** Where a file's bytes come from: a new stream from its start on each call (the file may be stored sealed). */
export type ByteSource = () => Readable

/** What a file is, from its first bytes: a zip archive (XLSX) or text, and the text's encoding. */
export async function sniffFile(source: ByteSource): Promise<{ kind: FileKind; encoding: Encoding }> {
  const stream = source()
  const parts: Buffer[] = []
  let have = 0
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parts.push(chunk)
      have += chunk.length
      if (have >= 256 * 1024) break
    }
  }
  finally {
    stream.destroy()
  }
  const head = Buffer.concat(parts).subarray(0, 256 * 1024)
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4B && head[2] === 0x03 && head[3] === 0x04) return { kind: 'xlsx', encoding: 'utf-8' }
  try {
    // stream: a character cut in two at the end of the sample is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true })
    return { kind: 'csv', encoding: 'utf-8' }
  }
  catch {
    return { kind: 'csv', encoding: 'gb18030' }
  }
}

/**
 * RFC 4180 records from text that arrives in pieces: quoted fields may hold commas, quotes ("")
 * and line breaks, and any of them may be cut between two pieces.
 */
export class CsvSplitter {
  private row: string[] = []
  private cell = ''
  private quoted = false
  /** Inside quotes, a quote seen last: the end of the field, or the first of a doubled quote. */
  private quotePending = false
  private started = false
  /** A carriage return seen last: a line feed right after it belongs to the same line end. */
  private afterCr = false

  /** The records completed by this piece of text. */
  push(text: string): string[][] {
    const out: string[][] = []
    const n = text.length
    let i = 0
    while (i < n) {
      const ch = text.charCodeAt(i)
      if (this.afterCr) {
        this.afterCr = false
        if (ch === 10) {
          i++
          continue
        }
      }
      if (this.quoted) {
        if (this.quotePending) {
          this.quotePending = false
          if (ch === 34) {
            this.cell += '"'
            i++
            continue
          }
          this.quoted = false
          continue
        }
        const q = text.indexOf('"', i)
        if (q < 0) {
          this.cell += text.slice(i)
          break
        }
        this.cell += text.slice(i, q)
        this.quotePending = true
        i = q + 1
        continue
      }
      if (ch === 34 && this.cell === '' && !this.started) {
        this.quoted = true
        this.started = true
        i++
        continue
      }
      if (ch === 44) {
        this.row.push(this.cell)
        this.cell = ''
        this.started = false
        i++
      }
      else if (ch === 10 || ch === 13) {
        this.row.push(this.cell)
        out.push(this.row)
        this.row = []
        this.cell = ''
        this.started = false
        this.afterCr = ch === 13
        i++
      }
      else {
        let j = i
        while (j < n) {
          const c = text.charCodeAt(j)
          if (c === 44 || c === 10 || c === 13) break
          j++
        }
        this.cell += text.slice(i, j)
        this.started = true
        i = j
      }
    }
    return out
  }

  /** The last record, when the text does not end with a line break. */
  end(): string[] | null {
    if (this.quotePending) this.quoted = false
    if (this.cell === '' && !this.row.length && !this.started) return null
    this.row.push(this.cell)
    const last = this.row
    this.row = []
    this.cell = ''
    this.started = false
    return last
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

/**
 * Every record of a file, read as a stream; `onBytes` hears how many bytes have been read so far
 * (the progress of a job). Line numbers are positions in this sequence, from 1 (XLSX rows left
 * empty in the sheet count too).
 */
export async function* streamRecords(source: ByteSource, kind: FileKind, encoding: Encoding, onBytes?: (bytes: number) => void): AsyncGenerator<Cell[]> {
  const stream = source()
  let bytes = 0
  stream.on('data', (chunk) => {
    bytes += chunk.length
    onBytes?.(bytes)
  })
  if (kind === 'xlsx') {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(stream, {
      entries: 'emit', sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'cache', worksheets: 'emit',
    })
    // eslint-disable-next-line no-unreachable-loop -- the first sheet only: a utility's export has its readings there
    for await (const sheet of reader) {
      let expected = 1
      for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
        for (; expected < row.number; expected++) yield []
        const values = row.values as ExcelJS.CellValue[]
        const out: Cell[] = []
        for (let c = 1; c < values.length; c++) out.push(cellValue(values[c]))
        yield out
        expected = row.number + 1
      }
      // The first sheet only; the rest of the archive is not read.
      stream.destroy()
      return
    }
    return
  }
  const decoder = new TextDecoder(encoding)
  const splitter = new CsvSplitter()
  let first = true
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let text = decoder.decode(chunk, { stream: true })
    if (first) {
      // A byte-order mark (Excel's UTF-8 CSV) is not part of the first heading.
      if (text.charCodeAt(0) === 0xFEFF) text = text.slice(1)
      first = false
    }
    for (const r of splitter.push(text)) yield r
  }
  const rest = decoder.decode()
  if (rest) for (const r of splitter.push(rest)) yield r
  const last = splitter.end()
  if (last) yield last
}
