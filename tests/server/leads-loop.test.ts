import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedDemoLeads } from '../../server/seed/readings.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { dayFromToday, userId } from '../helpers/tasks.js'

/**
 * The loop on the small demo: leads ranked within the commander's town → issued as inspection
 * tasks → visited → a group rental registered as found by data analysis, the task done → the
 * measures count it → the model retrained on the outcomes (an audited admin action).
 */

let t: TestApp
const cookies: Record<string, string> = {}
let town = 0
let inspector = 0

interface LeadItem { id: number; premisesId: number | null; score: number; townId: number; status: string; reasons: { feature: string }[]; address: string }

const get = (url: string, who: string) => t.app.inject({ url, headers: { cookie: cookies[who]! } })
const post = (url: string, who: string, payload: Record<string, unknown> = {}) => t.app.inject({ method: 'POST', url, headers: { cookie: cookies[who]! }, payload })

beforeAll(async () => {
  t = await buildTestApp()
  await seedDemoLeads(t.db.sql, { seed: 42 })
  for (const u of ['commander', 'inspector', 'admin', 'leader', 'analyst']) cookies[u] = await signIn(t.app, u)
  town = (await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'commander'`)[0]!.id
  inspector = await userId(t.db.sql, 'inspector')
})
afterAll(() => t.close())

async function leads(query = ''): Promise<{ total: number; items: LeadItem[] }> {
  const res = await get(`/api/leads?limit=500${query}`, 'commander')
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

describe('leads in the list', () => {
  it('ranks the commander\'s leads by score, all in the commander\'s town, each with its reasons', async () => {
    const { items, total } = await leads()
    expect(total).toBeGreaterThan(10)
    expect(items.every(l => l.townId === town)).toBe(true)
    const scores = items.map(l => l.score)
    expect([...scores].sort((a, b) => b - a)).toEqual(scores)
    expect(items[0]!.reasons.length).toBeGreaterThan(0)
    const all = (await t.db.sql<{ n: number }[]>`select count(*)::int as n from lead where candidate and town_id = ${town}`)[0]!.n
    expect(total).toBe(all)
  })

  it('filters by police station and community', async () => {
    const [s] = await t.db.sql<{ id: number; n: number }[]>`
      select police_station_id as id, count(*)::int as n from lead where candidate and town_id = ${town} and police_station_id is not null group by 1 order by 2 desc limit 1`
    const byStation = await leads(`&policeStation=${s!.id}`)
    expect(byStation.total).toBe(s!.n)
    const [c] = await t.db.sql<{ id: number; n: number }[]>`
      select community_id as id, count(*)::int as n from lead where candidate and town_id = ${town} and community_id is not null group by 1 order by 2 desc limit 1`
    expect((await leads(`&community=${c!.id}`)).total).toBe(c!.n)
  })

  it('gives account holders\' names to the commander, who sees people, and never to the analyst', async () => {
    const res = await get(`/api/leads?limit=5&town=${town}`, 'analyst')
    expect(res.statusCode).toBe(200)
    const top = res.json().items[0] as LeadItem
    const forAnalyst = (await get(`/api/leads/${top.id}`, 'analyst')).json()
    expect(forAnalyst.accounts.length).toBeGreaterThan(0)
    expect(forAnalyst.accounts.every((a: Record<string, unknown>) => !('holderName' in a))).toBe(true)
    const forCommander = await get(`/api/leads/${top.id}`, 'commander')
    expect(forCommander.statusCode).toBe(200)
    expect(forCommander.json().accounts.every((a: { holderName?: string }) => typeof a.holderName === 'string' && a.holderName.length > 0)).toBe(true)
  })

  it('serves the leads as a map layer, highest scores first', async () => {
    const res = await get('/api/leads/points?limit=50', 'commander')
    expect(res.statusCode).toBe(200)
    const fc = res.json()
    expect(fc.type).toBe('FeatureCollection')
    const scores = fc.features.map((f: { properties: { score: number } }) => f.properties.score)
    expect([...scores].sort((a: number, b: number) => b - a)).toEqual(scores)
  })
})

describe('from lead to registered group rental', () => {
  let issued: LeadItem[] = []

  it('turns the top premises leads into inspect tasks for the inspector, with the score they were issued at', async () => {
    issued = (await leads('&subject=premises')).items.slice(0, 6)
    const res = await post('/api/leads/tasks', 'commander', { leadIds: issued.map(l => l.id), assigneeId: inspector, dueOn: dayFromToday(7) })
    expect(res.statusCode, res.body).toBe(201)
    const body = res.json()
    expect(body.leads.map((l: { id: number }) => l.id)).toEqual(issued.map(l => l.id).sort((a, b) => a - b))
    for (const l of body.leads) {
      expect(l.status).toBe('assigned')
      expect(l.taskId).not.toBeNull()
    }
    const tasks = await t.db.sql<{ premisesId: number; kind: string; assigneeId: number; status: string }[]>`
      select premises_id, kind, assignee_id, status from task where id in ${t.db.sql(body.leads.map((l: { taskId: number }) => l.taskId))}`
    expect(tasks.map(x => x.premisesId).sort()).toEqual(issued.map(l => l.premisesId).sort())
    expect(tasks.every(x => x.kind === 'inspect' && x.assigneeId === inspector && x.status === 'open')).toBe(true)
    const mine = (await get('/api/tasks/mine', 'inspector')).json() as { premisesId: number }[]
    for (const l of issued) expect(mine.map(m => m.premisesId)).toContain(l.premisesId)
  })

  it('registers a group rental found at the visit as found by data analysis, and closes its task', async () => {
    const lead = issued[0]!
    const res = await post(`/api/leads/${lead.id}/visits`, 'inspector', { outcome: 'group_rental', roomsLet: 12, occupants: 20 })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().lead.status).toBe('visited')
    const [p] = await t.db.sql<{ kind: string; discoveryMethod: string; registeredOn: string | null; roomsLet: number }[]>`
      select kind, discovery_method, registered_on, rooms_let from premises where id = ${lead.premisesId!}`
    expect(p).toMatchObject({ kind: 'group_rental', discoveryMethod: 'data_analysis', roomsLet: 12 })
    expect(p!.registeredOn).not.toBeNull()
    const [task] = await t.db.sql<{ status: string; closedByAction: string }[]>`select t.status, t.closed_by_action from task t join lead l on l.task_id = t.id where l.id = ${lead.id}`
    expect(task).toEqual({ status: 'done', closedByAction: 'lead.visit' })
    const audit = await t.db.sql<{ action: string }[]>`select action from audit_log where entity_id = ${String(lead.id)} and entity = 'lead'`
    expect(audit.map(a => a.action)).toContain('lead.visit')
  })

  it('refuses a group rental without the counts that meet the rule', async () => {
    const res = await post(`/api/leads/${issued[1]!.id}/visits`, 'inspector', { outcome: 'group_rental', roomsLet: 3 })
    expect(res.statusCode).toBe(400)
    expect(res.json().reason).toBe('rule-not-met')
  })

  it('keeps a lead with no access open, with its task, for another try', async () => {
    const lead = issued[1]!
    const res = await post(`/api/leads/${lead.id}/visits`, 'inspector', { outcome: 'no_access' })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().lead).toMatchObject({ status: 'assigned', attempts: 1 })
    const [task] = await t.db.sql<{ status: string }[]>`select t.status from task t join lead l on l.task_id = t.id where l.id = ${lead.id}`
    expect(task!.status).toBe('open')
  })

  it('records another kind of rental and not a rental, which close the lead without registering a group rental', async () => {
    expect((await post(`/api/leads/${issued[2]!.id}/visits`, 'inspector', { outcome: 'other_rental', kind: 'rental', occupants: 3 })).statusCode).toBe(201)
    expect((await post(`/api/leads/${issued[3]!.id}/visits`, 'inspector', { outcome: 'not_rental' })).statusCode).toBe(201)
    const again = await post(`/api/leads/${issued[3]!.id}/visits`, 'inspector', { outcome: 'not_rental' })
    expect(again.statusCode).toBe(409)
    expect(again.json().reason).toBe('lead-visited')
  })

  it('counts the outcomes for leaders: issued, visited, confirmed, precision by band and town, found by data analysis', async () => {
    const res = await get('/api/leads/stats', 'leader')
    expect(res.statusCode, res.body).toBe(200)
    const s = res.json()
    expect(s).toMatchObject({ issued: 6, visited: 3, confirmed: 1, otherRental: 1, notRental: 1, noAccessPending: 1 })
    expect(s.precision).toBeCloseTo(1 / 3, 3)
    const bandOfFirst = (await t.db.sql<{ band: string }[]>`select issued_band as band from lead where id = ${issued[0]!.id}`)[0]!.band
    expect(s.byBand.find((b: { band: string }) => b.band === bandOfFirst).confirmed).toBe(1)
    expect(s.byTown).toEqual([expect.objectContaining({ id: town, issued: 6, visited: 3, confirmed: 1 })])
    expect(s.registered.dataAnalysis).toBe(1)
    expect(s.registered.total).toBe(s.registered.dataAnalysis + s.registered.patrol + s.registered.ledgerImport + s.registered.report + s.registered.other)
  })
})

describe('an address with meters but no premises', () => {
  it('registers the group rental found there as new premises, found by data analysis, and links the meters to it', async () => {
    // Meters at an address the registers do not know, in the commander's town.
    await t.db.sql`
      with a as (
        insert into meter_account (utility, account_no, holder_name, address, geom, town_id, unmatched_reason)
        select 'electricity', 'LOOP-SITE-1', '吴某', '测试新村9号', st_pointonsurface(geom), id, 'no-premises' from admin_area where id = ${town}
        returning id)
      insert into meter_reading (account_id, month, daily, total) select a.id, '2020-05-01', array_fill(3000, array[31]), 3000 * 31 from a`
    await t.app.leads.refresh()
    const site = (await leads('&subject=address')).items.find(l => l.address === '测试新村9号')!
    expect(site.premisesId).toBeNull()
    const accounts = ((await get(`/api/leads/${site.id}`, 'commander')).json().accounts as { accountNo: string }[]).map(a => a.accountNo)
    expect(accounts.length).toBeGreaterThan(0)
    expect((await post('/api/leads/tasks', 'commander', { leadIds: [site.id], assigneeId: inspector, dueOn: dayFromToday(3) })).statusCode).toBe(201)
    const res = await post(`/api/leads/${site.id}/visits`, 'inspector', { outcome: 'group_rental', bedsLet: 14 })
    expect(res.statusCode, res.body).toBe(201)
    const premisesId = res.json().premisesId as number
    const [p] = await t.db.sql<{ kind: string; discoveryMethod: string; address: string; townId: number }[]>`select kind, discovery_method, address, town_id from premises where id = ${premisesId}`
    expect(p).toMatchObject({ kind: 'group_rental', discoveryMethod: 'data_analysis', address: site.address, townId: town })
    const meters = await t.db.sql<{ premisesId: number; matchMethod: string }[]>`select premises_id, match_method from meter_account where account_no in ${t.db.sql(accounts)}`
    expect(meters).toHaveLength(accounts.length)
    expect(meters.every(m => m.premisesId === premisesId && m.matchMethod === 'visit')).toBe(true)
  })
})

describe('retraining', () => {
  it('refuses to train on too few outcomes, saying how many there are', async () => {
    const res = await post('/api/leads/models', 'admin')
    expect(res.statusCode).toBe(409)
    expect(res.json().reason).toBe('too-few-outcomes')
    // Before any training the rules are listed, and in force.
    expect((await get('/api/leads/models', 'admin')).json()).toEqual([expect.objectContaining({ version: 0, kind: 'rules', active: true, trainedAt: null })])
  })

  it('trains on the visits\' outcomes, makes the model the one in force, rescores and audits it', async () => {
    // Visits of 30 more leads, decided by the score they were issued at: enough outcomes of both kinds.
    const more = (await leads('&subject=premises&status=new')).items.slice(0, 30)
    expect((await post('/api/leads/tasks', 'commander', { leadIds: more.map(l => l.id), assigneeId: inspector, dueOn: dayFromToday(7) })).statusCode).toBe(201)
    for (const [i, l] of more.entries()) {
      const res = await post(`/api/leads/${l.id}/visits`, 'inspector', i % 2 === 0 ? { outcome: 'group_rental', occupants: 15 } : { outcome: 'not_rental' })
      expect(res.statusCode, res.body).toBe(201)
    }
    const res = await post('/api/leads/models', 'admin')
    expect(res.statusCode, res.body).toBe(201)
    const m = res.json()
    expect(m.examples).toBe(34)
    expect(m.version).toBe(1)
    const [scored] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from lead where candidate and model_version = 1`
    expect(scored!.n).toBe(m.scored)
    const [audit] = await t.db.sql<{ after: { examples: number } }[]>`select after from audit_log where action = 'lead-model.train' order by id desc limit 1`
    expect(audit!.after.examples).toBe(34)
    const models = (await get('/api/leads/models', 'admin')).json() as { version: number; active: boolean }[]
    expect(models.map(x => [x.version, x.active])).toEqual([[1, true], [0, false]])
    expect((await get('/api/leads/stats', 'leader')).json().model.version).toBe(1)
  })
})
