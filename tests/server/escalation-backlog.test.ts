import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays, daysBetween } from '../../server/domain/calendar.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * A first escalation after days without one (a backlog, computed in chunks of items, each its own
 * transaction) against the same days run one by one: the same levels, the same (item, level)
 * events and the same notices to the same users; only the day recorded differs, the day the run
 * found the level reached. Also the references the database checks once per statement
 * (migration 038) in place of the foreign keys' row triggers.
 */
let t: TestApp
let ids: number[] = []
const first = '2020-09-01'
const last = '2020-09-16'

beforeAll(async () => {
  t = await buildTestApp({ supervision: { everyMs: 0 } })
  const admin = await signIn(t.app, 'admin')
  // Three levels, the first told to the jurisdiction, the next two to the district.
  const res = await t.app.inject({
    method: 'PUT', url: '/api/supervision/rules', headers: { cookie: admin },
    payload: { rules: [{ fromLevel: 0, toLevel: 1, afterDays: 0, notify: 'jurisdiction' }, { fromLevel: 1, toLevel: 2, afterDays: 3, notify: 'district' }, { fromLevel: 2, toLevel: 3, afterDays: 9, notify: 'district' }] },
  })
  if (res.statusCode !== 200) throw new Error(res.body)
  const sql = t.db.sql
  // A police station's commander and a disabled town commander, beside the demo users.
  await sql`
    insert into app_user (username, display_name, password_hash, role, jurisdiction_kind, jurisdiction_town_id, jurisdiction_station_id, disabled_at)
    select 'backlog.station', '派出所指挥长', 'no-sign-in', 'commander', 'police_station', null, (select police_station_id from premises where police_station_id is not null order by id limit 1), null
    union all
    select 'backlog.disabled', '停用指挥长', 'no-sign-in', 'commander', 'town', (select jurisdiction_town_id from app_user where username = 'commander'), null, now()`
  // Deadlines spread over the fortnight (some not yet due at its end), subjects in every town,
  // every other item with a responsible user, one closed half-way.
  const rows = await sql<{ id: number }[]>`
    insert into supervision_item (campaign_id, kind, premises_id, town_id, police_station_id, unit_kind, unit_town_id, responsible_person,
                                  responsible_user_id, reason, deadline, listed_on, listed_by)
    select (select id from campaign limit 1), 'premises', p.id, p.town_id, p.police_station_id, 'town', p.town_id, '责任人',
           case when p.n % 2 = 0 then (select id from app_user where username = 'inspector') end, '积压测试',
           ${addDays(first, -12)}::date + (p.n % 30), '2020-08-01', (select id from app_user where username = 'commander')
    from (select p.*, row_number() over (partition by p.town_id order by p.id)::int as n from premises p) p
    where p.n <= 30
    order by p.id
    returning id`
  ids = rows.map(r => r.id)
})
afterAll(() => t.close())

interface Outcome {
  levels: string[]
  events: string[]
  notices: string[]
}

/** What the escalation left for the test's items: levels, events without their day, notices without theirs. */
async function outcome(): Promise<Outcome> {
  const sql = t.db.sql
  const levels = await sql<{ id: number; level: number }[]>`select id, level from supervision_item where id in ${sql(ids)} order by id`
  const events = await sql<{ itemId: number; level: number }[]>`select item_id, level from escalation_event where item_id in ${sql(ids)} order by item_id, level`
  const notices = await sql<{ userId: number; dedupeKey: string; payload: Record<string, unknown>; townId: number; policeStationId: number | null }[]>`
    select user_id, dedupe_key, payload - 'reachedOn' - 'daysOverdue' as payload, town_id, police_station_id from notice
    where kind = 'escalation' and (payload ->> 'itemId')::bigint in ${sql(ids)} order by user_id, dedupe_key`
  return {
    levels: levels.map(r => `${r.id}:${r.level}`),
    events: events.map(e => `${e.itemId}:${e.level}`),
    notices: notices.map(n => `${n.userId} ${n.dedupeKey} ${JSON.stringify(n.payload)} ${n.townId} ${n.policeStationId}`),
  }
}

async function reset() {
  const sql = t.db.sql
  await sql`delete from notice where kind = 'escalation' and (payload ->> 'itemId')::bigint in ${sql(ids)}`
  await sql`delete from escalation_event where item_id in ${sql(ids)}`
  await sql`update supervision_item set level = 0 where id in ${sql(ids)}`
}

const closeHalfWay = async () => t.db.sql`
  update supervision_item set state = 'closed', closed_at = now(), closed_by = listed_by, closing_note = '中途销号' where id = ${ids[5]!}`

describe('a backlog against day by day', () => {
  it('reaches the same levels, events and notices in one late run of small chunks as in a run every day', async () => {
    const sql = t.db.sql
    let dayByDay = 0
    for (let day = first; day <= last; day = addDays(day, 1)) {
      dayByDay += (await t.app.supervision.escalate(day)).reached
      if (day === addDays(first, 4)) await closeHalfWay()
    }
    const daily = await outcome()
    expect(daily.events.length).toBe(dayByDay)
    // All three levels occur, and the jurisdiction's, the station's and the district's users are told.
    expect(new Set(daily.events.map(e => e.split(':')[1]))).toEqual(new Set(['1', '2', '3']))
    const told = await sql<{ username: string }[]>`
      select distinct u.username from notice n join app_user u on u.id = n.user_id
      where n.kind = 'escalation' and (n.payload ->> 'itemId')::bigint in ${sql(ids)} order by 1`
    expect(told.map(u => u.username)).toEqual(['bureau', 'backlog.station', 'commander', 'inspector', 'leader'].sort())

    await reset()
    await t.db.sql`update supervision_item set state = 'open', closed_at = null, closed_by = null, closing_note = null where id = ${ids[5]!}`
    // The backlog: nothing run until the day the item was closed, then the last day at once.
    const closedOn = addDays(first, 4)
    await t.app.supervision.escalate(closedOn, { chunk: 7 })
    await closeHalfWay()
    const late = await t.app.supervision.escalate(last, { chunk: 7 })
    expect(await outcome()).toEqual(daily)
    expect(late.notices).toBeGreaterThan(0)
  })

  it('records a backlog\'s levels on the day it runs, with that day\'s lateness', async () => {
    await reset()
    await t.app.supervision.escalate(last, { chunk: 4 })
    const events = await t.db.sql<{ reachedOn: string; daysOverdue: number; deadline: string }[]>`
      select e.reached_on, e.days_overdue, s.deadline from escalation_event e join supervision_item s on s.id = e.item_id where e.item_id in ${t.db.sql(ids)}`
    expect(events.length).toBeGreaterThan(0)
    for (const e of events) {
      expect(e.reachedOn).toBe(last)
      expect(e.daysOverdue).toBe(daysBetween(e.deadline, last))
    }
  })

  it('adds nothing when the same day runs again, whatever the chunk size', async () => {
    const before = await outcome()
    expect(await t.app.supervision.escalate(last, { chunk: 3 })).toEqual({ reached: 0, notices: 0, noticeIds: [] })
    expect(await t.app.supervision.escalate(last)).toEqual({ reached: 0, notices: 0, noticeIds: [] })
    expect(await outcome()).toEqual(before)
  })
})

describe('references checked once per statement', () => {
  const refused = async (q: () => Promise<unknown>) => q().then(() => 'accepted', (e: { code?: string }) => e.code)

  it('refuses a level for an item that does not exist, and a notice for a user, town or police station that does not', async () => {
    const sql = t.db.sql
    expect(await refused(() => sql`insert into escalation_event (item_id, level, reached_on, days_overdue) values (${ids[0]!}, 9, '2020-09-01', 1), (-1, 1, '2020-09-01', 1)`)).toBe('23503')
    const user = (await sql<{ id: number }[]>`select id from app_user where username = 'leader'`)[0]!.id
    expect(await refused(() => sql`insert into notice (user_id, kind, dedupe_key) values (-1, 'escalation', 'no-user')`)).toBe('23503')
    expect(await refused(() => sql`insert into notice (user_id, kind, town_id, dedupe_key) values (${user}, 'escalation', -1, 'no-town')`)).toBe('23503')
    expect(await refused(() => sql`insert into notice (user_id, kind, police_station_id, dedupe_key) values (${user}, 'escalation', -1, 'no-station')`)).toBe('23503')
    expect(await refused(() => sql`update notice set town_id = -1 where user_id = ${user}`)).toBe('23503')
    expect(await refused(() => sql`insert into notice (user_id, kind, dedupe_key) values (${user}, 'escalation', 'a-user-that-exists') returning id`)).toBe('accepted')
  })

  it('deletes an item\'s levels with the item and a user\'s notices with the user', async () => {
    const sql = t.db.sql
    const [item] = await sql<{ id: number }[]>`select item_id as id from escalation_event where item_id in ${sql(ids)} limit 1`
    await sql`delete from supervision_item where id = ${item!.id}`
    expect(await sql`select 1 from escalation_event where item_id = ${item!.id}`).toHaveLength(0)
    const [u] = await sql<{ id: number }[]>`select id from app_user where username = 'backlog.station'`
    expect((await sql`select 1 from notice where user_id = ${u!.id}`).length).toBeGreaterThan(0)
    await sql`delete from app_user where id = ${u!.id}`
    expect(await sql`select 1 from notice where user_id = ${u!.id}`).toHaveLength(0)
  })

  it('keeps a police station, a town and a user\'s id while a notice names them, and lets the station go once none does', async () => {
    const sql = t.db.sql
    // Rows named by nothing but the notice, so that only the notice's check can refuse.
    const [station] = await sql<{ id: number }[]>`insert into police_station (code, name_zh, name_en, geom) select code || '-notice', name_zh, name_en, geom from police_station order by id limit 1 returning id`
    const [town] = await sql<{ id: number }[]>`
      insert into admin_area (level, subkind, code, parent_id, name_zh, name_en, geom)
      select level, subkind, code || '-notice', parent_id, name_zh, name_en, geom from admin_area where level = 'town' order by id limit 1 returning id`
    const [user] = await sql<{ id: number }[]>`insert into app_user (username, display_name, password_hash, role) values ('backlog.renumbered', '编号测试', 'no-sign-in', 'leader') returning id`
    await sql`insert into notice (user_id, kind, town_id, police_station_id, dedupe_key) values (${user!.id}, 'escalation', ${town!.id}, ${station!.id}, 'named-places')`
    expect(await refused(() => sql`delete from police_station where id = ${station!.id}`)).toBe('23503')
    expect(await refused(() => sql`delete from admin_area where id = ${town!.id}`)).toBe('23503')
    expect(await refused(() => sql`update app_user set id = -id where id = ${user!.id}`)).toBe('23503')
    await sql`delete from notice where dedupe_key = 'named-places'`
    expect(await refused(() => sql`delete from police_station where id = ${station!.id}`)).toBe('accepted')
  })
})
