import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attachment3Columns, attachment4Columns, attachment5Columns, type ReportColumn } from '../../server/domain/report-columns.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * The biweekly workbooks printed as the paper form: each is converted to PDF by LibreOffice
 * (headless; Debian's libreoffice-calc, installed by .ci/run with poppler-utils) and must be one
 * page wide, with no text clipped by its cell. LibreOffice draws a cell's text that does not fit
 * under a clip path, or not at all when a whole line falls outside the cell; so every character of
 * the page's text must be drawn, and none under a clip path.
 */
const run = promisify(execFile)
let t: TestApp
let leader: string
let dir: string

beforeAll(async () => {
  t = await buildTestApp()
  leader = await signIn(t.app, 'leader')
  dir = mkdtempSync(join(tmpdir(), 'grd-report-pdf-'))
})
afterAll(async () => {
  await t.close()
  rmSync(dir, { recursive: true, force: true })
})

/** The workbook as LibreOffice prints it: the PDF's path and page count. */
async function print(url: string, name: string): Promise<{ pdf: string; pages: number }> {
  const res = await t.app.inject({ url, headers: { cookie: leader } })
  expect(res.statusCode, res.body.slice(0, 200)).toBe(200)
  const xlsx = join(dir, `${name}.xlsx`)
  writeFileSync(xlsx, res.rawPayload)
  // A profile of its own, so that a LibreOffice already running elsewhere does not take the job.
  await run('soffice', [`-env:UserInstallation=file://${join(dir, 'profile')}`, '--headless', '--convert-to', 'pdf', '--outdir', dir, xlsx], { timeout: 120_000 })
  const pdf = join(dir, `${name}.pdf`)
  const info = (await run('pdfinfo', [pdf])).stdout
  return { pdf, pages: Number(/Pages:\s+(\d+)/.exec(info)![1]) }
}

interface Word { text: string; x0: number; x1: number; y0: number; y1: number }

/**
 * Whether a cell's text is on the page: its lines are words stacked one under the other in the
 * same column (a wrapped heading), read top to bottom.
 */
function holds(words: Word[], text: string): boolean {
  const follow = (w: Word, rest: string): boolean => {
    if (!rest) return true
    const cx = (w.x0 + w.x1) / 2
    return words.some(n => n.y0 > w.y0 && n.y0 < w.y1 + 4 && Math.abs((n.x0 + n.x1) / 2 - cx) < 6 && rest.startsWith(n.text) && follow(n, rest.slice(n.text.length)))
  }
  return words.some(w => text.startsWith(w.text) && follow(w, text.slice(w.text.length)))
}

/** A page's text (no white space), its words, and the glyphs drawn on it: in the open and under a clip path. */
async function page(pdf: string, n: number) {
  const layout = (await run('pdftotext', ['-bbox', '-f', String(n), '-l', String(n), pdf, '-'])).stdout
  const words: Word[] = [...layout.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)]
    .map(m => ({ x0: Number(m[1]), y0: Number(m[2]), x1: Number(m[3]), y1: Number(m[4]), text: m[5]!.replace(/&amp;/g, '&') }))
  const text = words.map(w => w.text).join('')
  const svgFile = join(dir, `page-${n}.svg`)
  await run('pdftocairo', ['-svg', '-f', String(n), '-l', String(n), pdf, svgFile])
  const svg = readFileSync(svgFile, 'utf8')
  // A space is drawn as a glyph with no outline: it is no character of the text.
  const blank = new Set([...svg.matchAll(/<symbol[^>]*id="([^"]+)"[^>]*>([\s\S]*?)<\/symbol>/g)].filter(m => !/d="M/.test(m[2]!)).map(m => m[1]!))
  const glyphs = (part: string) => [...part.matchAll(/<use xlink:href="#([^"]+)"/g)].filter(m => !blank.has(m[1]!)).length
  let clipped = 0
  // Clip groups hold no other groups' text: count the glyphs inside each, then all of them.
  for (const m of svg.matchAll(/<g clip-path="[^"]*"[^>]*>([\s\S]*?)<\/g>\s*<\/g>/g)) clipped += glyphs(m[1]!)
  const drawn = glyphs(svg) - clipped
  return { text, words, drawn, clipped }
}

const label = (c: ReportColumn) => c.path[c.path.length - 1]!.replace(/\s+/g, '')

async function check(url: string, name: string, first: string, columns: ReportColumn[]) {
  const { pdf, pages } = await print(url, name)
  expect(pages).toBeGreaterThan(0)
  const one = await page(pdf, 1)
  // One page wide: the first page holds the first and the last column's headings, and every other.
  expect(holds(one.words, first), `${name}: first column`).toBe(true)
  expect(holds(one.words, label(columns[columns.length - 1]!)), `${name}: last column`).toBe(true)
  for (const c of columns) expect(holds(one.words, label(c)), `${name}: ${label(c)}`).toBe(true)
  for (let n = 1; n <= pages; n++) {
    const p = n === 1 ? one : await page(pdf, n)
    expect(p.clipped, `${name} page ${n}: glyphs under a clip path`).toBe(0)
    expect(p.drawn, `${name} page ${n}: characters not drawn`).toBe([...p.text].length)
  }
}

describe('the workbooks printed through LibreOffice', () => {
  it('print attachment 5 one page wide with no text clipped', async () => {
    await check('/api/reports/attachment-5?period=2020-06-29&format=xlsx', 'attachment-5', '派出所', attachment5Columns)
  })

  it('print attachment 4 one page wide with no text clipped', async () => {
    const [k] = await t.db.sql<{ id: number }[]>`select id from key_area where deleted_at is null and status <> 'draft' order by length(name_zh) desc limit 1`
    await check(`/api/reports/attachment-4/${k!.id}?period=2020-06-29&format=xlsx`, 'attachment-4', '项目', attachment4Columns)
  })

  it('print attachment 3 one page wide with no text clipped, long key-area names wrapped in their rows', async () => {
    const [town] = await t.db.sql<{ id: number }[]>`
      select town_id as id from key_area where deleted_at is null and status <> 'draft' group by 1 order by max(length(name_zh)) desc limit 1`
    // A name as long as a ledger writes one.
    await t.db.sql`update key_area set name_zh = name_zh || '（含周边出租房屋集中区域及城中村改造安置小区）'
      where id = (select id from key_area where town_id = ${town!.id} and deleted_at is null and status <> 'draft' order by id limit 1)`
    await check(`/api/reports/attachment-3?town=${town!.id}&format=xlsx`, 'attachment-3', '序号', attachment3Columns)
  })
})
