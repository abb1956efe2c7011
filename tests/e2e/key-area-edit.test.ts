import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApp } from '../helpers/app.js'
import { artifactsDir } from '../helpers/browser.js'
import { signInPage, startWebApp, type WebApp } from '../helpers/web-app.js'

/**
 * Editing a key area (issue 17 §3): the page waits for the area however slow its request, opens
 * with the boundary selected and its corners under the pointer, and asks for a deadline.
 */
let t: TestApp
let browser: Browser
let base: string
let web: WebApp
let area = { id: 0, box: [0, 0, 0, 0] as [number, number, number, number] }

beforeAll(async () => {
  web = await startWebApp()
  ;({ t, browser, base } = web)
  const sql = t.db.sql
  // A small square well inside the commander's town.
  const [c] = await sql<{ x: number; y: number }[]>`
    select st_x(p) as x, st_y(p) as y from (select st_pointonsurface(a.geom) as p from app_user u join admin_area a on a.id = u.jurisdiction_town_id where u.username = 'commander') s`
  const box: [number, number, number, number] = [c!.x - 0.004, c!.y - 0.003, c!.x + 0.004, c!.y + 0.003]
  const [w, s, e, n] = box
  const ring = JSON.stringify({ type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] })
  const [k] = await sql<{ id: number }[]>`
    insert into key_area (campaign_id, name_zh, town_id, status, listed_on, deadline, geom)
    select (select id from campaign order by starts_on limit 1), '慢速加载片区', jurisdiction_town_id, 'listed', '2020-03-01', '2020-09-30',
           st_multi(st_setsrid(st_geomfromgeojson(${ring}), 4326))
    from app_user where username = 'commander'
    returning id`
  await sql`
    insert into key_area_version (key_area_id, version, geom, attributes)
    select id, version, geom, jsonb_build_object('nameZh', name_zh, 'townId', town_id, 'policeStationId', police_station_id,
      'listedOn', listed_on, 'deadline', deadline, 'status', status)
    from key_area where id = ${k!.id}`
  area = { id: k!.id, box }
  // A neighbour to the east whose western edge runs 0.0004° (about 40 m) east of the area, taller
  // than it, so that only its edge (no corner of it) lies near the area's south-east corner.
  const west = e + 0.0004
  const neighbour = JSON.stringify({ type: 'Polygon', coordinates: [[[west, s - 0.002], [west + 0.003, s - 0.002], [west + 0.003, n + 0.002], [west, n + 0.002], [west, s - 0.002]]] })
  await sql`
    insert into key_area (campaign_id, name_zh, town_id, status, listed_on, deadline, geom)
    select (select id from campaign order by starts_on limit 1), '东邻片区', jurisdiction_town_id, 'listed', '2020-03-01', '2020-09-30',
           st_multi(st_setsrid(st_geomfromgeojson(${neighbour}), 4326))
    from app_user where username = 'commander'`
  neighbourWest = west
})
let neighbourWest = 0
afterAll(() => web?.close())

const previewState = (page: Page) => page.getAttribute('[data-testid="key-area-form"]', 'data-preview-state')

/** Answers the key area's own request `ms` late (a slow network or a busy server). */
async function delayArea(page: Page, ms: number) {
  await page.route(new RegExp(`/api/key-areas/${area.id}$`), async (route) => {
    await new Promise(resolve => setTimeout(resolve, ms))
    await route.continue()
  })
}

/**
 * Holds the key area's own request until the returned function is called: however slow the machine,
 * the map is ready while the area is still on its way.
 */
async function holdArea(page: Page) {
  let release = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  await page.route(new RegExp(`/api/key-areas/${area.id}$`), async (route) => {
    await released
    await route.continue()
  })
  return release
}

/**
 * Where a point is on the screen, from the camera the map reports once it has stopped moving (its
 * centre and zoom on data-view, set at every moveend): a model of how the page fits the area would
 * be off by a few pixels whenever the layout settles after the fit, more than a snap allows for.
 */
async function cornerOnScreen(page: Page, lon: number, lat: number) {
  let view = ''
  await expect.poll(async () => {
    const before = await page.getAttribute('[data-map-state]', 'data-view') ?? ''
    await page.waitForTimeout(300)
    const after = await page.getAttribute('[data-map-state]', 'data-view') ?? ''
    view = after
    return before !== '' && before === after
  }, { timeout: 15_000 }).toBe(true)
  const [cx, cy, zoom] = view.split(',').map(Number) as [number, number, number]
  const box = (await page.locator('[data-map-state]').boundingBox())!
  const merc = (x: number, y: number) => [(x + 180) / 360, (1 - Math.log(Math.tan(Math.PI / 4 + (y * Math.PI) / 360)) / Math.PI) / 2] as const
  // MapLibre's world is 512 pixels wide at zoom 0.
  const world = 512 * 2 ** zoom
  const [px, py] = merc(lon, lat)
  const [qx, qy] = merc(cx, cy)
  return { x: box.x + box.width / 2 + (px - qx) * world, y: box.y + box.height / 2 + (py - qy) * world }
}

describe('editing a key area', () => {
  it('waits for a slow area request and opens with the boundary drawn and selected, not ready to draw a new one', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    const release = await holdArea(page)
    await signInPage(page, base, 'commander', `/key-areas/${area.id}/edit`)
    await page.waitForSelector('[data-map-state="ready"]', { timeout: 45_000 })
    // The map is ready before the area: the page says it is loading and offers no drawing (both
    // read at one moment, so the area's arrival cannot fall between them).
    await page.waitForSelector('[data-testid="area-loading"]')
    const whileLoading = await page.evaluate(() => {
      const draw = document.querySelector<HTMLElement>('[data-tool="draw"]')
      return { loading: !!document.querySelector('[data-testid="area-loading"]'), drawShown: !!draw && draw.offsetParent !== null }
    })
    expect(whileLoading).toEqual({ loading: true, drawShown: false })
    release()
    await page.waitForFunction(() => document.querySelector('[data-testid="key-area-form"]')?.getAttribute('data-preview-state') === 'ok', undefined, { timeout: 30_000 })
    expect(Number(await page.getAttribute('[data-testid="key-area-form"]', 'data-houses'))).toBeGreaterThanOrEqual(0)
    await expect(page.inputValue('input[name="nameZh"]')).resolves.toBe('慢速加载片区')
    await expect(page.getAttribute('[data-tool="select"]', 'class')).resolves.toContain('el-button--primary')
    await expect(page.getAttribute('[data-tool="draw"]', 'class')).resolves.not.toContain('el-button--primary')
    await page.close()
  })

  it('moves a corner with the first drag (the map stays), and keeps every corner clear of the toolbar', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await delayArea(page, 1500)
    await signInPage(page, base, 'commander', `/key-areas/${area.id}/edit`)
    await page.waitForFunction(() => document.querySelector('[data-testid="key-area-form"]')?.getAttribute('data-preview-state') === 'ok', undefined, { timeout: 45_000 })
    await page.waitForTimeout(500)
    const tools = (await page.locator('.map-area .tools').boundingBox())!
    const [w, , , n] = area.box
    const corner = await cornerOnScreen(page, w, n)
    expect(corner.y).toBeGreaterThan(tools.y + tools.height)
    await expect(page.locator('[data-tool="undo"]').isDisabled()).resolves.toBe(true)
    await page.mouse.move(corner.x, corner.y)
    await page.mouse.down()
    await page.mouse.move(corner.x + 30, corner.y + 25, { steps: 6 })
    await page.mouse.up()
    // A corner moved is a change to undo; a panned map is not.
    await page.waitForFunction(() => !(document.querySelector('[data-tool="undo"]') as HTMLButtonElement | null)?.disabled, undefined, { timeout: 5_000 })
    await expect(previewState(page)).resolves.toMatch(/ok|loading|invalid/)
    await page.close()
  })

  it('snaps a dragged corner onto the edge of the neighbouring key area', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    const previews: GeoJSON.Polygon[] = []
    page.on('request', (req) => {
      if (req.method() === 'POST' && req.url().endsWith('/api/key-areas/preview')) previews.push((req.postDataJSON() as { geometry: GeoJSON.Polygon }).geometry)
    })
    await signInPage(page, base, 'commander', `/key-areas/${area.id}/edit`)
    await page.waitForFunction(() => document.querySelector('[data-testid="key-area-form"]')?.getAttribute('data-preview-state') === 'ok', undefined, { timeout: 45_000 })
    await page.waitForFunction(() => Number(document.querySelector('[data-key-areas]')?.getAttribute('data-key-areas')) >= 2, undefined, { timeout: 15_000 })
    await page.waitForTimeout(500)
    // The south-east corner: the north-east one lies under the layer box.
    const [, s, e] = area.box
    const corner = await cornerOnScreen(page, e, s)
    const edge = await cornerOnScreen(page, neighbourWest, s)
    // Dropped 6 pixels short of the neighbour's edge: without snapping the corner would stay there.
    const drop = { x: edge.x - 6, y: corner.y - 4 }
    const before = previews.length
    await page.mouse.move(corner.x, corner.y)
    await page.mouse.down()
    await page.mouse.move(drop.x, drop.y, { steps: 8 })
    await page.mouse.up()
    // The preview is asked for while the corner moves too (its check is debounced, not held until
    // the drop): the drop's is the last one asked for once the mouse is up and the page is quiet.
    await expect.poll(() => previews.length, { timeout: 10_000 }).toBeGreaterThan(before)
    let settled = -1
    await expect.poll(async () => {
      const n = previews.length
      await page.waitForTimeout(1500)
      const quiet = n === previews.length && await previewState(page) !== 'loading'
      settled = n
      return quiet
    }, { timeout: 20_000 }).toBe(true)
    const ring = previews[settled - 1]!.coordinates[0]!
    await page.screenshot({ path: join(artifactsDir, 'key-area-edit-snapped-corner.png') })
    // One corner moved onto the neighbour's western edge (6 pixels short of it is about 10 m, 1e-4°).
    const onEdge = ring.slice(0, -1).filter(([x]) => Math.abs(x! - neighbourWest) < 1e-5)
    expect(onEdge, JSON.stringify(ring)).toHaveLength(1)
    await page.close()
  })

  // One page a test: three in one took most of a minute on a busy machine.
  it.each(['zh-CN', 'en'] as const)('opens on a phone (390 × 844, touch) with the boundary (%s)', async (locale) => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })
    await page.addInitScript(l => localStorage.setItem('locale', l), locale)
    await signInPage(page, base, 'commander', `/key-areas/${area.id}/edit`)
    await page.waitForFunction(() => document.querySelector('[data-testid="key-area-form"]')?.getAttribute('data-preview-state') === 'ok', undefined, { timeout: 45_000 })
    const map = (await page.locator('.map-area').boundingBox())!
    expect(map.width).toBeGreaterThan(380)
    expect(map.height).toBeGreaterThan(300)
    await page.waitForTimeout(500)
    await page.screenshot({ path: join(artifactsDir, `key-area-edit-390-${locale}.png`) })
    await page.close()
  })

  it('warns about a missing deadline on a new area, and proposes a listing date inside the campaign', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await signInPage(page, base, 'commander', '/key-areas/new')
    await page.waitForSelector('[data-testid="deadline-missing"]')
    const { startsOn, endsOn } = (await t.app.inject({ url: '/api/campaign', headers: { cookie: `grd_session=${(await page.context().cookies()).find(c => c.name === 'grd_session')!.value}` } })).json()
    await page.waitForFunction(([a, b]) => {
      const v = (document.querySelector('input[name="listedOn"]') as HTMLInputElement | null)?.value ?? ''
      return v >= a! && v <= b!
    }, [startsOn, endsOn])
    await page.close()
  })
})
