import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { can, type Permission, roles } from '../../server/domain/access.js'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { startWebApp, type WebApp } from '../helpers/web-app.js'

let t: TestApp
let browser: Browser
let base: string
let web: WebApp

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
})
afterAll(() => web?.close())

/** The pages the header links to, with the permission each needs (the `meta` of web/src/router.ts). */
const pagePermission: Record<string, Permission> = {
  '/': 'map:read', '/dashboard': 'stats:read', '/key-areas': 'map:read', '/analysis': 'analysis:run', '/reports': 'stats:read',
  '/imports': 'import', '/enforcement': 'enforcement:write', '/leads': 'leads:read', '/tasks': 'tasks:assign', '/my-tasks': 'tasks:work', '/admin/users': 'users:admin', '/admin/audit': 'audit:read', '/admin/lead-models': 'leads:model', '/supervision': 'supervision:read', '/revisits': 'supervision:read',
}

async function signInAs(page: Page, username: string, password = 'demo1234') {
  await page.goto(`${base}/`)
  await page.waitForURL(/\/login/)
  await page.fill('input[name="username"]', username)
  await page.fill('input[name="password"]', password)
  await page.click('button[type="submit"]')
  await page.waitForSelector('[data-testid="who"]')
}

describe('signing in', () => {
  it('lists the demo accounts on the sign-in page and refuses a wrong password with the server\'s message', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.goto(`${base}/`)
    await page.waitForURL(/\/login/)
    await page.waitForSelector('[data-testid="demo-accounts"] li')
    await expect(page.locator('[data-testid="demo-accounts"] li').count()).resolves.toBe(6)
    await page.screenshot({ path: join(artifactsDir, 'signin-zh.png') })
    await page.fill('input[name="username"]', 'leader')
    await page.fill('input[name="password"]', 'not-the-password')
    await page.click('button[type="submit"]')
    // The Chinese screen shows the server's refusal in Chinese.
    await expect(page.locator('.error[role="alert"]').textContent()).resolves.toMatch(/^用户名或密码错误。$/)
    await page.close()
  })

  it('opens the sign-in page without a console error, a refused request or an audit row', async () => {
    const [before] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from audit_log`
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    const problems: string[] = []
    page.on('console', m => m.type() === 'error' && problems.push(`console: ${m.text()}`))
    page.on('pageerror', e => problems.push(`page: ${e.message}`))
    page.on('response', r => r.status() >= 400 && problems.push(`${r.status()} ${r.url()}`))
    for (const path of ['/', '/login', '/dashboard']) {
      await page.goto(`${base}${path}`)
      await page.waitForURL(/\/login/)
      await page.waitForSelector('[data-testid="demo-accounts"] li')
    }
    await page.close()
    expect(problems).toEqual([])
    const [after] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from audit_log`
    expect(after!.n).toBe(before!.n)
  })

  it.each(roles)('shows the %s the pages the role may use in the header, and no other, with the premises of its jurisdiction', async (role) => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signInAs(page, role)
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    expect(Number(await page.getAttribute('[data-map-state]', 'data-points'))).toBeGreaterThan(0)
    // The commander and the inspector work in one town: they see its premises, not the district's.
    const [n] = await t.db.sql<{ all: number; town: number }[]>`
      select count(*)::int as all, count(*) filter (where town_id = (select jurisdiction_town_id from app_user where username = 'commander'))::int as town from premises`
    const expected = role === 'commander' || role === 'inspector' ? n!.town : n!.all
    await page.waitForFunction(e => document.querySelector('[data-testid="legend"] .total')?.textContent?.replace(/,/g, '').includes(String(e)), expected)
    // Every link of the header's navigation, as the page draws it for this role.
    const links = (await page.$$eval('header nav a', as => as.map(a => new URL((a as HTMLAnchorElement).href).pathname))).sort()
    expect(links.filter(l => !(l in pagePermission)), 'header links whose page this test does not know').toEqual([])
    expect(links).toEqual(Object.keys(pagePermission).filter(path => can(role, pagePermission[path]!)).sort())
    const admin = role === 'admin'
    await page.screenshot({ path: join(artifactsDir, `role-${role}-zh.png`) })
    if (admin) {
      await page.click('[data-nav="users"]')
      await page.waitForSelector('[data-testid="users-table"] .el-table__row')
      await page.screenshot({ path: join(artifactsDir, 'admin-users-zh.png') })
    }
    await page.close()
  })

  it('tells the user when the session has expired', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await signInAs(page, 'analyst')
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    await t.db.sql`update user_session set last_seen_at = now() - interval '3 hours' where user_id = (select id from app_user where username = 'analyst') and revoked_at is null`
    await t.app.versions.refresh() // the app learns of a write behind its back from an announcement maybe still on its way
    await page.reload()
    await page.waitForURL(/\/login/)
    await expect(page.locator('[data-testid="session-ended"]').textContent()).resolves.toMatch(/登录已过期/)
    await page.close()
  })
})

describe('administration', () => {
  it('creates a user from the users page and finds the change in the audit trail (English)', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await page.addInitScript(() => localStorage.setItem('locale', 'en'))
    await signInAs(page, 'admin')
    await page.goto(`${base}/admin/users`)
    await page.click('[data-testid="user-create"]')
    const dialog = page.locator('[data-testid="user-dialog"]')
    await dialog.locator('input[name="username"]').fill('e2e.inspector')
    await dialog.locator('input[name="displayName"]').fill('E2E Inspector')
    await dialog.locator('input[name="password"]').fill('short')
    await page.click('[data-testid="user-save"]')
    await expect(dialog.locator('.error').textContent()).resolves.toMatch(/password/)
    await dialog.locator('input[name="password"]').fill('a-long-enough-password')
    await page.click('[data-testid="user-save"]')
    await page.waitForSelector('text=e2e.inspector')
    await dialog.waitFor({ state: 'hidden' })
    await page.screenshot({ path: join(artifactsDir, 'admin-users-en.png') })
    await page.goto(`${base}/admin/audit`)
    await page.fill('input[name="action"]', 'user.create')
    await page.click('[data-testid="audit-search"]')
    // The trail reads as words: the action user.create is "created an account".
    await page.waitForSelector('[data-testid="audit-table"] >> text=created an account')
    await page.screenshot({ path: join(artifactsDir, 'admin-audit-en.png') })

    // The session ends while the page is open: the next request sends the user to sign in, with the reason.
    await t.db.sql`update user_session set revoked_at = now() where user_id = (select id from app_user where username = 'admin') and revoked_at is null`
    await t.app.versions.refresh() // the app learns of a write behind its back from an announcement maybe still on its way
    await page.click('[data-testid="audit-search"]')
    await page.waitForURL(/\/login/)
    await expect(page.locator('[data-testid="session-ended"]').textContent()).resolves.toMatch(/session was ended/)
    await page.close()
  })
})
