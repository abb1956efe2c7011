import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactsDir } from '../helpers/browser.js'
import { drawPolygon, importLedger, ledgerCsv, residentId } from '../helpers/ledger-page.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/**
 * A district that starts with its places and users but no records gets attachments 4 and 3 through
 * the screens and the ledger imports alone: a commander draws a key area and enters its population
 * figures, the ledgers bring a group rental inside it with residents, hazards and an enforcement
 * result; each lands in its cell of the key area's table and of the town's list of key areas.
 */
let web: WebApp

beforeAll(async () => {
  web = await startWebApp()
  const owner = web.t.db.owner
  await owner`truncate premises, key_area, enforcement_event cascade`
  await owner`select refresh_measure_deltas()`
  await owner`select refresh_premises_cells()`
  await owner`update data_version set version = version + 1`
})
afterAll(() => web?.close())




/** A labelled field of the key-area form (the label wraps its input). */
const field = (page: Page, label: string) => page.locator('[data-testid="key-area-form"] label', { hasText: label }).locator('input').first()

/** The cells of one row of the report on screen, by column key. */
async function rowCells(page: Page, row: string): Promise<Record<string, string>> {
  const sel = `[data-testid="report-table"] tr[data-row="${row}"]`
  await page.waitForSelector(sel)
  return Object.fromEntries(await page.$$eval(`${sel} td`, tds => tds.map(td => [td.getAttribute('data-key'), td.textContent!.trim()])))
}

describe('an empty district\'s key area', () => {
  it('draws a key area, imports one record of each kind inside it and finds each in its cell of attachments 4 and 3', async () => {
    const page = await web.browser.newPage({ viewport: { width: 1440, height: 1000 } })
    await signInPage(page, web.base, 'commander', '/key-areas/new')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await drawPolygon(page, [[-90, -70], [90, -70], [90, 70], [-90, 70]])
    await page.waitForFunction(() => document.querySelector('[data-testid="key-area-form"]')?.getAttribute('data-preview-state') === 'ok', undefined, { timeout: 10_000 })
    await page.fill('input[name="nameZh"]', '空区重点地区')
    const listed = field(page, '挂牌日期')
    await listed.fill('2020-03-01')
    await listed.press('Enter')
    await page.fill('[data-testid="key-area-form"] input[name="deadline"]', '2020-06-30')
    await page.press('[data-testid="key-area-form"] input[name="deadline"]', 'Enter')
    for (const [label, value] of [['实有人口', '120'], ['流动人口数', '80'], ['可能肇事肇祸精神病人', '1'], ['关注对象', '2']] as const) {
      await field(page, label).fill(value)
      await field(page, label).press('Tab')
    }
    await page.click('[data-testid="key-area-save"]')
    await page.waitForURL(/\/key-areas\/\d+$/)
    const id = Number(page.url().split('/').pop())
    const [k] = await web.t.db.sql<{ lon: number; lat: number; listedOn: string; townId: number }[]>`
      select st_x(p) as lon, st_y(p) as lat, listed_on::text, town_id from (select st_pointonsurface(geom) as p, listed_on, town_id from key_area where id = ${id}) s`
    expect(k!.listedOn).toBe('2020-03-01')

    // The ledgers, imported by the district's sub-bureau: a group rental inside the key area.
    const bureau = await web.browser.newPage({ viewport: { width: 1440, height: 1000 } })
    await signInPage(bureau, web.base, 'bureau', '/imports')
    await importLedger(bureau, '房屋台账', ledgerCsv([
      ['台账编号', '类型', '地址', '经度', '纬度', '出租间数', '居住人数', '二房东', '二房东信息采集日期', '签订责任书日期', '发现日期', '登记日期'],
      ['K-1', '群租房', '空区重点路8号', k!.lon.toFixed(7), k!.lat.toFixed(7), '11', '12', '孙某', '2020-03-05', '2020-03-04', '2020-03-02', '2020-03-03'],
    ]))
    await importLedger(bureau, '人员台账', ledgerCsv([
      ['房屋台账编号', '姓名', '证件号码', '流动人口', '入住日期', '居住登记日期', '特殊人员类别', '标记日期'],
      ['K-1', '李一', residentId(11), '是', '2020-03-01', '2020-03-06', '关注对象', '2020-03-06'],
      ['K-1', '李二', residentId(12), '是', '2020-03-01', '2020-03-06', '', ''],
    ]))
    await importLedger(bureau, '隐患台账', ledgerCsv([
      ['房屋台账编号', '隐患字典项', '发现日期', '整改日期'],
      ['K-1', 'FIRE-06', '2020-03-07', '2020-03-08'],
      ['K-1', 'PS-01', '2020-03-09', ''],
    ]))
    await importLedger(bureau, '执法成效台账', ledgerCsv([
      ['记录编号', '类型', '发生日期', '数量', '房屋台账编号'],
      ['KZ-1', '处罚违规流动人口', '2020-03-10', '3', 'K-1'],
    ]))
    await bureau.close()

    await page.goto(`${web.base}/reports?report=attachment-4&period=2020-03-14&keyArea=${id}`)
    const a4 = await rowCells(page, 'period')
    await page.screenshot({ path: join(artifactsDir, 'empty-district-attachment-4.png'), fullPage: true })
    expect(a4).toMatchObject({
      grRegistered: '1', grResidentsRegistered: '2', statementsSigned: '1', secondLandlords: '1',
      foundTotal: '2', foundFire: '1', foundPublicSecurity: '1', rectifiedTotal: '1', rectifiedFire: '1',
      floatingRegistered: '2', floatingConcern: '1', floatingOthers: '1', floatingPenalised: '3',
      keyAreaHazardsFound: '2', keyAreaHazardsRectified: '1',
    })
    expect(await rowCells(page, 'cumulative')).toEqual(a4)

    await page.goto(`${web.base}/reports?report=attachment-3&on=2020-03-14&town=${k!.townId}`)
    const a3 = await rowCells(page, `key_area:${id}`)
    await page.screenshot({ path: join(artifactsDir, 'empty-district-attachment-3.png'), fullPage: true })
    expect(a3).toMatchObject({
      name: '空区重点地区', houses: '1', rentalHouses: '1', groupRentals: '1', groupRentalsWithHazards: '1',
      actualPopulation: '120', floatingPopulation: '80', mentalIllnessCount: '1', personsOfConcernCount: '2',
    })
    await page.close()
  })
})
