import { describe, expect, it } from 'vitest'
import { startOfDay } from '../../server/domain/calendar.js'
import { buildTestApp } from '../helpers/app.js'

/**
 * The server escalates supervision items by itself, on a timer, for the district day of its clock
 * (here one the test moves past midnight in the district while it is still the day before in UTC).
 */
describe('the server\'s schedule', () => {
  it('escalates by itself, every few moments, on the day of its clock', async () => {
    let now = startOfDay('2020-08-01').getTime()
    const scheduled = await buildTestApp({ supervision: { everyMs: 100, clock: () => now } })
    try {
      const sql = scheduled.db.sql
      const [row] = await sql<{ id: number }[]>`
        insert into supervision_item (campaign_id, kind, premises_id, town_id, police_station_id, unit_kind, unit_town_id, responsible_person, reason, deadline, listed_on, listed_by)
        select (select id from campaign limit 1), 'premises', p.id, p.town_id, p.police_station_id, 'town', p.town_id, '镇长', '定时测试', '2020-08-01', '2020-07-01', (select id from app_user where username = 'commander')
        from premises p order by p.id limit 1
        returning id`
      const reached = async () => (await sql<{ reachedOn: string }[]>`select reached_on from escalation_event where item_id = ${row!.id}`).map(r => r.reachedOn)
      await new Promise(resolve => setTimeout(resolve, 500))
      expect(await reached()).toEqual([])
      // 00:30 the next day in the district: still 2020-08-01 in UTC, already the 2nd there.
      now = startOfDay('2020-08-02').getTime() + 30 * 60_000
      const until = Date.now() + 15_000
      while (!(await reached()).length && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 100))
      expect(await reached()).toEqual(['2020-08-02'])
      expect(await scheduled.app.supervision.runScheduled()).toEqual({ day: '2020-08-02', reached: 0, notices: 0 })
    }
    finally {
      await scheduled.close()
    }
  })
})
