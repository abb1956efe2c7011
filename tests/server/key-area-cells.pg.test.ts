import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blockTotals, cellTotals } from '../helpers/key-area-cells.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'

/**
 * The key-area cells' running totals under two writers at once (real PostgreSQL: the embedded
 * database serves one connection at a time). Each writer's trigger reads a cell's totals, adds its
 * change and writes them back; a second writer of the same cell must wait for the first to commit
 * and add to what it committed, or one change is lost from the preview and attachment 4 for good.
 * The refresh queues on a lock per block of cells for that (key-area-cells.sql); the data version's
 * counters, written earlier in the same statement, make writers queue too today, but the totals
 * must not depend on another feature's locks.
 */

let t: TestApp

beforeAll(async () => {
  t = await buildTestApp()
}, 120_000)
afterAll(() => t?.close())

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

describe('the key-area cells written by two transactions at once', () => {
  // Two registered premises of one town and station: in one cell, or in two cells of one block of
  // 4 x 4 (whose totals are summed from its cells' as they are read).
  it.each([
    ['one cell', true],
    ['two cells of one block', false],
  ] as const)('keep both changes of two premises in %s, the second writer adding to what the first committed', async (_, sameCell) => {
    const sql = t.db.sql
    const [pair] = await sql<{ a: number; b: number }[]>`
      select min(s.premises_id)::int as a, max(s.premises_id)::int as b
      from premises_cell_day_source s join premises p on p.id = s.premises_id
      where p.registered_on is not null and p.deregistered_on is null
        and not exists (select 1 from premises_cell_day_source o where o.premises_id = s.premises_id and (o.cx, o.cy) <> (s.cx, s.cy))
      group by s.cx / 4, s.cy / 4, s.town_id, s.police_station_id, case when ${sameCell} then s.cx::bigint * 1048576 + s.cy end
      having count(*) >= 2 and (${sameCell} or count(distinct (s.cx, s.cy)) >= 2)
      order by count(*) desc limit 1`
    expect(pair, 'two premises').toBeDefined()
    const cells = await sql<{ cx: number; cy: number }[]>`select distinct cx, cy from premises_cell_day_source where premises_id in (${pair!.a}, ${pair!.b})`
    expect(cells.length).toBe(sameCell ? 1 : 2)
    const [{ day }] = await sql<[{ day: string }]>`select (starts_on + (ends_on - starts_on) / 2)::text as day from campaign order by starts_on desc limit 1`

    let release!: () => void
    const held = new Promise<void>(r => (release = r))
    let wrote!: () => void
    const firstWrote = new Promise<void>(r => (wrote = r))
    const first = sql.begin(async (tx) => {
      await tx`update premises set deregistered_on = greatest(registered_on, ${day}::date) where id = ${pair!.a}`
      wrote()
      await held
    })
    await firstWrote
    // A day later: the district's and towns' counters of the day (another trigger's rows) do not make
    // the second writer wait; only the cells' totals from the first writer's day on are shared.
    const second = sql.begin(async (tx) => {
      await tx`update premises set deregistered_on = greatest(registered_on, ${day}::date + 1) where id = ${pair!.b}`
    })
    // The second writer is waiting (on the block's lock, or without it on the first one's rows)
    // before the first commits.
    let waiting = 0
    for (let waited = 0; waiting === 0 && waited < 15_000; waited += 50) {
      await sleep(50)
      waiting = (await sql<{ n: number }[]>`select count(*)::int as n from pg_locks where not granted`)[0]!.n
    }
    expect(waiting).toBeGreaterThan(0)
    release()
    await first
    await second

    const totals = () => cellTotals(sql)
    const blocks = () => blockTotals(sql)
    const events = () => sql`select * from premises_cell_event where cardinality(days) > 0 order by cx, cy, town_id, police_station_id`
    const kept = { totals: [...await totals()], blocks: [...await blocks()], events: [...await events()] }
    await sql`select refresh_all_premises_cell_days()`
    const rebuilt = { totals: [...await totals()], blocks: [...await blocks()], events: [...await events()] }
    expect(kept.totals.length).toBeGreaterThan(0)
    expect(kept).toEqual(rebuilt)
  })
})
