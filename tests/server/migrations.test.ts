import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../server/db/index.js'
import { migrate, migrationFiles } from '../../server/db/migrate.js'
import { openTestDatabase, type TestDatabase } from '../helpers/db.js'
import { factory } from '../helpers/factory.js'

let db: TestDatabase
beforeAll(async () => {
  db = await openTestDatabase('migrated')
})
afterAll(() => db.close())

const district = 'st_multi(st_geomfromtext(\'POLYGON((119.9 31.8, 120.0 31.8, 120.0 31.9, 119.9 31.9, 119.9 31.8))\', 4326))'

describe('migrations', () => {
  it('have all been applied to the template and applying them again changes nothing', async () => {
    const files = await migrationFiles()
    const applied = await db.sql<{ name: string }[]>`select name from schema_migration order by name`
    expect(applied.map(r => r.name)).toEqual(files)
    expect(await migrate(db.sql)).toEqual([])
  })

  it('create the tables of the data model: the campaign, places, premises, people, hazards, key areas, users, the audit trail', async () => {
    const rows = await db.sql<{ tableName: string }[]>`
      select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`
    const tables = rows.map(r => r.tableName)
    for (const t of ['campaign', 'campaign_phase', 'campaign_target', 'admin_area', 'police_station', 'poi', 'department',
      'hazard_category', 'hazard_item', 'premises', 'resident', 'resident_flag', 'hazard', 'hazard_event', 'key_area',
      'key_area_version', 'enforcement_event', 'app_user', 'audit_log']) {
      expect(tables).toContain(t)
    }
  })

  it('index the geometries that spatial queries filter on', async () => {
    const rows = await db.sql<{ tablename: string }[]>`
      select tablename from pg_indexes where schemaname = 'public' and indexdef ilike '%using gist%'`
    const indexed = rows.map(r => r.tablename)
    for (const t of ['admin_area', 'police_station', 'poi', 'premises', 'key_area', 'enforcement_event']) expect(indexed).toContain(t)
  })

  it('hold the campaign of the notice with its phases and targets', async () => {
    const [c] = await db.sql`select id, starts_on, ends_on, report_days::int[] as report_days from campaign`
    expect(c).toMatchObject({ startsOn: '2019-12-15', endsOn: '2020-12-31', reportDays: [14, 29] })
    const phases = await db.sql`select code, starts_on, ends_on from campaign_phase order by seq`
    expect(phases.map(p => [p.code, p.startsOn, p.endsOn])).toEqual([
      ['mobilisation', '2019-12-15', '2019-12-31'],
      ['remediation', '2020-01-01', '2020-11-30'],
      ['consolidation', '2020-12-01', '2020-12-31'],
    ])
    const targets = await db.sql`select measure, target::float8 as target from campaign_target order by measure`
    expect(Object.fromEntries(targets.map(t => [t.measure, t.target]))).toEqual({
      group_rentals_registered: 1, residents_registered: 0.95, major_hazards_rectified: 1, hazards_rectified: null,
    })
  })

  it('hold the 29 dictionary items of attachment 2 plus "other", worded as in the notice', async () => {
    const items = await db.sql<{ code: string; categoryCode: string; nameZh: string; nameEn: string }[]>`
      select code, category_code, name_zh, name_en from hazard_item order by code`
    const per = (c: string) => items.filter(i => i.categoryCode === c).length
    expect([per('public_security'), per('fire'), per('housing'), per('other')]).toEqual([10, 13, 6, 1])
    const byCode = Object.fromEntries(items.map(i => [i.code, i.nameZh]))
    expect(byCode['PS-01']).toBe('出租人未签订治安责任保证书')
    expect(byCode['FIRE-06']).toBe('屋内停放、充电电动车')
    expect(byCode['FIRE-13']).toBe('存在其他消防违法行为和消防安全风险隐患，具体描述')
    expect(byCode['HOUSING-01']).toBe('出租住宅房屋应当以一间原始设计为居住空间的房间为最小出租单位，人均建筑面积不得低于当地标准')
    for (const i of items) expect(i.nameEn.length).toBeGreaterThan(3)
    const depts = await db.sql`select code, department_code from hazard_category order by seq`
    expect(depts.map(d => d.departmentCode)).toEqual(['police', 'fire', 'housing', 'police'])
  })
})

describe('constraints keep bad data out', () => {
  // Each case runs in a transaction that is rolled back, so the cases do not disturb each other.
  async function refused(statements: (tx: Database['sql']) => Promise<unknown>): Promise<string> {
    try {
      await db.sql.begin(async (tx) => {
        await statements(tx as unknown as Database['sql'])
        throw new Error('__accepted__')
      })
    }
    catch (e) {
      const msg = (e as Error).message
      if (msg === '__accepted__') return 'accepted'
      return msg
    }
    return 'accepted'
  }

  const town = (tx: Database['sql']) => tx`
    with d as (insert into admin_area (level, code, name_zh, name_en, geom) values ('district', 'D', '区', 'D', ${db.sql.unsafe(district)}) returning id)
    insert into admin_area (level, code, parent_id, name_zh, name_en, geom) select 'town', 'T', id, '镇', 'T', ${db.sql.unsafe(district)} from d returning id`

  it('accept a well-formed town as the baseline', async () => {
    expect(await refused(tx => town(tx))).toBe('accepted')
  })

  it('refuse an invalid (self-intersecting) area polygon', async () => {
    const msg = await refused(tx => tx`insert into admin_area (level, code, name_zh, name_en, geom)
      values ('district', 'X', 'x', 'x', st_multi(st_geomfromtext('POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))', 4326)))`)
    expect(msg).toMatch(/check constraint/)
  })

  it('refuse geometry in another SRID', async () => {
    const msg = await refused(tx => tx`insert into admin_area (level, code, name_zh, name_en, geom)
      values ('district', 'X', 'x', 'x', st_multi(st_geomfromtext('POLYGON((0 0, 1 0, 1 1, 0 0))', 3857)))`)
    expect(msg).toMatch(/SRID/i)
  })

  it('refuse premises outside every town, with the location in the message', async () => {
    const msg = await refused(async (tx) => {
      await town(tx)
      await tx`insert into premises (kind, address, geom, found_on) values ('rental', 'a', st_setsrid(st_makepoint(100, 30), 4326), '2020-01-01')`
    })
    expect(msg).toMatch(/outside every town or street/)
  })

  it('refuse negative counts, unknown kinds and statuses, and dates out of order', async () => {
    const premises = (tx: Database['sql'], cols: string) => tx.unsafe(`insert into premises (kind, address, geom, found_on${cols.split('|')[0]})
      values ('rental', 'a', st_setsrid(st_makepoint(119.95, 31.85), 4326), '2020-01-01'${cols.split('|')[1]})`)
    expect(await refused(async (tx) => { await town(tx); await premises(tx, ', rooms_let|, -1') })).toMatch(/rooms_let/)
    expect(await refused(async (tx) => { await town(tx); await tx`insert into premises (kind, address, geom, found_on) values ('castle', 'a', st_setsrid(st_makepoint(119.95, 31.85), 4326), '2020-01-01')` })).toMatch(/kind/)
    expect(await refused(async (tx) => { await town(tx); await premises(tx, ', registered_on|, \'2019-12-01\'') })).toMatch(/check constraint/)
    expect(await refused(async (tx) => { await town(tx); await premises(tx, ', deregistered_on|, \'2020-02-01\'') })).toMatch(/check constraint/)
  })

  it('refuse hazards whose status and times disagree, and "other" items without a description', async () => {
    const hazard = async (tx: Database['sql'], item: string, text: string | null, status: string, times: string) => {
      await town(tx)
      const [p] = await tx`insert into premises (kind, address, geom, found_on) values ('group_rental', 'a', st_setsrid(st_makepoint(119.95, 31.85), 4326), '2020-01-01') returning id`
      await tx.unsafe(`insert into hazard (premises_id, item_code, other_text, severity, status, department_code, found_at ${times.split('|')[0]})
        values (${p!.id}, '${item}', ${text === null ? 'null' : `'${text}'`}, 'general', '${status}', 'fire', '2020-01-02 10:00+08' ${times.split('|')[1]})`)
    }
    expect(await refused(tx => hazard(tx, 'FIRE-06', null, 'found', '|'))).toBe('accepted')
    expect(await refused(tx => hazard(tx, 'FIRE-06', null, 'rectified', '|'))).toMatch(/check constraint/)
    expect(await refused(tx => hazard(tx, 'FIRE-06', null, 'rectified', ', rectified_at|, \'2020-01-01 10:00+08\''))).toMatch(/check constraint/)
    expect(await refused(tx => hazard(tx, 'FIRE-06', null, 'closed', '|'))).toMatch(/status/)
    expect(await refused(tx => hazard(tx, 'FIRE-13', null, 'found', '|'))).toMatch(/needs a description/)
    expect(await refused(tx => hazard(tx, 'FIRE-06', 'x', 'found', '|'))).toMatch(/takes no free text/)
    expect(await refused(tx => hazard(tx, 'FIRE-99', null, 'found', '|'))).toMatch(/foreign key|hazard_item/)
  })

  it('record a hazard\'s steps in its history and keep the premises summary', async () => {
    await db.sql.begin(async (tx) => {
      const t = tx as unknown as Database['sql']
      await town(t)
      const [p] = await t`insert into premises (kind, address, geom, found_on) values ('group_rental', 'a', st_setsrid(st_makepoint(119.95, 31.85), 4326), '2020-01-01') returning id`
      const [h] = await t`insert into hazard (premises_id, item_code, severity, status, department_code, found_at, deadline)
        values (${p!.id}, 'FIRE-06', 'major', 'found', 'fire', '2020-01-02 10:00+08', '2020-01-10') returning id`
      let [s] = await t`select hazard_count, open_count, open_major_count, open_min_deadline from premises where id = ${p!.id}`
      expect(s).toEqual({ hazardCount: 1, openCount: 1, openMajorCount: 1, openMinDeadline: '2020-01-10' })
      await t`update hazard set status = 'referred', referred_at = '2020-01-03 10:00+08' where id = ${h!.id}`
      await t`update hazard set status = 'rectified', rectified_at = '2020-01-05 10:00+08' where id = ${h!.id}`
      const events = await t`select status from hazard_event where hazard_id = ${h!.id} order by at`
      expect(events.map(e => e.status)).toEqual(['found', 'referred', 'rectified'])
      ;[s] = await t`select hazard_count, open_count, open_major_count, open_min_deadline from premises where id = ${p!.id}`
      expect(s).toEqual({ hazardCount: 1, openCount: 0, openMajorCount: 0, openMinDeadline: null })
      throw new Error('__rollback__')
    }).catch((e: Error) => { if (e.message !== '__rollback__') throw e })
  })

  // The app's role may not even try (tests/server/roles.test.ts); the trigger stops the owner too.
  it('keep the audit log append-only, even for the owner of the table', async () => {
    await db.owner`insert into audit_log (action, entity) values ('test', 'x')`
    await expect(db.owner`update audit_log set action = 'changed'`).rejects.toThrow(/append-only/)
    await expect(db.owner`delete from audit_log`).rejects.toThrow(/append-only/)
  })
})

describe('premises', () => {
  it('get their town, community, grid cell and police station from their point', async () => {
    // A town of two communities of two grid cells each, two police stations splitting it west and east.
    const f = factory(db)
    const town = await f.town({ communities: 2 })
    const west = await f.policeStation({ town, half: 'west' })
    const east = await f.policeStation({ town, half: 'east' })
    for (const [c, community] of town.communities.entries()) {
      for (const [g, grid] of community.grids.entries()) {
        const [w, s, e, n] = community.box
        const at: [number, number] = [w + (e - w) * 0.3, s + (n - s) * (g === 0 ? 0.25 : 0.75)]
        const [p] = await db.sql<{ townId: number; communityId: number; gridId: number; policeStationId: number }[]>`
          insert into premises (kind, address, geom, found_on) values ('rental', 'a', st_setsrid(st_makepoint(${at[0]}, ${at[1]}), 4326), '2020-01-01')
          returning town_id, community_id, grid_id, police_station_id`
        expect(p, `community ${c + 1}, grid cell ${g + 1}`).toEqual({ townId: town.id, communityId: community.id, gridId: grid, policeStationId: (c === 0 ? west : east).id })
      }
    }
  })
})
