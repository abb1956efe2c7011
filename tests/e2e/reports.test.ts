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

describe('the reports page', () => {
  it('draws attachment 5 with the paper form\'s merged header, downloads it, submits it and shows later changes', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } })
    await signInPage(page, base, 'bureau', '/reports?report=attachment-5&period=2020-06-29')
    await page.waitForSelector('[data-testid="report-table"] tbody tr')
    // The management block spans its 16 columns, over four header rows.
    const block = page.locator('[data-testid="report-table"] thead th', { hasText: '群租房管理情况' })
    expect(await block.getAttribute('colspan')).toBe('16')
    expect(await page.locator('[data-testid="report-table"] thead tr').count()).toBe(4)
    const rows = await page.locator('[data-testid="report-table"] tbody tr').count()
    expect(rows).toBeGreaterThan(4)
    // The spreadsheet link answers with a workbook.
    const href = await page.getAttribute('[data-testid="report-xlsx"]', 'href')
    const xlsx = await page.evaluate(async (u) => {
      const r = await fetch(u!)
      return { status: r.status, type: r.headers.get('content-type'), size: (await r.arrayBuffer()).byteLength }
    }, href)
    expect(xlsx.status).toBe(200)
    expect(xlsx.type).toContain('spreadsheetml')
    expect(xlsx.size).toBeGreaterThan(5000)

    await page.click('[data-testid="report-submit"]')
    await page.fill('input[name="reviewedBy"]', '李审核')
    await page.click('[data-testid="report-submit-confirm"]')
    await page.waitForSelector('[data-testid="report-status"].el-alert--success')
    expect(await page.locator('[data-testid="report-submit"]').count()).toBe(0)

    // A late ledger entry inside the period, a hazard of a group rental: the submitted table stays, the changed cells show.
    const [p] = await web.t.db.sql<{ id: number }[]>`select id from premises where police_station_id is not null and kind = 'group_rental' order by id limit 1`
    await web.t.db.sql`insert into hazard (premises_id, item_code, severity, status, department_code, found_at, deadline)
      values (${p!.id}, 'FIRE-06', 'general', 'found', 'fire', '2020-06-20T10:00:00+08:00', '2020-07-30')`
    await page.reload()
    await page.waitForSelector('[data-testid="report-status"].el-alert--warning')
    expect(await page.locator('td.changed').count()).toBeGreaterThan(0)
    await page.screenshot({ path: join(artifactsDir, 'reports-attachment-5-zh-CN.png'), fullPage: false })
    await page.close()
  })

  it('shows attachments 4 and 3 in English', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } })
    await page.addInitScript(() => localStorage.setItem('locale', 'en'))
    await signInPage(page, base, 'leader', '/reports?report=attachment-4&period=2020-06-29')
    await page.waitForSelector('[data-testid="report-table"] tbody tr')
    expect(await page.locator('[data-testid="report-table"] tbody tr').count()).toBe(2)
    expect(await page.locator('[data-testid="report-table"] thead').innerText()).toContain('Hazards found in the area')
    await page.screenshot({ path: join(artifactsDir, 'reports-attachment-4-en.png') })
    await page.click('text=Att. 3 Key areas')
    await page.waitForSelector('[data-testid="report-table"] td[data-key="name"]')
    await page.screenshot({ path: join(artifactsDir, 'reports-attachment-3-en.png') })
    await page.close()
  })
})
