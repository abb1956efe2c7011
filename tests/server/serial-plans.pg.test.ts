import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Jurisdiction, wholeDistrict } from '../../server/domain/access.js'
import { type PremisesFilter, premisesCountsFromCells } from '../../server/plugins/app/premises.js'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { callsDuring } from '../helpers/statements.js'

/**
 * Statements of a few milliseconds that every map load asks (the legend's counts by town, a tile's
 * encoding) are never handed to parallel workers: on a 2-core server starting them cost more than
 * the statement, and under load ten times more (serial_plan(), server/db/functions/common.sql).
 * Judged by the plan PostgreSQL makes when parallel plans cost nothing, where it takes one for the
 * same statement without serial_plan().
 */
let t: TestApp
let town: Jurisdiction
const day = '2020-06-29'
beforeAll(async () => {
  t = await buildTestApp()
  const [row] = await t.db.owner<{ townId: number }[]>`select town_id from premises group by town_id order by count(*) desc limit 1`
  town = { kind: 'town', id: row!.townId }
})
afterAll(() => t?.close())

/** The plan of a statement as sent, with parallel plans made free. */
async function planOf(call: { query: string; parameters: unknown[] }): Promise<string> {
  return t.db.owner.begin(async (tx) => {
    for (const setting of ['parallel_setup_cost', 'parallel_tuple_cost', 'min_parallel_table_scan_size', 'min_parallel_index_scan_size']) {
      await tx.unsafe(`set local ${setting} = 0`)
    }
    const rows = await tx.unsafe(`explain ${call.query}`, call.parameters as never[])
    return rows.map(r => Object.values(r)[0]).join('\n')
  })
}

/** The one statement `fn` sends that includes `marker`. */
async function statementOf(fn: () => Promise<unknown>, marker: string) {
  const calls = (await callsDuring(t.db.sql, fn)).filter(c => c.query.includes(marker))
  expect(calls).toHaveLength(1)
  return calls[0]!
}

const withoutSerialPlan = (call: { query: string; parameters: unknown[] }) => {
  const query = call.query.replace(/\s+and serial_plan\(\)|\s+where serial_plan\(\)/, '')
  expect(query).not.toBe(call.query)
  return { ...call, query }
}

describe('statements kept off parallel workers', () => {
  const filters: [string, PremisesFilter][] = [
    ['all premises', {}],
    ['a kind', { kinds: ['group_rental'] }],
    ['a status', { statuses: ['overdue'] }],
    ['kinds with a major hazard', { kinds: ['rental', 'group_rental'], majorOnly: true }],
  ]

  it.each(filters)('the legend\'s counts of a town from the cells, for %s', async (_, filter) => {
    for (const scope of [wholeDistrict, town]) {
      const call = await statementOf(() => premisesCountsFromCells(t.db.sql, scope, { ...filter, towns: [town.id!] }, day), 'premises_cell8')
      expect(await planOf(withoutSerialPlan(call))).toMatch(/Gather/)
      expect(await planOf(call)).not.toMatch(/Gather/)
    }
  })

  it('a tile\'s encoding', async () => {
    const cookie = await signIn(t.app, 'leader')
    const call = await statementOf(async () => {
      // The district's tile of zoom 10 with a filter the stored cells do not hold: its cells grouped
      // from the premises, which workers may scan (the stored cells a tile reads, premises_cell2
      // and premises_cell8, never are: parallel_workers = 0, migrations 046, 053).
      const res = await t.app.inject({ url: `/api/tiles/premises/10/853/415.mvt?asOf=${day}&foundFrom=1900-01-01`, headers: { cookie } })
      expect(res.statusCode, res.body).toBe(200)
    }, 'st_asmvt')
    expect(await planOf(withoutSerialPlan(call))).toMatch(/Gather/)
    expect(await planOf(call)).not.toMatch(/Gather/)
  })
})
