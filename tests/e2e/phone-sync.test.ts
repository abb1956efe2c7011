import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signIn, type TestApp } from '../helpers/app.js'
import { artifactsDir, phoneContext } from '../helpers/browser.js'
import { insertTask, userId } from '../helpers/tasks.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/**
 * The sync screen on a phone: a write queued offline that meets a conflict when the network is
 * back, or a session that expired meanwhile, is never dropped; the inspector resolves it there.
 */
let t: TestApp
let browser: Browser
let base: string
let web: WebApp
let context: BrowserContext
let page: Page
const premises: { id: number; roomsLet: number }[] = []

beforeAll(async () => {
  web = await startWebApp({ serviceWorkers: 'allow' })
  ;({ t, browser, base } = web)
  premises.push(...await t.db.sql<{ id: number; roomsLet: number }[]>`
    select p.id, p.rooms_let from premises p join app_user u on u.jurisdiction_town_id = p.town_id
    where u.username = 'inspector' and not exists (select 1 from hazard h where h.premises_id = p.id) order by p.id desc limit 7`)
  context = await browser.newContext({ ...phoneContext })
  page = await context.newPage()
})
afterAll(() => web?.close())

/** Records a fire hazard (FIRE-06) on the premises open in the panel, from the phone's form. */
async function recordFireHazard() {
  await page.tap('[data-testid="hazard-add"]')
  await page.locator('[data-testid="hazard-form"]').waitFor()
  await page.click('[data-testid="hazard-category"]')
  await page.click('.el-select-dropdown__item:has-text("消防隐患")')
  await page.click('[data-testid="hazard-item"]')
  await page.click('.hazard-item-popper .el-select-dropdown__item:has-text("FIRE-06")')
  await page.click('[data-testid="hazard-save"]')
}

/**
 * Opens a page of the app as the inspector, signing in again when a test before this one ended the
 * session (each test starts signed in, whatever the one before left).
 */
async function open(path: string) {
  await page.goto(`${base}${path}`)
  await page.waitForSelector('[data-testid="who"], input[name="username"]')
  if (new URL(page.url()).pathname === '/login') await signInPage(page, base, 'inspector', path)
}

/** Ends the inspector's sessions behind the app's back, as their running out while the phone is away would. */
async function expireSessions() {
  await t.db.sql`update user_session set expires_at = created_at + interval '1 second' where user_id = (select id from app_user where username = 'inspector')`
  // The app learns of it from the database's announcement, which may still be on its way when the
  // phone's first request arrives; read the versions instead.
  await t.app.versions.refresh()
}

/**
 * Records a fire hazard on premises `id` with no network, ends the inspector's sessions meanwhile,
 * and brings the network back; with `sendsFindNoNetwork` the queue's sends still find none (the
 * radio, the gateway), while the page's other requests reach the server.
 */
async function hazardWaitingOnExpiredSession(id: number, opts: { sendsFindNoNetwork?: boolean } = {}) {
  await open(`/?premises=${id}`)
  await page.locator('[data-testid="premises-panel"] [data-testid="hazard-add"]').waitFor()
  await context.setOffline(true)
  await recordFireHazard()
  await page.waitForSelector('[data-testid="outbox-notice"][data-kind="queued"]')
  // The session runs out while the phone is away.
  await expireSessions()
  if (opts.sendsFindNoNetwork) {
    await page.route('**/api/premises/*/hazards', route => route.request().method() === 'POST' ? route.abort('internetdisconnected') : route.continue())
  }
  await context.setOffline(false)
}

/** Signs in again on the sign-in page the app led to, and waits for the sync screen to have sent everything. */
async function signInToSync() {
  await page.fill('input[name="username"]', 'inspector')
  await page.fill('input[name="password"]', 'demo1234')
  await page.click('button[type="submit"]')
  await page.waitForURL(/\/sync$/)
  await page.waitForSelector('[data-testid="sync-empty"]', { timeout: 30_000 })
}

const shot = (p: Page, name: string) => p.screenshot({ path: join(artifactsDir, `${name}.png`) })
const badge = () => page.locator('[data-testid="sync-badge"]').getAttribute('data-count')

describe('the sync screen on a phone', () => {
  it('shows an edit made offline that somebody else overtook as a conflict, opens the record, and discards it only once confirmed', async () => {
    const p = premises[0]!
    await signInPage(page, base, 'inspector', `/?premises=${p.id}`)
    await page.locator('[data-testid="premises-panel"] [data-testid="premises-edit"]').waitFor()
    await context.setOffline(true)
    await page.tap('[data-testid="premises-edit"]')
    const form = page.locator('[data-testid="premises-form"]')
    await form.waitFor()
    await form.locator('input[name="roomsLet"]').fill(String(p.roomsLet + 5))
    await page.tap('[data-testid="premises-save"]')
    await page.waitForSelector('[data-testid="outbox-notice"][data-kind="queued"]')
    await expect(badge()).resolves.toBe('1')

    // Meanwhile a commander at the desk changes the same fact.
    const desk = await t.app.inject({ method: 'PATCH', url: `/api/premises/${p.id}`, headers: { cookie: await signIn(t.app, 'commander') }, payload: { roomsLet: p.roomsLet + 1 } })
    expect(desk.statusCode, desk.body).toBe(200)

    await context.setOffline(false)
    await page.waitForSelector('[data-testid="sync-badge"].problem', { timeout: 30_000 })
    await page.tap('[data-testid="sync-badge"]')
    const item = page.locator('[data-testid="sync-items"] li[data-state="conflict"]')
    await item.waitFor()
    await expect(item.locator('[data-testid="sync-problem"]').textContent()).resolves.toContain('他人已修改')
    await shot(page, 'offline-sync-conflict-phone-zh')

    await item.locator('[data-action="open"]').tap()
    await page.waitForURL(new RegExp(`premises=${p.id}`))
    await page.locator(`[data-testid="premises-panel"][data-premises="${p.id}"]`).waitFor()
    await page.goBack()
    await item.waitFor()

    await item.locator('[data-action="discard"]').tap()
    const box = page.locator('.el-message-box')
    await box.waitFor()
    await shot(page, 'offline-sync-discard-phone-zh')
    // Cancelling keeps it.
    await box.locator('.el-button:not(.el-button--primary)').tap()
    await expect(page.locator('[data-testid="sync-items"] li').count()).resolves.toBe(1)
    await item.locator('[data-action="discard"]').tap()
    await page.locator('.el-message-box .el-button--primary').tap()
    await page.waitForSelector('[data-testid="sync-empty"]')
    await expect(badge()).resolves.toBe('0')
    const [now] = await t.db.sql<{ roomsLet: number }[]>`select rooms_let from premises where id = ${p.id}`
    expect(now!.roomsLet).toBe(p.roomsLet + 1)
  })

  it('sends a hazard again whose answer was lost on the way, and the server keeps it once', async () => {
    const p = premises[2]!
    await open(`/?premises=${p.id}`)
    await page.locator('[data-testid="premises-panel"] [data-testid="hazard-add"]').waitFor()
    // The hazard reaches the server and is stored, but its answer never reaches the phone.
    let delivered = 0
    await page.route('**/api/premises/*/hazards', async (route) => {
      if (route.request().method() !== 'POST') return route.continue()
      const answer = await route.fetch()
      delivered = answer.status()
      await route.abort('connectionreset')
    })
    await page.tap('[data-testid="hazard-add"]')
    await page.click('[data-testid="hazard-category"]')
    await page.click('.el-select-dropdown__item:has-text("消防隐患")')
    await page.click('[data-testid="hazard-item"]')
    await page.click('.hazard-item-popper .el-select-dropdown__item:has-text("FIRE-06")')
    await page.click('[data-testid="hazard-save"]')
    await page.waitForSelector('[data-testid="outbox-notice"][data-kind="queued"]')
    expect(delivered).toBe(201)
    await expect(t.db.sql`select 1 from hazard where premises_id = ${p.id}`).resolves.toHaveLength(1)
    await page.unroute('**/api/premises/*/hazards')

    // Opening the sync screen sends what waits: the same hazard again, with the same client id.
    await page.tap('[data-testid="sync-badge"]')
    await page.waitForSelector('[data-testid="sync-empty"]', { timeout: 30_000 })
    await expect(t.db.sql`select 1 from hazard where premises_id = ${p.id}`).resolves.toHaveLength(1)
    await expect(t.db.sql`select 1 from audit_log where action = 'hazard.create' and entity_id in (select id::text from hazard where premises_id = ${p.id})`).resolves.toHaveLength(1)
  })

  it('keeps a hazard queued under a session that expired meanwhile, asks for a sign-in and sends it after', async () => {
    const p = premises[1]!
    await hazardWaitingOnExpiredSession(p.id)
    await page.waitForURL(/\/login\?next=(%2F|\/)sync$/, { timeout: 30_000 })
    await shot(page, 'offline-session-expired-phone-zh')
    await expect(t.db.sql`select 1 from hazard where premises_id = ${p.id}`).resolves.toHaveLength(0)

    await signInToSync()
    await shot(page, 'offline-sync-after-sign-in-phone-zh')
    await expect(t.db.sql`select 1 from hazard where premises_id = ${p.id}`).resolves.toHaveLength(1)
  })

  it('leads to the sync screen after the sign-in also when a page\'s read finds the session expired before the queue\'s send does', async () => {
    // On a slow phone the page's own reads (the figures, a list) can reach the server before the
    // queue's first send after the network came back; the writes still wait, so the sign-in leads to them.
    const p = premises[5]!
    await hazardWaitingOnExpiredSession(p.id, { sendsFindNoNetwork: true })
    // The inspector opens the visits from the menu.
    // A read of the page already open can find the expired session first and lead to the sign-in
    // itself, taking the menu away mid-tap (once on CI): either read leads to the same place.
    try {
      await page.tap('[data-testid="menu-open"]', { timeout: 10_000 })
      await page.tap('#phone-menu a[data-nav="my-tasks"]', { timeout: 10_000 })
    } catch (e) {
      if (new URL(page.url()).pathname !== '/login') throw e
    }
    await page.waitForURL(/\/login\?next=(%2F|\/)sync$/, { timeout: 30_000 })
    await page.unroute('**/api/premises/*/hazards')
    await expect(t.db.sql`select 1 from hazard where premises_id = ${p.id}`).resolves.toHaveLength(0)
    await signInToSync()
    await expect(t.db.sql`select 1 from hazard where premises_id = ${p.id}`).resolves.toHaveLength(1)
  })

  it('leads to the sync screen after the sign-in also when the session is found expired on opening a page, writes waiting', async () => {
    const p = premises[6]!
    await hazardWaitingOnExpiredSession(p.id, { sendsFindNoNetwork: true })
    // The inspector opens the visits (a link, a reload) before the queue has reached the server.
    await page.goto(`${base}/my-tasks`)
    await page.waitForURL(/\/login\?next=(%2F|\/)sync$/, { timeout: 30_000 })
    await page.unroute('**/api/premises/*/hazards')
    await signInToSync()
    await expect(t.db.sql`select 1 from hazard where premises_id = ${p.id}`).resolves.toHaveLength(1)
  })

  it('tries again within seconds when its sends after the network came back find none yet', async () => {
    const p = premises[4]!
    // The page's clock runs as usual, and the test moves it on at will (runFor).
    await page.clock.install()
    await open(`/?premises=${p.id}`)
    await page.locator('[data-testid="premises-panel"] [data-testid="hazard-add"]').waitFor()
    await context.setOffline(true)
    await recordFireHazard()
    await page.waitForSelector('[data-testid="outbox-notice"][data-kind="queued"]')

    // The phone says it is online again, but its first two requests go nowhere (the radio, the gateway).
    let tries = 0
    await page.route('**/api/premises/*/hazards', async (route) => {
      if (route.request().method() !== 'POST') return route.continue()
      tries++
      return tries <= 2 ? route.abort('internetdisconnected') : route.continue()
    })
    await context.setOffline(false)
    // Two seconds of the page's time at a go, some twenty-four in all: the tries come 2 s, then 4, then
    // 8 s apart, and the third goes through; the queue's half-minute round alone would try once.
    const stored = async () => (await t.db.sql`select 1 from hazard where premises_id = ${p.id}`).length
    for (let step = 0; step < 12 && tries < 3; step++) {
      const before = tries
      await page.clock.runFor(2_000)
      await expect.poll(() => tries, { timeout: 1_000 }).toBeGreaterThan(before).catch(() => undefined)
    }
    expect(tries).toBe(3)
    await expect.poll(stored, { timeout: 10_000 }).toBe(1)
    await page.waitForSelector('[data-testid="sync-badge"][data-count="0"]')
    await page.unroute('**/api/premises/*/hazards')
  })

  it('closes a visit by hand with no network, and the visit is closed on the server once the network is back', async () => {
    const p = premises[3]!
    const task = await insertTask(t.db.sql, { premisesId: p.id, assigneeId: await userId(t.db.sql, 'inspector') })
    await open('/my-tasks')
    await page.tap(`[data-testid="task-list"] [data-task="${task}"]`)
    await context.setOffline(true)
    await page.tap('[data-testid="task-complete"]')
    await page.fill('textarea[data-testid="task-complete-note"], [data-testid="task-complete-note"] textarea', '无人应门，已留联系卡')
    await page.tap('[data-testid="task-complete-confirm"]')
    await page.waitForSelector('[data-testid="outbox-notice"][data-kind="queued"]')
    await expect(t.db.sql`select 1 from task where id = ${task} and status = 'open'`).resolves.toHaveLength(1)
    await context.setOffline(false)
    await expect.poll(async () => (await t.db.sql<{ status: string; closingNote: string | null }[]>`
      select status, closing_note from task where id = ${task}`)[0], { timeout: 30_000 }).toEqual({ status: 'done', closingNote: '无人应门，已留联系卡' })
    await context.close()
  })
})
