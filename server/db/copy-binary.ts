/**
 * Rows of `COPY (query) TO STDOUT WITH (FORMAT binary)` whose columns all have a fixed width and no
 * null, read as records of bytes. At a million premises the cluster analysis reads 300,000 rows: as
 * ordinary rows they cost the driver a second to parse, packed into one value by `string_agg` the
 * database another 0.4 s; the binary copy costs neither, and both backends answer it alike.
 *
 * The format (PostgreSQL's COPY page): an 11-byte signature, a 32-bit flags field, a 32-bit header
 * extension length and the extension; then each row as a 16-bit field count and each field as a
 * 32-bit length and its bytes (big-endian); then a count of -1.
 */
import type { PendingQuery, Row } from 'postgres'
import type { Sql, Tx } from './index.js'

/** A binary copy's rows, each at a fixed offset from the last. */
export interface CopiedRecords {
  /** The whole copy, header included. */
  bytes: Buffer
  view: DataView
  rows: number
  /** Offset of row r's field f: `first + r * stride + at[f]`. */
  first: number
  stride: number
  at: number[]
}

/**
 * `COPY (select) TO STDOUT WITH (FORMAT binary)` of a query built as any other, with its parameters.
 * COPY takes no parameters, so the query is first described (parsed by the server, which names
 * each parameter's type) and each parameter is written into its text as a typed literal: quoted as
 * an escape string, so no value can end it, and cast to the type the server gave. The query's own
 * text must hold no `$` and digits but its placeholders (no dollar quoting): they are replaced as seen.
 */
export async function copyBinary(db: Sql | Tx, select: PendingQuery<Row[]>): Promise<AsyncIterable<Buffer>> {
  const statement = await select.describe()
  const values = (select as unknown as { parameters?: unknown[] }).parameters ?? []
  const types = statement.types
  if (values.length !== types.length) throw new Error(`binary copy: ${values.length} parameters for ${types.length} placeholders`)
  const names = types.length
    ? (await db<{ name: string }[]>`select format_type(t, null) as name from unnest(${types}::oid[]) with ordinality u(t, i) order by i`).map(r => r.name)
    : []
  const literals = values.map((v, i) => v === null ? 'null' : `${escapeLiteral(literalText(v))}::${names[i]}`)
  const text = statement.string.replace(/\$(\d+)/g, (_, n: string) => {
    const literal = literals[Number(n) - 1]
    if (literal === undefined) throw new Error(`binary copy: no parameter $${n}`)
    return literal
  })
  return db.unsafe(`copy (${text}) to stdout with (format binary)`).readable()
}

/** A parameter's value as PostgreSQL reads it from text (the driver's own serialisations). */
function literalText(v: unknown): string {
  if (v instanceof Date) return v.toISOString()
  if (typeof v === 'string') return v
  if (typeof v === 'number' && Number.isFinite(v)) return String(v)
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v)
  throw new Error(`binary copy: a parameter of type ${Array.isArray(v) ? 'array' : typeof v} cannot be written as a literal`)
}

/** An escape string literal (E'...'): backslashes and quotes doubled, whatever standard_conforming_strings says. */
const escapeLiteral = (s: string) => `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`

const signature = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')

/** Reads a binary copy's stream (from the driver's `.readable()`) whose fields are `widths` bytes each. */
export async function readCopiedRecords(stream: AsyncIterable<Buffer>, widths: number[]): Promise<CopiedRecords> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return copiedRecords(Buffer.concat(chunks), widths)
}

/** The records of a whole binary copy; throws when its rows are not of the fields expected. */
export function copiedRecords(bytes: Buffer, widths: number[]): CopiedRecords {
  const fail = (why: string): never => { throw new Error(`binary copy: ${why}`) }
  if (bytes.byteLength < 21 || !bytes.subarray(0, 11).equals(signature)) fail('no COPY BINARY signature')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const first = 19 + view.getUint32(15)
  const at: number[] = []
  let stride = 2
  for (const w of widths) {
    at.push(stride + 4)
    stride += 4 + w
  }
  let rows = 0
  let o = first
  for (; o + 2 <= bytes.byteLength && view.getInt16(o) !== -1; o += stride, rows++) {
    if (view.getInt16(o) !== widths.length) fail(`row ${rows} has ${view.getInt16(o)} fields, not ${widths.length}`)
    for (let f = 0; f < widths.length; f++) {
      if (o + at[f]! > bytes.byteLength) fail(`row ${rows} is cut short`)
      const length = view.getInt32(o + at[f]! - 4)
      if (length !== widths[f]) fail(`row ${rows}, field ${f} is ${length < 0 ? 'null' : `${length} bytes`}, not ${widths[f]}`)
    }
  }
  if (o + 2 !== bytes.byteLength) fail(o > bytes.byteLength ? `row ${rows - 1} is cut short` : 'no trailer after the rows')
  return { bytes, view, rows, first, stride, at }
}
