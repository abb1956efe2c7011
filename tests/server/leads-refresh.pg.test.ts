import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Tx } from '../../server/db/index.js'
import { leadsRepository } from '../../server/plugins/app/leads.js'
import { seedDemoLeads } from '../../server/seed/readings.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'

/**
 * PostgreSQL's side of a refresh that writes each lead once (the rest in leads-refresh.test.ts):
 * the rows it updates, counted by the server for the refresh's own transaction, and the vacuum it
 * leaves to autovacuum when it runs as the app's role, which owns no table.
 */

let t: TestApp

beforeAll(async () => {
  t = await buildTestApp()
  await seedDemoLeads(t.db.sql, { seed: 42 })
}, 120_000)
afterAll(() => t?.close())

/**
 * Rows of the leads and the accounts' statistics that a refresh in one transaction updated, as the
 * server counts them: the backend's counts not yet reported include earlier transactions' (they are
 * reported at most once a second), so the refresh's are the difference across it.
 */
async function updatedBy(tx: Tx, run: () => Promise<unknown>) {
  const counts = async () => Object.fromEntries((await tx<{ relname: string; n: string }[]>`
    select relname, n_tup_upd as n from pg_stat_xact_user_tables where relname in ('lead', 'meter_stat')`).map(r => [r.relname, Number(r.n)]))
  const before = await counts()
  await run()
  const after = await counts()
  return { lead: after.lead! - before.lead!, meterStat: after.meter_stat! - before.meter_stat! }
}

describe('a refresh of the leads on PostgreSQL', () => {
  it('updates exactly the leads whose values changed, and no row when a second refresh finds nothing changed', async () => {
    const leads = leadsRepository(t.db.owner)
    const blanked = await t.db.owner<{ id: number }[]>`
      update lead set score = 0, reasons = '[]' where id in (select id from lead where candidate and score > 0 order by id limit 7) returning id`
    expect(blanked.length).toBe(7)
    await t.db.owner.begin(async (tx) => {
      expect(await updatedBy(tx, () => leads.refresh(tx))).toEqual({ lead: 7, meterStat: 0 })
    })
    await t.db.owner.begin(async (tx) => {
      let scored = 0
      expect(await updatedBy(tx, async () => { scored = (await leads.refresh(tx)).scored })).toEqual({ lead: 0, meterStat: 0 })
      expect(scored).toBeGreaterThan(100)
    })
  })

  it('leaves the vacuum to autovacuum as the app\'s role, which may not vacuum the leads, and autovacuum comes early on them', async () => {
    const vacuums = async () => Number((await t.db.owner<{ n: string }[]>`select vacuum_count as n from pg_stat_user_tables where relname = 'lead'`)[0]!.n)
    const before = await vacuums()
    await t.db.owner`update lead set score = 0 where id in (select id from lead where candidate order by id limit 3)`
    const summary = await t.app.leads.refresh()
    expect(summary.scored).toBeGreaterThan(100)
    expect(await vacuums()).toBe(before)
    const [options] = await t.db.owner<{ options: string[] }[]>`select reloptions as options from pg_class where oid = 'lead'::regclass`
    expect(options!.options).toEqual(expect.arrayContaining(['autovacuum_vacuum_scale_factor=0.05', 'autovacuum_vacuum_cost_delay=0']))
  })
})
