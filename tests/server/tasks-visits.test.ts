import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { tinyJpeg, uploadPhoto } from '../helpers/photos.js'
import { dayFromToday, insertTask, userId } from '../helpers/tasks.js'

let t: TestApp
const cookies: Record<string, string> = {}
const users = { inspector: 0, colleague: 0 }
let town = 0
/** Premises of the town not used by another test yet. */
let nextPremises = 0

beforeAll(async () => {
  t = await buildTestApp()
  for (const u of ['commander', 'inspector', 'admin', 'leader']) cookies[u] = await signIn(t.app, u)
  town = (await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'inspector'`)[0]!.id
  const res = await t.app.inject({
    method: 'POST', url: '/api/users', headers: { cookie: cookies.admin! },
    payload: { username: 'colleague', displayName: '同事', role: 'inspector', jurisdiction: { kind: 'town', id: town }, password: 'a-long-test-secret' },
  })
  expect(res.statusCode, res.body).toBe(201)
  cookies.colleague = await signIn(t.app, 'colleague', 'a-long-test-secret')
  users.inspector = await userId(t.db.sql, 'inspector')
  users.colleague = res.json().id
})
afterAll(() => t.close())

/** A premises of the town that no other test of this file uses. */
async function premises(): Promise<{ id: number; lon: number; lat: number }> {
  const [p] = await t.db.sql<{ id: number; lon: number; lat: number }[]>`
    select id, st_x(geom) as lon, st_y(geom) as lat from premises where town_id = ${town} and id > ${nextPremises} order by id limit 1`
  nextPremises = p!.id
  return p!
}

const as = (who: string) => ({ cookie: cookies[who]! })
const post = (who: string, url: string, payload: unknown = {}) => t.app.inject({ method: 'POST', url, headers: as(who), payload: payload as Record<string, unknown> })
const status = async (id: number) => (await t.db.sql<{ status: string; closedByAction: string | null; closedBy: number | null }[]>`
  select status, closed_by_action, closed_by from task where id = ${id}`)[0]!
const newHazard = async (premisesId: number, who = 'inspector') => {
  const res = await post(who, `/api/premises/${premisesId}/hazards`, { itemCode: 'FIRE-06', severity: 'general' })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id as number
}

describe('the inspector\'s own list', () => {
  it('lists my open visits soonest due first, then nearest to where I am, with their distance', async () => {
    await t.db.sql`update task set status = 'cancelled', closed_at = now(), closed_by_action = 'task.cancel' where status = 'open'`
    const [a, b, c] = [await premises(), await premises(), await premises()]
    const here = { lon: c.lon, lat: c.lat }
    const later = await insertTask(t.db.sql, { premisesId: a.id, assigneeId: users.inspector, dueOn: dayFromToday(9) })
    const soonFar = await insertTask(t.db.sql, { premisesId: b.id, assigneeId: users.inspector, dueOn: dayFromToday(2) })
    const soonHere = await insertTask(t.db.sql, { premisesId: c.id, assigneeId: users.inspector, dueOn: dayFromToday(2) })
    await insertTask(t.db.sql, { premisesId: a.id, assigneeId: users.colleague, kind: 'revisit' })
    const res = await t.app.inject({ url: `/api/tasks/mine?near=${here.lon},${here.lat}`, headers: as('inspector') })
    expect(res.statusCode, res.body).toBe(200)
    const list = res.json() as { id: number; distanceM: number; assignee: { id: number } }[]
    expect(list.map(x => x.id)).toEqual([soonHere, soonFar, later])
    expect(list[0]!.distanceM).toBe(0)
    expect(list[1]!.distanceM).toBeGreaterThan(0)
    expect(list.every(x => x.assignee.id === users.inspector)).toBe(true)
    // Without a place, by due date alone.
    const plain = (await t.app.inject({ url: '/api/tasks/mine', headers: as('inspector') })).json() as { id: number; distanceM: number | null }[]
    expect(plain.map(x => x.id).at(-1)).toBe(later)
    expect(plain.every(x => x.distanceM === null)).toBe(true)
  })

  it('is for inspectors: a commander follows visits on the list of the jurisdiction instead (403)', async () => {
    expect((await t.app.inject({ url: '/api/tasks/mine', headers: as('commander') })).statusCode).toBe(403)
    expect((await t.app.inject({ url: '/api/tasks', headers: as('inspector') })).statusCode).toBe(403)
  })
})

describe('a visit closes its task, in the same transaction', () => {
  it('closes an inspect task when its inspector records a hazard there, with an audit row', async () => {
    const p = await premises()
    const task = await insertTask(t.db.sql, { premisesId: p.id, assigneeId: users.inspector })
    await newHazard(p.id)
    expect(await status(task)).toEqual({ status: 'done', closedByAction: 'hazard.create', closedBy: users.inspector })
    const [a] = await t.db.sql<{ after: { closedByAction: string } }[]>`select after from audit_log where action = 'task.done' and entity_id = ${String(task)}`
    expect(a!.after.closedByAction).toBe('hazard.create')
    const mine = (await t.app.inject({ url: '/api/tasks/mine?status=done', headers: as('inspector') })).json() as { id: number; closedByAction: string }[]
    expect(mine.find(x => x.id === task)?.closedByAction).toBe('hazard.create')
  })

  it('closes an inspect task when its inspector updates the premises, or adds a photo of it', async () => {
    const [p, q] = [await premises(), await premises()]
    const byUpdate = await insertTask(t.db.sql, { premisesId: p.id, assigneeId: users.inspector })
    const byPhoto = await insertTask(t.db.sql, { premisesId: q.id, assigneeId: users.inspector })
    expect((await t.app.inject({ method: 'PATCH', url: `/api/premises/${p.id}`, headers: as('inspector'), payload: { occupants: 9 } })).statusCode).toBe(200)
    expect((await uploadPhoto(t.app, cookies.inspector!, `premises/${q.id}`, tinyJpeg)).statusCode).toBe(201)
    expect((await status(byUpdate)).closedByAction).toBe('premises.update')
    expect((await status(byPhoto)).closedByAction).toBe('photo.upload')
  })

  it('leaves an inspect task open when someone else records there, or its inspector records elsewhere', async () => {
    const [p, q] = [await premises(), await premises()]
    const task = await insertTask(t.db.sql, { premisesId: p.id, assigneeId: users.inspector })
    await newHazard(p.id, 'colleague')
    expect((await t.app.inject({ method: 'PATCH', url: `/api/premises/${p.id}`, headers: as('commander'), payload: { occupants: 4 } })).statusCode).toBe(200)
    await newHazard(q.id)
    expect((await status(task)).status).toBe('open')
  })

  it('closes a revisit, not an inspection, when its inspector marks a hazard there rectified', async () => {
    const p = await premises()
    const h = await newHazard(p.id, 'colleague')
    const inspect = await insertTask(t.db.sql, { premisesId: p.id, assigneeId: users.inspector })
    const revisit = await insertTask(t.db.sql, { premisesId: p.id, assigneeId: users.inspector, kind: 'revisit' })
    expect((await post('inspector', `/api/hazards/${h}/rectify`)).statusCode).toBe(200)
    expect(await status(revisit)).toMatchObject({ status: 'done', closedByAction: 'hazard.rectify' })
    expect((await status(inspect)).status).toBe('open')
  })

  it('closes a verification when the hazard is verified with its "after" photo, by whoever verifies it', async () => {
    const p = await premises()
    const h = await newHazard(p.id)
    expect((await post('inspector', `/api/hazards/${h}/rectify`)).statusCode).toBe(200)
    const task = await insertTask(t.db.sql, { premisesId: p.id, hazardId: h, assigneeId: users.inspector, kind: 'verify' })
    // Refused for want of the photo: the task stays open with the hazard.
    const refused = await post('commander', `/api/hazards/${h}/verify`)
    expect(refused.statusCode).toBe(409)
    expect((await status(task)).status).toBe('open')
    expect((await uploadPhoto(t.app, cookies.inspector!, `hazards/${h}`, tinyJpeg, { stage: 'rectified' })).statusCode).toBe(201)
    expect((await status(task)).status).toBe('open')
    expect((await post('commander', `/api/hazards/${h}/verify`)).statusCode).toBe(200)
    expect(await status(task)).toEqual({ status: 'done', closedByAction: 'hazard.verify', closedBy: await userId(t.db.sql, 'commander') })
  })
})

describe('closing a visit by hand', () => {
  it('closes my inspect task saying what the visit found; the same completion sent again answers it as closed', async () => {
    const p = await premises()
    const task = await insertTask(t.db.sql, { premisesId: p.id, assigneeId: users.inspector })
    const clientId = randomUUID()
    const res = await post('inspector', `/api/tasks/${task}/complete`, { clientId, note: '  已走访，无变化  ' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ status: 'done', closedByAction: 'task.complete', closingNote: '已走访，无变化', closedBy: 'inspector' })
    const again = await post('inspector', `/api/tasks/${task}/complete`, { clientId, note: '已走访，无变化' })
    expect(again.statusCode).toBe(200)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(res.json())
    const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'task.complete' and entity_id = ${String(task)}`
    expect(n!.n).toBe(1)
  })

  it('refuses another\'s task (403), a done or withdrawn one (409), a verification (409) and a blank note (400), changing nothing', async () => {
    const [p, q, r, s] = [await premises(), await premises(), await premises(), await premises()]
    const others = await insertTask(t.db.sql, { premisesId: p.id, assigneeId: users.colleague })
    const done = await insertTask(t.db.sql, { premisesId: q.id, assigneeId: users.inspector })
    await newHazard(q.id)
    const withdrawn = await insertTask(t.db.sql, { premisesId: r.id, assigneeId: users.inspector })
    expect((await post('commander', `/api/tasks/${withdrawn}/cancel`, { note: '改派' })).statusCode).toBe(200)
    const h = await newHazard(s.id, 'colleague')
    await post('colleague', `/api/hazards/${h}/rectify`)
    const verify = await insertTask(t.db.sql, { premisesId: s.id, hazardId: h, assigneeId: users.inspector, kind: 'verify' })
    const cases: [number, Record<string, unknown>, number, string | undefined][] = [
      [others, { note: 'x' }, 403, 'not-assignee'],
      [done, { note: 'x' }, 409, 'task-done'],
      [withdrawn, { note: 'x' }, 409, 'task-cancelled'],
      [verify, { note: 'x' }, 409, 'verify-to-close'],
      [verify, { note: '   ' }, 400, undefined],
    ]
    for (const [id, body, code, reason] of cases) {
      const before = await status(id)
      const res = await post('inspector', `/api/tasks/${id}/complete`, { clientId: randomUUID(), ...body })
      expect(res.statusCode, `task ${id}: ${res.body}`).toBe(code)
      if (reason) expect(res.json().reason).toBe(reason)
      expect(res.json().messageZh).toBeTruthy()
      expect(await status(id)).toEqual(before)
    }
  })

  it('lets a commander withdraw an open visit once (then 409), and not an inspector (403)', async () => {
    const p = await premises()
    const task = await insertTask(t.db.sql, { premisesId: p.id, assigneeId: users.inspector })
    expect((await post('inspector', `/api/tasks/${task}/cancel`)).statusCode).toBe(403)
    const res = await post('commander', `/api/tasks/${task}/cancel`, { note: '房屋已拆除' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ status: 'cancelled', closedByAction: 'task.cancel', closingNote: '房屋已拆除', closedBy: 'commander' })
    const again = await post('commander', `/api/tasks/${task}/cancel`)
    expect(again.statusCode).toBe(409)
    expect(again.json().reason).toBe('task-cancelled')
  })
})

describe('what commanders follow', () => {
  it('counts each inspector\'s open, overdue, done (and late) and withdrawn visits as the raw rows do, and lists what is overdue', async () => {
    const [p, q, r] = [await premises(), await premises(), await premises()]
    // Due today is not overdue yet.
    const dueToday = await insertTask(t.db.sql, { premisesId: r.id, assigneeId: users.colleague, dueOn: dayFromToday(0) })
    const overdue = await insertTask(t.db.sql, { premisesId: p.id, assigneeId: users.colleague, dueOn: dayFromToday(3) })
    const late = await insertTask(t.db.sql, { premisesId: q.id, assigneeId: users.colleague, dueOn: dayFromToday(3) })
    await newHazard(q.id, 'colleague')
    // Both fell due days ago: one is still open, the other was done after its day.
    await t.db.owner`update task set due_on = current_date - 5, created_at = now() - interval '10 days' where id in ${t.db.owner([overdue, late])}`
    const res = await t.app.inject({ url: '/api/tasks/progress', headers: as('commander') })
    expect(res.statusCode).toBe(200)
    const rows = await t.db.sql<{ assigneeId: number; open: number; overdue: number; done: number; doneLate: number; cancelled: number }[]>`
      select t.assignee_id, count(*) filter (where t.status = 'open')::int as open,
             count(*) filter (where t.status = 'open' and t.due_on < ${dayFromToday(0)})::int as overdue,
             count(*) filter (where t.status = 'done')::int as done,
             count(*) filter (where t.status = 'done' and (t.closed_at at time zone 'Asia/Shanghai')::date > t.due_on)::int as done_late,
             count(*) filter (where t.status = 'cancelled')::int as cancelled
      from task t join premises p on p.id = t.premises_id where p.town_id = ${town} group by 1`
    const progress = res.json().inspectors as { id: number; open: number; overdue: number; done: number; doneLate: number; cancelled: number }[]
    expect(progress.length).toBe(rows.length)
    for (const r of rows) {
      const { assigneeId, ...counts } = r
      expect(progress.find(x => x.id === assigneeId), `inspector ${assigneeId}`).toMatchObject(counts)
    }
    const colleague = progress.find(x => x.id === users.colleague)!
    expect(colleague.overdue).toBeGreaterThanOrEqual(1)
    expect(colleague.doneLate).toBeGreaterThanOrEqual(1)
    const list = (await t.app.inject({ url: '/api/tasks?overdue=true', headers: as('commander') })).json() as { id: number; overdue: boolean }[]
    expect(list.map(x => x.id)).toContain(overdue)
    expect(list.map(x => x.id)).not.toContain(late)
    expect(list.map(x => x.id)).not.toContain(dueToday)
    expect(list.every(x => x.overdue)).toBe(true)
  })

  it('shows neither progress nor tasks to roles that do not direct visits (403)', async () => {
    for (const url of ['/api/tasks/progress', '/api/tasks', '/api/tasks/assignees']) {
      expect((await t.app.inject({ url, headers: as('leader') })).statusCode, url).toBe(403)
    }
  })
})
