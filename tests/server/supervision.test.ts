import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { today as todayInDistrict } from '../../server/domain/calendar.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { insertPhoto } from '../helpers/photos.js'
import { dayFromToday } from '../helpers/tasks.js'

/**
 * Supervision (挂牌督办): listing a major hazard, a premises or a key area of one's jurisdiction,
 * the refusals (each with its reason code, and nothing written), closing with evidence, the list
 * by jurisdiction, and the 督办通报 workbook opened by LibreOffice.
 */
const run = promisify(execFile)
let t: TestApp
const cookies: Record<string, string> = {}
let townIn = 0
let premisesIn = 0
let premisesOut = 0
let dir: string

beforeAll(async () => {
  t = await buildTestApp({ supervision: { everyMs: 0 } })
  for (const who of ['commander', 'leader', 'inspector', 'analyst']) cookies[who] = await signIn(t.app, who)
  const sql = t.db.sql
  townIn = (await sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`)[0]!.id
  premisesIn = (await sql<{ id: number }[]>`select id from premises where town_id = ${townIn} order by id limit 1`)[0]!.id
  premisesOut = (await sql<{ id: number }[]>`select id from premises where town_id <> ${townIn} order by id limit 1`)[0]!.id
  dir = mkdtempSync(join(tmpdir(), 'grd-supervision-'))
})
afterAll(async () => {
  await t.close()
  rmSync(dir, { recursive: true, force: true })
})

/** A hazard at a premises, found two days ago, still open unless asked otherwise. */
async function hazard(premisesId: number, o: { severity?: 'general' | 'major'; status?: 'found' | 'rectified' } = {}): Promise<number> {
  const status = o.status ?? 'found'
  const [h] = await t.db.sql<{ id: number }[]>`
    insert into hazard (premises_id, item_code, severity, status, department_code, found_at, rectified_at, deadline)
    values (${premisesId}, 'FIRE-06', ${o.severity ?? 'major'}, ${status}, 'fire', now() - interval '2 days',
            ${status === 'rectified' ? t.db.sql`now() - interval '1 day'` : null}, current_date + 10)
    returning id`
  return h!.id
}

const listing = (o: Record<string, unknown>) => ({
  kind: 'hazard', unit: { kind: 'department', code: 'fire' }, responsiblePerson: '消防大队 王科长', reason: '重大火灾隐患逾期未改', deadline: dayFromToday(10), ...o,
})
const post = (url: string, payload: unknown, who = 'commander') => t.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers: { cookie: cookies[who]! } })
const count = async (table: 'supervision_item' | 'audit_log') => (await t.db.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`))[0]!.n

describe('listing for supervision', () => {
  it('lists a major hazard of the commander\'s town with its unit, person and deadline, and records it in the audit trail', async () => {
    const h = await hazard(premisesIn)
    const res = await post('/api/supervision/items', listing({ hazardId: h }))
    expect(res.statusCode, res.body).toBe(201)
    const item = res.json()
    expect(item).toMatchObject({ kind: 'hazard', hazardId: h, premisesId: premisesIn, state: 'open', level: 0, daysOverdue: 0, listedOn: todayInDistrict() })
    expect(item.unit).toMatchObject({ kind: 'department', code: 'fire' })
    expect(item.town.id).toBe(townIn)
    const [a] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'supervision.create' and entity_id = ${String(item.id)}`
    expect(a!.n).toBe(1)
  })

  it.each([
    ['a general hazard', 400, 'hazard-not-major', async () => listing({ hazardId: await hazard(premisesIn, { severity: 'general' }) })],
    ['a rectified hazard', 409, 'hazard-already-rectified', async () => listing({ hazardId: await hazard(premisesIn, { status: 'rectified' }) })],
    ['a deadline in the past', 400, 'deadline-passed', async () => listing({ hazardId: await hazard(premisesIn), deadline: dayFromToday(-1) })],
    ['a deadline more than a year ahead', 400, 'deadline-too-far', async () => listing({ hazardId: await hazard(premisesIn), deadline: dayFromToday(400) })],
    ['an id of another kind than the kind said', 400, 'subject-mismatch', async () => listing({ premisesId: premisesIn })],
    ['two subjects at once', 400, 'subject-mismatch', async () => listing({ hazardId: await hazard(premisesIn), premisesId: premisesIn })],
    ['a department that does not exist', 400, 'unknown-unit', async () => listing({ hazardId: await hazard(premisesIn), unit: { kind: 'department', code: 'nobody' } })],
    ['a town that does not exist', 400, 'unknown-unit', async () => listing({ hazardId: await hazard(premisesIn), unit: { kind: 'town', id: 999999 } })],
    ['a responsible user who does not exist', 400, 'unknown-user', async () => listing({ hazardId: await hazard(premisesIn), responsibleUserId: 999999 })],
  ])('refuses %s (%i %s), with a Chinese message, writing nothing', async (_, status, reason, body) => {
    const payload = await body()
    const [items, audit] = [await count('supervision_item'), await count('audit_log')]
    const res = await post('/api/supervision/items', payload)
    expect(res.statusCode, res.body).toBe(status)
    expect(res.json().reason).toBe(reason)
    expect(res.json().messageZh).toMatch(/[\u4E00-\u9FFF]/)
    expect(await count('supervision_item')).toBe(items)
    expect(await count('audit_log')).toBe(audit)
  })

  it('refuses a second open listing of the same subject (409 already-listed)', async () => {
    const body = listing({ kind: 'premises', premisesId: premisesIn, unit: { kind: 'town', id: townIn } })
    expect((await post('/api/supervision/items', body)).statusCode).toBe(201)
    const again = await post('/api/supervision/items', body)
    expect(again.statusCode).toBe(409)
    expect(again.json().reason).toBe('already-listed')
  })

  it('answers 404 for a subject outside the commander\'s town, as if it did not exist', async () => {
    const res = await post('/api/supervision/items', listing({ hazardId: await hazard(premisesOut) }))
    expect(res.statusCode).toBe(404)
  })

  it('lists for the district-wide leader at the district\'s level by default, and for the town commander at the town\'s', async () => {
    const byLeader = await post('/api/supervision/items', listing({ hazardId: await hazard(premisesIn) }), 'leader')
    expect(byLeader.statusCode, byLeader.body).toBe(201)
    expect(byLeader.json().supervisingLevel).toBe('district')
    const town = await post('/api/supervision/items', listing({ hazardId: await hazard(premisesIn), supervisingLevel: 'town' }), 'leader')
    expect(town.json().supervisingLevel).toBe('town')
    const byCommander = await post('/api/supervision/items', listing({ hazardId: await hazard(premisesIn) }))
    expect(byCommander.json().supervisingLevel).toBe('town')
    const [row] = await t.db.sql<{ level: string }[]>`select supervising_level as level from supervision_item where id = ${byLeader.json().id}`
    expect(row!.level).toBe('district')
  })

  it('refuses a town commander listing at the district\'s level (403 level-above-jurisdiction), writing nothing', async () => {
    const payload = listing({ hazardId: await hazard(premisesIn), supervisingLevel: 'district' })
    const items = await count('supervision_item')
    const res = await post('/api/supervision/items', payload)
    expect(res.statusCode).toBe(403)
    expect(res.json().reason).toBe('level-above-jurisdiction')
    expect(await count('supervision_item')).toBe(items)
  })

  it('refuses the analyst and the inspector, who do not list (403)', async () => {
    for (const who of ['analyst', 'inspector']) {
      const res = await post('/api/supervision/items', listing({ hazardId: await hazard(premisesIn) }), who)
      expect(res.statusCode).toBe(403)
    }
  })

  it('leaves closing to the commanders: the leader may not close an item (403)', async () => {
    const item = (await post('/api/supervision/items', listing({ hazardId: await hazard(premisesIn) }), 'leader')).json().id as number
    const res = await post(`/api/supervision/items/${item}/close`, { note: '领导不销号', photoIds: [] }, 'leader')
    expect(res.statusCode).toBe(403)
  })
})

describe('closing with evidence', () => {
  async function listed(): Promise<{ item: number; hazard: number }> {
    const h = await hazard(premisesIn)
    const res = await post('/api/supervision/items', listing({ hazardId: h }))
    expect(res.statusCode, res.body).toBe(201)
    return { item: res.json().id, hazard: h }
  }

  it('refuses to close a hazard that is not rectified yet (409 hazard-not-rectified)', async () => {
    const { item } = await listed()
    const photo = await insertPhoto(t.db.sql, { premisesId: premisesIn, stage: 'premises' })
    const res = await post(`/api/supervision/items/${item}/close`, { note: '已督促整改', photoIds: [photo] })
    expect(res.statusCode).toBe(409)
    expect(res.json().reason).toBe('hazard-not-rectified')
  })

  it('refuses to close without a photo, or with a photo of other premises, and leaves the item open', async () => {
    const { item, hazard: h } = await listed()
    await t.db.sql`update hazard set status = 'rectified', rectified_at = now() where id = ${h}`
    const none = await post(`/api/supervision/items/${item}/close`, { note: '已整改完毕', photoIds: [] })
    expect(none.statusCode).toBe(400)
    expect(none.json().reason).toBe('evidence-photo-required')
    const elsewhere = await insertPhoto(t.db.sql, { premisesId: premisesOut, stage: 'premises' })
    const stray = await post(`/api/supervision/items/${item}/close`, { note: '已整改完毕', photoIds: [elsewhere] })
    expect(stray.statusCode).toBe(400)
    expect(stray.json().reason).toBe('photo-not-of-subject')
    const [row] = await t.db.sql<{ state: string }[]>`select state from supervision_item where id = ${item}`
    expect(row!.state).toBe('open')
  })

  it('closes a rectified hazard with a note and its photo, once (a second close is 409 item-closed)', async () => {
    const { item, hazard: h } = await listed()
    await t.db.sql`update hazard set status = 'rectified', rectified_at = now() where id = ${h}`
    const photo = await insertPhoto(t.db.sql, { hazardId: h, stage: 'rectified' })
    const res = await post(`/api/supervision/items/${item}/close`, { note: '已拆除隔断，复查合格', photoIds: [photo] })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ state: 'closed', closingNote: '已拆除隔断，复查合格', closingPhotoIds: [photo] })
    const again = await post(`/api/supervision/items/${item}/close`, { note: '再次销号', photoIds: [photo] })
    expect(again.statusCode).toBe(409)
    expect(again.json().reason).toBe('item-closed')
  })

  it('refuses to close a premises with hazards still open there (409 premises-hazards-open)', async () => {
    const [p] = await t.db.sql<{ id: number }[]>`select id from premises where town_id = ${townIn} order by id offset 5 limit 1`
    await hazard(p!.id)
    const res = await post('/api/supervision/items', listing({ kind: 'premises', premisesId: p!.id }))
    expect(res.statusCode, res.body).toBe(201)
    const photo = await insertPhoto(t.db.sql, { premisesId: p!.id, stage: 'premises' })
    const close = await post(`/api/supervision/items/${res.json().id}/close`, { note: '已整改完毕', photoIds: [photo] })
    expect(close.statusCode).toBe(409)
    expect(close.json().reason).toBe('premises-hazards-open')
  })
})

describe('the list and the 督办通报', () => {
  it('shows a town commander the items of the town only, and the leader the district\'s', async () => {
    const outside = await hazard(premisesOut)
    const bureau = await signIn(t.app, 'leader')
    // A district-wide listing, written as the district's supervisor would.
    await t.db.sql`
      insert into supervision_item (campaign_id, kind, hazard_id, premises_id, town_id, police_station_id, unit_kind, unit_department, responsible_person, reason, deadline, listed_on, listed_by)
      select (select id from campaign limit 1), 'hazard', h.id, p.id, p.town_id, p.police_station_id, 'department', 'fire', '区消防大队', '区级督办', current_date, current_date, (select id from app_user where username = 'leader')
      from hazard h join premises p on p.id = h.premises_id where h.id = ${outside}`
    const mine = (await t.app.inject({ url: '/api/supervision/items?state=all', headers: { cookie: cookies.commander! } })).json() as { town: { id: number }; hazardId: number | null }[]
    expect(mine.length).toBeGreaterThan(0)
    expect(mine.every(i => i.town.id === townIn)).toBe(true)
    const all = (await t.app.inject({ url: '/api/supervision/items?state=all', headers: { cookie: bureau } })).json() as { hazardId: number | null }[]
    expect(all.map(i => i.hazardId)).toContain(outside)
    expect(mine.map(i => i.hazardId)).not.toContain(outside)
  })

  it('exports the overdue items as a workbook that LibreOffice opens, the most overdue first', async () => {
    // Two items made overdue by moving their deadlines back (listing refuses a past deadline).
    const a = (await post('/api/supervision/items', listing({ hazardId: await hazard(premisesIn) }))).json().id as number
    const b = (await post('/api/supervision/items', listing({ hazardId: await hazard(premisesIn) }))).json().id as number
    await t.db.sql`update supervision_item set listed_on = ${dayFromToday(-30)}, deadline = ${dayFromToday(-3)} where id = ${a}`
    await t.db.sql`update supervision_item set listed_on = ${dayFromToday(-30)}, deadline = ${dayFromToday(-12)}, responsible_person = '=HYPERLINK("x")' where id = ${b}`
    const res = await t.app.inject({ url: '/api/supervision/notice.xlsx', headers: { cookie: cookies.commander! } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toContain('spreadsheetml')
    const xlsx = join(dir, 'notice.xlsx')
    writeFileSync(xlsx, res.rawPayload)
    await run('soffice', [`-env:UserInstallation=file://${join(dir, 'profile')}`, '--headless', '--convert-to', 'csv:Text - txt - csv (StarCalc):44,34,76', '--outdir', dir, xlsx], { timeout: 120_000 })
    const csv = readFileSync(join(dir, 'notice.csv'), 'utf8')
    expect(csv).toContain('督办通报')
    expect(csv).toContain('超期天数')
    expect(csv).toContain('督办层级')
    const lines = csv.split('\n')
    const rowOf = (person: string) => lines.findIndex(l => l.includes(person))
    // The formula-like name is text, never run.
    expect(rowOf('=HYPERLINK("x")'.replace(/"/g, '""'))).toBeGreaterThan(0)
    expect(lines[rowOf('=HYPERLINK')]).toContain(',12,')
    expect(rowOf('=HYPERLINK')).toBeLessThan(lines.findIndex(l => l.includes(',3,')))
  })
})

describe('accountability by unit', () => {
  it('counts each responsible unit\'s items — open, overdue, closed on time or late, escalated — from the rows themselves', async () => {
    const res = await t.app.inject({ url: '/api/supervision/accountability', headers: { cookie: cookies.commander! } })
    expect(res.statusCode).toBe(200)
    const units = res.json().units as { kind: string; code: string; listed: number; open: number; overdue: number; closedOnTime: number; closedLate: number; escalated: number }[]
    const rows = await t.db.sql<{ unitKind: string; unitDepartment: string | null; unitTownId: number | null; state: string; deadline: string; closedOn: string | null; level: number }[]>`
      select unit_kind, unit_department, unit_town_id, state, deadline, local_day(closed_at)::text as closed_on, level from supervision_item where town_id = ${townIn}`
    const today = todayInDistrict()
    for (const u of units) {
      const mine = rows.filter(r => r.unitKind === u.kind && (r.unitDepartment ?? String(r.unitTownId)) === u.code)
      expect(u, u.code).toMatchObject({
        listed: mine.length, open: mine.filter(r => r.state === 'open').length, overdue: mine.filter(r => r.state === 'open' && r.deadline < today).length,
        closedOnTime: mine.filter(r => r.closedOn !== null && r.closedOn <= r.deadline).length, closedLate: mine.filter(r => r.closedOn !== null && r.closedOn > r.deadline).length,
        escalated: mine.filter(r => r.level > 0).length,
      })
    }
    expect(units.reduce((a, u) => a + u.listed, 0)).toBe(rows.length)
    const xlsx = await t.app.inject({ url: '/api/supervision/accountability.xlsx', headers: { cookie: cookies.leader! } })
    expect(xlsx.statusCode).toBe(200)
    expect(xlsx.headers['content-type']).toContain('spreadsheetml')
  })
})
