import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { sweepReadingsDirs } from '../../server/plugins/app/readings.js'
import { csv, emptySpot, runReadings, shifted, uploadReadings } from '../helpers/readings.js'

let t: TestApp
let cookie = ''
let town = 0
let origin: [number, number] = [0, 0]
const premises = { ref: 0, address: 0, near: 0, twinA: 0, twinB: 0 }
const run = { mapping: { accountNo: '户号', holderName: '户名', address: '用电地址', premisesRef: '台账编号', lon: '经度', lat: '纬度', date: '日期', value: '用电量' }, crs: 'wgs84', matchDistance: 30 }
const headings = ['户号', '户名', '用电地址', '台账编号', '经度', '纬度', '日期', '用电量']

async function addPremises(address: string, at: [number, number], ref: string | null = null): Promise<number> {
  const [p] = await t.db.sql<{ id: number }[]>`
    insert into premises (kind, address, geom, town_id, found_on, external_ref)
    values ('rental', ${address}, st_setsrid(st_makepoint(${at[0]}, ${at[1]}), 4326), ${town}, '2020-01-10', ${ref})
    returning id`
  return p!.id
}

/** A week of daily readings of one account. */
const week = (account: string, holder: string, address: string, ref: string, at: [number, number] | null, base: number) =>
  Array.from({ length: 7 }, (_, i) => [account, holder, address, ref, at ? at[0].toFixed(7) : '', at ? at[1].toFixed(7) : '', `2020-03-0${i + 1}`, (base + i / 10).toFixed(2)])

/** Accounts matched by ref, by address (written another way), by distance, one far from any premises and one with no place at all. */
const goodFile = () => csv([headings,
  ...week('E-REF', '王某', '', 'T-REF-1', null, 8),
  ...week('E-ADDR', '李某', '江苏省常州市新北区测试路８号', '', null, 9),
  ...week('E-NEAR', '张某', '', '', shifted(origin, 120, 10), 10),
  ...week('E-FAR', '刘某', '测试路99号', '', shifted(origin, 0, 240), 11),
  ...week('E-NOWHERE', '陈某', '', '', null, 12),
])

const count = async (table: 'meter_account' | 'meter_reading') => (await t.db.sql<{ n: number }[]>`select count(*)::int as n from ${t.db.sql(table)}`)[0]!.n

beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'commander')
  town = (await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`)[0]!.id
  origin = await emptySpot(t.db.sql, town, 300)
  premises.ref = await addPremises('测试路1号', origin, 'T-REF-1')
  premises.address = await addPremises('测试路8号', shifted(origin, 60, 0))
  premises.near = await addPremises('测试路15号', shifted(origin, 120, 0))
  premises.twinA = await addPremises('测试路21号', shifted(origin, 180, 0))
  premises.twinB = await addPremises('测试路23号', shifted(origin, 192, 0))
})
afterAll(() => t.close())

describe('matching meter accounts to premises', () => {
  it('matches by ledger ref, by normalised address and by the nearest premises within the distance, and reports the rest with why', async () => {
    const job = await uploadReadings(t.app, cookie, 'electricity', goodFile())
    expect(job.suggestedMapping).toMatchObject({ accountNo: '户号', address: '用电地址', date: '日期', value: '用电量' })
    const checked = await runReadings(t.app, cookie, job.id, 'dry-run', run)
    expect(checked.errors).toEqual([])
    expect(checked.status).toBe('checked')
    expect(checked.summary!.accounts).toMatchObject({ total: 5, ref: 1, address: 1, distance: 1, unmatched: 1, noLocation: 1 })
    expect(checked.unmatched.map(u => [u.accountNo, u.reason]).sort()).toEqual([['E-FAR', 'no-premises'], ['E-NOWHERE', 'no-location']])
    const committed = await runReadings(t.app, cookie, job.id, 'commit', run)
    expect(committed.status, committed.message ?? '').toBe('committed')
    // The upload holds holders' names: it waits where only the server's user may read, and goes once written.
    const upload = join(t.app.readings.dir, job.id)
    expect(existsSync(upload)).toBe(false)
    expect(statSync(dirname(upload)).mode & 0o077).toBe(0)
    const rows = await t.db.sql<{ accountNo: string; premisesId: number | null; matchMethod: string | null; unmatchedReason: string | null }[]>`
      select account_no, premises_id, match_method, unmatched_reason from meter_account where account_no like 'E-%' order by account_no`
    expect(rows).toEqual([
      { accountNo: 'E-ADDR', premisesId: premises.address, matchMethod: 'address', unmatchedReason: null },
      { accountNo: 'E-FAR', premisesId: null, matchMethod: null, unmatchedReason: 'no-premises' },
      { accountNo: 'E-NEAR', premisesId: premises.near, matchMethod: 'distance', unmatchedReason: null },
      { accountNo: 'E-NOWHERE', premisesId: null, matchMethod: null, unmatchedReason: 'no-location' },
      { accountNo: 'E-REF', premisesId: premises.ref, matchMethod: 'ref', unmatchedReason: null },
    ])
    const [r] = await t.db.sql<{ daily: number[]; total: number }[]>`
      select r.daily, r.total::int from meter_reading r join meter_account a on a.id = r.account_id where a.account_no = 'E-REF' and r.month = '2020-03-01'`
    expect(r!.daily.slice(0, 7)).toEqual([800, 810, 820, 830, 840, 850, 860])
    expect(r!.total).toBe(5810)
    const [audit] = await t.db.sql<{ after: { fileName: string; written: { accounts: number } } }[]>`select after from audit_log where action = 'readings.import' order by id desc limit 1`
    expect(audit!.after.fileName).toBe('r.csv')
    expect(audit!.after.written.accounts).toBe(5)
  })

  it('writes nothing when the same file is imported again', async () => {
    const before = { accounts: await count('meter_account'), readings: await count('meter_reading') }
    const [stamp] = await t.db.sql<{ at: Date }[]>`select max(updated_at) as at from meter_account`
    const job = await uploadReadings(t.app, cookie, 'electricity', goodFile())
    const done = await runReadings(t.app, cookie, job.id, 'commit', run)
    expect(done.status).toBe('committed')
    expect(done.summary!.readings).toEqual({ new: 0, changed: 0, unchanged: 35 })
    expect({ accounts: await count('meter_account'), readings: await count('meter_reading') }).toEqual(before)
    const [after] = await t.db.sql<{ at: Date }[]>`select max(updated_at) as at from meter_account`
    expect(after!.at).toEqual(stamp!.at)
  })

  it('refuses an account that could be either of two premises, naming both, and writes nothing of the file', async () => {
    const before = await count('meter_reading')
    const file = csv([headings, ...week('E-TWIN', '赵某', '', '', shifted(origin, 186, 0), 7), ...week('E-OK', '钱某', '', 'T-REF-1', null, 7)])
    const job = await uploadReadings(t.app, cookie, 'electricity', file)
    const done = await runReadings(t.app, cookie, job.id, 'commit', run)
    expect(done.status).toBe('checked')
    expect(done.summary!.committed).toBe(false)
    const twin = done.errors.find(e => e.value === 'E-TWIN')
    expect(twin?.reason).toContain(`${Math.min(premises.twinA, premises.twinB)}`)
    expect(twin?.reason).toContain(`${Math.max(premises.twinA, premises.twinB)}`)
    expect(await count('meter_reading')).toBe(before)
    expect((await t.db.sql`select 1 from meter_account where account_no in ('E-TWIN', 'E-OK')`).length).toBe(0)
  })

  it('refuses a ledger ref that names no premises', async () => {
    const job = await uploadReadings(t.app, cookie, 'electricity', csv([headings, ...week('E-BADREF', '孙某', '', 'NO-SUCH-REF', null, 7)]))
    const done = await runReadings(t.app, cookie, job.id, 'dry-run', run)
    expect(done.errors.map(e => [e.value, e.column])).toEqual([['E-BADREF', '台账编号']])
  })
})

describe('the upload', () => {
  // app.inject hands the route a different stream than a socket does: the input checks once walked into the socket's objects.
  it('takes a file streamed over a real connection', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`
    const res = await fetch(`${base}/api/readings?utility=electricity&fileName=net.csv`, {
      method: 'POST', headers: { cookie, 'content-type': 'text/csv', origin: base }, body: csv([headings, ...week('E-NET', '周某', '测试路1号', '', null, 5)]),
    })
    expect(res.status).toBe(201)
    const job = await res.json() as { bytes: number; headings: string[] }
    expect(job.headings).toEqual(headings)
    expect(job.bytes).toBeGreaterThan(200)
  })
})

describe('bad input', () => {
  it('reports each bad row of a GB18030 file with its line and reason, and writes none of the file', async () => {
    const before = await count('meter_reading')
    // tests/fixtures/readings/README.md says what each line of this file gets wrong.
    const file = readFileSync(new URL('../fixtures/readings/gb18030-bad-rows.csv', import.meta.url))
    const job = await uploadReadings(t.app, cookie, 'electricity', file, 'bad.csv')
    expect(job.encoding).toBe('gb18030')
    expect(job.headings).toEqual(['户号', '用电地址', '日期', '用电量', '单位'])
    const done = await runReadings(t.app, cookie, job.id, 'commit', { mapping: { accountNo: '户号', address: '用电地址', date: '日期', value: '用电量', unit: '单位' }, crs: 'wgs84', matchDistance: 30 })
    expect(done.summary!.committed).toBe(false)
    const byLine = Object.fromEntries(done.errors.map(e => [e.line, e.reason]))
    expect(Object.keys(byLine).map(Number).sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7])
    expect(byLine[3]).toContain('negative')
    expect(byLine[4]).toContain('unbelievable')
    expect(byLine[5]).toContain('unknown unit')
    expect(byLine[6]).toContain('outside the campaign')
    expect(byLine[7]).toContain('the same account and day as line 2')
    expect(await count('meter_reading')).toBe(before)
    const report = await t.app.inject({ url: `/api/readings/${job.id}/errors`, headers: { cookie } })
    expect(report.statusCode).toBe(200)
    expect(report.body.split('\r\n').filter(Boolean)).toHaveLength(1 + 5)
  })

  it('keeps the upload and its error report sealed on disk: no holder name, account or reading in the clear, and both read back whole', async () => {
    const rows = [...week('E-SEALED', '欧阳某某', '测试路1号', '', null, 7), ['E-SEALED', '欧阳某某', '测试路1号', '', '', '', '2020-03-08', '-5']]
    const job = await uploadReadings(t.app, cookie, 'electricity', csv([headings, ...rows]))
    expect(job.headings).toEqual(headings)
    const done = await runReadings(t.app, cookie, job.id, 'dry-run', run)
    expect(done.errors.map(e => e.line)).toEqual([9])
    const files = readdirSync(t.app.readings.dir).filter(f => f.startsWith(job.id))
    expect(files.sort()).toEqual([job.id, `${job.id}.errors`])
    for (const f of files) {
      const bytes = readFileSync(join(t.app.readings.dir, f))
      expect(statSync(join(t.app.readings.dir, f)).mode & 0o077).toBe(0)
      for (const clear of ['欧阳某某', 'E-SEALED', '2020-03-0', '户号']) expect(bytes.includes(Buffer.from(clear)), `${f} holds ${clear}`).toBe(false)
    }
    const report = await t.app.inject({ url: `/api/readings/${job.id}/errors`, headers: { cookie } })
    expect(report.body.split('\r\n').filter(Boolean)).toHaveLength(1 + 1)
    expect(report.body).toContain('-5')
    // A byte changed on disk is found, not read as other data.
    const path = join(t.app.readings.dir, job.id)
    const sealed = readFileSync(path)
    sealed[sealed.length - 3]! ^= 0xFF
    writeFileSync(path, sealed)
    const tampered = await runReadings(t.app, cookie, job.id, 'dry-run', { ...run, matchDistance: 31 })
    expect(tampered.status).toBe('failed')
    expect(tampered.message).toMatch(/upload the file again/)
  })

  it('sweeps the directories stopped processes left a day ago, and no live one', () => {
    const root = mkdtempSync(join(tmpdir(), 'sweep-'))
    for (const name of ['grd-readings-1-old', 'grd-readings-2-new', 'grd-uploads-keep']) {
      mkdirSync(join(root, name))
      writeFileSync(join(root, name, 'f'), 'x')
    }
    const now = Date.now()
    utimesSync(join(root, 'grd-readings-1-old'), (now - 25 * 3_600_000) / 1000, (now - 25 * 3_600_000) / 1000)
    utimesSync(join(root, 'grd-uploads-keep'), (now - 25 * 3_600_000) / 1000, (now - 25 * 3_600_000) / 1000)
    return sweepReadingsDirs(root, now).then((removed) => {
      expect(removed).toBe(1)
      expect(readdirSync(root).sort()).toEqual(['grd-readings-2-new', 'grd-uploads-keep'])
    })
  })

  it('refuses a meter index that goes down (a meter reset) with the line it went down from', async () => {
    const file = csv([['户号', '用电地址', '日期', '表码'], ['E-IDX', '测试路1号', '2020-03-01', '100'], ['E-IDX', '测试路1号', '2020-03-02', '112'], ['E-IDX', '测试路1号', '2020-03-03', '5']])
    const job = await uploadReadings(t.app, cookie, 'electricity', file)
    const done = await runReadings(t.app, cookie, job.id, 'dry-run', { mapping: { accountNo: '户号', address: '用电地址', date: '日期', index: '表码' }, crs: 'wgs84', matchDistance: 30 })
    expect(done.errors.map(e => [e.line, e.column])).toEqual([[4, '表码']])
    expect(done.errors[0]!.reason).toContain('line 3')
  })

  it('refuses a water company\'s file uploaded as electricity, before reading any row', async () => {
    const res = await t.app.inject({
      method: 'POST', url: '/api/readings?utility=electricity&fileName=w.csv', headers: { cookie, 'content-type': 'text/csv' },
      payload: csv([['户号', '用水地址', '月份', '用水量'], ['W-1', '测试路1号', '2020-03', '4.2']]),
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().reason).toBe('other-utility-format')
  })

  it('lists the accounts that match no premises in the unmatched report', async () => {
    const job = await uploadReadings(t.app, cookie, 'electricity', goodFile())
    await runReadings(t.app, cookie, job.id, 'dry-run', run)
    const res = await t.app.inject({ url: `/api/readings/${job.id}/unmatched`, headers: { cookie } })
    expect(res.statusCode).toBe(200)
    const lines = res.body.replace(/^\uFEFF/, '').split('\r\n').filter(Boolean)
    expect(lines.slice(1).map(l => l.split(',')[0]).sort()).toEqual(['E-FAR', 'E-NOWHERE'])
  })
})
