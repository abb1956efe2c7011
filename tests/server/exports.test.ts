import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { parseCsv } from '../helpers/csv.js'
import { factory } from '../helpers/factory.js'

let t: TestApp
let analyst: string
let commander: string
let townId: number

beforeAll(async () => {
  t = await buildTestApp()
  analyst = await signIn(t.app, 'analyst')
  commander = await signIn(t.app, 'commander')
  townId = (await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`)[0]!.id
})
afterAll(() => t.close())

describe('exports of premises', () => {
  it('gives an analyst the whole district as CSV with a byte-order mark, without owners or landlords', async () => {
    const res = await t.app.inject({ url: '/api/exports/premises?format=csv', headers: { cookie: analyst } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toContain('text/csv')
    expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xEF, 0xBB, 0xBF]))
    const rows = parseCsv(res.rawPayload.subarray(3).toString('utf8'))
    const [{ n }] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from premises` as unknown as [{ n: number }]
    expect(rows.length - 1).toBe(n)
    expect(rows[0]).toContain('地址 address')
    expect(rows[0]!.join()).not.toMatch(/owner|landlord|出租人|二房东/)
    // Ids in order, each once (paged reads neither skip nor repeat).
    const ids = rows.slice(1).map(r => Number(r[0]))
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
  })

  it('gives a town commander exactly the town\'s premises, with their owners and second landlords', async () => {
    // Two towns of the factory's beside the demo district: the commander's, and a neighbour with premises of the same kind.
    const f = factory(t.db)
    const [mine, neighbour] = [await f.town(), await f.town()]
    const station = await f.policeStation({ area: [mine.box, neighbour.box] })
    const made = [
      await f.premises({ town: mine, kind: 'group_rental', ownerName: '甲房东', ownerPhone: '13900000001', secondLandlordName: '甲二房东', secondLandlordPhone: '13900000002' }),
      await f.premises({ town: mine, kind: 'group_rental', ownerName: '乙房东', ownerPhone: null }),
      await f.premises({ town: neighbour, kind: 'group_rental', ownerName: '邻镇房东' }),
    ]
    expect(made.map(p => p.policeStationId)).toEqual([station.id, station.id, station.id])
    const u = await f.user({ role: 'commander', town: mine })
    const res = await t.app.inject({ url: '/api/exports/premises?format=csv&kind=group_rental', headers: { cookie: await signIn(t.app, u.username, u.password) } })
    expect(res.statusCode).toBe(200)
    const [head, ...rows] = parseCsv(res.rawPayload.subarray(3).toString('utf8'))
    const people = ['出租人 owner', '出租人电话 owner phone', '二房东 second landlord', '二房东电话 phone'].map(h => head!.indexOf(h))
    expect(people.every(i => i > 0)).toBe(true)
    expect(rows.map(r => [Number(r[0]), ...people.map(i => r[i])])).toEqual([
      [made[0]!.id, '甲房东', '13900000001', '甲二房东', '13900000002'],
      [made[1]!.id, '乙房东', '', '', ''],
    ])
  })

  it('writes GeoJSON points and an XLSX sheet with the same rows', async () => {
    const q = 'kind=homestay,care_home&status=open_major,overdue'
    const gj = await t.app.inject({ url: `/api/exports/premises?format=geojson&${q}`, headers: { cookie: analyst } })
    expect(gj.headers['content-type']).toContain('application/geo+json')
    const fc = gj.json()
    expect(fc.type).toBe('FeatureCollection')
    expect(fc.features.length).toBeGreaterThan(0)
    for (const f of fc.features) {
      expect(f.geometry.type).toBe('Point')
      expect(f.geometry.coordinates).toHaveLength(2)
      expect(['open_major', 'overdue']).toContain(f.properties.status)
    }
    const counts = (await t.app.inject({ url: `/api/premises/counts?${q}`, headers: { cookie: analyst } })).json()
    expect(fc.features.length).toBe(counts.total)
    const x = await t.app.inject({ url: `/api/exports/premises?format=xlsx&${q}`, headers: { cookie: analyst } })
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(x.rawPayload as unknown as ArrayBuffer)
    const ws = wb.worksheets[0]!
    expect(ws.actualRowCount).toBe(fc.features.length + 1)
    expect(ws.getCell('A1').value).toBe('编号 id')
    expect(fc.features.map((f: { id: number }) => f.id)).toContain(Number(ws.getCell('A2').value))
  })

  it('refuses a bad filter with a clear message', async () => {
    const res = await t.app.inject({ url: '/api/exports/premises?format=csv&foundFrom=2020-05-01&foundTo=2020-04-01', headers: { cookie: analyst } })
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(/foundFrom .* is after foundTo/)
  })
})

describe('exports of hazards', () => {
  it('lists the hazards of the selected premises, of the chosen categories, found by the day', async () => {
    const res = await t.app.inject({ url: '/api/exports/hazards?format=csv&category=fire&asOf=2020-06-30', headers: { cookie: commander } })
    expect(res.statusCode).toBe(200)
    const rows = parseCsv(res.rawPayload.subarray(3).toString('utf8'))
    const expected = await t.db.sql<{ id: number }[]>`
      select h.id from hazard h join premises p on p.id = h.premises_id join hazard_item i on i.code = h.item_code
      where p.town_id = ${townId} and i.category_code = 'fire' and h.found_at < '2020-07-01T00:00:00+08:00' order by h.id`
    expect(expected.length).toBeGreaterThan(0)
    expect(rows.slice(1).map(r => Number(r[0]))).toEqual(expected.map(e => e.id))
    const audit = await t.db.sql`select after from audit_log where action = 'export.hazards' order by id desc limit 1`
    expect((audit[0]!.after as { rows: number }).rows).toBe(expected.length)
  })
})
