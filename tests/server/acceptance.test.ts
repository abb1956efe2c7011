import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { daysBetween } from '../../server/domain/calendar.js'
import { acceptanceChecklist } from '../../server/domain/lists.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * Acceptance and delisting of key areas: submitted only with no hazard open inside and the whole
 * checklist confirmed; one submission awaits a decision at a time; decided by another commander
 * than the submitter, returned with reasons or accepted (the key area is delisted); the history kept.
 */
let t: TestApp
const cookies: Record<string, string> = {}
let keyArea = 0
let premisesId = 0

beforeAll(async () => {
  t = await buildTestApp({ supervision: { everyMs: 0 }, notices: { remindEveryMs: 0 } })
  for (const who of ['commander', 'bureau']) cookies[who] = await signIn(t.app, who)
  // A small key area around one premises of the commander's town, whose hazards are all rectified.
  const [p] = await t.db.sql<{ id: number; lon: number; lat: number; townId: number; policeStationId: number }[]>`
    select p.id, st_x(p.geom) as lon, st_y(p.geom) as lat, p.town_id, p.police_station_id from premises p join app_user u on u.username = 'commander' and p.town_id = u.jurisdiction_town_id
    where not exists (select 1 from premises o where o.id <> p.id and st_dwithin(o.geom, p.geom, 0.0003))
    order by p.id limit 1`
  premisesId = p!.id
  await t.db.sql`update hazard set status = 'rectified', rectified_at = greatest(found_at, coalesce(referred_at, found_at)) + interval '1 hour' where premises_id = ${premisesId} and status in ('found', 'referred')`
  const [k] = await t.db.sql<{ id: number }[]>`
    insert into key_area (campaign_id, name_zh, town_id, police_station_id, status, listed_on, deadline, geom)
    values ((select id from campaign limit 1), '验收测试', ${p!.townId}, ${p!.policeStationId}, 'listed', '2020-03-01', '2020-12-31',
            st_multi(st_buffer(st_setsrid(st_makepoint(${p!.lon}, ${p!.lat}), 4326), 0.0002)))
    returning id`
  keyArea = k!.id
})
afterAll(() => t.close())

const all = Object.fromEntries(acceptanceChecklist.map(c => [c, true]))
const submit = (payload: Record<string, unknown> = { checklist: all, documents: ['三井街道〔2020〕12号'] }) =>
  t.app.inject({ method: 'POST', url: `/api/acceptance/key-areas/${keyArea}`, headers: { cookie: cookies.commander! }, payload })
const decide = (id: number, who: string, payload: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: `/api/acceptance/${id}/decision`, headers: { cookie: cookies[who]! }, payload })
const stage = async () => (await t.app.inject({ url: `/api/acceptance/key-areas/${keyArea}`, headers: { cookie: cookies.commander! } })).json()
/** The key area as the key-area list shows it: its acceptance stage and days to its deadline. */
const listed = async () => {
  const res = await t.app.inject({ url: '/api/key-areas', headers: { cookie: cookies.commander! } })
  expect(res.statusCode, res.body).toBe(200)
  const list = res.json<{ referenceDate: string; features: { id: number; properties: { acceptanceStage: string; daysLeft: number | null } }[] }>()
  const f = list.features.find(x => x.id === keyArea)!
  return { ...f.properties, referenceDate: list.referenceDate }
}
const rows = async () => (await t.db.sql<{ n: number }[]>`select count(*)::int as n from key_area_acceptance where key_area_id = ${keyArea}`)[0]!.n

describe('submitting a key area for acceptance', () => {
  it('refuses it while a hazard is open inside (409 key-area-hazards-open), writing nothing', async () => {
    const [h] = await t.db.sql<{ id: number }[]>`
      insert into hazard (premises_id, item_code, severity, status, department_code, found_at, deadline) values (${premisesId}, 'FIRE-06', 'general', 'found', 'fire', now(), current_date + 5) returning id`
    expect((await stage()).openHazards).toBe(1)
    const res = await submit()
    expect(res.statusCode).toBe(409)
    expect(res.json().reason).toBe('key-area-hazards-open')
    expect(res.json().messageZh).toContain('清零')
    expect(await rows()).toBe(0)
    expect((await listed()).acceptanceStage).toBe('in-remediation')
    await t.db.sql`update hazard set status = 'rectified', rectified_at = now() where id = ${h!.id}`
  })

  it('refuses an incomplete checklist (400 checklist-incomplete)', async () => {
    const res = await submit({ checklist: { ...all, 'site-inspected': false } })
    expect(res.statusCode).toBe(400)
    expect(res.json().reason).toBe('checklist-incomplete')
    expect(await rows()).toBe(0)
  })

  it('takes it with no hazard open and the checklist confirmed, once at a time, and shows the stage and days to the deadline', async () => {
    const res = await submit()
    expect(res.statusCode, res.body).toBe(201)
    expect((await submit()).json().reason).toBe('acceptance-pending')
    const s = await stage()
    expect(s).toMatchObject({ stage: 'submitted', openHazards: 0, deadline: '2020-12-31' })
    expect(typeof s.daysToDeadline).toBe('number')
    const row = await listed()
    expect(row.acceptanceStage).toBe('submitted')
    expect(row.daysLeft).toBe(daysBetween(row.referenceDate, '2020-12-31'))
  })
})

describe('deciding', () => {
  it('is not for the submitter (409), a return needs reasons (400), then returned, resubmitted and accepted: delisted, with the history kept', async () => {
    const [pending] = (await stage()).history as { id: number }[]
    expect((await decide(pending!.id, 'commander', { decision: 'accepted' })).json().reason).toBe('own-submission')
    expect((await decide(pending!.id, 'bureau', { decision: 'returned' })).json().reason).toBe('reasons-required')
    const returned = await decide(pending!.id, 'bureau', { decision: 'returned', reasons: '台账缺少二房东信息' })
    expect(returned.statusCode, returned.body).toBe(200)
    expect((await stage()).stage).toBe('returned')
    expect((await listed()).acceptanceStage).toBe('returned')
    const again = await submit()
    expect(again.statusCode).toBe(201)
    const accepted = await decide(again.json().id, 'bureau', { decision: 'accepted' })
    expect(accepted.statusCode, accepted.body).toBe(200)
    const s = await stage()
    expect(s).toMatchObject({ stage: 'accepted', status: 'delisted' })
    expect((await listed()).acceptanceStage).toBe('accepted')
    expect(s.history.map((h: { decision: string }) => h.decision)).toEqual(['accepted', 'returned'])
    expect((await decide(again.json().id, 'bureau', { decision: 'returned', reasons: '再次退回' })).json().reason).toBe('acceptance-decided')
  })
})
