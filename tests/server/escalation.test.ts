import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays } from '../../server/domain/calendar.js'
import { escalationRuleProblem, type EscalationRule } from '../../server/domain/supervision.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * Escalation of overdue supervision items: the campaign's rules (checked: one chain, no loops, no
 * negative days), the day's computation over every open item at once (each level reached once and
 * only once, however often it runs) and who is told. The server's own schedule is
 * escalation-schedule.test.ts.
 */
let t: TestApp
let townIn = 0
let premises: number[] = []
const deadline = '2020-06-10'
let admin: string

beforeAll(async () => {
  t = await buildTestApp({ supervision: { everyMs: 0 } })
  admin = await signIn(t.app, 'admin')
  const sql = t.db.sql
  townIn = (await sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`)[0]!.id
  premises = (await sql<{ id: number }[]>`select id from premises where town_id = ${townIn} order by id limit 300`).map(r => r.id)
})
afterAll(() => t.close())

/** Open items listed straight into the database, one per premises, all due on the same day. */
async function items(ids: number[], due = deadline): Promise<number[]> {
  const rows = await t.db.sql<{ id: number }[]>`
    insert into supervision_item (campaign_id, kind, premises_id, town_id, police_station_id, unit_kind, unit_town_id, responsible_person, reason, deadline, listed_on, listed_by)
    select (select id from campaign limit 1), 'premises', p.id, p.town_id, p.police_station_id, 'town', p.town_id, '镇长', '逾期测试', ${due}, '2020-06-01',
           (select id from app_user where username = 'commander')
    from premises p where p.id in ${t.db.sql(ids)}
    returning id`
  return rows.map(r => r.id)
}

const events = async (ids: number[]) => t.db.sql<{ itemId: number; level: number; reachedOn: string }[]>`
  select item_id, level, reached_on from escalation_event where item_id in ${t.db.sql(ids)} order by item_id, level`

describe('the escalation rules', () => {
  const rule = (fromLevel: number, toLevel: number, afterDays: number): EscalationRule => ({ fromLevel, toLevel, afterDays, notify: 'jurisdiction' })

  it.each([
    ['a negative number of days', 'escalation-negative-days', [rule(0, 1, -1)]],
    ['a loop back to level 1', 'escalation-loop', [rule(0, 1, 0), rule(1, 2, 5), rule(2, 1, 9)]],
    ['a rule back to level 0', 'escalation-loop', [rule(0, 1, 0), rule(1, 0, 5)]],
    ['two rules leaving one level', 'escalation-branch', [rule(0, 1, 0), rule(0, 2, 5)]],
    ['a level no rule reaches', 'escalation-unreachable', [rule(0, 1, 0), rule(3, 4, 5)]],
    ['a higher level reached sooner', 'escalation-not-increasing', [rule(0, 1, 5), rule(1, 2, 3)]],
    ['no rule at all', 'escalation-empty', []],
  ] as const)('refuses %s (%s)', (_, code, rules) => {
    expect(escalationRuleProblem(rules)?.code).toBe(code)
  })

  it('accepts one chain up from level 0 with days growing', () => {
    expect(escalationRuleProblem([rule(0, 1, 0), rule(1, 2, 7), rule(2, 3, 30)])).toBeNull()
  })

  it('refuses bad rules through the API with the reason and a Chinese message, keeping the rules in force', async () => {
    const before = (await t.app.inject({ url: '/api/supervision/rules', headers: { cookie: admin } })).json()
    const res = await t.app.inject({ method: 'PUT', url: '/api/supervision/rules', headers: { cookie: admin }, payload: { rules: [rule(0, 1, 0), rule(1, 2, -3)] } })
    expect(res.statusCode).toBe(400)
    expect(res.json().reason).toBe('escalation-negative-days')
    expect(res.json().messageZh).toContain('天数')
    expect((await t.app.inject({ url: '/api/supervision/rules', headers: { cookie: admin } })).json()).toEqual(before)
  })
})

describe('one day\'s escalation', () => {
  it('raises nothing on the deadline itself, level 1 the day after, and nothing more when run again that day', async () => {
    const ids = await items(premises.slice(0, 3))
    expect(await t.app.supervision.escalate(deadline)).toMatchObject({ reached: 0 })
    const first = await t.app.supervision.escalate(addDays(deadline, 1))
    expect(first.reached).toBe(3)
    const again = await t.app.supervision.escalate(addDays(deadline, 1))
    expect(again).toMatchObject({ reached: 0, notices: 0 })
    expect((await events(ids)).map(e => [e.level, e.reachedOn])).toEqual(ids.map(() => [1, addDays(deadline, 1)]))
    const levels = await t.db.sql<{ level: number }[]>`select level from supervision_item where id in ${t.db.sql(ids)}`
    expect(levels.map(l => l.level)).toEqual([1, 1, 1])
  })

  it('records every level a late run finds reached, each once, on the day it runs', async () => {
    const ids = await items(premises.slice(3, 5))
    const day = addDays(deadline, 20)
    await t.app.supervision.escalate(day)
    await t.app.supervision.escalate(day)
    await t.app.supervision.escalate(addDays(day, 1))
    expect((await events(ids)).map(e => `${e.itemId}:${e.level}:${e.reachedOn}`)).toEqual(ids.flatMap(id => [`${id}:1:${day}`, `${id}:2:${day}`]))
  })

  it('leaves closed items alone', async () => {
    const [id] = await items(premises.slice(5, 6))
    await t.db.sql`update supervision_item set state = 'closed', closed_at = now(), closed_by = listed_by, closing_note = '已销号测试' where id = ${id!}`
    await t.app.supervision.escalate(addDays(deadline, 30))
    expect(await events([id!])).toEqual([])
  })

  it('tells the town\'s commanders at level 1 and the district\'s (not the town\'s) at level 2, once each', async () => {
    const [id] = await items(premises.slice(6, 7))
    await t.app.supervision.escalate(addDays(deadline, 1))
    const told = async (level: number) => (await t.db.sql<{ username: string }[]>`
      select u.username from notice n join app_user u on u.id = n.user_id where n.kind = 'escalation' and n.dedupe_key = ${`escalation:${id}:${level}`} order by 1`).map(r => r.username)
    expect(await told(1)).toContain('commander')
    expect(await told(1)).not.toContain('leader')
    await t.app.supervision.escalate(addDays(deadline, 8))
    await t.app.supervision.escalate(addDays(deadline, 9))
    expect(await told(2)).toContain('leader')
    expect(await told(2)).not.toContain('commander')
    const [payload] = await t.db.sql<{ payload: Record<string, unknown> }[]>`select payload from notice where dedupe_key = ${`escalation:${id}:2`} limit 1`
    expect(Object.keys(payload!.payload).sort()).toEqual(['daysOverdue', 'itemId', 'kind', 'level', 'reachedOn', 'townId'])
  })

  it('computes a day for hundreds of items in one run, and the same run again adds nothing', async () => {
    const ids = await items(premises.slice(10, 300), '2020-07-01')
    const day = '2020-07-05'
    const first = await t.app.supervision.escalate(day)
    expect(first.reached).toBe(ids.length)
    const again = await t.app.supervision.escalate(day)
    expect(again.reached).toBe(0)
    const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from escalation_event where item_id in ${t.db.sql(ids)}`
    expect(n!.n).toBe(ids.length)
  })

  it('follows new rules: with a third level after 30 days, an item 31 days late reaches it', async () => {
    const res = await t.app.inject({
      method: 'PUT', url: '/api/supervision/rules', headers: { cookie: admin },
      payload: { rules: [{ fromLevel: 0, toLevel: 1, afterDays: 0, notify: 'jurisdiction' }, { fromLevel: 1, toLevel: 2, afterDays: 7, notify: 'district' }, { fromLevel: 2, toLevel: 3, afterDays: 30, notify: 'district' }] },
    })
    expect(res.statusCode, res.body).toBe(200)
    const [id] = await items([premises[9]!])
    await t.app.supervision.escalate(addDays(deadline, 30))
    expect((await events([id!])).map(e => e.level)).toEqual([1, 2])
    await t.app.supervision.escalate(addDays(deadline, 31))
    expect((await events([id!])).map(e => e.level)).toEqual([1, 2, 3])
  })
})
