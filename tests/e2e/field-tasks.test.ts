import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { photoFixture } from '../helpers/photos.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'
import { rootDir } from '../../server/lib/config.js'

let t: TestApp
let browser: Browser
let base: string
let web: WebApp
/** The batch the commander assigns in the first test, which the inspector then works through. */
let batchId = ''

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
  await t.db.sql`update task set status = 'cancelled', closed_at = now(), closed_by_action = 'task.cancel' where status = 'open'`
})
afterAll(() => web?.close())

const fixturePath = (name: string) => join(rootDir, 'tests', 'fixtures', 'photos', name)

/** A phone: 390 × 844, touch, Chinese screen. */
async function phone(extra: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, ...extra })
  return { context, page: await context.newPage() }
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(artifactsDir, `${name}.png`) })

async function mapReady(page: Page) {
  await page.waitForFunction(() => document.querySelector('[data-map-state]')?.getAttribute('data-map-state') === 'ready', undefined, { timeout: 45_000 })
}

describe('field work on a phone: tasks and photos', () => {
  it('a commander assigns the visits of an area drawn with a finger', async () => {
    const { context, page } = await phone()
    await signInPage(page, base, 'commander', '/tasks')
    await mapReady(page)
    await page.click('[data-testid="task-assignee"]')
    await page.click('.task-assignee-popper .el-select-dropdown__item:has-text("三井街道排查员")')
    // Corners of a square around the middle of the map, tapped, then the first one again to close it.
    const box = (await page.locator('.map-pane').boundingBox())!
    const cx = box.x + box.width / 2
    const cy = box.y + box.height / 2
    // Below the layer switcher, which the map keeps in its top right corner.
    const corners: [number, number][] = [[-110, -20], [70, -20], [70, 110], [-110, 110], [-110, -20]]
    for (const [dx, dy] of corners) {
      await page.touchscreen.tap(cx + dx, cy + dy)
      await page.waitForTimeout(150)
    }
    await page.waitForSelector('[data-testid="task-preview"]', { timeout: 15_000 })
    const preview = await page.locator('[data-testid="task-preview"] strong').textContent()
    const expected = Number(/(\d+)/.exec(preview ?? '')?.[1])
    expect(expected).toBeGreaterThan(0)
    await shot(page, 'field-tasks-assign-phone-zh')
    await page.click('[data-testid="task-assign"]')
    await page.waitForSelector('[data-testid="task-result"]')
    const [batch] = await t.db.sql<{ batchId: string; n: number; towns: number[]; assignees: string[] }[]>`
      select t.batch_id::text as batch_id, count(*)::int as n, array_agg(distinct p.town_id) as towns, array_agg(distinct u.username) as assignees
      from task t join premises p on p.id = t.premises_id join app_user u on u.id = t.assignee_id
      where t.status = 'open' group by 1`
    expect(batch).toMatchObject({ n: expected, assignees: ['inspector'] })
    const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`
    expect(batch!.towns).toEqual([town!.id])
    batchId = batch!.batchId
    await page.waitForSelector(`[data-testid="task-progress"] [data-inspector="inspector"]`)
    await shot(page, 'field-tasks-progress-phone-zh')
    await context.close()
  })

  it('the inspector lands on their visits, on a map and as a list by distance, photographs a hazard and records it, and the visit closes', async () => {
    expect(batchId).not.toBe('')
    const [first] = await t.db.sql<{ id: number; premisesId: number; lon: number; lat: number }[]>`
      select t.id, t.premises_id, st_x(p.geom) as lon, st_y(p.geom) as lat
      from task t join premises p on p.id = t.premises_id where t.batch_id = ${batchId} order by t.id desc limit 1`
    // Standing at the last premises of the batch: it comes first among visits due the same day.
    const { context, page } = await phone({ geolocation: { longitude: first!.lon, latitude: first!.lat, accuracy: 8 }, permissions: ['geolocation'] })
    await page.goto(`${base}/login`)
    await page.fill('input[name="username"]', 'inspector')
    await page.fill('input[name="password"]', 'demo1234')
    await page.click('button[type="submit"]')
    // On a phone the inspector's home screen is their visits.
    await page.waitForURL(/\/my-tasks$/)
    await mapReady(page)
    const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from task where batch_id = ${batchId} and status = 'open'`
    await page.waitForFunction(count => document.querySelectorAll('[data-testid="task-list"] [data-task]').length === count, n!.n)
    // And on the map, every one of them.
    await page.waitForFunction(count => document.querySelector('[data-testid="my-tasks"]')?.getAttribute('data-task-dots') === String(count), n!.n, { timeout: 20_000 })
    await shot(page, 'field-my-tasks-phone-zh')

    await page.click('[data-testid="task-locate"]')
    await page.waitForFunction(id => document.querySelector('[data-testid="task-list"] [data-task]')?.getAttribute('data-task') === String(id), first!.id, { timeout: 15_000 })
    await expect(page.locator(`[data-testid="task-list"] [data-task="${first!.id}"]`).textContent()).resolves.toMatch(/0 m/)
    await shot(page, 'field-my-tasks-near-phone-zh')

    await page.tap(`[data-testid="task-list"] [data-task="${first!.id}"]`)
    await page.waitForSelector(`[data-testid="task-sheet"][data-task="${first!.id}"][data-status="open"]`)
    await shot(page, 'field-task-sheet-phone-zh')

    await page.tap('[data-testid="task-record-hazard"]')
    const form = page.locator('[data-testid="hazard-form"]')
    await form.waitFor()
    await page.click('[data-testid="hazard-category"]')
    await page.click('.el-select-dropdown__item:has-text("消防隐患")')
    await page.click('[data-testid="hazard-item"]')
    await page.click('.hazard-item-popper .el-select-dropdown__item:has-text("FIRE-06")')
    // The camera button opens the phone's camera: a file chooser that asks for the back camera.
    await expect(form.locator('[data-testid="photo-camera-input"]').getAttribute('capture')).resolves.toBe('environment')
    const chooser = page.waitForEvent('filechooser')
    await form.locator('[data-testid="photo-take"]').tap()
    await (await chooser).setFiles(fixturePath('hazard-gps.jpg'))
    await form.locator('[data-testid="photo-preview"]').waitFor()
    await shot(page, 'field-hazard-photo-phone-zh')
    // The whole form fits the phone's width.
    const formBox = (await form.boundingBox())!
    expect(formBox.x).toBeGreaterThanOrEqual(0)
    expect(formBox.x + formBox.width).toBeLessThanOrEqual(390)
    await page.click('[data-testid="hazard-save"]')
    await page.waitForSelector(`[data-testid="task-sheet"][data-task="${first!.id}"] [data-testid="task-closed"]`, { timeout: 20_000 })
    await expect(page.locator('[data-testid="task-closed"]').textContent()).resolves.toContain('已登记隐患')
    await shot(page, 'field-task-done-phone-zh')

    const [task] = await t.db.sql<{ status: string; closedByAction: string }[]>`select status, closed_by_action from task where id = ${first!.id}`
    expect(task).toEqual({ status: 'done', closedByAction: 'hazard.create' })
    const photos = await t.db.sql<{ stage: string; width: number; height: number; sourceBytes: number; image: Buffer }[]>`
      select ph.stage, ph.width, ph.height, ph.source_bytes, ph.image from photo ph join hazard h on h.id = ph.hazard_id
      where h.premises_id = ${first!.premisesId} and ph.deleted_at is null`
    expect(photos).toHaveLength(1)
    // Shrunk on the phone before it was sent: 2400 × 1800 became 1600 × 1200, far fewer bytes.
    expect(photos[0]).toMatchObject({ stage: 'found', width: 1600, height: 1200 })
    expect(photos[0]!.sourceBytes).toBeLessThan(photoFixture('hazard-gps.jpg').length)
    expect((await sharp(photos[0]!.image).metadata()).exif).toBeUndefined()
    await context.close()
  })

  it('tells the inspector in plain words that a file is no photo, then sends a real photo of the premises, which closes that visit', async () => {
    const [task] = await t.db.sql<{ id: number }[]>`select id from task where batch_id = ${batchId} and status = 'open' order by id limit 1`
    const { context, page } = await phone()
    await signInPage(page, base, 'inspector', '/my-tasks')
    await page.waitForSelector(`[data-testid="task-list"] [data-task="${task!.id}"]`)
    await page.tap(`[data-testid="task-list"] [data-task="${task!.id}"]`)
    await page.tap('[data-testid="task-photo"]')
    let chooser = page.waitForEvent('filechooser')
    await page.tap('[data-testid="photo-choose"]')
    await (await chooser).setFiles(fixturePath('not-a-photo.jpg'))
    await expect(page.locator('[data-testid="photo-error"]').textContent()).resolves.toBe('此文件不是照片。请拍照，或选择 JPEG、PNG、WebP 图片。')
    await shot(page, 'field-not-a-photo-phone-zh')
    chooser = page.waitForEvent('filechooser')
    await page.tap('[data-testid="photo-choose"]')
    await (await chooser).setFiles(fixturePath('hazard-gps.jpg'))
    await page.locator('[data-testid="photo-preview"]').waitFor()
    await page.tap('[data-testid="task-photo-send"]')
    await page.waitForSelector(`[data-testid="task-sheet"][data-task="${task!.id}"] [data-testid="task-closed"]`, { timeout: 20_000 })
    await expect(page.locator('[data-testid="task-closed"]').textContent()).resolves.toContain('已拍照')
    const [row] = await t.db.sql<{ closedByAction: string }[]>`select closed_by_action from task where id = ${task!.id}`
    expect(row!.closedByAction).toBe('photo.upload')
    await context.close()
  })

  it('shows a hazard\'s photos on the premises panel and verifies its rectification only once an "after" photo is added', async () => {
    const [h] = await t.db.sql<{ id: number; premisesId: number }[]>`
      select h.id, h.premises_id from hazard h join photo ph on ph.hazard_id = h.id
      where ph.stage = 'found' and h.status = 'found' order by h.id desc limit 1`
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signInPage(page, base, 'inspector', `/?premises=${h!.premisesId}`)
    const card = page.locator(`[data-testid="premises-panel"] [data-hazard="${h!.id}"]`)
    await card.locator('[data-testid="photo-strip"] [data-stage="found"] img').waitFor()
    await card.locator('[data-action="rectify"]').click()
    await card.locator('[data-action="confirm"]').click()
    await page.waitForSelector(`[data-testid="premises-panel"] [data-hazard="${h!.id}"][data-status="rectified"]`)
    // Rectified without a photo: verifying asks for the "after" photo first.
    await card.locator('[data-action="verify"]').click()
    await card.locator('[data-testid="after-photo-needed"]').waitFor()
    await expect(card.locator('[data-action="confirm"]').isDisabled()).resolves.toBe(true)
    const chooser = page.waitForEvent('filechooser')
    await card.locator('[data-testid="photo-choose"]').click()
    await (await chooser).setFiles(fixturePath('hazard-gps.jpg'))
    await card.locator('[data-testid="photo-preview"]').waitFor()
    await card.locator('[data-action="confirm"]').click()
    await page.waitForSelector(`[data-testid="premises-panel"] [data-hazard="${h!.id}"][data-status="verified"]`, { timeout: 20_000 })
    await card.locator('[data-testid="photo-strip"] [data-stage="rectified"] img').waitFor()
    await shot(page, 'field-hazard-photos-desktop-zh')
    await card.locator('[data-testid="photo-strip"] [data-stage="rectified"] button.thumb').click()
    await page.waitForSelector('.el-image-viewer__wrapper img')
    // The viewer fades in.
    await page.waitForFunction(() => getComputedStyle(document.querySelector('.el-image-viewer__wrapper')!).opacity === '1')
    await page.waitForTimeout(400)
    await shot(page, 'field-photo-viewer-desktop-zh')
    const stages = await t.db.sql<{ stage: string }[]>`select stage from photo where hazard_id = ${h!.id} and deleted_at is null order by id`
    expect(stages.map(x => x.stage)).toEqual(['found', 'rectified'])
    await page.close()
  })
})
