import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import type { EnforcementKind } from '../../domain/lists.js'
import { maskPersonalText } from '../../domain/redact.js'
import { badRequest, HttpError, notFound } from '../../lib/http-errors.js'
import { today as todayInDistrict } from '../../domain/calendar.js'

/**
 * Enforcement results, entered one by one: a penalty, a case solved, a fugitive caught, an arrest.
 * A record belongs to premises when it happened at one (its town, station and place are the
 * premises'), or to a police station alone (a case solved at the station). It is edited or voided
 * with a reason, never deleted (the database refuses DELETE); the tables count the records not
 * voided, by the day they happened.
 */

export interface EnforcementInput {
  kind: EnforcementKind
  occurredOn: string
  count: number
  caseNumber?: string | null
  premisesId?: number | null
  policeStationId?: number | null
  townId?: number | null
  note?: string | null
}

export interface EnforcementRecord {
  id: number
  kind: EnforcementKind
  occurredOn: string
  count: number
  caseNumber: string | null
  premisesId: number | null
  address: string | null
  policeStationId: number | null
  policeStationNameZh: string | null
  townId: number | null
  note: string | null
  createdAt: string
  createdBy: string | null
  voidedAt: string | null
  voidReason: string | null
}

export interface EnforcementQuery {
  premisesId?: number
  policeStationId?: number
  from?: string
  to?: string
  includeVoided?: boolean
  limit: number
}

/** Where a record is counted: town, police station and place, from its premises or its station. */
interface Placement { premisesId: number | null; townId: number | null; policeStationId: number | null; hasPlace: boolean }

export function enforcementRepository(sql: Sql) {
  async function list(db: Sql | Tx, scope: Jurisdiction, q: EnforcementQuery, withPeople: boolean, id?: number): Promise<EnforcementRecord[]> {
    const parts = [inJurisdiction(db as unknown as Sql, scope, 'e')]
    if (id !== undefined) parts.push(db`e.id = ${id}`)
    if (q.premisesId !== undefined) parts.push(db`e.premises_id = ${q.premisesId}`)
    if (q.policeStationId !== undefined) parts.push(db`e.police_station_id = ${q.policeStationId}`)
    if (q.from) parts.push(db`e.occurred_on >= ${q.from}`)
    if (q.to) parts.push(db`e.occurred_on <= ${q.to}`)
    if (!q.includeVoided && id === undefined) parts.push(db`e.voided_at is null`)
    const where = parts.reduce((a, b) => db`${a} and ${b}`)
    const rows = await db<(Omit<EnforcementRecord, 'createdAt' | 'voidedAt'> & { createdAt: Date; voidedAt: Date | null })[]>`
      select e.id, e.kind, e.occurred_on, e.count, e.case_number, e.premises_id, p.address, e.police_station_id,
             s.name_zh as police_station_name_zh, e.town_id, e.note, e.created_at, u.username as created_by, e.voided_at, e.void_reason
      from enforcement_event e
      left join premises p on p.id = e.premises_id
      left join police_station s on s.id = e.police_station_id
      left join app_user u on u.id = e.created_by
      where ${where}
      order by e.occurred_on desc, e.id desc
      limit ${q.limit}`
    const text = (v: string | null) => (v === null || withPeople ? v : maskPersonalText(v))
    return rows.map(r => ({
      ...r, address: text(r.address), note: text(r.note), voidReason: text(r.voidReason),
      createdAt: r.createdAt.toISOString(), voidedAt: r.voidedAt?.toISOString() ?? null,
    }))
  }

  /**
   * Checks where a record goes. With premises: the premises must be in the jurisdiction, and give
   * the town, station and place. Without: a police station in being on the day, the user's own
   * for a station user, one reaching into the town for a town user (the town is then the user's).
   */
  async function place(tx: Tx, scope: Jurisdiction, input: Pick<EnforcementInput, 'premisesId' | 'policeStationId' | 'townId' | 'occurredOn'>): Promise<Placement> {
    if (input.premisesId) {
      const [p] = await tx<{ townId: number; policeStationId: number | null }[]>`
        select p.town_id, p.police_station_id from premises p where p.id = ${input.premisesId} and ${inJurisdiction(tx as unknown as Sql, scope)}`
      if (!p) throw notFound(`there is no premises with id ${input.premisesId} in your jurisdiction`, `您的辖区内没有编号为 ${input.premisesId} 的房屋`)
      return { premisesId: input.premisesId, townId: p.townId, policeStationId: p.policeStationId, hasPlace: true }
    }
    const stationId = input.policeStationId ?? (scope.kind === 'police_station' ? scope.id : null)
    if (!stationId) {
      throw new HttpError(400, 'say which police station the record belongs to (policeStationId), or the premises (premisesId)', 'station-required',
        '请选择派出所，或选择房屋')
    }
    const townId = scope.kind === 'town' ? scope.id! : input.townId ?? null
    const [s] = await tx<{ id: number; inBeing: boolean; reaches: boolean }[]>`
      select s.id, s.valid_from <= ${input.occurredOn} and (s.valid_to is null or s.valid_to > ${input.occurredOn}) as in_being,
             ${townId === null ? tx`true` : tx`exists (select 1 from admin_area t where t.id = ${townId} and t.level = 'town'
               and t.geom && s.geom and st_intersects(t.geom, s.geom) and not st_touches(t.geom, s.geom))`} as reaches
      from police_station s
      where s.id = ${stationId} and ${scope.kind === 'police_station' ? tx`s.id = ${scope.id!}` : tx`true`}`
    if (!s || !s.reaches) throw notFound(`there is no police station with id ${stationId} in your jurisdiction`, `您的辖区内没有编号为 ${stationId} 的派出所`)
    if (!s.inBeing) {
      throw new HttpError(400, `police station ${stationId} was not in being on ${input.occurredOn}`, 'station-not-in-being',
        `派出所 ${stationId} 在 ${input.occurredOn} 尚未设立或已撤销`)
    }
    return { premisesId: null, townId, policeStationId: stationId, hasPlace: false }
  }

  function checkDate(day: string) {
    if (day > todayInDistrict()) throw badRequest(`occurredOn (${day}) is in the future`, `发生日期（${day}）晚于今天`)
  }

  return {
    list: (scope: Jurisdiction, q: EnforcementQuery, withPeople: boolean) => list(sql, scope, q, withPeople),

    async get(db: Sql | Tx, scope: Jurisdiction, id: number, withPeople = true) {
      const [r] = await list(db, scope, { limit: 1, includeVoided: true }, withPeople, id)
      return r
    },

    async create(tx: Tx, scope: Jurisdiction, userId: number, input: EnforcementInput): Promise<number> {
      checkDate(input.occurredOn)
      const at = await place(tx, scope, input)
      const [row] = await tx<{ id: number }[]>`
        insert into enforcement_event (kind, occurred_on, count, case_number, premises_id, geom, town_id, police_station_id, note, created_by)
        values (${input.kind}, ${input.occurredOn}, ${input.count}, ${input.caseNumber?.trim() || null}, ${at.premisesId},
                ${at.hasPlace ? tx`(select geom from premises where id = ${at.premisesId})` : null},
                ${at.townId}, ${at.policeStationId}, ${input.note?.trim() || null}, ${userId})
        returning id`
      return row!.id
    },

    /** Changes a record that is not voided; undefined when there is none in the jurisdiction. */
    async update(tx: Tx, scope: Jurisdiction, id: number, input: Partial<EnforcementInput>) {
      const [e] = await tx<{ id: number; voidedAt: Date | null; occurredOn: string; premisesId: number | null; policeStationId: number | null; townId: number | null }[]>`
        select e.id, e.voided_at, e.occurred_on, e.premises_id, e.police_station_id, e.town_id from enforcement_event e
        where e.id = ${id} and ${inJurisdiction(tx as unknown as Sql, scope, 'e')} for update`
      if (!e) return undefined
      if (e.voidedAt) throw new HttpError(409, 'this record is voided; enter a new one instead', 'voided', '此记录已作废，请新录一条')
      const occurredOn = input.occurredOn ?? e.occurredOn
      if (input.occurredOn) checkDate(input.occurredOn)
      const moves = input.premisesId !== undefined || input.policeStationId !== undefined || input.townId !== undefined || input.occurredOn !== undefined
      const at = moves
        ? await place(tx, scope, {
            premisesId: input.premisesId !== undefined ? input.premisesId : e.premisesId,
            policeStationId: input.policeStationId !== undefined ? input.policeStationId : e.policeStationId,
            townId: input.townId !== undefined ? input.townId : e.townId,
            occurredOn,
          })
        : undefined
      const set: Record<string, unknown> = {}
      if (input.kind !== undefined) set.kind = input.kind
      if (input.occurredOn !== undefined) set.occurred_on = input.occurredOn
      if (input.count !== undefined) set.count = input.count
      if (input.caseNumber !== undefined) set.case_number = input.caseNumber?.trim() || null
      if (input.note !== undefined) set.note = input.note?.trim() || null
      if (at) Object.assign(set, { premises_id: at.premisesId, town_id: at.townId, police_station_id: at.policeStationId })
      if (Object.keys(set).length) await tx`update enforcement_event set ${tx(set)} where id = ${id}`
      if (at) await tx`update enforcement_event set geom = ${at.hasPlace ? tx`(select geom from premises where id = ${at.premisesId})` : null} where id = ${id}`
      return id
    },

    /** Voids a record with a reason; undefined when there is none in the jurisdiction. */
    async void(tx: Tx, scope: Jurisdiction, id: number, userId: number, reason: string) {
      const [e] = await tx<{ voidedAt: Date | null }[]>`
        select e.voided_at from enforcement_event e where e.id = ${id} and ${inJurisdiction(tx as unknown as Sql, scope, 'e')} for update`
      if (!e) return undefined
      if (e.voidedAt) throw new HttpError(409, 'this record is already voided', 'voided', '此记录已作废')
      await tx`update enforcement_event set voided_at = now(), voided_by = ${userId}, void_reason = ${reason} where id = ${id}`
      return id
    },
  }
}

export type EnforcementRepository = ReturnType<typeof enforcementRepository>

declare module 'fastify' {
  interface FastifyInstance {
    enforcement: EnforcementRepository
  }
}

export default fp(async (app) => {
  app.decorate('enforcement', enforcementRepository(app.db.sql))
}, { name: 'enforcement', dependencies: ['db'] })
