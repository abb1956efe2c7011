import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/**
 * Listing for supervision (挂牌督办) from the screens: a commander lists a major hazard from its
 * card in the premises panel, with the unit, person, deadline and level, and finds it on the
 * supervision board; listing it again is refused in the form with the server's words. On a
 * phone (390 × 844, touch) too, and the leader lists a premises at the district's level.
 */
let t: TestApp
let browser: Browser
let base: string
let web: WebApp
const ids = { premises: 0, hazard: 0, other: 0 }

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
  const sql = t.db.sql
  const [p] = await sql<{ id: number }[]>`
    select p.id from premises p where p.town_id = (select jurisdiction_town_id from app_user where username = 'commander') order by p.id limit 1`
  ids.premises = p!.id
  const [h] = await sql<{ id: number }[]>`
    insert into hazard (premises_id, item_code, severity, status, department_code, found_at, deadline)
    values (${ids.premises}, 'FIRE-06', 'major', 'found', 'fire', now() - interval '2 days', current_date + 10)
    returning id`
  ids.hazard = h!.id
  const [o] = await sql<{ id: number }[]>`
    select p.id from premises p where p.town_id <> (select jurisdiction_town_id from app_user where username = 'commander') order by p.id limit 1`
  ids.other = o!.id
})
afterAll(() => web?.close())

const shot = (page: Page, name: string) => page.screenshot({ path: join(artifactsDir, `${name}.png`) })

async function fillListing(page: Page, person: string) {
  await page.waitForSelector('[data-testid="supervision-list-form"]')
  await page.fill('[data-testid="supervision-person"]', person)
  await page.fill('[data-testid="supervision-reason"]', '重大火灾隐患，须限期整改')
}

describe('listing for supervision from the screens', () => {
  it('lists a major hazard from its card in the panel, shows it on the board, and shows the refusal of a second listing in the form', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signInPage(page, base, 'commander', `/?premises=${ids.premises}`)
    const card = page.locator(`[data-testid="premises-panel"] [data-hazard="${ids.hazard}"]`)
    await card.locator('[data-action="supervise"]').click()
    await fillListing(page, '消防大队 王科长')
    // A town's commander supervises at the town's level: the district's is not offered.
    await expect(page.locator('[data-testid="supervision-level"] label:has-text("区级")').getAttribute('class')).resolves.toContain('is-disabled')
    await shot(page, 'listing-form-zh')
    await page.click('[data-testid="supervision-list-confirm"]')
    await page.waitForSelector('[data-testid="supervision-listed"]')
    const [row] = await t.db.sql<{ id: number; unitDepartment: string; responsiblePerson: string; supervisingLevel: string; deadline: string }[]>`
      select id, unit_department, responsible_person, supervising_level, deadline::text from supervision_item where hazard_id = ${ids.hazard} and state = 'open'`
    expect(row).toMatchObject({ unitDepartment: 'fire', responsiblePerson: '消防大队 王科长', supervisingLevel: 'town' })

    // Listed twice: the form stays open and says why, in the server's words.
    await card.locator('[data-action="supervise"]').click()
    await fillListing(page, '消防大队 李科长')
    await page.click('[data-testid="supervision-list-confirm"]')
    await expect(page.locator('[data-testid="supervision-list-error"]').textContent()).resolves.toContain('已挂牌督办且尚未销号')
    await shot(page, 'listing-refused-zh')
    const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from supervision_item where hazard_id = ${ids.hazard}`
    expect(n!.n).toBe(1)

    await page.goto(`${base}/supervision`)
    const item = page.locator(`[data-item="${row!.id}"]`)
    await item.waitFor()
    await expect(item.textContent()).resolves.toContain('消防大队 王科长')
    await expect(item.locator('[data-testid="supervising-level"]').textContent()).resolves.toBe('镇（街道）级督办')
    await page.close()
  })

  it('lets the leader list a premises at the district\'s level on a phone (390 × 844, touch), in English', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })
    const page = await context.newPage()
    await page.addInitScript(() => localStorage.setItem('locale', 'en'))
    await signInPage(page, base, 'leader', `/?premises=${ids.other}`)
    await page.locator('[data-testid="premises-supervise"]').tap()
    await page.waitForSelector('[data-testid="supervision-list-form"]')
    await page.locator('[data-testid="supervision-person"]').fill('Town head Zhang')
    await page.locator('[data-testid="supervision-reason"]').fill('Unregistered group rental, repeated')
    // The dialog fits the screen.
    const box = await page.locator('.el-dialog').boundingBox()
    expect(box!.width).toBeLessThanOrEqual(390)
    await shot(page, 'listing-form-phone-en')
    await page.locator('[data-testid="supervision-list-confirm"]').tap()
    await page.waitForSelector('[data-testid="supervision-listed"]')
    const [row] = await t.db.sql<{ supervisingLevel: string; unitKind: string }[]>`
      select supervising_level, unit_kind from supervision_item where premises_id = ${ids.other} and kind = 'premises' and state = 'open'`
    expect(row).toMatchObject({ supervisingLevel: 'district', unitKind: 'town' })
    await context.close()
  })

  it('lists a key area from its page, to the town it lies in', async () => {
    const [k] = await t.db.sql<{ id: number; townId: number }[]>`
      select k.id, k.town_id from key_area k where k.status = 'listed' and k.deleted_at is null
        and k.town_id = (select jurisdiction_town_id from app_user where username = 'commander') order by k.id limit 1`
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } })
    await signInPage(page, base, 'commander', `/key-areas/${k!.id}`)
    await page.click('[data-testid="key-area-supervise"]')
    await fillListing(page, '三井街道 张主任')
    // A key area answers to its town unless another unit is chosen.
    await expect(page.getAttribute('[data-testid="supervision-unit-kind"] label:has-text("镇（街道）")', 'class')).resolves.toContain('is-active')
    await page.click('[data-testid="supervision-list-confirm"]')
    await page.waitForSelector('[data-testid="supervision-listed"]')
    const [row] = await t.db.sql<{ unitTownId: number; kind: string }[]>`select unit_town_id, kind from supervision_item where key_area_id = ${k!.id} and state = 'open'`
    expect(row).toEqual({ unitTownId: k!.townId, kind: 'key_area' })
    await page.close()
  })
})
