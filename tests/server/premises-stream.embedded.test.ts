import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { wholeDistrict } from '../../server/domain/access.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * GET /api/premises on the embedded database: one connection serves every request there, so the
 * collection is built whole (a slow reader of a stream would hold that connection), as before.
 */
let t: TestApp
let cookie = ''
/** The day statuses are judged on, given to the route and the repository alike. */
const day = '2020-06-29'

beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'leader')
})
afterAll(() => t.close())

describe('the premises collection on the embedded database', () => {
  it('answers the whole text, its length known, the same collection the repository builds', async () => {
    expect(t.db.backend).toBe('embedded')
    const res = await t.app.inject({ url: `/api/premises?limit=250&asOf=${day}`, headers: { cookie } })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-length']).toBe(String(res.rawPayload.length))
    const whole = JSON.parse(await t.app.premises.pointsJson(wholeDistrict, {}, day, 250))
    expect(res.json()).toEqual(whole)
    expect(whole.truncated).toBe(true)
    expect(await t.app.premises.pointsAnswer(wholeDistrict, {}, day, 250)).toBeTypeOf('string')
  })
})
