import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rootDir } from '../../server/lib/config.js'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir, phoneContext } from '../helpers/browser.js'
import { insertTask, userId } from '../helpers/tasks.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/**
 * The inspector's phone without network: the installed app's shell, the area downloaded before
 * going out, a hazard with its photo and its rectification recorded offline, kept through a
 * reload, sent when the network is back — and on the server exactly once.
 */
let t: TestApp
let browser: Browser
let base: string
let web: WebApp
let visit: { id: number; premisesId: number; address: string }

beforeAll(async () => {
  web = await startWebApp({ serviceWorkers: 'allow' })
  ;({ t, browser, base } = web)
  await t.db.sql`update task set status = 'cancelled', closed_at = now(), closed_by_action = 'task.cancel' where status = 'open'`
  const inspector = await userId(t.db.sql, 'inspector')
  // Two visits in the inspector's town, at premises with no hazard yet (what is recorded is then all there is).
  const premises = await t.db.sql<{ id: number; address: string }[]>`
    select p.id, p.address from premises p join app_user u on u.jurisdiction_town_id = p.town_id
    where u.username = 'inspector' and not exists (select 1 from hazard h where h.premises_id = p.id) order by p.id limit 2`
  for (const p of premises) await insertTask(t.db.sql, { premisesId: p.id, assigneeId: inspector })
  const [task] = await t.db.sql<{ id: number }[]>`select id from task where premises_id = ${premises[0]!.id} and status = 'open'`
  visit = { id: task!.id, premisesId: premises[0]!.id, address: premises[0]!.address }
})
afterAll(() => web?.close())

const fixturePath = (name: string) => join(rootDir, 'tests', 'fixtures', 'photos', name)
const shot = (page: Page, name: string) => page.screenshot({ path: join(artifactsDir, `${name}.png`) })
const badge = (page: Page) => page.locator('[data-testid="sync-badge"]').getAttribute('data-count')

async function choosePhoto(page: Page, scope: ReturnType<Page['locator']>) {
  const chooser = page.waitForEvent('filechooser')
  await scope.locator('[data-testid="photo-choose"]').tap()
  await (await chooser).setFiles(fixturePath('hazard-gps.jpg'))
  await scope.locator('[data-testid="photo-preview"]').waitFor()
}

/** No sentence on the screen is a bare status line or a programmer's error. */
async function noRawError(page: Page) {
  const alerts = await page.locator('[role="alert"]').allTextContents()
  for (const text of alerts) expect(text).not.toMatch(/\b(4\d\d|5\d\d)\b|Failed to fetch|TypeError|undefined|\[object/)
}

describe('offline field work on a phone', () => {
  let context: BrowserContext
  let page: Page

  it('installs the app, downloads the area of the visits and opens the visits with no network after a reload', async () => {
    context = await browser.newContext({ ...phoneContext })
    page = await context.newPage()
    await signInPage(page, base, 'inspector', '/my-tasks')
    await page.waitForSelector(`[data-testid="task-list"] [data-task="${visit.id}"]`)
    // The service worker takes the page over once it has kept the shell.
    await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, undefined, { timeout: 30_000 })
    const manifest = await page.evaluate(async () => (await fetch('/manifest.webmanifest')).json() as Promise<{ display: string; icons: unknown[] }>)
    expect(manifest.display).toBe('standalone')
    expect(manifest.icons.length).toBeGreaterThanOrEqual(2)

    await page.tap('[data-testid="offline-download"]')
    await page.waitForSelector('[data-testid="offline-area"][data-downloaded]', { timeout: 60_000 })
    const downloaded = Number(await page.locator('[data-testid="offline-area"]').getAttribute('data-downloaded'))
    expect(downloaded).toBeGreaterThanOrEqual(2)
    await shot(page, 'offline-my-tasks-downloaded-phone-zh')

    await context.setOffline(true)
    await page.reload()
    await page.waitForSelector(`[data-testid="task-list"] [data-task="${visit.id}"]`, { timeout: 30_000 })
    await page.waitForFunction(() => document.querySelector('[data-map-state]')?.getAttribute('data-map-state') === 'ready', undefined, { timeout: 30_000 })
    await page.waitForFunction(() => document.querySelector('[data-testid="my-tasks"]')?.getAttribute('data-task-dots') === '2', undefined, { timeout: 30_000 })
    await shot(page, 'offline-my-tasks-no-network-phone-zh')
    await noRawError(page)
  })

  it('records a hazard with its photo offline: it is kept on the phone and shown as waiting', async () => {
    await page.tap(`[data-testid="task-list"] [data-task="${visit.id}"]`)
    await page.waitForSelector(`[data-testid="task-sheet"][data-task="${visit.id}"]`)
    await page.tap('[data-testid="task-record-hazard"]')
    const form = page.locator('[data-testid="hazard-form"]')
    await form.waitFor()
    await page.click('[data-testid="hazard-category"]')
    await page.click('.el-select-dropdown__item:has-text("消防隐患")')
    await page.click('[data-testid="hazard-item"]')
    await page.click('.hazard-item-popper .el-select-dropdown__item:has-text("FIRE-06")')
    await choosePhoto(page, form)
    await page.click('[data-testid="hazard-save"]')
    await page.waitForSelector('[data-testid="outbox-notice"][data-kind="queued"]')
    await form.waitFor({ state: 'hidden' })
    await expect(badge(page)).resolves.toBe('2')
    await shot(page, 'offline-hazard-queued-phone-zh')
    await noRawError(page)
  })

  it('rectifies the hazard recorded offline, with its "after" photo, on the premises panel read from the phone', async () => {
    await page.tap('[data-testid="task-sheet"] .details')
    const panel = page.locator('[data-testid="premises-panel"]')
    const card = panel.locator('[data-hazard][data-pending="true"]')
    await card.waitFor({ timeout: 30_000 })
    await expect(panel.locator('.address').textContent()).resolves.toBe(visit.address)
    await card.locator('[data-testid="photo-strip"] [data-stage="found"] img').waitFor()
    await card.locator('[data-action="rectify"]').tap()
    await choosePhoto(page, card)
    await card.locator('[data-action="confirm"]').tap()
    await panel.locator('[data-hazard][data-pending="true"][data-status="rectified"]').waitFor()
    await card.locator('[data-testid="photo-strip"] [data-stage="rectified"] img').waitFor()
    await expect(badge(page)).resolves.toBe('4')
    await shot(page, 'offline-hazard-rectified-phone-zh')
    await noRawError(page)
  })

  it('keeps everything through a reload without network, and lists it on the sync screen', async () => {
    await page.reload()
    const panel = page.locator('[data-testid="premises-panel"]')
    await panel.locator('[data-hazard][data-pending="true"][data-status="rectified"]').waitFor({ timeout: 30_000 })
    await expect(badge(page)).resolves.toBe('4')
    await page.tap('[data-testid="sync-badge"]')
    await page.waitForSelector('[data-testid="sync-view"]')
    const kinds = await page.locator('[data-testid="sync-items"] li').evaluateAll(els => els.map(e => `${e.getAttribute('data-kind')}:${e.getAttribute('data-state')}`))
    expect(kinds).toEqual(['hazard.create:pending', 'photo:pending', 'hazard.step:pending', 'photo:pending'])
    await expect(page.locator('[data-testid="sync-network"]').textContent()).resolves.toContain('无网络')
    await shot(page, 'offline-sync-waiting-phone-zh')
    await noRawError(page)
  })

  it('sends everything when the network is back, and the server holds it exactly once', async () => {
    await context.setOffline(false)
    await page.waitForSelector('[data-testid="sync-empty"]', { timeout: 60_000 })
    await expect(badge(page)).resolves.toBe('0')
    await shot(page, 'offline-sync-done-phone-zh')
    // Sending again what was sent (a lost answer, a replay) changes nothing: the server knows each client id.
    const hazards = await t.db.sql<{ id: number; status: string; itemCode: string }[]>`
      select id, status, item_code from hazard where premises_id = ${visit.premisesId}`
    expect(hazards).toEqual([{ id: hazards[0]!.id, status: 'rectified', itemCode: 'FIRE-06' }])
    const photos = await t.db.sql<{ stage: string }[]>`select stage from photo where hazard_id = ${hazards[0]!.id} order by id`
    expect(photos.map(p => p.stage)).toEqual(['found', 'rectified'])
    const steps = await t.db.sql<{ status: string }[]>`select status from hazard_event where hazard_id = ${hazards[0]!.id} order by at, id`
    expect(steps.map(s => s.status)).toEqual(['found', 'rectified'])
    const writes = await t.db.sql<{ action: string }[]>`
      select action from client_write where entity = 'hazard' and entity_id = ${hazards[0]!.id} order by created_at`
    expect(writes.map(w => w.action)).toEqual(['hazard.create', 'hazard.rectify'])
    const [task] = await t.db.sql<{ status: string; closedByAction: string }[]>`select status, closed_by_action from task where id = ${visit.id}`
    expect(task).toEqual({ status: 'done', closedByAction: 'hazard.create' })
    await context.close()
  })
})
