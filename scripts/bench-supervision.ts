/**
 * The day's escalation of supervision items at scale (`npm run bench -- --escalations N`): N open
 * items (the district's open major hazards first, then premises) listed with deadlines spread over
 * two months, then one district day computed three ways: the first run (every level that day
 * reaches is recorded), the same day again (nothing to add: the idempotent path), and the next day.
 */
import type { Sql } from '../server/db/index.js'
import { addDays } from '../server/domain/calendar.js'
import { supervisionRepository } from '../server/plugins/app/supervision.js'

interface Row { measure: string; value: string; note: string }

export async function benchEscalations(sql: Sql, items: number): Promise<Row[]> {
  const listedOn = '2020-03-01'
  await sql.begin(async (tx) => {
    await tx`set local statement_timeout = 0`
    await tx`delete from supervision_item`
    // A real deployment has no demo users: the listings need someone who listed them.
    await tx`insert into app_user (username, display_name, password_hash, role) values ('bench.supervisor', '基准督办', 'no-sign-in', 'commander') on conflict (username) do nothing`
    // Deadlines from 2020-03-01 to 2020-04-29, so that a day in May finds items at every lateness.
    await tx`
      insert into supervision_item (campaign_id, kind, hazard_id, premises_id, town_id, police_station_id, unit_kind, unit_department,
                                    responsible_person, reason, deadline, listed_on, listed_by)
      select (select id from campaign order by starts_on desc limit 1), 'hazard', h.id, p.id, p.town_id, p.police_station_id, 'department', h.department_code,
             '责任人', '基准测试', ${listedOn}::date + (h.id % 60)::int, ${listedOn}, (select id from app_user where username = 'bench.supervisor')
      from hazard h join premises p on p.id = h.premises_id
      where h.severity = 'major' and h.status in ('found', 'referred')
      order by h.id limit ${items}`
    await tx`
      insert into supervision_item (campaign_id, kind, premises_id, town_id, police_station_id, unit_kind, unit_town_id,
                                    responsible_person, reason, deadline, listed_on, listed_by)
      select (select id from campaign order by starts_on desc limit 1), 'premises', p.id, p.town_id, p.police_station_id, 'town', p.town_id,
             '责任人', '基准测试', ${listedOn}::date + (p.id % 60)::int, ${listedOn}, (select id from app_user where username = 'bench.supervisor')
      from premises p
      order by p.id limit greatest(0, ${items} - (select count(*) from supervision_item))`
  })
  await sql`analyze supervision_item`
  const [n] = await sql<{ n: number }[]>`select count(*)::int as n from supervision_item where state = 'open'`
  const repo = supervisionRepository(sql)
  const day = '2020-05-05'
  const rows: Row[] = []
  const timed = async (label: string, d: string) => {
    const t0 = performance.now()
    const r = await repo.escalate(d)
    const ms = performance.now() - t0
    rows.push({ measure: `escalation, ${label}`, value: `${(ms / 1000).toFixed(2)} s`, note: `${n!.n.toLocaleString('en')} open items; ${r.reached.toLocaleString('en')} levels reached, ${r.notices.toLocaleString('en')} notices` })
  }
  await timed(`first run of ${day}`, day)
  await timed(`${day} again (idempotent)`, day)
  await timed(`next day (${addDays(day, 1)})`, addDays(day, 1))
  return rows
}
