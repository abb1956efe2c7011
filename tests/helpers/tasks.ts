import { randomUUID } from 'node:crypto'
import type { Sql } from '../../server/db/index.js'
import { addDays, today as todayInDistrict } from '../../server/domain/calendar.js'

/** A day `days` after today in the district, YYYY-MM-DD. */
export const dayFromToday = (days: number) => addDays(todayInDistrict(), days)

/** The id of a user by name. */
export async function userId(sql: Sql, username: string): Promise<number> {
  const [u] = await sql<{ id: number }[]>`select id from app_user where username = ${username}`
  if (!u) throw new Error(`no user ${username}`)
  return u.id
}

/**
 * An inspector who works district-wide, made once: a commander of any jurisdiction may give them
 * visits anywhere in it. Nobody signs in as them.
 */
export async function districtInspector(sql: Sql): Promise<number> {
  const [u] = await sql<{ id: number }[]>`
    insert into app_user (username, display_name, password_hash, role, jurisdiction_kind)
    values ('district.inspector', '全区排查员', 'no-sign-in', 'inspector', 'district')
    on conflict (username) do update set username = excluded.username
    returning id`
  return u!.id
}

/**
 * An open task written straight to the database, for tests about reading or closing tasks; an
 * open task of the same kind at the premises is withdrawn first (one may be open at a time).
 */
export async function insertTask(sql: Sql, t: { premisesId: number; assigneeId: number; kind?: 'inspect' | 'revisit' | 'verify'; hazardId?: number; dueOn?: string }): Promise<number> {
  const kind = t.kind ?? 'inspect'
  await sql`update task set status = 'cancelled', closed_at = now(), closed_by_action = 'task.cancel'
            where status = 'open' and kind = ${kind} and premises_id = ${t.premisesId} and coalesce(hazard_id, 0) = ${t.hazardId ?? 0}`
  const [row] = await sql<{ id: number }[]>`
    insert into task (kind, premises_id, hazard_id, assignee_id, assigned_by, batch_id, due_on)
    values (${kind}, ${t.premisesId}, ${t.hazardId ?? null}, ${t.assigneeId}, (select id from app_user where username = 'commander'), ${randomUUID()}, ${t.dueOn ?? dayFromToday(7)})
    returning id`
  return row!.id
}

/** Withdraws every open task of the premises, so that an assignment there is not refused as a duplicate. */
export async function clearTasks(sql: Sql, premisesIds: number[]): Promise<void> {
  await sql`update task set status = 'cancelled', closed_at = now(), closed_by_action = 'task.cancel'
            where status = 'open' and premises_id in ${sql(premisesIds)}`
}
