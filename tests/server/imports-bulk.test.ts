import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PendingQuery, Row } from 'postgres'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'

/**
 * The set-wise path of an import commit must leave what the row triggers keep exactly as the row
 * path would. A threshold of 3 rows with batches of 2: the first batch goes through the row
 * triggers, the rest through the bulk switch.
 */

let t: TestApp
let bureau: string
let at: { lon: number; lat: number }

beforeAll(async () => {
  t = await buildTestApp({ imports: { bulkRows: 3, batchRows: 2 } })
  bureau = await signIn(t.app, 'bureau')
  const [pt] = await t.db.sql<{ lon: number; lat: number }[]>`
    select st_x(p) as lon, st_y(p) as lat from (select st_pointonsurface(st_buffer(geom, -0.004)) as p
      from admin_area where level = 'town' and valid_to is null order by id limit 1) s`
  at = pt!
})
afterAll(() => t.close())

/** Uploads rows as a CSV and commits them with the suggested mapping, waiting for the outcome. */
async function commit(kind: string, rows: string[][]): Promise<{ status: string; message: string | null }> {
  const up = await t.app.inject({ method: 'POST', url: `/api/imports?kind=${kind}&fileName=${kind}.csv`, headers: { cookie: bureau, 'content-type': 'text/csv' },
    payload: `${rows.map(r => r.join(',')).join('\r\n')}\r\n` })
  expect(up.statusCode, up.body).toBe(201)
  const job = up.json() as { id: string; suggestedMapping: Record<string, string> }
  const res = await t.app.inject({ method: 'POST', url: `/api/imports/${job.id}/commit`, headers: { cookie: bureau }, payload: { mapping: job.suggestedMapping, crs: 'wgs84' } })
  expect(res.statusCode, res.body).toBe(202)
  for (let i = 0; i < 600; i++) {
    await new Promise(r => setTimeout(r, 50))
    const state = (await t.app.inject({ url: `/api/imports/${job.id}`, headers: { cookie: bureau } })).json() as { status: string; message: string | null }
    if (state.status !== 'committing') return state
  }
  throw new Error('the import did not settle')
}

/** Tile cells that differ from a rebuild from the premises (counted, not summed: sums of floats drift). */
async function staleCells(): Promise<number> {
  const cells = (sql: typeof t.db.sql) => sql`
    select cx, cy, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline, n from premises_cell where n > 0`
  const [row] = await t.db.sql<{ n: number }[]>`
    with rebuilt as (
      select premises_cell_x(st_x(geom_m)) as cx, premises_cell_y(st_y(geom_m)) as cy, town_id, coalesce(police_station_id, 0) as police_station_id, kind,
             hazard_count > 0 as has_hazard, open_count > 0 as has_open, open_major_count > 0 as has_open_major,
             coalesce(open_min_deadline, 'infinity') as open_min_deadline, count(*)::int as n
      from premises group by 1, 2, 3, 4, 5, 6, 7, 8, 9
    )
    select count(*)::int as n from ((${cells(t.db.sql)} except select * from rebuilt) union all (select * from rebuilt except ${cells(t.db.sql)})) d`
  return row!.n
}

/**
 * Key-area cells' running totals (migrations 036, 037) that differ from a rebuild from every
 * premises' rows, a day whose totals equal the day before's being no change.
 */
async function staleKeyAreaCells(): Promise<number> {
  const measures = ['houses', 'rental_houses', 'group_rentals', 'group_rentals_with_hazards', 'residents_registered',
    'hz_public_security', 'hz_fire', 'hz_housing', 'hz_other'].join(', ')
  const changes = (from: PendingQuery<Row[]>) => t.db.sql`
    select cx, cy, town_id, police_station_id, day, v from (
      select cx, cy, town_id, police_station_id, day, v,
             lag(v, 1, '(0,0,0,0,0,0,0,0,0)') over (partition by cx, cy, town_id, police_station_id order by day) as before
      from (select cx, cy, town_id, police_station_id, day, (${t.db.sql.unsafe(measures)})::text as v from ${from} c) c
    ) x where v <> before`
  const rebuilt = t.db.sql`(
    select cx, cy, town_id, police_station_id, day, ${t.db.sql.unsafe(measures.split(', ').map(m => `sum(${m}) over w as ${m}`).join(', '))}
    from (
      select s.cx, s.cy, s.town_id, s.police_station_id, d.day, ${t.db.sql.unsafe(measures.split(', ').map(m => `sum(d.${m}) as ${m}`).join(', '))}
      from premises_cell_day_rows(array(select id from premises)) s cross join unnest(s.deltas) d group by 1, 2, 3, 4, 5
    ) x window w as (partition by cx, cy, town_id, police_station_id order by day))`
  const [row] = await t.db.sql<{ n: number }[]>`
    with kept as (${changes(t.db.sql`premises_cell_day`)}), fresh as (${changes(rebuilt)})
    select count(*)::int as n from ((select * from kept except select * from fresh) union all (select * from fresh except select * from kept)) x`
  return row!.n
}

describe('a commit above the bulk threshold', () => {
  it('of hazards leaves the tile cells and the key-area cells as the row triggers would (the premises\' hazard status moves with it)', async () => {
    const premises = await commit('premises', [['台账编号', '类型', '地址', '经度', '纬度', '出租间数', '居住人数', '发现日期'],
      ...[0, 1].map(i => [`BULK-${i}`, '群租房', `批量测试路${i}号`, (at.lon + i * 0.001).toFixed(6), at.lat.toFixed(6), '12', '14', '2020-01-05'])])
    expect(premises.status, premises.message ?? '').toBe('committed')
    expect(await staleCells()).toBe(0)
    expect(await staleKeyAreaCells()).toBe(0)
    // Two hazards on the first premises through the row triggers, four on the second set-wise.
    const hazards = await commit('hazards', [['房屋台账编号', '隐患字典项', '其他说明', '隐患等级', '发现日期', '交办日期', '整改日期', '整改期限'],
      ...['FIRE-01', 'FIRE-02', 'FIRE-03', 'FIRE-04', 'FIRE-05', 'FIRE-06'].map((code, i) => [`BULK-${i < 2 ? 0 : 1}`, code, '', '重大', '2020-02-03', '', '', '2099-03-01'])])
    expect(hazards.status, hazards.message ?? '').toBe('committed')
    const [second] = await t.db.sql<{ openMajorCount: number }[]>`select open_major_count from premises where external_ref = 'BULK-1'`
    expect(second!.openMajorCount).toBe(4)
    expect(await staleCells()).toBe(0)
    expect(await staleKeyAreaCells()).toBe(0)
  })
})
