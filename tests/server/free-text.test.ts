import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * An ID number and phone numbers typed into free text — a hazard's description, a step's note, an
 * address, a key area's name — reach those who see people as typed, and everybody else masked:
 * in API answers, exports, the OGC API, the biweekly tables and the audit trail.
 */

let t: TestApp
const cookies: Record<string, string> = {}
const ids = { premises: 0, hazard: 0, keyArea: 0, town: 0 }

const address = '华山路8号（房东电话13912345678）'
const otherText = '房东身份证 32041119900307123X，手机 +86 139 1234 5678'
const note = '已通知物业，值班电话 0519-86123456'
const keyAreaName = '华山村（联系人13912345678）'
/** Each number as typed, with whatever separators: none of them may be readable where masked. */
const readable = [/139\D{0,3}1234\D{0,3}5678/, /320411\D?19900307/, /0519\D?86123456/]
const expectMasked = (text: string, where: string) => {
  for (const r of readable) expect(text, where).not.toMatch(r)
  expect(text, where).toMatch(/139\*{4}5678/)
}
const expectAsTyped = (text: string, where: string, typed: string[]) => {
  for (const s of typed) expect(text, where).toContain(s)
}

beforeAll(async () => {
  t = await buildTestApp()
  for (const u of ['leader', 'analyst', 'commander', 'inspector', 'admin']) cookies[u] = await signIn(t.app, u)
  const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'inspector'`
  ids.town = town!.id
  const [inside] = await t.db.sql<{ lon: number; lat: number }[]>`
    select st_x(p) as lon, st_y(p) as lat from (select st_pointonsurface(geom) as p from admin_area where id = ${town!.id}) s`
  const post = (url: string, payload: unknown, cookie = cookies.inspector!) => t.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers: { cookie } })
  const p = await post('/api/premises', { kind: 'group_rental', address, location: { ...inside!, crs: 'wgs84' }, occupants: 12, foundOn: '2020-05-01' })
  expect(p.statusCode, p.body).toBe(201)
  ids.premises = p.json().id
  const h = await post(`/api/premises/${ids.premises}/hazards`, { itemCode: 'OTHER-01', otherText, severity: 'general', foundAt: '2020-05-02T09:00:00+08:00' })
  expect(h.statusCode, h.body).toBe(201)
  ids.hazard = h.json().id
  const r = await post(`/api/hazards/${ids.hazard}/refer`, { note })
  expect(r.statusCode, r.body).toBe(200)
  const d = 0.002
  const { lon, lat } = inside!
  const k = await post('/api/key-areas', {
    type: 'Feature',
    geometry: { type: 'Polygon', coordinates: [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]] },
    properties: { nameZh: keyAreaName, listedOn: '2020-03-01', deadline: '2020-09-30' },
  }, cookies.commander)
  expect(k.statusCode, k.body).toBe(201)
  ids.keyArea = k.json().id
})
afterAll(() => t.close())

const get = async (url: string, who: string) => {
  const res = await t.app.inject({ url, headers: { cookie: cookies[who]! } })
  expect(res.statusCode, `${who} ${url}: ${res.body.slice(0, 200)}`).toBe(200)
  return res
}

describe('free text in the premises and hazard answers', () => {
  it.each(['leader', 'analyst'])('masks the address, the hazard description and the step note for the %s', async (who) => {
    expectMasked((await get(`/api/premises/${ids.premises}`, who)).json().address, 'address')
    const [h] = (await get(`/api/premises/${ids.premises}/hazards`, who)).json()
    expectMasked(h.otherText, 'otherText')
    expect(h.otherText).toContain('320***********123X')
    const referred = h.events.find((e: { status: string }) => e.status === 'referred')
    expect(referred.note).toBe('已通知物业，值班电话 051*****3456')
  })

  it.each(['inspector', 'commander'])('shows them as typed to the %s', async (who) => {
    expect((await get(`/api/premises/${ids.premises}`, who)).json().address).toBe(address)
    const [h] = (await get(`/api/premises/${ids.premises}/hazards`, who)).json()
    expect(h.otherText).toBe(otherText)
    expect(h.events.find((e: { status: string }) => e.status === 'referred').note).toBe(note)
  })
})

describe('free text in exports', () => {
  const url = (what: 'premises' | 'hazards', format: string) => `/api/exports/${what}?format=${format}&town=${ids.town}&foundFrom=2020-05-01&foundTo=2020-05-01`
  const xlsxText = async (payload: Buffer) => {
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(payload as unknown as ArrayBuffer)
    const cells: string[] = []
    wb.worksheets[0]!.eachRow(row => row.eachCell(c => cells.push(String(c.value))))
    return cells.join('\n')
  }

  it('masks addresses and hazard descriptions in an analyst\'s CSV, XLSX and GeoJSON', async () => {
    for (const format of ['csv', 'geojson', 'xlsx']) {
      for (const what of ['premises', 'hazards'] as const) {
        const res = await get(url(what, format), 'analyst')
        const text = format === 'xlsx' ? await xlsxText(res.rawPayload) : res.rawPayload.toString('utf8')
        expectMasked(text, `${what}.${format}`)
        if (what === 'hazards') expect(text, `${what}.${format}`).toContain('320***********123X')
      }
    }
  })

  it.each(['commander', 'inspector'])('keeps them as typed in the %s\'s CSV, XLSX and GeoJSON', async (who) => {
    for (const format of ['csv', 'geojson', 'xlsx']) {
      const premises = await get(url('premises', format), who)
      expectAsTyped(format === 'xlsx' ? await xlsxText(premises.rawPayload) : premises.rawPayload.toString('utf8'), `premises.${format}`, [address])
      const hazards = await get(url('hazards', format), who)
      const text = format === 'xlsx' ? await xlsxText(hazards.rawPayload) : hazards.rawPayload.toString('utf8')
      // CSV quotes the description (it holds a comma); JSON escapes nothing of it.
      expectAsTyped(text, `hazards.${format}`, ['32041119900307123X', '+86 139 1234 5678'])
    }
  })
})

describe('free text in key areas, the OGC API and the biweekly tables', () => {
  it('masks a key area\'s name for a leader in the list, the detail, the versions, OGC and attachments 3 and 4', async () => {
    const list = (await get('/api/key-areas', 'leader')).json()
    const mine = list.features.find((f: { id: number }) => f.id === ids.keyArea)
    expect(mine.properties.nameZh).toBe('华山村（联系人139****5678）')
    expectMasked((await get(`/api/key-areas/${ids.keyArea}`, 'leader')).body, 'detail')
    expectMasked((await get(`/api/key-areas/${ids.keyArea}/versions`, 'leader')).body, 'versions')
    expectMasked((await get(`/ogc/collections/key-areas/items/${ids.keyArea}`, 'leader')).body, 'ogc item')
    expectMasked((await get(`/ogc/collections/key-areas/items?limit=1000`, 'leader')).body, 'ogc items')
    expectMasked((await get(`/api/reports/attachment-3?town=${ids.town}&on=2020-06-29`, 'leader')).body, 'attachment 3')
    expectMasked((await get(`/api/reports/attachment-4/${ids.keyArea}?period=2020-06-29`, 'leader')).body, 'attachment 4')
  })

  it('shows the name as typed to the commander who listed it', async () => {
    expect((await get(`/api/key-areas/${ids.keyArea}`, 'commander')).json().properties.nameZh).toBe(keyAreaName)
    expect((await get(`/ogc/collections/key-areas/items/${ids.keyArea}`, 'commander')).json().properties.nameZh).toBe(keyAreaName)
    expect((await get(`/api/reports/attachment-3?town=${ids.town}&on=2020-06-29`, 'commander')).body).toContain(keyAreaName)
  })
})

describe('free text in the audit trail', () => {
  it('is stored masked in every audit row of these writes, whoever wrote them', async () => {
    const rows = await t.db.sql<{ action: string; text: string }[]>`
      select action, coalesce(before::text, '') || coalesce(after::text, '') || coalesce(reason, '') as text from audit_log
      where (entity = 'premises' and entity_id = ${String(ids.premises)}) or (entity = 'hazard' and entity_id = ${String(ids.hazard)})
         or (entity = 'key_area' and entity_id = ${String(ids.keyArea)})
      order by id`
    expect(rows.map(r => r.action)).toEqual(['premises.create', 'hazard.create', 'hazard.refer', 'key-area.create'])
    for (const r of rows) {
      for (const re of readable) expect(r.text, r.action).not.toMatch(re)
    }
    expect(rows.find(r => r.action === 'hazard.refer')!.text).toContain('051*****3456')
  })

  it('is read masked by an administrator, rows written before the rule too', async () => {
    // A row as the trail held it before copies were masked (the table takes inserts only).
    await t.db.sql`insert into audit_log (username, action, entity, entity_id, after, reason)
      values ('inspector', 'hazard.create', 'hazard', 'legacy', ${t.db.sql.json({ otherText })}, ${note})`
    const res = await get('/api/audit?entity=hazard&limit=50', 'admin')
    const legacy = res.json().find((r: { entityId: string }) => r.entityId === 'legacy')
    expect(legacy.after.otherText).toBe('房东身份证 320***********123X，手机 139****5678')
    expect(legacy.reason).toBe('已通知物业，值班电话 051*****3456')
    for (const re of readable) expect(res.body).not.toMatch(re)
  })
})
