import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signIn, type TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/** The audit page reads like a log for people (issue 17 §5): names, actions in words, before → after. */
let t: TestApp
let browser: Browser
let base: string
let web: WebApp

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
})
afterAll(() => web?.close())

describe('the audit page', () => {
  it('shows who by name, the action in words, the record by its name and the change as before → after', async () => {
    const commander = await signIn(t.app, 'commander')
    const [p] = await t.db.sql<{ id: number; address: string; occupants: number }[]>`
      select p.id, p.address, p.occupants from premises p
      where p.town_id = (select jurisdiction_town_id from app_user where username = 'commander') order by p.id limit 1`
    const res = await t.app.inject({ method: 'PATCH', url: `/api/premises/${p!.id}`, headers: { cookie: commander }, payload: { occupants: p!.occupants + 7 } })
    expect(res.statusCode, res.body).toBe(200)
    const [u] = await t.db.sql<{ displayName: string }[]>`select display_name from app_user where username = 'commander'`

    for (const locale of ['zh-CN', 'en'] as const) {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
      await page.addInitScript(l => localStorage.setItem('locale', l), locale)
      await signInPage(page, base, 'admin', '/admin/audit')
      await page.fill('input[name="entity"]', 'premises')
      await page.fill('input[name="entityId"]', String(p!.id))
      await page.click('[data-testid="audit-search"]')
      const row = page.locator('[data-testid="audit-table"] tbody tr', { hasText: locale === 'en' ? 'changed premises' : '修改房屋' }).first()
      await row.waitFor()
      const text = await row.textContent()
      expect(text).toContain(u!.displayName)
      expect(text).toContain(p!.address)
      await expect(row.locator('[data-testid="audit-change"]').textContent()).resolves.toContain(`occupants: ${p!.occupants} → ${p!.occupants + 7}`)
      expect(text).not.toContain('premises.update')
      await page.click('[data-testid="audit-search"]')
      await page.fill('input[name="entity"]', '')
      await page.fill('input[name="entityId"]', '')
      await page.click('[data-testid="audit-search"]')
      await page.waitForTimeout(500)
      await page.screenshot({ path: join(artifactsDir, `audit-page-${locale}.png`) })
      await page.close()
    }
  })
})
