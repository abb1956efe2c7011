import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { clearTasks, dayFromToday, userId } from '../helpers/tasks.js'

/**
 * The inbox and its live stream: notices for tasks assigned, key areas proposed for a town and the
 * biweekly tables due or overdue; read and unread; a notice about a place the user no longer
 * covers is not shown; and the stream (Server-Sent Events) brings a user's new notice, only to that
 * user, and the figures' change to everyone connected.
 */
let t: TestApp
let base: string
const cookies: Record<string, string> = {}
let townIn = 0
let premises: number[] = []

beforeAll(async () => {
  t = await buildTestApp({ supervision: { everyMs: 0 }, notices: { remindEveryMs: 0, figuresEveryMs: 100 } })
  await t.app.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`
  for (const who of ['commander', 'inspector', 'leader', 'analyst']) cookies[who] = await signIn(t.app, who)
  townIn = (await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`)[0]!.id
  premises = (await t.db.sql<{ id: number }[]>`select id from premises where town_id = ${townIn} order by id limit 20`).map(r => r.id)
})
afterAll(() => t.close())

const get = (url: string, who: string) => t.app.inject({ url, headers: { cookie: cookies[who]! } })
const post = (url: string, who: string, payload: Record<string, unknown> = {}) => t.app.inject({ method: 'POST', url, headers: { cookie: cookies[who]! }, payload })
const unread = async (who: string) => (await get('/api/notices/unread', who)).json().unread as number

async function assign(premisesId: number) {
  await clearTasks(t.db.sql, [premisesId])
  const res = await post('/api/tasks', 'commander', { kind: 'inspect', assigneeId: await userId(t.db.sql, 'inspector'), dueOn: dayFromToday(7), premisesIds: [premisesId] })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().batchId as string
}

describe('the inbox', () => {
  it('tells the inspector of the visits assigned, with no personal data, and counts it unread until read', async () => {
    const before = await unread('inspector')
    const batchId = await assign(premises[0]!)
    expect(await unread('inspector')).toBe(before + 1)
    const [n] = (await get('/api/notices?unread=true', 'inspector')).json() as { id: number; kind: string; payload: Record<string, unknown> }[]
    expect(n).toMatchObject({ kind: 'task-assigned', payload: { batchId, count: 1, dueOn: dayFromToday(7), taskKind: 'inspect' } })
    expect((await post(`/api/notices/${n!.id}/read`, 'inspector')).json().readAt).not.toBeNull()
    expect(await unread('inspector')).toBe(before)
    expect((await post(`/api/notices/${n!.id}/unread`, 'inspector')).json().readAt).toBeNull()
    expect(await unread('inspector')).toBe(before + 1)
    expect((await post('/api/notices/read-all', 'inspector')).statusCode).toBe(200)
    expect(await unread('inspector')).toBe(0)
  })

  it('makes another user\'s notice not exist (404)', async () => {
    await assign(premises[1]!)
    const [n] = (await get('/api/notices?unread=true', 'inspector')).json() as { id: number }[]
    const res = await post(`/api/notices/${n!.id}/read`, 'commander')
    expect(res.statusCode).toBe(404)
    expect(res.json().messageZh).toContain('通知')
  })

  it('does not show a notice about a town to a user who no longer covers that town', async () => {
    const u = await userId(t.db.sql, 'leader')
    const [n] = await t.db.sql<{ id: number }[]>`
      insert into notice (user_id, kind, payload, town_id, dedupe_key) values (${u}, 'escalation', '{"itemId": 1, "level": 1}', ${townIn}, 'lost-jurisdiction-test') returning id`
    const listed = async () => ((await get('/api/notices', 'leader')).json() as { id: number }[]).map(x => x.id)
    expect(await listed()).toContain(n!.id)
    const [other] = await t.db.sql<{ id: number }[]>`select id from admin_area where level = 'town' and id <> ${townIn} and valid_to is null order by id limit 1`
    await t.db.sql`update app_user set jurisdiction_kind = 'town', jurisdiction_town_id = ${other!.id} where id = ${u}`
    try {
      const again = await signIn(t.app, 'leader')
      cookies.leader = again
      expect(await listed()).not.toContain(n!.id)
      expect((await post(`/api/notices/${n!.id}/read`, 'leader')).statusCode).toBe(404)
    }
    finally {
      await t.db.sql`update app_user set jurisdiction_kind = 'district', jurisdiction_town_id = null where id = ${u}`
      cookies.leader = await signIn(t.app, 'leader')
    }
  })

  it('tells the town\'s commanders of a key area proposed there', async () => {
    const [p] = await t.db.sql<{ lon: number; lat: number }[]>`
      select st_x(p) as lon, st_y(p) as lat from (select st_pointonsurface(st_buffer(geom, -0.01)) as p from admin_area where id = ${townIn}) s`
    const d = 0.002
    const square = [[[p!.lon - d, p!.lat - d], [p!.lon + d, p!.lat - d], [p!.lon + d, p!.lat + d], [p!.lon - d, p!.lat + d], [p!.lon - d, p!.lat - d]]]
    const res = await post('/api/analysis/proposals', 'analyst', { geometry: { type: 'Polygon', coordinates: square }, parameters: { of: 'group-rentals', eps: 150, minPoints: 8 } })
    expect(res.statusCode, res.body).toBe(201)
    const mine = (await get('/api/notices', 'commander')).json() as { kind: string; payload: { keyAreaId?: number } }[]
    expect(mine.some(n => n.kind === 'key-area-proposal' && n.payload.keyAreaId === res.json().keyAreaId)).toBe(true)
  })

  it('reminds commanders on a report day, once, and the day after tells those who did not submit', async () => {
    const commander = await userId(t.db.sql, 'commander')
    const due = await t.app.notices.remindReports('2020-06-14')
    expect(due.some(n => n.userId === commander && n.kind === 'submission-due')).toBe(true)
    expect(await t.app.notices.remindReports('2020-06-14')).toEqual([])
    // The commander's town submitted its table for the period; the district's commander did not.
    await t.db.sql`insert into report_submission (report, subject, period_to, data, filled_by, submitted_by) values ('attachment-5', ${`town:${townIn}`}, '2020-06-14', '{}', '测试', ${commander})`
    const late = await t.app.notices.remindReports('2020-06-16')
    expect(late.map(n => n.kind)).toContain('report-overdue')
    expect(late.some(n => n.userId === commander)).toBe(false)
    const bureau = await userId(t.db.sql, 'bureau')
    expect(late.some(n => n.userId === bureau && n.kind === 'report-overdue' && n.payload.periodTo === '2020-06-14')).toBe(true)
  })
})

/** A stream opened with a user's cookie; events as they arrive. */
async function stream(who: string) {
  const ctl = new AbortController()
  const res = await fetch(`${base}/api/notices/stream`, { headers: { cookie: cookies[who]! }, signal: ctl.signal })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/event-stream')
  const events: { event: string; data: unknown; at: number }[] = []
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        buffer += decoder.decode(value, { stream: true })
        let cut = buffer.indexOf('\n\n')
        while (cut >= 0) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          const event = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (event) events.push({ event, data: data ? JSON.parse(data) : null, at: Date.now() })
          cut = buffer.indexOf('\n\n')
        }
      }
    }
    catch {
      // Aborted by the test.
    }
  })()
  const until = async (pred: () => boolean, ms = 10_000) => {
    const end = Date.now() + ms
    while (!pred() && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 20))
    return pred()
  }
  return { events, until, close: async () => { ctl.abort(); await pump } }
}

describe('the live stream', () => {
  it('opens with the unread count, brings the inspector\'s new notice within 2 s, and nothing of it to another user', async () => {
    const inspector = await stream('inspector')
    const commander = await stream('commander')
    try {
      expect(await inspector.until(() => inspector.events.some(e => e.event === 'hello'))).toBe(true)
      expect(await commander.until(() => commander.events.some(e => e.event === 'hello'))).toBe(true)
      const sent = Date.now()
      const batchId = await assign(premises[2]!)
      expect(await inspector.until(() => inspector.events.some(e => e.event === 'notice'))).toBe(true)
      const got = inspector.events.find(e => e.event === 'notice')!
      expect(got.data).toMatchObject({ kind: 'task-assigned', payload: { batchId } })
      expect(got.at - sent).toBeLessThan(2000)
      expect(commander.events.filter(e => e.event === 'notice')).toEqual([])
    }
    finally {
      await inspector.close()
      await commander.close()
    }
  })

  it('tells every connected page that the figures changed after a write they are computed from', async () => {
    const leader = await stream('leader')
    try {
      expect(await leader.until(() => leader.events.some(e => e.event === 'hello'))).toBe(true)
      // Let the watch see the version once before the write.
      await new Promise(resolve => setTimeout(resolve, 300))
      await t.db.sql`update premises set occupants = occupants + 1 where id = ${premises[3]!}`
      expect(await leader.until(() => leader.events.some(e => e.event === 'figures'))).toBe(true)
    }
    finally {
      await leader.close()
    }
  })

  it('refuses a signed-out stream (401) and, with once=true, sends the opening and closes', async () => {
    expect((await fetch(`${base}/api/notices/stream`)).status).toBe(401)
    const res = await fetch(`${base}/api/notices/stream?once=true`, { headers: { cookie: cookies.inspector! } })
    const text = await res.text()
    expect(text).toMatch(/^retry: 3000\n\nevent: hello\ndata: \{"unread":\d+\}\n\n$/)
  })
})
