import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays, localDay, today } from '../../server/domain/calendar.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * A hazard's "found on" day (issue 17 §3): a paper ledger's older hazards are entered with the day
 * they were found, and their deadlines are checked against that day, not against today.
 */
let t: TestApp
let inspector: string
let premises = { id: 0, foundOn: '' }

beforeAll(async () => {
  t = await buildTestApp()
  inspector = await signIn(t.app, 'inspector')
  const [p] = await t.db.sql<{ id: number; foundOn: string }[]>`
    select p.id, p.found_on::text as found_on from premises p
    where p.town_id = (select jurisdiction_town_id from app_user where username = 'inspector') order by p.found_on, p.id limit 1`
  premises = p!
})
afterAll(() => t.close())

const record = (body: Record<string, unknown>) => t.app.inject({
  method: 'POST', url: `/api/premises/${premises.id}/hazards`, headers: { cookie: inspector },
  payload: { itemCode: 'FIRE-07', severity: 'general', ...body },
})

describe('a hazard found on an earlier day', () => {
  it('is recorded on that day with a deadline after it that is already past', async () => {
    const foundOn = addDays(premises.foundOn, 3)
    const deadline = addDays(foundOn, 10)
    expect(deadline < today()).toBe(true)
    const res = await record({ foundOn, deadline })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().deadline).toBe(deadline)
    const [h] = await t.db.sql<{ foundAt: Date }[]>`select found_at from hazard where id = ${res.json().id}`
    expect(localDay(h!.foundAt)).toBe(foundOn)
  })

  it('refuses a deadline before the day it was found', async () => {
    const foundOn = addDays(premises.foundOn, 5)
    const res = await record({ foundOn, deadline: addDays(foundOn, -1) })
    expect(res.statusCode).toBe(400)
    expect(res.json().messageZh).toContain('不能早于发现日期')
  })

  it('refuses a past deadline without a found-on day, as before (the hazard is found now)', async () => {
    const res = await record({ deadline: addDays(premises.foundOn, 10) })
    expect(res.statusCode).toBe(400)
  })

  it('refuses a found-on day after today, before the premises were found, or given with a found-at time', async () => {
    const future = await record({ foundOn: addDays(today(), 1) })
    expect(future.statusCode).toBe(400)
    expect(future.json().reason).toBe('found-on-future')
    const early = await record({ foundOn: addDays(premises.foundOn, -1) })
    expect(early.statusCode).toBe(400)
    expect(early.json().reason).toBe('found-on-before-premises')
    const both = await record({ foundOn: premises.foundOn, foundAt: new Date().toISOString() })
    expect(both.statusCode).toBe(400)
    const fake = await record({ foundOn: '2020-02-30' })
    expect(fake.statusCode).toBe(400)
  })

  it('takes today as now', async () => {
    const res = await record({ foundOn: today() })
    expect(res.statusCode, res.body).toBe(201)
    const [h] = await t.db.sql<{ foundAt: Date }[]>`select found_at from hazard where id = ${res.json().id}`
    expect(Math.abs(h!.foundAt.getTime() - Date.now())).toBeLessThan(5 * 60_000)
  })
})
