import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { signIn } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { clearTasks, dayFromToday, userId } from '../helpers/tasks.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/**
 * The bell and the inbox in the browser: a notice reaches an open page live (within 2 s of the
 * write that makes it), the inbox reads and un-reads it, and the dashboard loads its figures again
 * when data they are computed from changes.
 */
let t: TestApp
let browser: Browser
let base: string
let web: WebApp
let premisesId = 0

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
  const [p] = await t.db.sql<{ id: number }[]>`
    select p.id from premises p join app_user u on u.username = 'commander' and p.town_id = u.jurisdiction_town_id order by p.id limit 1`
  premisesId = p!.id
})
afterAll(() => web?.close())

const shot = (page: Page, name: string) => page.screenshot({ path: join(artifactsDir, `${name}.png`) })
const unreadOf = async (page: Page) => Number(await page.locator('[data-testid="notices-bell"]').first().getAttribute('data-unread'))

/** Assigns a visit to the inspector as the commander; answers when the write was committed (its answer came back). */
async function assignVisit(): Promise<number> {
  await clearTasks(t.db.sql, [premisesId])
  const commander = await signIn(t.app, 'commander')
  const assigneeId = await userId(t.db.sql, 'inspector')
  const res = await t.app.inject({
    method: 'POST', url: '/api/tasks', headers: { cookie: commander },
    payload: { kind: 'inspect', assigneeId, dueOn: dayFromToday(5), premisesIds: [premisesId] },
  })
  expect(res.statusCode, res.body).toBe(201)
  return Date.now()
}

describe('notices in the browser', () => {
  it('shows a visit assigned to the inspector on the open page\'s bell within 2 s of the write, then in the inbox, read and unread', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 820 } })
    await signInPage(page, base, 'inspector', '/inbox')
    await page.waitForSelector('[data-testid="notices-bell"][data-live="true"]', { timeout: 15_000 })
    const before = await unreadOf(page)
    // From the write's commit (the notice is written in its transaction) to the bell counting it.
    const committed = await assignVisit()
    await page.waitForFunction(n => Number(document.querySelector('[data-testid="notices-bell"]')?.getAttribute('data-unread')) > n, before, { timeout: 10_000 })
    expect(Date.now() - committed).toBeLessThan(2000)
    const item = page.locator('[data-kind="task-assigned"]').first()
    await expect(item.textContent()).resolves.toContain(`${dayFromToday(5)} 前完成`)
    await shot(page, 'inbox-bell-zh')
    await item.locator('[data-testid="toggle-read"]').click()
    await page.waitForFunction(n => Number(document.querySelector('[data-testid="notices-bell"]')?.getAttribute('data-unread')) === n, before)
    await item.locator('[data-testid="toggle-read"]').click()
    await page.waitForFunction(n => Number(document.querySelector('[data-testid="notices-bell"]')?.getAttribute('data-unread')) === n + 1, before)
    await page.close()
  })

  it('shows the bell and the inbox on a phone at 390 × 844, in English', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })
    const page = await context.newPage()
    await page.goto(`${base}/login`)
    await page.evaluate(() => localStorage.setItem('locale', 'en'))
    await signInPage(page, base, 'inspector', '/inbox')
    await page.waitForSelector('[data-kind="task-assigned"]')
    await page.locator('[data-testid="notices-bell"]').tap()
    await page.waitForURL(/\/inbox/)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await shot(page, 'inbox-bell-phone-en')
    await context.close()
  })

  it('loads the dashboard\'s figures again when data they are computed from changes', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 820 } })
    await signInPage(page, base, 'leader', '/dashboard')
    await page.waitForSelector('[data-testid="notices-bell"][data-live="true"]', { timeout: 15_000 })
    await page.waitForTimeout(2500)
    const summaries: number[] = []
    page.on('request', r => r.url().includes('/api/stats/summary') && summaries.push(Date.now()))
    await t.db.sql`update premises set occupants = occupants + 1 where id = ${premisesId}`
    const until = Date.now() + 10_000
    while (!summaries.length && Date.now() < until) await page.waitForTimeout(100)
    expect(summaries.length).toBeGreaterThan(0)
    await page.close()
  })
})
