import fp from 'fastify-plugin'
import type postgres from 'postgres'
import { pgArray } from '../../db/arrays.js'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { addDays, today as todayInDistrict } from '../../domain/calendar.js'
import type { noticeKinds } from '../../domain/lists.js'
import { reportDates } from '../../domain/periods.js'
import { notFound } from '../../lib/http-errors.js'
import type { NoticeDto } from '../../schemas/notices.js'

/**
 * Notices: what a user is told (a task assigned, a supervision item escalated in the jurisdiction,
 * a key area proposed for the town, a biweekly table due or overdue), kept as an inbox and pushed
 * live to the user's open pages (Server-Sent Events, server/routes/api/notices). A notice names
 * where its subject lies; a user whose jurisdiction no longer holds it is not shown it, in the
 * inbox or live. Payloads hold ids, dates and counts only, never a person's details.
 */

type NoticeKind = typeof noticeKinds[number]

/** A notice to write: to whom, what, where its subject lies (null: district-wide) and its once-only key. */
export interface NewNotice {
  userId: number
  kind: NoticeKind
  payload: Record<string, string | number | null>
  townId: number | null
  policeStationId: number | null
  dedupeKey: string
}

interface NoticeRow {
  id: number
  userId: number
  kind: NoticeKind
  payload: Record<string, string | number | null>
  townId: number | null
  policeStationId: number | null
  createdAt: Date
  readAt: Date | null
}

const dto = (r: NoticeRow): NoticeDto => ({
  id: Number(r.id), kind: r.kind, payload: r.payload, createdAt: r.createdAt.toISOString(), readAt: r.readAt?.toISOString() ?? null,
})

/** Whether a user of a jurisdiction may be told of a subject lying there (the same rule as the inbox's SQL). */
export function noticeVisible(j: Jurisdiction, n: { townId: number | null; policeStationId: number | null }): boolean {
  if (j.kind === 'district' || (n.townId === null && n.policeStationId === null)) return true
  return j.kind === 'town' ? n.townId === j.id : n.policeStationId === j.id
}

/** Something a connected page hears: a new notice for its user, the dashboard's figures changed, or the server is stopping. */
export type LiveEvent = { type: 'notice'; notice: NoticeDto; townId: number | null; policeStationId: number | null } | { type: 'figures'; version: string } | { type: 'close' }

/** The pages connected in this process, by user: each hears only what is its user's. */
export function noticeHub() {
  const listeners = new Map<number, Set<(e: LiveEvent) => void>>()
  let count = 0
  return {
    /** Listens for a user's events; returns the function that stops listening. */
    subscribe(userId: number, fn: (e: LiveEvent) => void): () => void {
      const set = listeners.get(userId) ?? new Set()
      listeners.set(userId, set)
      set.add(fn)
      count++
      return () => {
        if (set.delete(fn)) count--
        if (!set.size) listeners.delete(userId)
      }
    },
    /** Sends an event to one user's pages. */
    toUser(userId: number, e: LiveEvent) {
      for (const fn of listeners.get(userId) ?? []) fn(e)
    },
    /** Sends an event to every connected page. */
    toAll(e: LiveEvent) {
      for (const set of listeners.values()) for (const fn of set) fn(e)
    },
    /** How many pages are connected. */
    get connections() {
      return count
    },
  }
}

export function noticesRepository(sql: Sql) {
  /** The condition that a notice (alias n) lies in the jurisdiction, or is district-wide. */
  const visible = (db: Sql | Tx, j: Jurisdiction) =>
    db`((n.town_id is null and n.police_station_id is null) or ${inJurisdiction(db, j, 'n')})`

  return {
    /** Writes notices (a notice with the same user, kind and key is kept once); answers the rows written. */
    async add(db: Sql | Tx, notices: NewNotice[]): Promise<NoticeRow[]> {
      if (!notices.length) return []
      return [...await db<NoticeRow[]>`
        insert into notice ${db(notices.map(n => ({
          user_id: n.userId, kind: n.kind, payload: db.json(n.payload as postgres.JSONValue) as unknown as string, town_id: n.townId, police_station_id: n.policeStationId, dedupe_key: n.dedupeKey,
        })))}
        on conflict (user_id, kind, dedupe_key) do nothing
        returning id, user_id, kind, payload, town_id, police_station_id, created_at, read_at`]
    },

    /** Tells the commanders of a town (those whose jurisdiction is the town) about something there. */
    async toTownCommanders(db: Sql | Tx, townId: number, kind: NoticeKind, payload: NewNotice['payload'], dedupeKey: string): Promise<NoticeRow[]> {
      const users = await db<{ id: number }[]>`
        select id from app_user where role = 'commander' and disabled_at is null and jurisdiction_kind = 'town' and jurisdiction_town_id = ${townId}`
      return this.add(db, users.map(u => ({ userId: u.id, kind, payload, townId, policeStationId: null, dedupeKey })))
    },

    /** Notices by id (those just written by a set-wise statement), to be sent live. */
    async byIds(ids: number[]): Promise<NoticeRow[]> {
      if (!ids.length) return []
      // One array parameter: a backlog's escalation writes more notices than a statement has parameters.
      return [...await sql<NoticeRow[]>`select id, user_id, kind, payload, town_id, police_station_id, created_at, read_at from notice where id = any(${pgArray(ids)}::bigint[])`]
    },

    /** A user's inbox, newest first, within the jurisdiction they have now. */
    async list(userId: number, j: Jurisdiction, q: { unread?: boolean; limit: number }) {
      const rows = await sql<NoticeRow[]>`
        select n.id, n.user_id, n.kind, n.payload, n.town_id, n.police_station_id, n.created_at, n.read_at from notice n
        where n.user_id = ${userId} and ${visible(sql, j)} ${q.unread ? sql`and n.read_at is null` : sql``}
        order by n.created_at desc, n.id desc limit ${q.limit}`
      return rows.map(dto)
    },

    async unread(userId: number, j: Jurisdiction): Promise<number> {
      const [r] = await sql<{ n: number }[]>`select count(*)::int as n from notice n where n.user_id = ${userId} and n.read_at is null and ${visible(sql, j)}`
      return r!.n
    },

    /** Marks one of the user's notices read or unread, or 404 (another's, or outside the jurisdiction). */
    async mark(tx: Tx, userId: number, j: Jurisdiction, id: number, read: boolean): Promise<NoticeDto> {
      const [row] = await tx<NoticeRow[]>`
        update notice n set read_at = ${read ? tx`coalesce(n.read_at, now())` : null}
        where n.id = ${id} and n.user_id = ${userId} and ${visible(tx, j)}
        returning n.id, n.user_id, n.kind, n.payload, n.town_id, n.police_station_id, n.created_at, n.read_at`
      if (!row) throw notFound(`there is no notice with id ${id}`, `没有编号为 ${id} 的通知`)
      return dto(row)
    },

    async markAll(tx: Tx, userId: number, j: Jurisdiction): Promise<number> {
      const rows = await tx`update notice n set read_at = now() where n.user_id = ${userId} and n.read_at is null and ${visible(tx, j)} returning n.id`
      return rows.length
    },

    /**
     * The biweekly tables' reminders for a district day: on a report day, each commander is told
     * the table is due; on the days after one, a commander whose jurisdiction has not submitted
     * that period's attachment 5 is told it is overdue. Each once (by its key), however often run.
     */
    async remindReports(day: string): Promise<NoticeRow[]> {
      const [c] = await sql<{ startsOn: string; endsOn: string; reportDays: number[] }[]>`
        select starts_on, ends_on, report_days::int[] as report_days from campaign order by starts_on desc limit 1`
      if (!c) return []
      const dates = reportDates(c.startsOn, c.endsOn, c.reportDays)
      const out: NoticeRow[] = []
      const commanders = (db: Sql) => db`
        select u.id, u.jurisdiction_town_id as town_id, u.jurisdiction_station_id as station_id,
               case u.jurisdiction_kind when 'district' then 'district' when 'town' then 'town:' || u.jurisdiction_town_id else 'police_station:' || u.jurisdiction_station_id end as subject
        from app_user u where u.role = 'commander' and u.disabled_at is null`
      if (dates.includes(day)) {
        const due = await sql<{ id: number; townId: number | null; stationId: number | null }[]>`${commanders(sql)}`
        out.push(...await this.add(sql, due.map(u => ({ userId: u.id, kind: 'submission-due', payload: { periodTo: day }, townId: u.townId, policeStationId: u.stationId, dedupeKey: `submission-due:${day}` }))))
      }
      // The last report day before today, for a week after it: later, the overdue list says enough.
      const previous = dates.filter(d => d < day).pop()
      if (previous && addDays(previous, 7) >= day) {
        const late = await sql<{ id: number; townId: number | null; stationId: number | null }[]>`
          select * from (${commanders(sql)}) u
          where not exists (select 1 from report_submission r where r.report = 'attachment-5' and r.subject = u.subject and r.period_to = ${previous})`
        out.push(...await this.add(sql, late.map(u => ({ userId: u.id, kind: 'report-overdue', payload: { periodTo: previous }, townId: u.townId, policeStationId: u.stationId, dedupeKey: `report-overdue:${previous}` }))))
      }
      return out
    },

    /** The dashboard's figures' version (migration 027), which moves on every write they are computed from. */
    async figuresVersion(): Promise<string> {
      const [r] = await sql<{ version: string }[]>`select version::text from figures_version`
      return r?.version ?? '0'
    },
  }
}

export type NoticesRepository = ReturnType<typeof noticesRepository> & {
  hub: ReturnType<typeof noticeHub>
  /** Sends notices just written to their users' open pages (after the write committed). */
  deliver: (rows: NoticeRow[]) => void
}

/** How the server runs the notices' own work: the reminders' day (a clock tests give) and the figures' watch. */
export interface NoticesOptions {
  clock?: () => number
  /** Milliseconds between reminder runs (0: never on their own). */
  remindEveryMs?: number
  /** Milliseconds between looks at the figures' version while pages are connected. */
  figuresEveryMs?: number
}

declare module 'fastify' {
  interface FastifyInstance {
    notices: NoticesRepository
  }
}

export default fp<{ notices?: NoticesOptions }>(async (app, opts) => {
  const repo = noticesRepository(app.db.sql)
  const hub = noticeHub()
  const deliver = (rows: NoticeRow[]) => {
    for (const r of rows) hub.toUser(r.userId, { type: 'notice', notice: dto(r), townId: r.townId, policeStationId: r.policeStationId })
  }
  app.decorate('notices', { ...repo, hub, deliver })

  const clock = opts.notices?.clock ?? Date.now
  const remindEveryMs = opts.notices?.remindEveryMs ?? 10 * 60_000
  const timers: NodeJS.Timeout[] = []
  if (remindEveryMs > 0) {
    const remind = () => repo.remindReports(todayInDistrict(clock())).then(deliver).catch((e: unknown) => app.log.warn({ err: e }, 'report reminders failed'))
    timers.push(setInterval(remind, remindEveryMs).unref())
    app.addHook('onReady', async () => void remind())
  }
  // The figures' version is looked at only while someone is connected to hear a change.
  let seen: string | null = null
  const watch = async () => {
    if (!hub.connections) {
      seen = null
      return
    }
    const v = await repo.figuresVersion()
    if (seen !== null && v !== seen) hub.toAll({ type: 'figures', version: v })
    seen = v
  }
  timers.push(setInterval(() => void watch().catch((e: unknown) => app.log.warn({ err: e }, 'watching the figures failed')), opts.notices?.figuresEveryMs ?? 2000).unref())
  // Open streams end when the server stops, or closing would wait for every page to leave.
  app.addHook('preClose', async () => hub.toAll({ type: 'close' }))
  app.addHook('onClose', async () => {
    for (const t of timers) clearInterval(t)
  })
}, { name: 'notices', dependencies: ['db'] })
