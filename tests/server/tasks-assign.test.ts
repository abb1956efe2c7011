import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { clearTasks, dayFromToday, userId } from '../helpers/tasks.js'

let t: TestApp
const cookies: Record<string, string> = {}
/** The demo town, the police station serving it, a town that station shares with others, and a town apart. */
const place = { town: 0, station: 0, sharedTown: 0, otherTown: 0 }
const users = { inspector: 0, stationInspector: 0, farInspector: 0, commander: 0 }

beforeAll(async () => {
  t = await buildTestApp()
  const sql = t.db.sql
  for (const u of ['commander', 'inspector', 'admin', 'bureau']) cookies[u] = await signIn(t.app, u)
  place.town = (await sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`)[0]!.id
  // The station serving most of the town, and another town it serves in part (shared with other stations).
  place.station = (await sql<{ id: number }[]>`
    select police_station_id as id from premises where town_id = ${place.town} group by 1 order by count(*) desc limit 1`)[0]!.id
  place.sharedTown = (await sql<{ id: number }[]>`
    select p.town_id as id from premises p where p.town_id <> ${place.town}
    group by 1 having count(*) filter (where p.police_station_id = ${place.station}) > 0 and count(*) filter (where p.police_station_id is distinct from ${place.station}) > 0
    order by count(*) desc limit 1`)[0]!.id
  place.otherTown = (await sql<{ id: number }[]>`
    select town_id as id from premises where town_id not in (${place.town}, ${place.sharedTown}) group by 1 order by count(*) desc limit 1`)[0]!.id
  const make = async (username: string, jurisdiction: Record<string, unknown>) => {
    const res = await t.app.inject({
      method: 'POST', url: '/api/users', headers: { cookie: cookies.admin! },
      payload: { username, displayName: `排查员 ${username}`, role: 'inspector', jurisdiction, password: 'a-long-test-secret' },
    })
    expect(res.statusCode, res.body).toBe(201)
    return res.json().id as number
  }
  users.stationInspector = await make('station.insp', { kind: 'police_station', id: place.station })
  users.farInspector = await make('far.insp', { kind: 'town', id: place.otherTown })
  users.inspector = await userId(sql, 'inspector')
  users.commander = await userId(sql, 'commander')
})
afterAll(() => t.close())

const assign = (body: Record<string, unknown>, cookie = cookies.commander!) =>
  t.app.inject({ method: 'POST', url: '/api/tasks', headers: { cookie }, payload: { kind: 'inspect', dueOn: dayFromToday(7), ...body } })

async function townPremises(n: number, where = t.db.sql`true`): Promise<number[]> {
  const ids = (await t.db.sql<{ id: number }[]>`select id from premises p where town_id = ${place.town} and ${where} order by id limit ${n}`).map(r => r.id)
  await clearTasks(t.db.sql, ids)
  return ids
}

const taskCount = async () => (await t.db.sql<{ n: number }[]>`select count(*)::int as n from task`)[0]!.n

/** A town's bounding box as a GeoJSON polygon: a drawn area holding all its premises (and maybe some of its neighbours'). */
async function townArea(town = place.town) {
  const [g] = await t.db.sql<{ g: string }[]>`select st_asgeojson(st_envelope(geom)) as g from admin_area where id = ${town}`
  return JSON.parse(g!.g) as { type: string; coordinates: unknown[] }
}

describe('assigning visits', () => {
  it('gives an inspector one open task per listed premises, and audits the assignment once', async () => {
    const ids = await townPremises(2)
    const res = await assign({ assigneeId: users.inspector, premisesIds: ids, note: '核查出租情况' })
    expect(res.statusCode, res.body).toBe(201)
    const body = res.json()
    expect(body).toMatchObject({ dryRun: false, count: 2, skipped: { outsideAssignee: 0, alreadyOpen: 0, nothingToVerify: 0 } })
    expect(body.tasks.map((x: { premisesId: number }) => x.premisesId)).toEqual(ids)
    expect(body.tasks[0]).toMatchObject({ kind: 'inspect', status: 'open', assignee: { id: users.inspector, username: 'inspector' }, assignedBy: { username: 'commander' }, dueOn: dayFromToday(7), note: '核查出租情况', overdue: false })
    const [audit] = await t.db.sql<{ after: { taskIds: number[]; premisesIds: number[]; count: number } }[]>`
      select after from audit_log where action = 'task.assign' and entity_id = ${body.batchId}`
    expect(audit!.after).toMatchObject({ count: 2, taskIds: body.tasks.map((x: { id: number }) => x.id), premisesIds: ids })
  })

  it('assigns the premises of a drawn area that lie in both jurisdictions, counting those left out; a dry run writes nothing', async () => {
    // The district's commander draws around a town that the station inspector's station serves in part.
    const area = await townArea(place.sharedTown)
    await t.db.sql`update task set status = 'cancelled', closed_at = now(), closed_by_action = 'task.cancel' where status = 'open'`
    const [expected] = await t.db.sql<{ mine: number; outside: number }[]>`
      select count(*) filter (where police_station_id = ${place.station})::int as mine, count(*) filter (where police_station_id is distinct from ${place.station})::int as outside
      from premises where st_intersects(geom, st_setsrid(st_geomfromgeojson(${JSON.stringify(area)}), 4326))`
    expect(expected!.mine).toBeGreaterThan(0)
    expect(expected!.outside).toBeGreaterThan(0)
    const before = await taskCount()
    const dry = await assign({ assigneeId: users.stationInspector, geometry: area, dryRun: true }, cookies.bureau)
    expect(dry.statusCode, dry.body).toBe(200)
    expect(dry.json()).toMatchObject({ dryRun: true, batchId: null, count: expected!.mine, skipped: { outsideAssignee: expected!.outside }, tasks: [] })
    expect(await taskCount()).toBe(before)
    const res = await assign({ assigneeId: users.stationInspector, geometry: area }, cookies.bureau)
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().count).toBe(expected!.mine)
    const stations = await t.db.sql<{ station: number }[]>`
      select distinct p.police_station_id as station from task t join premises p on p.id = t.premises_id where t.batch_id = ${res.json().batchId}`
    expect(stations).toEqual([{ station: place.station }])
  })

  it('gives a town commander\'s drawn area only the premises of the town', async () => {
    await t.db.sql`update task set status = 'cancelled', closed_at = now(), closed_by_action = 'task.cancel' where status = 'open'`
    const area = await townArea()
    const [n] = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from premises where town_id = ${place.town} and st_intersects(geom, st_setsrid(st_geomfromgeojson(${JSON.stringify(area)}), 4326))`
    const res = await assign({ assigneeId: users.inspector, geometry: area })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().count).toBe(n!.n)
    const towns = await t.db.sql<{ town: number }[]>`select distinct p.town_id as town from task t join premises p on p.id = t.premises_id where t.batch_id = ${res.json().batchId}`
    expect(towns).toEqual([{ town: place.town }])
  })

  it('assigns what the map\'s filter selects, within the drawn area when there is one', async () => {
    await t.db.sql`update task set status = 'cancelled', closed_at = now(), closed_by_action = 'task.cancel' where status = 'open'`
    const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from premises where town_id = ${place.town} and kind = 'group_rental'`
    const res = await assign({ assigneeId: users.inspector, filter: { kind: 'group_rental' } })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().count).toBe(n!.n)
    expect(res.json().tasks.every((x: { premisesKind: string }) => x.premisesKind === 'group_rental')).toBe(true)
  })

  it('makes one verification task per rectified hazard awaiting verification, and counts premises with none', async () => {
    const [p] = await t.db.sql<{ id: number }[]>`
      select p.id from premises p where p.town_id = ${place.town} and not exists (select 1 from hazard h where h.premises_id = p.id and h.status = 'rectified') order by p.id limit 1`
    const [withRectified] = await t.db.sql<{ id: number; n: number }[]>`
      select h.premises_id as id, count(*)::int as n from hazard h join premises p on p.id = h.premises_id
      where p.town_id = ${place.town} and h.status = 'rectified' group by 1 order by 2 desc, 1 limit 1`
    await clearTasks(t.db.sql, [p!.id, withRectified!.id])
    const res = await assign({ kind: 'verify', assigneeId: users.inspector, premisesIds: [p!.id, withRectified!.id] })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({ count: withRectified!.n, skipped: { nothingToVerify: 1 } })
    expect(res.json().tasks.every((x: { hazard: { status: string } | null }) => x.hazard?.status === 'rectified')).toBe(true)
  })
})

describe('refusing an assignment, writing nothing', () => {
  const cases: { name: string; body: () => Promise<Record<string, unknown>>; status: number; reason?: string; message: RegExp }[] = [
    {
      name: 'premises outside the commander\'s jurisdiction (they do not exist for them)',
      body: async () => ({ assigneeId: users.inspector, premisesIds: [(await t.db.sql<{ id: number }[]>`select id from premises where town_id <> ${place.town} order by id limit 1`)[0]!.id] }),
      status: 404, message: /^there is no premises with id/,
    },
    {
      name: 'premises outside the inspector\'s jurisdiction',
      body: async () => ({ assigneeId: users.farInspector, premisesIds: await townPremises(1) }),
      status: 400, reason: 'outside-assignee-jurisdiction', message: /outside the inspector's jurisdiction/,
    },
    { name: 'a user who is not an inspector', body: async () => ({ assigneeId: users.commander, premisesIds: await townPremises(1) }), status: 400, reason: 'not-an-inspector', message: /not an active inspector/ },
    { name: 'a due date that has passed', body: async () => ({ assigneeId: users.inspector, premisesIds: await townPremises(1), dueOn: dayFromToday(-1) }), status: 400, message: /has passed/ },
    { name: 'a due date that does not exist', body: async () => ({ assigneeId: users.inspector, premisesIds: await townPremises(1), dueOn: '2031-02-30' }), status: 400, message: /not a real calendar date/ },
    { name: 'a list and an area at once', body: async () => ({ assigneeId: users.inspector, premisesIds: await townPremises(1), geometry: await townArea() }), status: 400, message: /either premisesIds or an area/ },
    { name: 'no selection at all', body: async () => ({ assigneeId: users.inspector }), status: 400, message: /say which premises/ },
    { name: 'an area that is a line', body: async () => ({ assigneeId: users.inspector, geometry: { type: 'LineString', coordinates: [[119.9, 31.9], [119.91, 31.91]] } }), status: 400, message: /Polygon or MultiPolygon, not a LineString/ },
    { name: 'an area that is not closed', body: async () => ({ assigneeId: users.inspector, geometry: { type: 'Polygon', coordinates: [[[119.9, 31.9], [119.91, 31.9], [119.91, 31.91], [119.9, 31.92]]] } }), status: 400, reason: 'invalid-area', message: /not closed/ },
    { name: 'an inspector of another town given an area of this one', body: async () => ({ assigneeId: users.farInspector, geometry: await townArea() }), status: 400, reason: 'nothing-to-assign', message: /nothing to assign/ },
  ]
  it.each(cases)('refuses $name with $status', async ({ body, status, reason, message }) => {
    const payload = await body()
    const before = await taskCount()
    const res = await assign(payload)
    expect(res.statusCode, res.body).toBe(status)
    if (reason) expect(res.json().reason).toBe(reason)
    expect(res.json().message).toMatch(message)
    expect(res.json().messageZh).toBeTruthy()
    expect(await taskCount()).toBe(before)
  })

  it('refuses a second open visit of the same kind to the same premises, saying it is already open', async () => {
    const ids = await townPremises(1)
    expect((await assign({ assigneeId: users.inspector, premisesIds: ids })).statusCode).toBe(201)
    const res = await assign({ assigneeId: users.inspector, premisesIds: ids })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ reason: 'nothing-to-assign' })
    expect(res.json().message).toMatch(/1 already have an open visit of this kind/)
    // A visit of another kind may be open at the same time.
    expect((await assign({ kind: 'revisit', assigneeId: users.inspector, premisesIds: ids })).statusCode).toBe(201)
  })

  it('lets only commanders assign (403 for an inspector)', async () => {
    const res = await assign({ assigneeId: users.inspector, premisesIds: await townPremises(1) }, await signIn(t.app, 'inspector'))
    expect(res.statusCode).toBe(403)
  })
})

describe('whom a commander may give visits to', () => {
  it('lists the active inspectors who work somewhere in the commander\'s jurisdiction, and no others', async () => {
    const list = (await t.app.inject({ url: '/api/tasks/assignees', headers: { cookie: cookies.commander! } })).json() as { id: number; jurisdiction: { kind: string; nameZh: string } }[]
    const ids = list.map(u => u.id)
    expect(ids).toEqual(expect.arrayContaining([users.inspector, users.stationInspector]))
    expect(ids).not.toContain(users.farInspector)
    expect(list.find(u => u.id === users.inspector)!.jurisdiction).toMatchObject({ kind: 'town', nameZh: '三井街道' })
    const district = (await t.app.inject({ url: '/api/tasks/assignees', headers: { cookie: cookies.bureau! } })).json() as { id: number }[]
    expect(district.map(u => u.id)).toEqual(expect.arrayContaining([users.inspector, users.stationInspector, users.farInspector]))
  })
})
