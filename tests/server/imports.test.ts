import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromWgs84 } from '../../server/domain/coords.js'
import { residentIdCheckChar } from '../../server/domain/id-number.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

let t: TestApp
let bureau: string
let commander: string
/** Points well inside the commander's town and inside another town (WGS-84). */
const at = { town: [0, 0] as [number, number], other: [0, 0] as [number, number] }

beforeAll(async () => {
  // Small batches and a low bulk threshold, so that the set-wise write path runs too: a commit of 120
  // rows writes its first batch with the row triggers on, then switches (see the bulk test).
  t = await buildTestApp({ imports: { bulkRows: 50, batchRows: 40 } })
  bureau = await signIn(t.app, 'bureau')
  commander = await signIn(t.app, 'commander')
  const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
  const pt = async (where: ReturnType<typeof t.db.sql>) => {
    const [p] = await t.db.sql<{ lon: number; lat: number }[]>`
      select st_x(p) as lon, st_y(p) as lat from (select st_pointonsurface(st_buffer(geom, -0.004)) as p from admin_area where ${where} order by id limit 1) s`
    return [p!.lon, p!.lat] as [number, number]
  }
  at.town = await pt(t.db.sql`id = ${town!.id}`)
  at.other = await pt(t.db.sql`level = 'town' and valid_to is null and id <> ${town!.id}`)
})
afterAll(() => t.close())

const csv = (rows: (string | number)[][]) => `\uFEFF${rows.map(r => r.map(c => (/[",\n]/.test(String(c)) ? `"${String(c).replace(/"/g, '""')}"` : String(c))).join(',')).join('\r\n')}\r\n`

/** A resident ID with a right check digit (or a wrong one). */
function residentId(seq: number, wrong = false): string {
  const first17 = `320411199${String(seq % 10)}0${(seq % 9) + 1}1${String(seq % 10)}${String(100 + seq).slice(-3)}`.slice(0, 17)
  const check = residentIdCheckChar(first17)
  return first17 + (wrong ? (check === '1' ? '2' : '1') : check)
}

interface Job {
  id: string; status: string; summary: null | Record<string, number | boolean>; errors: { line: number; column: string; value: string; reason: string }[]
  errorCount: number; message: string | null; suggestedMapping: Record<string, string>
  changes: { line: number; ref: string; action: string; label: string; fields: { field: string; before: string; after: string }[] }[]; changeCount: number
}

async function upload(kind: string, body: string | Buffer, cookie = bureau, fileName = `${kind}.csv`): Promise<Job> {
  const res = await t.app.inject({
    method: 'POST', url: `/api/imports?kind=${kind}&fileName=${encodeURIComponent(fileName)}`, headers: { cookie, 'content-type': typeof body === 'string' ? 'text/csv' : 'application/octet-stream' },
    payload: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

/** Starts a dry run or a commit and polls the job, as the page does, until it settles. */
async function run(job: Job, what: 'dry-run' | 'commit', crs = 'wgs84', cookie = bureau, mapping = job.suggestedMapping): Promise<Job> {
  const res = await t.app.inject({ method: 'POST', url: `/api/imports/${job.id}/${what}`, headers: { cookie }, payload: { mapping, crs } })
  expect(res.statusCode, res.body).toBe(202)
  for (let i = 0; i < 600; i++) {
    const s = (await t.app.inject({ url: `/api/imports/${job.id}`, headers: { cookie } })).json() as Job
    if (!['checking', 'committing'].includes(s.status)) return s
    await new Promise(r => setTimeout(r, 50))
  }
  throw new Error('the import did not settle')
}

/** Why a job ended as it did, for an assertion's message. */
const why = (job: Job) => JSON.stringify({ message: job.message, errors: job.errors })

const heading = ['台账编号', '类型', '地址', '经度', '纬度', '出租间数', '出租床位数', '居住人数', '出租人', '出租人电话', '签订责任书日期', '发现日期', '登记日期']
const premisesRow = (ref: string, [lon, lat]: [number, number], extra: Partial<Record<'kind' | 'rooms' | 'found' | 'registered', string>> = {}) =>
  [ref, extra.kind ?? '群租房', `导入测试路${ref}号`, lon.toFixed(6), lat.toFixed(6), extra.rooms ?? '12', '', '14', '王某某', '13800000000', '2020-01-10',
    extra.found ?? '2020-01-05', extra.registered ?? '2020-01-08']
/**
 * Every table the row triggers keep — tile cells, daily changes of the measures and hazards, each
 * premises' hazard summary — equals what the set-wise rebuilds make from the raw rows (run in a
 * transaction that is rolled back).
 */
async function expectDerivedAsRebuilt() {
  type Db = typeof t.db.sql
  const read = async (db: Db) => ({
    measures: await db`select * from measure_delta where (gr_found, gr_registered, res_counted, res_registered, ev_gr_res_registered, ev_gr_res_deregistered,
      ev_floating_registered, ev_floating_deregistered, ev_gr_registered, ev_gr_deregistered, ev_statements_signed, ev_second_landlords) <> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
      order by day, town_id, police_station_id, kind`,
    hazards: await db`select * from hazard_delta where (found, rectified, major_found, major_rectified, overdue) <> (0, 0, 0, 0, 0)
      order by day, town_id, police_station_id, kind, category_code, department_code`,
    cells: await db`select cx, cy, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline, n, sum_x, sum_y from premises_cell
      where n > 0 order by 1, 2, 3, 4, 5, 6, 7, 8, 9`,
    // The same cells eight by eight and two by two (migrations 046, 053), kept by triggers on premises_cell.
    cells8: await db`select cx, cy, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline, n, sum_x, sum_y
      from premises_cell8 order by 1, 2, 3, 4, 5, 6, 7, 8, 9`,
    cells2: await db`select cx, cy, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline, n, sum_x, sum_y
      from premises_cell2 order by 1, 2, 3, 4, 5, 6, 7, 8, 9`,
    // The cells of premises with hazards by category, and theirs two by two and eight by eight (migration 055).
    catCells: await db`select cx, cy, categories, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline,
      n, sum_x, sum_y from premises_cat_cell order by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10`,
    catCells2: await db`select cx, cy, categories, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline,
      n, sum_x, sum_y from premises_cat_cell2 order by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10`,
    catCells8: await db`select cx, cy, categories, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline,
      n, sum_x, sum_y from premises_cat_cell8 order by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10`,
    summaries: await db`select id, hazard_count, open_count, open_major_count, open_min_deadline, first_public_security_found_on,
      first_fire_found_on, first_housing_found_on, first_other_found_on from premises order by id`,
    // The key-area cells' events (attachment 4, migration 040), kept by refresh_premises_cell_days.
    events: await db`select c.cx, c.cy, c.town_id, c.police_station_id, e.day, e.event::text as event, e.n
      from premises_cell_event c cross join unnest(c.days, c.events, c.counts) as e(day, event, n) order by 1, 2, 3, 4, 5, 6`,
  })
  const live = await read(t.db.sql)
  let rebuilt: Awaited<ReturnType<typeof read>> | undefined
  await t.db.sql.begin(async (tx) => {
    await tx`select refresh_all_hazard_summaries()`
    await tx`select refresh_premises_cells()`
    await tx`select refresh_measure_deltas()`
    await tx`select refresh_all_premises_cell_events()`
    rebuilt = await read(tx as unknown as Db)
    throw new Error('rolled back')
  }).catch((e: Error) => { if (e.message !== 'rolled back') throw e })
  expect(live.measures).toEqual(rebuilt!.measures)
  expect(live.hazards).toEqual(rebuilt!.hazards)
  expect(live.summaries).toEqual(rebuilt!.summaries)
  expect(live.events).toEqual(rebuilt!.events)
  // Cell sums are floating point, added up in another order: equal to the millimetre.
  const key = (c: Record<string, unknown>) => JSON.stringify({ ...c, sumX: undefined, sumY: undefined })
  expect(live.cells.map(key)).toEqual(rebuilt!.cells.map(key))
  live.cells.forEach((c, i) => {
    expect(Math.abs(c.sumX - rebuilt!.cells[i]!.sumX)).toBeLessThan(1e-3)
    expect(Math.abs(c.sumY - rebuilt!.cells[i]!.sumY)).toBeLessThan(1e-3)
  })
  for (const table of ['cells8', 'cells2', 'catCells', 'catCells2', 'catCells8'] as const) {
    expect(live[table].map(key), table).toEqual(rebuilt![table].map(key))
    live[table].forEach((c, i) => {
      expect(Math.abs(c.sumX - rebuilt![table][i]!.sumX)).toBeLessThan(1e-3)
      expect(Math.abs(c.sumY - rebuilt![table][i]!.sumY)).toBeLessThan(1e-3)
    })
  }
}

const counts = async () => (await t.db.sql<{ p: number; r: number; h: number; v: number }[]>`
  select (select count(*)::int from premises) as p, (select count(*)::int from resident) as r, (select count(*)::int from hazard) as h,
         (select version::int from data_version) as v`)[0]!

describe('templates', () => {
  it('give the headings, an example and how to fill them in', async () => {
    const res = await t.app.inject({ url: '/api/imports/templates/hazards?format=xlsx', headers: { cookie: bureau } })
    expect(res.statusCode).toBe(200)
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer)
    expect(wb.worksheets.map(w => w.name)).toEqual(['台账', '填写说明', '隐患字典'])
    expect(wb.worksheets[0]!.getRow(1).values).toContain('隐患字典项')
    expect(wb.worksheets[2]!.actualRowCount).toBeGreaterThan(30)
    const c = await t.app.inject({ url: '/api/imports/templates/premises?format=csv', headers: { cookie: bureau } })
    expect(c.body.replace(/^\uFEFF/, '').split('\r\n')[0]).toMatch(/^台账编号,类型,地址,经度,纬度/)
  })
})

describe('importing premises', () => {
  it('dry-runs, commits all rows, and changes nothing when the same file comes again', async () => {
    const file = csv([heading, ...[1, 2, 3, 4, 5].map(i => premisesRow(`T-${i}`, [at.town[0] + i * 0.0004, at.town[1]]))])
    const job = await upload('premises', file)
    expect(job.suggestedMapping).toMatchObject({ ref: '台账编号', kind: '类型', lon: '经度', lat: '纬度', foundOn: '发现日期' })
    const before = await counts()
    const dry = await run(job, 'dry-run')
    expect(dry.status).toBe('validated')
    expect(dry.summary).toMatchObject({ rows: 5, valid: 5, invalid: 0, create: 5, update: 0, unchanged: 0, committed: false })
    expect(dry.changes.map(c => [c.line, c.ref, c.action, c.label])).toEqual([1, 2, 3, 4, 5].map(i => [i + 1, `T-${i}`, 'create', `导入测试路T-${i}号`]))
    expect((await counts()).p).toBe(before.p)
    // The app's own write, though a background job's: the versions it keeps are forgotten at its
    // commit (read again once), not left to wait for the database's announcement.
    await t.app.versions.current('data')
    const reads = t.app.versions.reads()
    const done = await run(dry, 'commit')
    expect(done.status, done.message ?? '').toBe('committed')
    await t.app.versions.current('data')
    expect(t.app.versions.reads()).toBeGreaterThan(reads)
    const rows = await t.db.sql<{ externalRef: string; townId: number; policeStationId: number | null; kind: string }[]>`
      select external_ref, town_id, police_station_id, kind from premises where external_ref like 'T-%' order by external_ref`
    expect(rows.map(r => r.externalRef)).toEqual(['T-1', 'T-2', 'T-3', 'T-4', 'T-5'])
    expect(rows.every(r => r.townId > 0 && r.kind === 'group_rental')).toBe(true)
    const after = await counts()
    expect(after.p).toBe(before.p + 5)

    // The same file again: every row unchanged, nothing written (not even the map's data version).
    const again = await upload('premises', file)
    const dry2 = await run(again, 'dry-run')
    expect(dry2.summary).toMatchObject({ create: 0, update: 0, unchanged: 5 })
    expect(dry2).toMatchObject({ changes: [], changeCount: 0 })
    const [stamp] = await t.db.sql<{ max: Date }[]>`select max(updated_at) as max from premises where external_ref like 'T-%'`
    const done2 = await run(dry2, 'commit')
    expect(done2.status).toBe('committed')
    expect(await counts()).toEqual(after)
    const [stamp2] = await t.db.sql<{ max: Date }[]>`select max(updated_at) as max from premises where external_ref like 'T-%'`
    expect(stamp2!.max).toEqual(stamp!.max)

    // One row changed: one update.
    const changed = csv([heading, ...[1, 2, 3, 4, 5].map(i => premisesRow(`T-${i}`, [at.town[0] + i * 0.0004, at.town[1]], i === 3 ? { rooms: '15', kind: '出租房屋', registered: '2020/2/1' } : {}))])
    const dry3 = await run(await upload('premises', changed), 'dry-run')
    expect(dry3.summary).toMatchObject({ create: 0, update: 1, unchanged: 4 })
    // The dry run says which fields would change, from what to what, as the ledger writes them.
    expect(dry3.changes).toEqual([{ line: 4, ref: 'T-3', action: 'update', label: '导入测试路T-3号', fields: [
      { field: 'kind', before: '群租房', after: '出租房屋' },
      { field: 'roomsLet', before: '12', after: '15' },
      { field: 'registeredOn', before: '2020-01-08', after: '2020-02-01' },
    ] }])
    const report = await t.app.inject({ url: `/api/imports/${dry3.id}/changes`, headers: { cookie: bureau } })
    expect(report.body.replace(/^\uFEFF/, '').trim().split('\r\n')).toEqual([
      '行号 line,台账编号 ref,变更 change,记录 record,字段 field,原值 before,新值 after',
      '4,T-3,更新 update,导入测试路T-3号,类型 Kind,群租房,出租房屋',
      '4,T-3,更新 update,导入测试路T-3号,出租间数 Rooms let,12,15',
      '4,T-3,更新 update,导入测试路T-3号,登记日期 Registered on,2020-01-08,2020-02-01',
    ])
    expect((await run(dry3, 'commit')).status).toBe('committed')
    expect((await t.db.sql`select rooms_let from premises where external_ref = 'T-3'`)[0]!.roomsLet).toBe(15)
  })

  it('reports every bad row with its line and reason, and writes nothing', async () => {
    const file = csv([
      heading,
      premisesRow('B-1', at.town),
      premisesRow('B-2', [at.town[1], at.town[0]]), // swapped
      premisesRow('B-3', [121.5, 31.2]), // Shanghai: in China, outside the district
      premisesRow('B-4', at.town, { kind: '别墅' }),
      premisesRow('B-5', at.town, { found: '2020-02-30' }),
      premisesRow('B-6', at.town, { found: '2020-03-01', registered: '2020-02-01' }),
      premisesRow('B-1', at.town), // duplicate ref
      ['', '群租房', '', at.town[0], at.town[1], 'x', '', '', '', '', '', '', ''],
    ])
    const before = await counts()
    const job = await run(await upload('premises', file), 'commit')
    expect(job.status).toBe('validated')
    expect(job.message).toMatch(/nothing was written/)
    expect(await counts()).toEqual(before)
    const reasons = (line: number) => job.errors.filter(e => e.line === line).map(e => e.reason).join(' | ')
    expect(reasons(2)).toBe('')
    expect(reasons(3)).toMatch(/swapped/)
    expect(reasons(4)).toMatch(/outside the district/)
    expect(reasons(5)).toMatch(/not a known kind/)
    expect(reasons(6)).toMatch(/not a date/)
    expect(reasons(7)).toMatch(/before the day found/)
    expect(reasons(8)).toMatch(/same ledger ref as line 2/)
    expect(reasons(9)).toMatch(/required, but empty/)
    expect(reasons(9)).toMatch(/not a whole number/)
    expect(job.summary).toMatchObject({ rows: 8, valid: 1, invalid: 7 })
    // The error report lists them all.
    const report = await t.app.inject({ url: `/api/imports/${job.id}/errors`, headers: { cookie: bureau } })
    const lines = report.body.replace(/^\uFEFF/, '').trim().split('\r\n')
    expect(lines[0]).toBe('行号 line,列 column,内容 value,问题 reason')
    expect(lines.length - 1).toBe(job.errorCount)
    expect(lines.some(l => l.startsWith('4,经度,'))).toBe(true)
  })

  it('puts GCJ-02 rows where their WGS-84 position is', async () => {
    const wgs: [number, number] = [at.town[0] + 0.003, at.town[1] + 0.001]
    const gcj = fromWgs84(wgs[0], wgs[1], 'gcj02')
    // GCJ-02 is hundreds of metres off here: read as WGS-84 the row would land elsewhere.
    expect(Math.hypot(gcj[0] - wgs[0], gcj[1] - wgs[1])).toBeGreaterThan(0.002)
    const job = await run(await upload('premises', csv([heading, premisesRow('G-1', [gcj[0], gcj[1]])])), 'commit', 'gcj02')
    expect(job.status, why(job)).toBe('committed')
    const [p] = await t.db.sql<{ lon: number; lat: number }[]>`select st_x(geom) as lon, st_y(geom) as lat from premises where external_ref = 'G-1'`
    expect(Math.abs(p!.lon - wgs[0])).toBeLessThan(2e-6)
    expect(Math.abs(p!.lat - wgs[1])).toBeLessThan(2e-6)
  })

  it('reads GB18030 CSV from Excel on Chinese Windows, and XLSX with date cells', async () => {
    const text = csv([heading, premisesRow('E-1', [at.town[0] - 0.001, at.town[1] - 0.001])]).replace(/^\uFEFF/, '')
    // Node has no GB18030 encoder: the few characters of this file are written byte by byte.
    const gb: Record<string, number[]> = {}
    for (const ch of new Set(text)) if (ch.charCodeAt(0) > 127) gb[ch] = gbk(ch)
    const bytes = Buffer.from([...text].flatMap(ch => gb[ch] ?? [ch.charCodeAt(0)]))
    const job = await run(await upload('premises', bytes), 'commit')
    expect(job.status, why(job)).toBe('committed')
    expect((await t.db.sql`select address from premises where external_ref = 'E-1'`)[0]!.address).toBe('导入测试路E-1号')

    const wb = new ExcelJS.Workbook()
    const ws = wb.addWorksheet('台账')
    ws.addRow(heading)
    ws.addRow(['X-1', '民宿', '导入测试路X-1号', at.town[0] - 0.002, at.town[1], 3, 4, 5, '', '', new Date(Date.UTC(2020, 0, 10)), new Date(Date.UTC(2020, 0, 5)), ''])
    const xjob = await run(await upload('premises', Buffer.from(await wb.xlsx.writeBuffer()), bureau, 'ledger.xlsx'), 'commit')
    expect(xjob.status, why(xjob)).toBe('committed')
    const [x] = await t.db.sql<{ kind: string; foundOn: string; statementSignedOn: string }[]>`
      select kind, found_on, statement_signed_on from premises where external_ref = 'X-1'`
    expect(x).toEqual({ kind: 'homestay', foundOn: '2020-01-05', statementSignedOn: '2020-01-10' })
  })

  it('keeps a town user to the town', async () => {
    const job = await run(await upload('premises', csv([heading, premisesRow('J-1', at.other)]), commander), 'commit', 'wgs84', commander)
    expect(job.errors[0]?.reason).toMatch(/outside your jurisdiction/)
    expect(job.status).toBe('validated')
    // Inside the town, the same user's commit goes through, and a second one updates what the first wrote.
    const inside = await run(await upload('premises', csv([heading, premisesRow('J-2', at.town)]), commander), 'commit', 'wgs84', commander)
    expect(inside.status, inside.message ?? '').toBe('committed')
    const again = await run(await upload('premises', csv([heading, premisesRow('J-2', at.town, { rooms: '20' })]), commander), 'commit', 'wgs84', commander)
    expect(again.summary).toMatchObject({ update: 1, create: 0 })
    expect((await t.db.sql`select rooms_let from premises where external_ref = 'J-2'`)[0]!.roomsLet).toBe(20)
  })
})

/** GB18030 bytes of a character (the test's own small table: GBK code of each character used). */
function gbk(ch: string): number[] {
  const codes: Record<string, number> = {
    台: 0xCCA8, 账: 0xD5CB, 编: 0xB1E0, 号: 0xBAC5, 类: 0xC0E0, 型: 0xD0CD, 地: 0xB5D8, 址: 0xD6B7, 经: 0xBEAD, 度: 0xB6C8, 纬: 0xCEB3,
    出: 0xB3F6, 租: 0xD7E2, 间: 0xBCE4, 数: 0xCAFD, 床: 0xB4B2, 位: 0xCEBB, 居: 0xBED3, 住: 0xD7A1, 人: 0xC8CB, 电: 0xB5E7, 话: 0xBBB0,
    签: 0xC7A9, 订: 0xB6A9, 责: 0xD4F0, 任: 0xC8CE, 书: 0xCAE9, 日: 0xC8D5, 期: 0xC6DA, 发: 0xB7A2, 现: 0xCFD6, 登: 0xB5C7, 记: 0xBCC7,
    群: 0xC8BA, 房: 0xB7BF, 导: 0xB5BC, 入: 0xC8EB, 测: 0xB2E2, 试: 0xCAD4, 路: 0xC2B7, 王: 0xCDF5, 某: 0xC4B3,
  }
  const c = codes[ch]
  if (!c) throw new Error(`no GBK code for ${ch} in the test table`)
  return [c >> 8, c & 0xFF]
}

describe('importing residents and hazards', () => {
  it('adds residents to imported premises, checking ID numbers', async () => {
    const head = ['房屋台账编号', '姓名', '证件类型', '证件号码', '联系电话', '流动人口', '入住日期', '居住登记日期']
    const good = [residentId(1), residentId(2), residentId(3)]
    const file = csv([
      head,
      ['T-1', '张一', '居民身份证', good[0]!, '13900000001', '是', '2019-12-01', '2020-01-08'],
      ['T-1', '张二', '', good[1]!, '', '否', '2019-12-01', ''],
      ['T-2', '张三', '居民身份证', good[2]!, '', '是', '2019-12-01', '2020-01-09'],
      ['T-2', '张四', '居民身份证', residentId(4, true), '', '是', '2019-12-01', ''],
      ['NOPE', '张五', '护照', 'E12345678', '', '是', '2019-12-01', ''],
      ['T-1', '张一', '居民身份证', good[0]!, '', '是', '2019-12-01', ''],
    ])
    const bad = await run(await upload('residents', file), 'dry-run')
    const reasons = Object.fromEntries([5, 6, 7].map(l => [l, bad.errors.filter(e => e.line === l).map(e => e.reason).join(' | ')]))
    expect(reasons[5]).toMatch(/check digit/)
    expect(reasons[6]).toMatch(/no premises has this ledger ref/)
    expect(reasons[7]).toMatch(/same person in the same premises as line 2/)
    // The report shows enough of a wrong ID number to find the row, not the whole number.
    expect(bad.errors.find(e => e.line === 5)!.value).toMatch(/\*{4}/)

    const ok = await run(await upload('residents', csv([head, ...file.split('\r\n').slice(1, 4).map(l => l.split(','))])), 'commit')
    expect(ok.status, JSON.stringify(ok.errors)).toBe('committed')
    expect(ok.summary).toMatchObject({ create: 3 })
    const rows = await t.db.sql<{ name: string; floating: boolean; idNumberMasked: string }[]>`
      select r.name, r.floating, r.id_number_masked from resident r join premises p on p.id = r.premises_id
      where p.external_ref in ('T-1', 'T-2') order by r.name`
    expect(rows.map(r => r.name)).toEqual(['张一', '张三', '张二'])
    expect(rows.find(r => r.name === '张二')!.floating).toBe(false)
    const again = await run(await upload('residents', csv([head, ...file.split('\r\n').slice(1, 4).map(l => l.split(','))])), 'dry-run')
    expect(again.summary).toMatchObject({ create: 0, unchanged: 3 })
  })

  it('adds hazards by dictionary code or wording, with their history and the premises\' summary', async () => {
    const head = ['房屋台账编号', '隐患字典项', '其他说明', '隐患等级', '发现日期', '交办日期', '整改日期', '整改期限']
    const [{ nameZh }] = await t.db.sql<{ nameZh: string }[]>`select name_zh from hazard_item where code = 'FIRE-05'` as unknown as [{ nameZh: string }]
    const [other] = await t.db.sql<{ code: string }[]>`select code from hazard_item where needs_text order by code limit 1`
    const file = csv([
      head,
      ['T-4', 'FIRE-08', '', '重大', '2020-02-03 09:30', '2020-02-04', '', '2020-03-01'],
      ['T-4', nameZh, '', '一般', '2020-02-03', '', '2020-02-10', '2020-02-20'],
      ['T-5', 'FIRE-99', '', '', '2020-02-03', '', '', ''],
      ['T-5', other!.code, '', '', '2020-02-03', '', '', ''],
      ['T-5', 'FIRE-01', '', '', '2020-02-03', '2020-02-01', '', '2020-01-01'],
    ])
    const bad = await run(await upload('hazards', file), 'dry-run')
    expect(bad.errors.filter(e => e.line === 4).map(e => e.reason).join()).toMatch(/not an item of the hazard dictionary/)
    expect(bad.errors.filter(e => e.line === 5).map(e => e.reason).join()).toMatch(/describe the hazard/)
    expect(bad.errors.filter(e => e.line === 6).map(e => e.reason).join(' | ')).toMatch(/before the day found.*\| .*before the day found/)

    const good = csv([head, ...file.split('\r\n').slice(1, 3).map(l => l.split(','))])
    const ok = await run(await upload('hazards', good), 'commit')
    expect(ok.status, JSON.stringify(ok.errors)).toBe('committed')
    const hz = await t.db.sql<{ itemCode: string; severity: string; status: string; foundAt: Date; events: number }[]>`
      select h.item_code, h.severity, h.status, h.found_at, (select count(*)::int from hazard_event e where e.hazard_id = h.id) as events
      from hazard h join premises p on p.id = h.premises_id where p.external_ref = 'T-4' order by h.item_code`
    expect(hz).toEqual([
      { itemCode: 'FIRE-05', severity: 'general', status: 'rectified', foundAt: new Date('2020-02-03T04:00:00Z'), events: 2 },
      { itemCode: 'FIRE-08', severity: 'major', status: 'referred', foundAt: new Date('2020-02-03T01:30:00Z'), events: 2 },
    ])
    const [p] = await t.db.sql<{ hazardCount: number; openCount: number; openMajorCount: number }[]>`
      select hazard_count, open_count, open_major_count from premises where external_ref = 'T-4'`
    expect(p).toEqual({ hazardCount: 2, openCount: 1, openMajorCount: 1 })
    expect((await run(await upload('hazards', good), 'dry-run')).summary).toMatchObject({ unchanged: 2, create: 0 })
    // Rectified after all: the dry run shows the moment it gains, in the district's time.
    const later = csv([head, ['T-4', 'FIRE-08', '', '重大', '2020-02-03 09:30', '2020-02-04', '2020-02-20 16:05', '2020-03-01']])
    const dry = await run(await upload('hazards', later), 'dry-run')
    expect(dry.changes).toEqual([{ line: 2, ref: 'T-4', action: 'update', label: 'FIRE-08', fields: [{ field: 'rectifiedAt', before: '', after: '2020-02-20 16:05' }] }])
  })
})

describe('a large import', () => {
  it('rolls back the batches already written when a later row has a problem', async () => {
    const before = await counts()
    const rows = Array.from({ length: 100 }, (_, i) => premisesRow(`R-${i}`, [at.town[0] - 0.003 + (i % 10) * 0.0003, at.town[1] + 0.001 + Math.floor(i / 10) * 0.0003],
      i === 95 ? { found: '2020-02-30' } : {}))
    const job = await run(await upload('premises', csv([heading, ...rows])), 'commit')
    expect(job.status).toBe('validated')
    expect(job.errors.map(e => e.line)).toEqual([97])
    expect(job.message).toMatch(/nothing was written: 1 row problem/)
    expect(await counts()).toEqual(before)
    // The switch to the set-wise path (after the second batch) was rolled back with the rows.
    expect(await t.db.sql`select tgname from pg_trigger where tgrelid = 'premises'::regclass and not tgisinternal and tgenabled = 'D'`).toEqual([])
  })


  it('keeps every table the triggers derive equal to a rebuild from the raw rows, through set-wise creates, updates and moves of all three ledgers', async () => {
    const near = ([lon, lat]: [number, number], i: number): [number, number] => [lon - 0.003 + (i % 10) * 0.0006, lat - 0.003 + Math.floor(i / 10) * 0.0006]
    const n = 60 // above the file's bulk threshold of 50: every commit below merges set-wise
    const commit = async (kind: string, rows: (string | number)[][]) => {
      const job = await run(await upload(kind, csv(rows)), 'commit')
      expect(job.status, `${job.message} ${JSON.stringify(job.errors.slice(0, 3))}`).toBe('committed')
      return job
    }
    const premises = (moved: boolean) => [heading, ...Array.from({ length: n }, (_, i) => premisesRow(`D-${i}`, near(moved && i < 20 ? at.other : at.town, i), moved
      ? { kind: i >= 20 && i < 40 ? '出租房屋' : '群租房', rooms: i >= 20 && i < 40 ? '3' : '12', registered: i >= 40 ? '2020-03-01' : '2020-01-08' }
      : { kind: i % 2 ? '群租房' : '出租房屋', rooms: i % 3 ? '12' : '4', found: `2020-01-${String(5 + (i % 20)).padStart(2, '0')}`, registered: i % 2 ? '2020-02-01' : '' }))]
    const residentsHead = ['房屋台账编号', '姓名', '证件类型', '证件号码', '流动人口', '入住日期', '搬离日期', '居住登记日期', '注销日期']
    const residents = (changed: boolean) => [residentsHead, ...Array.from({ length: n }, (_, i) => [`D-${i}`, `居民${i}`, '居民身份证', residentId(500 + i), i % 4 ? '是' : '否',
      '2019-12-01', changed && i % 3 === 0 ? '2020-04-01' : '', changed || i % 2 ? '2020-01-20' : '', changed && i % 5 === 0 ? '2020-05-01' : ''])]
    const hazardsHead = ['房屋台账编号', '隐患编号', '隐患字典项', '隐患等级', '发现日期', '交办日期', '整改日期', '整改期限']
    const hazards = (changed: boolean) => [hazardsHead, ...Array.from({ length: n }, (_, i) => [changed && i >= 50 ? 'D-0' : `D-${i}`, `DH-${i}`,
      i % 2 ? 'FIRE-08' : 'PS-01', (changed && i >= 30) !== (i % 3 === 0) ? '重大' : '一般', `2020-02-${String(1 + (i % 20)).padStart(2, '0')}`,
      i % 4 ? '' : '2020-02-25', (changed && i < 30) || i % 5 === 0 ? '2020-03-10' : '', '2020-03-01'])]

    await commit('premises', premises(false))
    await expectDerivedAsRebuilt()
    await commit('residents', residents(false))
    await expectDerivedAsRebuilt()
    await commit('hazards', hazards(false))
    await expectDerivedAsRebuilt()
    // Premises move town, change kind and rule, get registered: their residents' and hazards' changes follow them.
    const moved = await commit('premises', premises(true))
    expect(moved.summary).toMatchObject({ update: n, create: 0 })
    await expectDerivedAsRebuilt()
    await commit('residents', residents(true))
    await expectDerivedAsRebuilt()
    // Hazards rectified, made major or minor, and moved to another premises.
    const later = await commit('hazards', hazards(true))
    expect(later.summary).toMatchObject({ create: 0 })
    await expectDerivedAsRebuilt()
    // Each step a hazard has reached has its one event in the history, written once.
    const steps = await t.db.sql<{ ref: string; missing: number; extra: number }[]>`
      select h.external_ref as ref,
             (select count(*)::int from (values ('found', h.found_at), ('referred', h.referred_at), ('rectified', h.rectified_at), ('verified', h.verified_at)) v(s, at)
              where v.at is not null and not exists (select 1 from hazard_event e where e.hazard_id = h.id and e.status = v.s and e.at = v.at)) as missing,
             (select count(*)::int - count(distinct e.status)::int from hazard_event e where e.hazard_id = h.id) as extra
      from hazard h where h.external_ref like 'DH-%'`
    expect(steps).toHaveLength(n)
    expect(steps.filter(s => s.missing || s.extra)).toEqual([])
  })

  it('writes set-wise above the bulk threshold and leaves the measures, tiles and triggers as the row path would', async () => {
    const rows = Array.from({ length: 120 }, (_, i) => premisesRow(`L-${i}`, [at.town[0] - 0.003 + (i % 12) * 0.0003, at.town[1] - 0.002 + Math.floor(i / 12) * 0.0003],
      { kind: i % 3 ? '群租房' : '出租房屋', registered: i % 3 ? '2020-01-08' : '' }))
    const job = await run(await upload('premises', csv([heading, ...rows])), 'commit')
    expect(job.status, job.message ?? '').toBe('committed')
    expect(job.summary).toMatchObject({ create: 120 })
    // The change tables agree with the rows, the tile cells hold every premises, the triggers are back on.
    const summary = (await t.app.inject({ url: '/api/stats/summary?asOf=2020-06-30', headers: { cookie: bureau } })).json()
    const [{ n }] = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from premises where (kind = 'group_rental' or (kind = 'rental' and meets_rule)) and found_on <= '2020-06-30'
        and (deregistered_on is null or deregistered_on > '2020-06-30')` as unknown as [{ n: number }]
    expect(summary.district.counts.groupRentalsFound).toBe(n)
    const [cells] = await t.db.sql<{ inCells: number; all: number }[]>`select (select sum(n)::int from premises_cell) as in_cells, (select count(*)::int from premises) as all`
    expect(cells!.inCells).toBe(cells!.all)
    const disabled = await t.db.sql`select tgname from pg_trigger where tgrelid in ('premises'::regclass, 'hazard'::regclass, 'resident'::regclass) and not tgisinternal and tgenabled = 'D'`
    expect(disabled).toEqual([])
  })
})
