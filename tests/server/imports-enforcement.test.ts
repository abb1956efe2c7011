import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { residentIdCheckChar } from '../../server/domain/id-number.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * The enforcement ledger and the residents ledger's special-category column: what the biweekly
 * tables count, entered from paper ledgers.
 */
let t: TestApp
let bureau: string
let station = { id: 0, nameZh: '' }
let point: [number, number] = [0, 0]

beforeAll(async () => {
  t = await buildTestApp()
  bureau = await signIn(t.app, 'bureau')
  const [p] = await t.db.sql<{ lon: number; lat: number; station: number }[]>`
    select st_x(p.geom) as lon, st_y(p.geom) as lat, p.police_station_id as station from premises p where p.police_station_id is not null order by p.id limit 1`
  point = [p!.lon + 0.0001, p!.lat + 0.0001]
  const [s] = await t.db.sql<{ id: number; nameZh: string }[]>`select id, name_zh from police_station where id = ${p!.station}`
  station = s!
})
afterAll(() => t.close())

const csv = (rows: (string | number)[][]) => `\uFEFF${rows.map(r => r.join(',')).join('\r\n')}\r\n`

interface Job { id: string; status: string; summary: null | Record<string, number | boolean>; errors: { line: number; reason: string }[]; suggestedMapping: Record<string, string> }

async function upload(kind: string, body: string): Promise<Job> {
  const res = await t.app.inject({ method: 'POST', url: `/api/imports?kind=${kind}&fileName=${kind}.csv`, headers: { cookie: bureau, 'content-type': 'text/csv' }, payload: Buffer.from(body, 'utf8') })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function run(job: Job, what: 'dry-run' | 'commit'): Promise<Job> {
  const res = await t.app.inject({ method: 'POST', url: `/api/imports/${job.id}/${what}`, headers: { cookie: bureau }, payload: { mapping: job.suggestedMapping, crs: 'wgs84' } })
  expect(res.statusCode, res.body).toBe(202)
  for (let i = 0; i < 600; i++) {
    const s = (await t.app.inject({ url: `/api/imports/${job.id}`, headers: { cookie: bureau } })).json() as Job
    if (!['checking', 'committing'].includes(s.status)) return s
    await new Promise(r => setTimeout(r, 50))
  }
  throw new Error('the import did not settle')
}

/** The district's attachment 5 cumulative row of the station. */
async function stationCumulative(day = '2020-06-29') {
  const res = await t.app.inject({ url: `/api/reports/attachment-5?period=${day}`, headers: { cookie: bureau } })
  return (res.json().rows as { id: string; values: Record<string, number> }[]).find(r => r.id === `station:${station.id}:cumulative`)!.values
}

function residentId(seq: number): string {
  const first17 = `3204111990010${String(100 + seq).slice(-3)}1`.slice(0, 17)
  return first17 + residentIdCheckChar(first17)
}

describe('the enforcement ledger', () => {
  it('has a template with its headings', async () => {
    const res = await t.app.inject({ url: '/api/imports/templates/enforcement?format=csv', headers: { cookie: bureau } })
    expect(res.statusCode).toBe(200)
    expect(res.body.replace(/^\uFEFF/, '').split('\r\n')[0]).toBe('记录编号,类型,发生日期,数量,案件编号,房屋台账编号,派出所,备注')
  })

  it('adds records at premises and at a police station, counted in attachment 5, and changes nothing the second time', async () => {
    const premises = await run(await upload('premises', csv([['台账编号', '类型', '地址', '经度', '纬度', '发现日期'], ['ZF-P1', '群租房', '执法导入路1号', point[0].toFixed(6), point[1].toFixed(6), '2020-01-05']])), 'commit')
    expect(premises.status, JSON.stringify(premises.errors)).toBe('committed')
    const head = ['记录编号', '类型', '发生日期', '数量', '案件编号', '房屋台账编号', '派出所', '备注']
    const rows = [
      ['ZF-1', '处罚违规出租户主', '2020-03-05', '2', '新公（治）决字〔2020〕1号', 'ZF-P1', '', ''],
      ['ZF-2', '破获刑事案件', '2020-03-06', '', '新公（刑）立字〔2020〕2号', '', station.nameZh, '所内破案'],
    ]
    const bad = await run(await upload('enforcement', csv([head, ...rows, ['ZF-3', '罚款', '2020-03-06', '1', '', '', '', '']])), 'dry-run')
    const reasons = bad.errors.filter(e => e.line === 4).map(e => e.reason).join(' | ')
    expect(reasons).toMatch(/not a known kind of enforcement result/)
    expect(reasons).toMatch(/say the police station/)
    const before = await stationCumulative()
    const ok = await run(await upload('enforcement', csv([head, ...rows])), 'commit')
    expect(ok.status, JSON.stringify(ok.errors)).toBe('committed')
    expect(ok.summary).toMatchObject({ create: 2 })
    const after = await stationCumulative()
    expect(after.landlordsPenalised! - before.landlordsPenalised!).toBe(2)
    expect(after.criminalCases! - before.criminalCases!).toBe(1)
    const again = await run(await upload('enforcement', csv([head, ...rows])), 'dry-run')
    expect(again.summary).toMatchObject({ create: 0, update: 0, unchanged: 2 })
  })
})

describe('the residents ledger\'s special categories', () => {
  it('sets flags from the column, and clears them when the column is left empty', async () => {
    await run(await upload('premises', csv([['台账编号', '类型', '地址', '经度', '纬度', '发现日期'], ['ZF-P2', '群租房', '执法导入路2号', point[0].toFixed(6), point[1].toFixed(6), '2020-01-05']])), 'commit')
    const head = ['房屋台账编号', '姓名', '证件号码', '流动人口', '入住日期', '居住登记日期', '特殊人员类别', '标记日期']
    const file = (first: string) => csv([head,
      ['ZF-P2', '李一', residentId(1), '是', '2020-01-01', '2020-01-10', first, '2020-02-01'],
      ['ZF-P2', '李二', residentId(2), '是', '2020-01-01', '2020-01-10', '', '']])
    const set = await run(await upload('residents', file('关注对象、可能肇事肇祸精神病人')), 'commit')
    expect(set.status, JSON.stringify(set.errors)).toBe('committed')
    const flags = () => t.db.sql<{ name: string; category: string; flaggedOn: string; clearedOn: string | null }[]>`
      select r.name, f.category, f.flagged_on, f.cleared_on from resident_flag f join resident r on r.id = f.resident_id
      join premises p on p.id = r.premises_id where p.external_ref = 'ZF-P2' order by f.category`
    expect(await flags()).toEqual([
      { name: '李一', category: 'mental_illness', flaggedOn: '2020-02-01', clearedOn: null },
      { name: '李一', category: 'person_of_concern', flaggedOn: '2020-02-01', clearedOn: null },
    ])
    expect((await run(await upload('residents', file('关注对象、可能肇事肇祸精神病人')), 'dry-run')).summary).toMatchObject({ unchanged: 2 })
    const cleared = await run(await upload('residents', file('关注对象')), 'commit')
    expect(cleared.summary).toMatchObject({ update: 1, unchanged: 1 })
    const now = await flags()
    expect(now.find(f => f.category === 'mental_illness')!.clearedOn).not.toBeNull()
    expect(now.find(f => f.category === 'person_of_concern')!.clearedOn).toBeNull()
  })
})
