import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../helpers/eventually.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'

/**
 * PostgreSQL's side of the data versions (the rest in versions.test.ts): the one listening
 * connection of the app, cut and taken up again.
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t?.close())

const groupRental = async () => (await t.db.owner<{ id: number }[]>`select id from premises where kind = 'group_rental' order by id limit 1`)[0]!

describe('the data versions on PostgreSQL', () => {
  it('are read again after the listening connection is cut, and announced again once it listens anew', async () => {
    const listener = async () => (await t.db.owner<{ pid: number }[]>`
      select pid from pg_stat_activity where datname = current_database() and application_name = 'group-rental-dashboard listener'`).map(r => r.pid)
    // The app listens from the first version it reads, in the background: wait for its connection.
    await t.app.versions.current('data')
    await eventually(async () => (await listener()).length > 0)
    const [pid] = await listener()
    expect(pid).toBeDefined()
    await t.db.owner`select pg_terminate_backend(${pid!})`
    // Until it listens again every version is read; then a write is announced without asking.
    await eventually(async () => (await listener()).some(p => p !== pid))
    await eventually(async () => {
      const reads = t.app.versions.reads()
      await t.app.versions.current('data')
      return t.app.versions.reads() === reads
    })
    const [data, reads] = [await t.app.versions.current('data'), t.app.versions.reads()]
    // A day earlier: a change the map's filters read (a write the map cannot tell from none is no new data version).
    await t.db.owner`update premises set found_on = found_on - 1 where id = ${(await groupRental()).id}`
    await eventually(async () => await t.app.versions.current('data') > data)
    expect(t.app.versions.reads()).toBe(reads)
  })
})
