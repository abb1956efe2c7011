import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { wholeDistrict } from '../../server/domain/access.js'
import type { Sql } from '../../server/db/index.js'
import { dataVersions } from '../../server/plugins/app/versions.js'
import { eventually } from '../helpers/eventually.js'
import { statementsDuring as statementsOn } from '../helpers/statements.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { factory } from '../helpers/factory.js'
import { tileOf } from '../helpers/tiles.js'

/**
 * The data versions the caches key on live in memory (server/plugins/app/versions.ts): a cache hit
 * costs no query, and the database announces every new version (LISTEN/NOTIFY on PostgreSQL, the
 * embedded session's own notifications in-process).
 */
let t: TestApp
let cookie: string
let asOf: string
beforeAll(async () => {
  t = await buildTestApp()
  cookie = await signIn(t.app, 'leader')
  asOf = (await t.app.campaign.current()).endsOn
})
afterAll(() => t?.close())

const statementsDuring = (fn: () => Promise<unknown>) => statementsOn(t.db.sql, fn)

const groupRental = async () => (await t.db.owner<{ id: number }[]>`select id from premises where kind = 'group_rental' order by id limit 1`)[0]!

describe('the data versions', () => {
  it('let the cached campaign, summary, trend, hazard breakdown, legend count, box of points, clusters, rings and tile answer without a single query', async () => {
    const campaign = await t.app.campaign.current()
    const [z, x, y] = tileOf(119.97, 31.85, 12)
    const tile = { z, x, y, scope: wholeDistrict, filter: {}, on: asOf }
    const all = async () => {
      await t.app.campaign.current()
      await t.app.stats.summary(campaign, asOf, wholeDistrict)
      await t.app.stats.series(campaign, asOf, wholeDistrict)
      await t.app.stats.hazards(asOf, wholeDistrict)
      await t.app.premises.counts(wholeDistrict, { kinds: ['group_rental'] }, asOf)
      await t.app.analysis.clusters(wholeDistrict, {}, asOf, 'group-rentals', 150, 8)
      await t.app.analysis.rings(wholeDistrict, {}, asOf, ['campus'], [300, 500])
      await t.app.premises.pointsJson(wholeDistrict, { bbox: [119.95, 31.82, 120.0, 31.86] }, asOf, 1000)
      const version = await t.app.versions.current('data')
      await t.app.tiles.tile(tile, t.app.tiles.cacheKey(tile, version), version)
    }
    const first = await statementsDuring(all)
    expect(first.length).toBeGreaterThan(0)
    expect(await statementsDuring(all)).toEqual([])
  })

  it('learn of a write through another connection from its announcement, not by asking', async () => {
    const [figures, data, reads] = [await t.app.versions.current('figures'), await t.app.versions.current('data'), t.app.versions.reads()]
    // A day earlier: a change the map's filters read (a write the map cannot tell from none is no new data version).
    await t.db.owner`update premises set found_on = found_on - 1 where id = ${(await groupRental()).id}`
    await eventually(async () => await t.app.versions.current('figures') > figures && await t.app.versions.current('data') > data)
    expect(t.app.versions.reads()).toBe(reads)
  })

  it('put a resident registered through another connection in the next summary and legend count once announced', async () => {
    const summary = async () => (await t.app.inject({ url: `/api/stats/summary?asOf=${asOf}`, headers: { cookie } })).json() as { district: { counts: { residentsCounted: number } } }
    const before = (await summary()).district.counts.residentsCounted
    const figures = await t.app.versions.current('figures')
    await factory({ sql: t.db.owner }).resident({ premises: await groupRental(), movedInOn: '2020-03-01', registeredOn: '2020-03-02' })
    await eventually(async () => await t.app.versions.current('figures') > figures)
    expect((await summary()).district.counts.residentsCounted).toBe(before + 1)
  })

  it('are forgotten by the app\'s own write, so that its writer\'s next request sees it', async () => {
    const commander = await signIn(t.app, 'commander')
    const [at] = await t.db.sql<{ lon: number; lat: number }[]>`
      select st_x(p.geom) as lon, st_y(p.geom) as lat from premises p
      where p.town_id = (select jurisdiction_town_id from app_user where username = 'commander') order by p.id limit 1`
    await t.app.versions.current('data')
    const reads = t.app.versions.reads()
    const res = await t.app.inject({
      method: 'POST', url: '/api/premises', headers: { cookie: commander },
      payload: { kind: 'homestay', address: '版本测试路1号', location: { lon: at!.lon + 0.0001, lat: at!.lat, crs: 'wgs84' }, foundOn: '2020-05-01' },
    })
    expect(res.statusCode, res.body).toBe(201)
    await t.app.versions.current('data')
    expect(t.app.versions.reads()).toBe(reads + 1)
  })
})

describe('a read of the versions begun before a commit', () => {
  it('is not joined by a request after the commit, nor kept as what is known', async () => {
    // The app's own connection with its answers held while the gate is shut: the read's query runs
    // (and sees the counters) before the write commits, its answer arrives after.
    const sql = t.app.db.sql
    let gate = Promise.resolve()
    let open = () => {}
    let answered = 0
    const late = (async (strings: TemplateStringsArray, ...values: never[]) => {
      const rows = await sql(strings, ...values)
      answered++
      await gate
      return rows
    }) as unknown as Sql
    const versions = dataVersions({ ...t.app.db, sql: late })
    const version = async () => Number((await sql<{ version: string }[]>`select version from data_version`)[0]!.version)
    try {
      await versions.current('data')
      versions.forget()
      gate = new Promise((resolve) => { open = resolve })
      const before = await version()
      const slow = versions.current('data')
      while (answered < 2) await new Promise(resolve => setTimeout(resolve, 5))
      await t.db.owner`update premises set found_on = found_on + 1 where id = ${(await groupRental()).id}`
      const after = await version()
      expect(after).toBeGreaterThan(before)
      // What the writer's own process does after its commit.
      versions.forget()
      const fresh = versions.current('data')
      open()
      expect(await slow).toBe(before)
      expect(await fresh).toBe(after)
      expect(await versions.current('data')).toBe(after)
    }
    finally {
      open()
      versions.close()
    }
  })
})

describe('premises tiles over the wire', () => {
  it('are gzipped for a client that takes gzip, and the same tile once unzipped', async () => {
    const [z, x, y] = tileOf(119.97, 31.85, 14)
    const url = `/api/tiles/premises/${z}/${x}/${y}.mvt`
    const plain = await t.app.inject({ url, headers: { cookie } })
    const zipped = await t.app.inject({ url, headers: { cookie, 'accept-encoding': 'gzip, deflate, br' } })
    const refused = await t.app.inject({ url, headers: { cookie, 'accept-encoding': 'gzip;q=0, identity' } })
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(refused.headers['content-encoding']).toBeUndefined()
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(zipped.headers.vary).toContain('Accept-Encoding')
    expect(plain.rawPayload.length).toBeGreaterThan(100)
    expect(zipped.rawPayload.length).toBeLessThan(plain.rawPayload.length)
    expect(gunzipSync(zipped.rawPayload).equals(plain.rawPayload)).toBe(true)
    expect(refused.rawPayload.equals(plain.rawPayload)).toBe(true)
  })
})
