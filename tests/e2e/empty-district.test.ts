import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactsDir } from '../helpers/browser.js'
import { importLedger, ledgerCsv, residentId } from '../helpers/ledger-page.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/**
 * A district that starts with its places and users but no records fills attachment 5 through the
 * screens and the ledger imports alone: premises, residents, a hazard, enforcement results at
 * premises, at a police station and from a ledger, a flag set on the panel and the group rental's
 * deregistration in the premises form; each lands in the right cell of the right row.
 */
let web: WebApp
let point: [number, number] = [0, 0]

beforeAll(async () => {
  web = await startWebApp()
  const owner = web.t.db.owner
  // No demo records: every premises (with its residents and hazards), key area and enforcement result goes.
  await owner`truncate premises, key_area, enforcement_event cascade`
  await owner`select refresh_measure_deltas()`
  await owner`select refresh_premises_cells()`
  await owner`update data_version set version = version + 1`
  const [c] = await web.t.db.sql<{ lon: number; lat: number }[]>`
    select st_x(p) as lon, st_y(p) as lat from (select st_pointonsurface(st_buffer(geom, -0.004)) as p from admin_area where level = 'town' and valid_to is null order by id limit 1) s`
  point = [c!.lon, c!.lat]
})
afterAll(() => web?.close())



/** Picks an option of an Element Plus select by its text. */
async function choose(page: Page, select: string, popper: string, text: string) {
  await page.click(select)
  await page.click(`.${popper} .el-select-dropdown__item:has-text("${text}")`)
}
/** The input of a form field: Element Plus puts the test id on the input or on its wrapper. */
const input = (id: string) => `:is(input[data-testid="${id}"], [data-testid="${id}"] input)`
async function day(page: Page, id: string, value: string) {
  await page.fill(input(id), value)
  await page.keyboard.press('Enter')
}

describe('an empty district', () => {
  it('enters one record of each kind through screens and imports and finds each in its cell of attachment 5', async () => {
    const page = await web.browser.newPage({ viewport: { width: 1440, height: 1000 } })
    await signInPage(page, web.base, 'bureau', '/imports')
    const [lon, lat] = [point[0].toFixed(6), point[1].toFixed(6)]
    await importLedger(page, '房屋台账', ledgerCsv([
      ['台账编号', '类型', '地址', '经度', '纬度', '出租间数', '居住人数', '二房东', '二房东信息采集日期', '签订责任书日期', '发现日期', '登记日期'],
      ['E-1', '群租房', '空区测试路1号', lon, lat, '12', '14', '赵某', '2020-03-05', '2020-03-04', '2020-03-02', '2020-03-03'],
    ]))
    await importLedger(page, '人员台账', ledgerCsv([
      ['房屋台账编号', '姓名', '证件号码', '流动人口', '入住日期', '居住登记日期', '特殊人员类别', '标记日期'],
      ['E-1', '钱一', residentId(1), '是', '2020-03-01', '2020-03-06', '可能肇事肇祸精神病人', '2020-03-06'],
      ['E-1', '钱二', residentId(2), '是', '2020-03-01', '2020-03-06', '', ''],
    ]))
    await importLedger(page, '隐患台账', ledgerCsv([
      ['房屋台账编号', '隐患字典项', '发现日期', '整改日期'],
      ['E-1', 'FIRE-06', '2020-03-07', '2020-03-08'],
    ]))
    const [p] = await web.t.db.sql<{ id: number; station: number }[]>`select id, police_station_id as station from premises where external_ref = 'E-1'`
    const [s] = await web.t.db.sql<{ nameZh: string }[]>`select name_zh from police_station where id = ${p!.station}`
    await importLedger(page, '执法成效台账', ledgerCsv([
      ['记录编号', '类型', '发生日期', '数量', '派出所'],
      ['EZ-1', '逮捕', '2020-03-10', '1', s!.nameZh],
    ]))

    // On the premises' panel: a penalty, and a flag on the second resident.
    await page.goto(`${web.base}/?premises=${p!.id}`)
    await page.waitForSelector('[data-testid="premises-enforcement"]')
    await page.click('[data-testid="enforcement-add"]')
    await choose(page, '[data-testid="enforcement-kind"]', 'enforcement-kind-popper', '处罚出租户主')
    await day(page, 'enforcement-date', '2020-03-11')
    await page.fill(input('enforcement-count'), '2')
    await page.fill(input('enforcement-case'), '新公（治）决字〔2020〕9号')
    await page.click('[data-testid="enforcement-save"]')
    await page.waitForSelector('[data-testid="enforcement-list"] li:has-text("新公（治）决字〔2020〕9号")')
    await page.click('[data-testid="residents"] tr:has-text("钱二") [data-testid="flag-open"]')
    await choose(page, '[data-testid="flag-category"]', 'flag-category-popper', '关注对象')
    await day(page, 'flag-day', '2020-03-12')
    await page.fill(input('flag-reason'), '行为异常')
    await page.click('[data-testid="flag-save"]')
    await page.waitForSelector('[data-testid="residents"] tr:has-text("钱二") .el-tag:has-text("关注对象")')
    await page.screenshot({ path: join(artifactsDir, 'empty-district-panel.png') })

    // In the premises form: changing the kind warns that it corrects the record; the group rental
    // stopped being one instead, recorded as its deregistration.
    await page.click('[data-testid="premises-edit"]')
    const form = page.locator('[data-testid="premises-form"]')
    await form.waitFor({ state: 'visible' })
    await form.locator('.el-select:has(input[name="kind"]), .el-select:has([name="kind"])').first().click()
    await page.click('.el-select-dropdown__item:visible:has-text("出租房屋")')
    await form.locator('[data-testid="kind-correction"]').waitFor({ state: 'visible' })
    await form.locator('.el-select:has(input[name="kind"]), .el-select:has([name="kind"])').first().click()
    await page.click('.el-select-dropdown__item:visible:has-text("群租房")')
    await form.locator('[data-testid="kind-correction"]').waitFor({ state: 'detached' })
    await form.locator('input[name="deregisteredOn"]').fill('2020-03-13')
    await form.locator('input[name="deregisteredOn"]').press('Enter')
    await page.click('[data-testid="premises-save"]')
    await form.waitFor({ state: 'hidden' })
    await page.waitForSelector('[data-testid="premises-panel"] dd:has-text("2020-03-13")')

    // At the police station: a criminal case solved with no premises.
    await page.goto(`${web.base}/enforcement`)
    await page.click('[data-testid="enforcement-add"]')
    await choose(page, '[data-testid="enforcement-kind"]', 'enforcement-kind-popper', '破获刑事案件')
    await choose(page, '[data-testid="enforcement-station"]', 'enforcement-station-popper', s!.nameZh)
    await day(page, 'enforcement-date', '2020-03-09')
    await page.click('[data-testid="enforcement-save"]')
    await page.waitForSelector('[data-testid="enforcement-list"] li:has-text("破获刑事案件")')

    await page.goto(`${web.base}/reports?report=attachment-5&period=2020-03-14`)
    const row = `[data-testid="report-table"] tr[data-row="station:${p!.station}:period"]`
    await page.waitForSelector(row)
    const cells = Object.fromEntries(await page.$$eval(`${row} td`, tds => tds.map(td => [td.getAttribute('data-key'), td.textContent!.trim()])))
    await page.screenshot({ path: join(artifactsDir, 'empty-district-attachment-5.png'), fullPage: true })
    expect(cells).toMatchObject({
      grRegistered: '1', grDeregistered: '1', grResidentsRegistered: '2', statementsSigned: '1', secondLandlords: '1',
      foundTotal: '1', foundFire: '1', rectifiedTotal: '1', rectifiedFire: '1',
      floatingRegistered: '2', floatingMentalIllness: '1', floatingConcern: '1', floatingOthers: '0',
      landlordsPenalised: '2', criminalCases: '1', arrests: '1', dealtTotal: '1',
    })
    // Nothing else of the district counts anywhere: the total row is this station's.
    const total = Object.fromEntries(await page.$$eval('[data-testid="report-table"] tr[data-row="total:period"] td', tds => tds.map(td => [td.getAttribute('data-key'), td.textContent!.trim()])))
    expect(total).toEqual(cells)
    await page.close()
  })
})
