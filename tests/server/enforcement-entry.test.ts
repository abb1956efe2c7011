import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { enforcementColumn } from '../../server/domain/enforcement.js'
import { enforcementKinds } from '../../server/domain/lists.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * Enforcement results entered through the API: each kind lands in its column of attachment 5,
 * edits follow, a voided record stays and stops counting, the database refuses deletion, and
 * every write is audited.
 */
let t: TestApp
let inspector: string
let commander: string
let leader: string
let town = 0
let premises = { id: 0, station: 0 }

beforeAll(async () => {
  t = await buildTestApp()
  inspector = await signIn(t.app, 'inspector')
  commander = await signIn(t.app, 'commander')
  leader = await signIn(t.app, 'leader')
  const [u] = await t.db.sql<{ town: number }[]>`select jurisdiction_town_id as town from app_user where username = 'inspector'`
  town = u!.town
  const [p] = await t.db.sql<{ id: number; station: number }[]>`
    select id, police_station_id as station from premises where town_id = ${town} and police_station_id is not null order by id limit 1`
  premises = p!
})
afterAll(() => t.close())

const day = '2020-06-29'
/** The town's attachment 5 row of a station (period or cumulative), as the commander reads it. */
async function stationRow(station: number, which: 'period' | 'cumulative', cookie = commander) {
  const res = await t.app.inject({ url: `/api/reports/attachment-5?period=${day}`, headers: { cookie } })
  expect(res.statusCode, res.body).toBe(200)
  const row = (res.json().rows as { id: string; values: Record<string, number> }[]).find(r => r.id === `station:${station}:${which}`)
  return row?.values ?? {}
}

const post = (url: string, payload: unknown, cookie = inspector) => t.app.inject({ method: 'POST', url, headers: { cookie }, payload: payload as Record<string, unknown> })

describe('enforcement records', () => {
  it('count each kind in its own column of attachment 5, under the premises\' police station, on the day they happened', async () => {
    const before = await stationRow(premises.station, 'period')
    for (const [i, kind] of enforcementKinds.entries()) {
      const res = await post('/api/enforcement', { kind, occurredOn: '2020-06-20', count: i + 1, caseNumber: `新公（刑）字〔2020〕${i}号`, premisesId: premises.id, note: '录入测试' })
      expect(res.statusCode, res.body).toBe(201)
      expect(res.json()).toMatchObject({ kind, count: i + 1, premisesId: premises.id, policeStationId: premises.station, townId: town, createdBy: 'inspector' })
    }
    const after = await stationRow(premises.station, 'period')
    for (const [i, kind] of enforcementKinds.entries()) {
      const col = enforcementColumn[kind]
      expect(after[col]! - before[col]!, kind).toBe(i + 1)
    }
    // 打处情况's subtotal is the sum of its three kinds.
    expect(after.dealtTotal! - before.dealtTotal!).toBe(6 + 7 + 8)
  })

  it('records a case at a police station without premises, and refuses one without a station or before the station existed', async () => {
    const before = await stationRow(premises.station, 'cumulative')
    const res = await post('/api/enforcement', { kind: 'criminal_case_solved', occurredOn: '2020-03-02', count: 2, policeStationId: premises.station }, commander)
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({ premisesId: null, policeStationId: premises.station, townId: town })
    expect((await stationRow(premises.station, 'cumulative')).criminalCases! - before.criminalCases!).toBe(2)
    const none = await post('/api/enforcement', { kind: 'fugitive_caught', occurredOn: '2020-03-02' })
    expect(none.statusCode).toBe(400)
    expect(none.json().reason).toBe('station-required')
    await t.db.owner`update police_station set valid_from = '2020-05-01' where id = ${premises.station}`
    try {
      const early = await post('/api/enforcement', { kind: 'fugitive_caught', occurredOn: '2020-03-02', policeStationId: premises.station })
      expect(early.statusCode).toBe(400)
      expect(early.json().reason).toBe('station-not-in-being')
    }
    finally {
      await t.db.owner`update police_station set valid_from = '1900-01-01' where id = ${premises.station}`
    }
  })

  it('follows an edit, and a voided record stays with its reason but no longer counts; nothing is deleted', async () => {
    const created = await post('/api/enforcement', { kind: 'administrative_penalty', occurredOn: '2020-06-16', count: 3, premisesId: premises.id })
    const id = created.json().id as number
    const base = await stationRow(premises.station, 'period')
    const edit = await t.app.inject({ method: 'PATCH', url: `/api/enforcement/${id}`, headers: { cookie: commander }, payload: { count: 5, caseNumber: '决定书 2020-77' } })
    expect(edit.statusCode, edit.body).toBe(200)
    expect((await stationRow(premises.station, 'period')).administrative! - base.administrative!).toBe(2)
    const noReason = await post(`/api/enforcement/${id}/void`, {})
    expect(noReason.statusCode).toBe(400)
    const voided = await post(`/api/enforcement/${id}/void`, { reason: '重复录入' })
    expect(voided.statusCode, voided.body).toBe(200)
    expect(voided.json()).toMatchObject({ voidReason: '重复录入' })
    expect((await stationRow(premises.station, 'period')).administrative! - base.administrative!).toBe(-3)
    expect((await post(`/api/enforcement/${id}/void`, { reason: '再次作废' })).statusCode).toBe(409)
    const list = (await t.app.inject({ url: `/api/enforcement?premisesId=${premises.id}&includeVoided=true`, headers: { cookie: inspector } })).json() as { id: number }[]
    expect(list.map(e => e.id)).toContain(id)
    const live = (await t.app.inject({ url: `/api/enforcement?premisesId=${premises.id}`, headers: { cookie: inspector } })).json() as { id: number }[]
    expect(live.map(e => e.id)).not.toContain(id)
    // The premises' panel of those who see only counts lists what counts.
    const shown = (await t.app.inject({ url: `/api/premises/${premises.id}/enforcement`, headers: { cookie: leader } })).json() as { id: number }[]
    expect(shown.map(e => e.id)).not.toContain(id)
    await expect(t.db.owner`delete from enforcement_event where id = ${id}`).rejects.toThrow(/never deleted/)
    const audit = await t.db.sql<{ action: string }[]>`select action from audit_log where entity = 'enforcement' and entity_id = ${String(id)} order by id`
    expect(audit.map(a => a.action)).toEqual(['enforcement.create', 'enforcement.update', 'enforcement.void'])
  })

  it('lets leaders see the counts in the tables but not the records, and refuses their writes', async () => {
    expect((await t.app.inject({ url: '/api/enforcement', headers: { cookie: leader } })).statusCode).toBe(403)
    expect((await post('/api/enforcement', { kind: 'arrest', occurredOn: '2020-06-20', premisesId: premises.id }, leader)).statusCode).toBe(403)
    const res = await t.app.inject({ url: `/api/reports/attachment-5?period=${day}`, headers: { cookie: leader } })
    expect(res.statusCode).toBe(200)
  })
})
