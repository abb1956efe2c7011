import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { residentIdCheckChar } from '../../server/domain/id-number.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

// Uploaded ledgers at rest: encrypted, private, and gone once they have served.
let t: TestApp
let cookie: string
let root: string
let place: [number, number]

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'grd-upload-test-'))
  t = await buildTestApp({ imports: { dir: root } })
  cookie = await signIn(t.app, 'bureau')
  const [p] = await t.db.sql<{ lon: number; lat: number }[]>`select st_x(geom) as lon, st_y(geom) as lat from premises order by id limit 1`
  place = [p!.lon, p!.lat]
})
afterAll(async () => {
  await t.close()
  rmSync(root, { recursive: true, force: true })
})

const idNumber = (() => {
  const first17 = '32041119900307123'
  return first17 + residentIdCheckChar(first17)
})()

/** Every upload file this process keeps, in every directory of the upload root. */
const files = () => readdirSync(root).filter(d => d.startsWith('grd-uploads-')).flatMap(d => readdirSync(join(root, d)).map(f => join(root, d, f)))

async function upload(kind: string, body: string) {
  const res = await t.app.inject({ method: 'POST', url: `/api/imports?kind=${kind}&fileName=l.csv`, headers: { cookie, 'content-type': 'text/csv' }, payload: Buffer.from(body) })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string; suggestedMapping: Record<string, string> }
}

async function settle(id: string, what: 'dry-run' | 'commit', mapping: Record<string, string>) {
  expect((await t.app.inject({ method: 'POST', url: `/api/imports/${id}/${what}`, headers: { cookie }, payload: { mapping, crs: 'wgs84' } })).statusCode).toBe(202)
  return (await t.app.imports.settled(id))!
}

const residents = `房屋台账编号,姓名,证件号码,入住日期\r\nU-1,林某某,${idNumber},2019-12-01\r\n`
const premises = `台账编号,类型,地址,经度,纬度,发现日期\r\nU-1,群租房,上传测试路1号,${'LON'},${'LAT'},2020-01-05\r\n`

describe('an uploaded ledger', () => {
  it('is kept encrypted, in a directory and a file only this user can read, and still reads back for the dry run', async () => {
    const job = await upload('residents', residents)
    const [file] = files()
    expect(file).toBeDefined()
    const bytes = readFileSync(file!)
    // Neither the ID number nor the name, in any form a ledger writes them, is in the bytes at rest.
    for (const secret of [idNumber, idNumber.slice(0, 17), '林某某']) {
      expect(bytes.includes(Buffer.from(secret, 'utf8'))).toBe(false)
      expect(bytes.includes(Buffer.from(secret, 'utf16le'))).toBe(false)
    }
    expect(lstatSync(file!).mode & 0o777).toBe(0o600)
    expect(lstatSync(join(file!, '..')).mode & 0o777).toBe(0o700)
    // The premises U-1 is not there yet: the dry run read the file and says so.
    const dry = await settle(job.id, 'dry-run', job.suggestedMapping)
    expect(dry.errors[0]?.reason).toMatch(/no premises has this ledger ref/)
    await t.app.inject({ method: 'DELETE', url: `/api/imports/${job.id}`, headers: { cookie } })
  })

  it('is deleted when its import is committed', async () => {
    const job = await upload('premises', premises.replace('LON', place[0].toFixed(6)).replace('LAT', place[1].toFixed(6)))
    expect(files()).toHaveLength(1)
    const done = await settle(job.id, 'commit', job.suggestedMapping)
    expect(done.status, done.message ?? '').toBe('committed')
    expect(files()).toEqual([])
    // The job's report is still there; the file is not.
    expect((await t.app.inject({ url: `/api/imports/${job.id}/changes`, headers: { cookie } })).statusCode).toBe(200)
  })

  it('is deleted when the user discards it, and the import is then gone', async () => {
    const job = await upload('residents', residents)
    expect(files()).toHaveLength(1)
    expect((await t.app.inject({ method: 'DELETE', url: `/api/imports/${job.id}`, headers: { cookie } })).statusCode).toBe(204)
    expect(files()).toEqual([])
    expect((await t.app.inject({ url: `/api/imports/${job.id}`, headers: { cookie } })).statusCode).toBe(404)
    expect((await t.db.sql`select status from import_job where id = ${job.id}`)[0]!.status).toBe('discarded')
  })

  it('is deleted by the sweep once a day has passed, with its job', async () => {
    const job = await upload('residents', residents)
    await t.app.imports.sweep(Date.now() + 23 * 3_600_000)
    expect(files()).toHaveLength(1)
    await t.app.imports.sweep(Date.now() + 25 * 3_600_000)
    expect(files()).toEqual([])
    expect((await t.app.inject({ url: `/api/imports/${job.id}`, headers: { cookie } })).statusCode).toBe(404)
    expect((await t.db.sql`select status from import_job where id = ${job.id}`)[0]!.status).toBe('discarded')
  })
})

describe('the sweep of upload directories', () => {
  it('deletes those that processes left behind, keeps those still in use, and follows no link', async () => {
    const dead = join(root, 'grd-uploads-dead')
    const alive = join(root, 'grd-uploads-alive')
    const elsewhere = mkdtempSync(join(tmpdir(), 'grd-upload-elsewhere-'))
    for (const d of [dead, alive]) {
      mkdirSync(d, { mode: 0o700 })
      writeFileSync(join(d, 'x'), 'sealed')
    }
    writeFileSync(join(elsewhere, 'keep'), 'not ours')
    symlinkSync(elsewhere, join(root, 'grd-uploads-link'))
    const hourAgo = new Date(Date.now() - 3_600_000)
    utimesSync(dead, hourAgo, hourAgo)
    utimesSync(elsewhere, hourAgo, hourAgo)
    await t.app.imports.sweep()
    const left = readdirSync(root)
    expect(left).not.toContain('grd-uploads-dead')
    expect(left).toContain('grd-uploads-alive')
    expect(readdirSync(elsewhere)).toEqual(['keep'])
    rmSync(elsewhere, { recursive: true, force: true })
  })
})
