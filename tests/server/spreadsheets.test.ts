import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { csvRecords } from '../../server/domain/tabular.js'
import { toCsv, toXlsx } from '../../server/domain/exports.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * CSV and formula injection (OWASP): no cell of any file the server writes may start like a
 * formula. The rule is written here again, apart from the server's, as the test's own oracle.
 */
const runnable = (s: string) => /^\s*[=+\-@]/.test(s) || /^[\t\r]/.test(s)

const attacks = ['=1+1', '-1+1+cmd|\' /C calc\'!A0', '-2+HYPERLINK("http://example.com","x")', '+1', '@SUM(A1)', ' =1', '\t=1', '\r=1', '\tplain', '\u3000=1']

/** Every text cell of a workbook, sheet by sheet. */
async function xlsxTexts(buf: Buffer): Promise<string[]> {
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.load(buf as unknown as ArrayBuffer)
  const out: string[] = []
  wb.eachSheet(ws => ws.eachRow(row => row.eachCell((c) => {
    if (typeof c.value === 'string') out.push(c.value)
  })))
  return out
}
const csvTexts = (buf: Buffer) => [...csvRecords(buf.toString('utf8').replace(/^\uFEFF/, ''))].flat()

describe('the spreadsheet writers', () => {
  it('escape every formula-like text in CSV with a leading apostrophe, quoted', () => {
    const rows = attacks.map(a => ({ v: a }))
    const cells = csvTexts(toCsv([{ key: 'v', header: 'v' }], rows)).slice(1)
    expect(cells).toEqual(attacks.map(a => `'${a}`))
    expect(toCsv([{ key: 'v', header: 'v' }], [{ v: '=1' }]).toString('utf8')).toContain('"\'=1"')
  })

  it('leave numbers, dates and ordinary texts of a CSV as they are, a negative number too', () => {
    const csv = toCsv([{ key: 'n', header: 'n' }, { key: 's', header: 's' }], [{ n: -1.5, s: '长江路-1号' }, { n: 0, s: 'a-b' }]).toString('utf8')
    expect([...csvRecords(csv.replace(/^\uFEFF/, ''))].slice(1)).toEqual([['-1.5', '长江路-1号'], ['0', 'a-b']])
  })

  it('escape formula-like texts in XLSX, while a negative number stays a number', async () => {
    const buf = await toXlsx('t', [{ key: 'v', header: 'v' }], [...attacks.map(a => ({ v: a })), { v: -5 }, { v: 'plain' }])
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(buf as unknown as ArrayBuffer)
    const ws = wb.worksheets[0]!
    const values = ws.getColumn(1).values.slice(3)
    // XML reads a carriage return back as a line feed.
    expect(values).toEqual([...attacks.map(a => `'${a}`.replace('\r', '\n')), -5, 'plain'])
    expect(typeof values[attacks.length]).toBe('number')
  })
})

describe('every file the API writes', () => {
  let t: TestApp
  const cookie: Record<string, string> = {}
  let townId = 0
  let keyAreaId = 0
  const at = { lon: 0, lat: 0 }

  beforeAll(async () => {
    t = await buildTestApp()
    for (const role of ['commander', 'analyst', 'leader']) cookie[role] = await signIn(t.app, role)
    const sql = t.db.sql
    townId = (await sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`)[0]!.id
    const [p] = await sql<{ id: number; lon: number; lat: number }[]>`
      select p.id, st_x(p.geom) as lon, st_y(p.geom) as lat from premises p
      where p.town_id = ${townId}
        and st_contains(st_buffer((select geom from admin_area where id = ${townId}), -0.005), p.geom)
      order by p.id limit 1`
    Object.assign(at, { lon: p!.lon, lat: p!.lat })
    // Text a person typed, as it could arrive by the API or an import.
    await sql`update premises set address = ${attacks[1]!}, owner_name = ${attacks[4]!} where id = ${p!.id}`
    await sql`
      insert into hazard (premises_id, item_code, other_text, severity, status, department_code, found_at)
      select ${p!.id}, i.code, ${attacks[2]!}, 'general', 'found', coalesce(i.department_code, c.department_code), '2020-03-02T10:00:00+08:00'
      from hazard_item i join hazard_category c on c.code = i.category_code where i.needs_text order by i.code limit 1`
    await sql`update poi set name_zh = ${attacks[2]!} where id = (select min(id) from poi where kind = 'campus')`
    const [k] = await sql<{ id: number }[]>`
      insert into key_area (campaign_id, name_zh, town_id, status, listed_on, geom)
      select (select id from campaign limit 1), ${attacks[5]!}, ${townId}, 'listed', '2020-03-01',
             st_multi(st_buffer(st_setsrid(st_makepoint(${at.lon}, ${at.lat}), 4326), 0.003))
      returning id`
    keyAreaId = k!.id
  })
  afterAll(() => t.close())

  /** The routes ("GET /api/...") whose files were checked, for the last test: that they are all of them. */
  const checked = new Set<string>()
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  /** The route of the table that serves a path: a static one before one with parameters. */
  const routeOf = (url: string) => {
    const path = url.split('?')[0]!
    const serving = t.app.routeTable.filter(r => r.method === 'GET' && new RegExp(`^${escape(r.url).replace(/:[^/]+/g, '[^/]+')}$`).test(path))
    serving.sort((a, b) => (a.url.match(/:/g)?.length ?? 0) - (b.url.match(/:/g)?.length ?? 0))
    return serving[0] ? `GET ${serving[0].url}` : `GET ${path} (no route)`
  }

  /** Asserts that a file holds no runnable cell and does hold the given attacks, escaped. */
  async function check(res: { statusCode: number; rawPayload: Buffer; body: string; raw: { req: { url?: string } } }, kind: 'csv' | 'xlsx', present: string[]) {
    checked.add(routeOf(res.raw.req.url ?? ''))
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200)
    const texts = kind === 'csv' ? csvTexts(res.rawPayload) : await xlsxTexts(res.rawPayload)
    expect(texts.filter(runnable)).toEqual([])
    for (const a of present) expect(texts.some(x => x.includes(`'${a}`)), a).toBe(true)
  }

  for (const format of ['csv', 'xlsx'] as const) {
    it(`escapes the premises and hazards exports (${format})`, async () => {
      await check(await t.app.inject({ url: `/api/exports/premises?format=${format}`, headers: { cookie: cookie.commander! } }), format, [attacks[1]!, attacks[4]!])
      await check(await t.app.inject({ url: `/api/exports/hazards?format=${format}`, headers: { cookie: cookie.commander! } }), format, [attacks[1]!, attacks[2]!])
    })

    it(`escapes the analysis exports (${format})`, async () => {
      await check(await t.app.inject({ url: `/api/analysis/rings?kinds=campus&radii=300&format=${format}`, headers: { cookie: cookie.analyst! } }), format, [attacks[2]!])
      await check(await t.app.inject({ url: `/api/analysis/clusters?format=${format}`, headers: { cookie: cookie.analyst! } }), format, [])
    })

    it(`escapes the import templates (${format})`, async () => {
      for (const kind of ['premises', 'residents', 'hazards']) {
        await check(await t.app.inject({ url: `/api/imports/templates/${kind}?format=${format}`, headers: { cookie: cookie.commander! } }), format, [])
      }
    })
  }

  it('keeps the coordinates of the XLSX export numbers', async () => {
    const res = await t.app.inject({ url: '/api/exports/premises?format=xlsx', headers: { cookie: cookie.commander! } })
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer)
    const ws = wb.worksheets[0]!
    const lonColumn = (ws.getRow(1).values as unknown[]).indexOf('经度 lon (WGS-84)')
    expect(typeof ws.getRow(2).getCell(lonColumn).value).toBe('number')
  })

  it('escapes the report workbooks (attachments 3, 4 and 5) and a submission\'s names', async () => {
    const submit = await t.app.inject({
      method: 'POST', url: '/api/reports/submissions', headers: { cookie: cookie.commander! },
      payload: { report: 'attachment-4', keyAreaId, period: '2020-06-29', filledBy: attacks[3]!, reviewedBy: attacks[0]! },
    })
    expect(submit.statusCode, submit.body).toBe(201)
    // Attachment 4 names its key area only after a label (填报单位：...); attachment 3 has it in a cell of its own.
    await check(await t.app.inject({ url: '/api/reports/attachment-4?period=2020-06-29&format=xlsx', headers: { cookie: cookie.leader! } }), 'xlsx', [])
    await check(await t.app.inject({ url: `/api/reports/attachment-4/${keyAreaId}?period=2020-06-29&format=xlsx`, headers: { cookie: cookie.leader! } }), 'xlsx', [])
    await check(await t.app.inject({ url: `/api/reports/attachment-3?town=${townId}&on=2020-06-29&format=xlsx`, headers: { cookie: cookie.leader! } }), 'xlsx', [attacks[5]!])
    await check(await t.app.inject({ url: '/api/reports/attachment-5?period=2020-06-29&format=xlsx', headers: { cookie: cookie.leader! } }), 'xlsx', [])
  })

  it('escapes the accountability workbook (unit names are reference data, checked all the same)', async () => {
    await check(await t.app.inject({ url: '/api/accountability?format=xlsx', headers: { cookie: cookie.leader! } }), 'xlsx', [])
  })

  it('escapes the import error and change reports', async () => {
    const file = `台账编号,类型,地址,经度,纬度,发现日期\r\n${attacks[0]},群租房,${attacks[3]},not-a-number,${at.lat},2020-03-01\r\nSHEET-2,群租房,${attacks[1]},${at.lon},${at.lat},2020-03-01\r\n`
    const up = await t.app.inject({ method: 'POST', url: '/api/imports?kind=premises&fileName=f.csv', headers: { cookie: cookie.commander!, 'content-type': 'text/csv' }, payload: file })
    expect(up.statusCode, up.body).toBe(201)
    const id = up.json().id as string
    const mapping = { ref: '台账编号', kind: '类型', address: '地址', lon: '经度', lat: '纬度', foundOn: '发现日期' }
    await t.app.inject({ method: 'POST', url: `/api/imports/${id}/dry-run`, headers: { cookie: cookie.commander! }, payload: { mapping, crs: 'wgs84' } })
    for (let i = 0; i < 200; i++) {
      if ((await t.app.inject({ url: `/api/imports/${id}`, headers: { cookie: cookie.commander! } })).json().status !== 'checking') break
      await new Promise(r => setTimeout(r, 50))
    }
    await check(await t.app.inject({ url: `/api/imports/${id}/errors`, headers: { cookie: cookie.commander! } }), 'csv', [])
    await check(await t.app.inject({ url: `/api/imports/${id}/changes`, headers: { cookie: cookie.commander! } }), 'csv', [attacks[1]!])
  })

  // Last, after every file above has been checked.
  it('has checked the files of every route whose format may be CSV or XLSX (its schema says so), and the import reports', () => {
    type Query = { properties?: { format?: unknown } } | undefined
    const byFormat = t.app.routeTable
      .filter(r => r.method === 'GET' && /"(csv|xlsx)"/.test(JSON.stringify((r.schema?.querystring as Query)?.properties?.format ?? null)))
      .map(r => `GET ${r.url}`)
    expect(byFormat.length).toBeGreaterThanOrEqual(9)
    const files = [...byFormat, 'GET /api/imports/:id/errors', 'GET /api/imports/:id/changes']
    expect(files.filter(k => !checked.has(k)), 'routes that write files no test above has checked').toEqual([])
  })
})
