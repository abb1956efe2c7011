import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/** Accountability by unit: what each department and town was given and how it was dealt with, against a recount. */
const run = promisify(execFile)
let t: TestApp
const cookies: Record<string, string> = {}
let dir: string

beforeAll(async () => {
  t = await buildTestApp()
  for (const u of ['leader', 'commander']) cookies[u] = await signIn(t.app, u)
  dir = mkdtempSync(join(tmpdir(), 'grd-accountability-'))
})
afterAll(async () => {
  await t.close()
  rmSync(dir, { recursive: true, force: true })
})

interface Figures { referred: number; major: number; rectifiedOnTime: number; rectifiedLate: number; overdue: number; openInTime: number; onTimeRate: number | null }
interface Answer { asOf: string; departments: (Figures & { code: string })[]; towns: (Figures & { id: number })[] }
const get = async (user: string, query = '') => {
  const res = await t.app.inject({ url: `/api/accountability${query}`, headers: { cookie: cookies[user]! } })
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200)
  return res
}

/** The same figures counted one hazard at a time, in JavaScript, from the rows. */
async function recount(asOf: string, townId?: number) {
  const rows = await t.db.sql<{ department: string; town: number; severity: string; deadline: string | null; rectifiedOn: string | null }[]>`
    select h.department_code as department, p.town_id as town, h.severity, h.deadline::text,
           case when (h.rectified_at at time zone 'Asia/Shanghai')::date <= ${asOf}::date then ((h.rectified_at at time zone 'Asia/Shanghai')::date)::text end as rectified_on
    from hazard h join premises p on p.id = h.premises_id
    where (h.found_at at time zone 'Asia/Shanghai')::date <= ${asOf}::date ${townId ? t.db.sql`and p.town_id = ${townId}` : t.db.sql``}`
  const tally = new Map<string, Omit<Figures, 'onTimeRate'>>()
  for (const r of rows) {
    for (const key of [`d:${r.department}`, `t:${r.town}`]) {
      const f = tally.get(key) ?? { referred: 0, major: 0, rectifiedOnTime: 0, rectifiedLate: 0, overdue: 0, openInTime: 0 }
      f.referred++
      if (r.severity === 'major') f.major++
      if (r.rectifiedOn) {
        if (r.deadline && r.rectifiedOn > r.deadline) f.rectifiedLate++
        else f.rectifiedOnTime++
      }
      else if (r.deadline && r.deadline < asOf) f.overdue++
      else f.openInTime++
      tally.set(key, f)
    }
  }
  return tally
}

describe('accountability by unit', () => {
  it('counts each department\'s and town\'s hazards as a recount does, on the last day and on a day in the middle', async () => {
    for (const asOf of ['2020-12-31', '2020-06-29']) {
      const a = (await get('leader', `?asOf=${asOf}`)).json<Answer>()
      const want = await recount(asOf)
      expect(a.departments.reduce((s, d) => s + d.referred, 0)).toBeGreaterThan(0)
      for (const d of a.departments) {
        const { onTimeRate, ...figures } = d as Figures & { code: string; nameZh: string; nameEn: string }
        const w = want.get(`d:${d.code}`) ?? { referred: 0, major: 0, rectifiedOnTime: 0, rectifiedLate: 0, overdue: 0, openInTime: 0 }
        expect(figures, `${asOf} ${d.code}`).toMatchObject(w)
        const due = w.rectifiedOnTime + w.rectifiedLate + w.overdue
        expect(onTimeRate).toBe(due ? w.rectifiedOnTime / due : null)
      }
      for (const town of a.towns) expect(town, `${asOf} town ${town.id}`).toMatchObject(want.get(`t:${town.id}`) ?? { referred: 0 })
      expect(a.departments.some(d => d.overdue > 0 || d.rectifiedLate > 0)).toBe(true)
    }
  })

  it('keeps a town\'s commander to the town', async () => {
    const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
    const a = (await get('commander')).json<Answer>()
    expect(a.towns.map(x => x.id)).toEqual([town!.id])
    const want = await recount(a.asOf, town!.id)
    for (const d of a.departments) expect(d.referred).toBe(want.get(`d:${d.code}`)?.referred ?? 0)
  })

  it('refuses a day before the campaign, and writes the assessment workbook that LibreOffice opens', async () => {
    const early = await t.app.inject({ url: '/api/accountability?asOf=2019-01-01', headers: { cookie: cookies.leader! } })
    expect(early.statusCode).toBe(400)
    expect(early.json().messageZh).toMatch(/早于整治开始日期/)
    const res = await get('leader', '?format=xlsx')
    expect(res.headers['content-type']).toMatch(/spreadsheetml/)
    const xlsx = join(dir, 'accountability.xlsx')
    writeFileSync(xlsx, res.rawPayload)
    await run('soffice', [`-env:UserInstallation=file://${join(dir, 'profile')}`, '--headless', '--convert-to', 'pdf', '--outdir', dir, xlsx], { timeout: 120_000 })
    const text = (await run('pdftotext', ['-layout', join(dir, 'accountability.pdf'), '-'])).stdout
    for (const s of ['责任单位', '按期整改率', '区消防救援大队']) expect(text).toContain(s)
  }, 180_000)
})
