import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactsDir } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

let browser: Browser
let base: string
let web: WebApp

beforeAll(async () => {
  web = await startWebApp()
  ;({ browser, base } = web)
})
afterAll(() => web?.close())

describe('the import page', () => {
  it('uploads a ledger, shows the bad rows, then imports a good one after a dry run', async () => {
    const [c] = await web.t.db.sql<{ lon: number; lat: number }[]>`
      select st_x(p) as lon, st_y(p) as lat from (select st_pointonsurface(st_buffer(geom, -0.004)) as p from admin_area where level = 'town' order by id limit 1) s`
    const row = (ref: string, found: string) => `${ref},群租房,页面测试路${ref}号,${c!.lon.toFixed(6)},${c!.lat.toFixed(6)},12,,14,${found}`
    const head = '台账编号,类型,地址,经度,纬度,出租间数,出租床位数,居住人数,发现日期'
    const bad = `${head}\r\n${row('W-1', '2020-01-05')}\r\n${row('W-2', '2020-13-05')}\r\n${row('W-1', '2020-01-05')}\r\n`
    const good = `${head}\r\n${row('W-1', '2020-01-05')}\r\n${row('W-2', '2020-02-05')}\r\n${row('W-3', '2020-03-05')}\r\n`

    for (const locale of ['zh-CN', 'en'] as const) {
      const page = await browser.newPage({ viewport: { width: 1300, height: 1500 } })
      await page.addInitScript(l => localStorage.setItem('locale', l), locale)
      await signInPage(page, base, 'bureau', '/imports')
      await page.setInputFiles('[data-testid="import-file"]', { name: 'ledger.csv', mimeType: 'text/csv', buffer: Buffer.from(locale === 'en' ? good.replace(/W-/g, 'E-') : bad) })
      await page.waitForSelector('[data-testid="import-mapping"]')
      // The fields' notes in the screen's language.
      expect(await page.locator('[data-testid="import-mapping"]').innerText()).toMatch(locale === 'en' ? /importing the same number again updates it/ : /再次导入同一编号即更新该房屋/)
      await page.click('[data-testid="import-dry-run"]')
      await page.waitForSelector('[data-testid="import-summary"]')
      if (locale === 'zh-CN') {
        await page.waitForSelector('[data-testid="import-errors"] tbody tr')
        const text = await page.locator('[data-testid="import-errors"]').innerText()
        // Each problem in the screen's language (the downloadable report carries both).
        expect(text).toMatch(/不是日期，请写作 2020-01-05/)
        expect(text).toMatch(/与第 2 行重复/)
        expect(text).not.toMatch(/not a date/)
        expect(await page.locator('[data-testid="import-commit"]').isDisabled()).toBe(true)
        await page.screenshot({ path: join(artifactsDir, 'imports-errors-zh-CN.png'), fullPage: true })
        // The corrected file: dry run, then commit.
        await page.setInputFiles('[data-testid="import-file"]', { name: 'ledger.csv', mimeType: 'text/csv', buffer: Buffer.from(good) })
        await page.waitForSelector('[data-testid="import-mapping"]')
        await page.click('[data-testid="import-dry-run"]')
        await page.waitForSelector('[data-testid="import-summary"] .el-alert--info')
      }
      expect(await page.locator('[data-testid="import-summary"]').innerText()).toMatch(locale === 'en' ? /3 to create/ : /新增 3 条/)
      await page.click('[data-testid="import-commit"]')
      await page.waitForSelector('[data-testid="import-summary"] .el-alert--success')
      expect(await page.locator('[data-testid="import-changes"]').innerText()).toMatch(locale === 'en' ? /E-3\s+New/ : /W-3\s+新增/)
      await page.screenshot({ path: join(artifactsDir, `imports-done-${locale}.png`), fullPage: true })
      if (locale === 'zh-CN') {
        // The ledger again with one row changed: the dry run lists the field, before and after.
        const changed = good.replace(`${row('W-2', '2020-02-05')}`, `${row('W-2', '2020-02-05')}`.replace(',12,,14,', ',15,,14,'))
        await page.setInputFiles('[data-testid="import-file"]', { name: 'ledger-2.csv', mimeType: 'text/csv', buffer: Buffer.from(changed) })
        await page.waitForSelector('[data-testid="import-mapping"]')
        await page.click('[data-testid="import-dry-run"]')
        await page.waitForSelector('[data-testid="import-changes"] tbody tr')
        expect(await page.locator('[data-testid="import-summary"]').innerText()).toMatch(/更新 1 条，2 条不变/)
        expect(await page.locator('[data-testid="import-changes"] tbody').innerText()).toMatch(/W-2\s+更新\s+页面测试路W-2号\s+出租间数: 12 → 15/)
        await page.screenshot({ path: join(artifactsDir, 'imports-changes-zh-CN.png'), fullPage: true })
      }
      await page.close()
    }
    const [{ n }] = await web.t.db.sql<{ n: number }[]>`select count(*)::int as n from premises where external_ref in ('W-1', 'W-2', 'W-3', 'E-1', 'E-2', 'E-3')` as unknown as [{ n: number }]
    expect(n).toBe(6)
  })
})
