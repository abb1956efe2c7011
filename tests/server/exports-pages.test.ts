import ExcelJS from 'exceljs'
import { afterAll, assert, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { parseCsv } from '../helpers/csv.js'
import { factory } from '../helpers/factory.js'

/**
 * Exports stream their rows in pages of 5,000 read by id (`page` in server/routes/api/exports/index.ts);
 * the demo district of the other tests fills one page. Here the factory makes, on an empty database,
 * one town of 2 × 5,000 + 1 premises (two full pages and a row), group rentals and rentals in turn,
 * and a hazard at each of the 5,000 rentals (exactly one full page, so that the last read finds
 * nothing). Every format must hold every row once, in id order, with its own cells, and the audit
 * row must count them.
 */
const page = 5000
type Format = 'csv' | 'geojson' | 'xlsx'
const formats: Format[] = ['csv', 'geojson', 'xlsx']

let t: TestApp
let cookie: string
/** "id|address" of every premises, "id|premises id" of every hazard, in id order, as the database holds them. */
let premisesRows: string[]
let hazardRows: string[]
let groupRentalRows: string[]

beforeAll(async () => {
  t = await buildTestApp({ template: 'migrated' })
  const f = factory(t.db)
  const town = await f.town()
  const station = await f.policeStation({ town })
  const premises = await f.manyPremises(2 * page + 1, { town, station, kinds: ['group_rental', 'rental'] })
  // In reverse, so that a hazard's id says nothing of its premises' id.
  await f.manyHazards(premises.filter((_, i) => i % 2 === 1).reverse())
  const analyst = await f.user({ role: 'analyst' })
  cookie = await signIn(t.app, analyst.username, analyst.password)
  const sql = t.db.sql
  premisesRows = (await sql<{ id: number; address: string }[]>`select id, address from premises order by id`).map(r => `${r.id}|${r.address}`)
  groupRentalRows = (await sql<{ id: number; address: string }[]>`select id, address from premises where kind = 'group_rental' order by id`).map(r => `${r.id}|${r.address}`)
  hazardRows = (await sql<{ id: number; premisesId: number }[]>`select id, premises_id from hazard order by id`).map(r => `${r.id}|${r.premisesId}`)
})
afterAll(() => t.close())

/** The rows of an exported file as "id|<column>" strings, in the file's order. */
async function exported(url: string, format: Format, column: { csv: string; key: string }): Promise<string[]> {
  const res = await t.app.inject({ url: `${url}${url.includes('?') ? '&' : '?'}format=${format}`, headers: { cookie } })
  expect(res.statusCode, res.body.slice(0, 200)).toBe(200)
  if (format === 'csv') {
    const text = res.rawPayload.toString('utf8')
    // One byte-order mark and one heading, at the start: later pages add rows only.
    expect(text.lastIndexOf('\uFEFF')).toBe(0)
    const [head, ...rows] = parseCsv(text.slice(1))
    const at = head!.indexOf(column.csv)
    expect(at).toBeGreaterThan(0)
    expect(rows.filter(r => r[0] === head![0])).toEqual([])
    return rows.map(r => `${r[0]}|${r[at]}`)
  }
  if (format === 'geojson') {
    const fc = JSON.parse(res.body) as { features: { id: number; properties: Record<string, unknown> }[] }
    return fc.features.map(x => `${x.id}|${String(x.properties[column.key])}`)
  }
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer)
  const ws = wb.worksheets[0]!
  const head = (ws.getRow(1).values as unknown[]).map(String)
  const at = head.indexOf(column.csv)
  expect(at).toBeGreaterThan(1)
  const rows: string[] = []
  ws.eachRow((row, n) => {
    if (n > 1) rows.push(`${String(row.getCell(1).value)}|${String(row.getCell(at).value)}`)
  })
  return rows
}

/** Fails, saying where, unless a file's rows are the database's, one for one (the first difference is enough to act on). */
function expectSameRows(file: string[], expected: string[]): void {
  const i = file.findIndex((row, k) => row !== expected[k])
  const at = i >= 0 ? i : file.length < expected.length ? file.length : -1
  if (at >= 0) {
    assert.fail(`row ${at + 1} (page ${Math.floor(at / page) + 1}) is ${file[at] ?? 'missing'} where ${expected[at] ?? 'no row'} was expected; `
      + `${file.length} rows in the file, ${expected.length} expected`)
  }
}

async function auditedRows(action: string): Promise<number> {
  const [row] = await t.db.sql<{ after: { rows: number } }[]>`select after from audit_log where action = ${action} order by id desc limit 1`
  return row!.after.rows
}

describe('an export of more than one page', () => {
  it('starts from two full pages of premises and a row, and one full page of hazards', () => {
    expect(premisesRows).toHaveLength(2 * page + 1)
    expect(hazardRows).toHaveLength(page)
    expect(groupRentalRows).toHaveLength(page + 1)
  })

  it.each(formats)('holds every premises once, in id order, with its own address, as %s, and the audit row counts them', async (format) => {
    const rows = await exported('/api/exports/premises', format, { csv: '地址 address', key: 'address' })
    expectSameRows(rows, premisesRows)
    expect(await auditedRows('export.premises')).toBe(premisesRows.length)
  })

  it.each(formats)('holds every hazard once, in id order, with its own premises, as %s, and the audit row counts them', async (format) => {
    const rows = await exported('/api/exports/hazards', format, { csv: '场所编号 premises', key: 'premisesId' })
    expectSameRows(rows, hazardRows)
    expect(await auditedRows('export.hazards')).toBe(hazardRows.length)
  })

  it('pages over the rows the filter selects, not over ids: the group rentals, every other premises', async () => {
    const rows = await exported('/api/exports/premises?kind=group_rental', 'csv', { csv: '地址 address', key: 'address' })
    expectSameRows(rows, groupRentalRows)
    expect(await auditedRows('export.premises')).toBe(groupRentalRows.length)
  })
})
