import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import type { EnforcementKind } from '../../domain/lists.js'
import { maskPersonalText } from '../../domain/redact.js'
import { badRequest, conflict, HttpError, notFound } from '../../lib/http-errors.js'
import { endOfDay, localDay, localMinute, startOfDay, today } from '../../domain/calendar.js'
import { afterPhotoMissing, afterPhotoRequired } from './photos.js'

/**
 * The inspection workflow: premises recorded and edited, hazards found, referred to the
 * responsible department, rectified and verified. Each step runs in the caller's transaction; the
 * database writes the status history (hazard_history) and the premises summary itself.
 */

export type HazardAction = 'refer' | 'rectify' | 'verify'
type HazardStatus = 'found' | 'referred' | 'rectified' | 'verified'

/** Which step may follow which: referral is optional (the police rectify their own hazards). */
const allowedFrom: Record<HazardAction, HazardStatus[]> = {
  refer: ['found'],
  rectify: ['found', 'referred'],
  verify: ['rectified'],
}

const refusal: Record<HazardAction, Partial<Record<HazardStatus, [string, string]>>> = {
  refer: {
    referred: ['This hazard has already been referred.', '此隐患已交办。'],
    rectified: ['This hazard is already rectified; it can only be verified now.', '此隐患已整改，现在只能验收。'],
    verified: ['This hazard is already rectified and verified; nothing more can be done with it.', '此隐患已整改并验收，不能再操作。'],
  },
  rectify: {
    rectified: ['This hazard is already marked rectified; it can only be verified now.', '此隐患已标记为整改，现在只能验收。'],
    verified: ['This hazard is already rectified and verified; nothing more can be done with it.', '此隐患已整改并验收，不能再操作。'],
  },
  verify: {
    found: ['Only a rectified hazard can be verified; this one is still open.', '只有已整改的隐患才能验收；此隐患尚未整改。'],
    referred: ['Only a rectified hazard can be verified; this one is referred and still open.', '只有已整改的隐患才能验收；此隐患已交办但尚未整改。'],
    verified: ['This hazard has already been verified.', '此隐患已验收。'],
  },
}

export interface PremisesInput {
  kind?: string
  address?: string
  lon?: number
  lat?: number
  roomsLet?: number
  bedsLet?: number
  occupants?: number
  ownerName?: string | null
  ownerPhone?: string | null
  secondLandlordName?: string | null
  secondLandlordPhone?: string | null
  secondLandlordCollectedOn?: string | null
  statementSignedOn?: string | null
  leaseFiledOn?: string | null
  foundOn?: string
  registeredOn?: string | null
  deregisteredOn?: string | null
}

const premisesColumns: Record<keyof Omit<PremisesInput, 'lon' | 'lat'>, string> = {
  kind: 'kind', address: 'address', roomsLet: 'rooms_let', bedsLet: 'beds_let', occupants: 'occupants',
  ownerName: 'owner_name', ownerPhone: 'owner_phone', secondLandlordName: 'second_landlord_name',
  secondLandlordPhone: 'second_landlord_phone', secondLandlordCollectedOn: 'second_landlord_collected_on',
  statementSignedOn: 'statement_signed_on', leaseFiledOn: 'lease_filed_on', foundOn: 'found_on',
  registeredOn: 'registered_on', deregisteredOn: 'deregistered_on',
}

/** The premises' facts as the Chinese screen names them (a refusal lists the ones changed meanwhile). */
const factZh: Record<string, string> = {
  kind: '类型', address: '地址', roomsLet: '出租居室', bedsLet: '出租床位', occupants: '实际居住人数', ownerName: '出租人姓名',
  ownerPhone: '出租人电话', secondLandlordName: '二房东姓名', secondLandlordPhone: '二房东电话', secondLandlordCollectedOn: '二房东信息采集日期',
  statementSignedOn: '签订责任书日期', leaseFiledOn: '租赁备案日期', foundOn: '发现日期', registeredOn: '登记日期', deregisteredOn: '注销日期',
}

export interface HazardRow {
  id: number
  premisesId: number
  itemCode: string
  categoryCode: string
  otherText: string | null
  severity: 'general' | 'major'
  status: HazardStatus
  departmentCode: string
  foundAt: Date
  referredAt: Date | null
  rectifiedAt: Date | null
  verifiedAt: Date | null
  deadline: string | null
}

const iso = (d: Date | null) => (d ? d.toISOString() : null)

interface HazardEvent { at: Date; status: string; departmentCode: string | null; note: string | null; username: string | null }

/** A hazard row as the API answers it (times as ISO strings). */
export function hazardDto(h: HazardRow & { events?: HazardEvent[] }) {
  return {
    ...h,
    foundAt: h.foundAt.toISOString(),
    referredAt: iso(h.referredAt),
    rectifiedAt: iso(h.rectifiedAt),
    verifiedAt: iso(h.verifiedAt),
    events: h.events?.map(e => ({ ...e, at: e.at.toISOString() })),
  }
}

const ewktPoint = (lon: number, lat: number) => `SRID=4326;POINT(${lon} ${lat})`

/** A step's time: now, or a given time that is not in the future and not before the previous step. */
function stepTime(at: string | undefined, notBefore: Date, label: string, labelZh: string): Date {
  const now = new Date()
  if (!at) return now < notBefore ? notBefore : now
  const t = new Date(at)
  if (Number.isNaN(t.getTime())) throw badRequest(`${label} "${at}" is not a valid time`, `${labelZh}“${at}”不是有效时间`)
  if (t.getTime() > now.getTime() + 60_000) throw badRequest(`${label} cannot be in the future`, `${labelZh}不能晚于现在`)
  if (t < notBefore) {
    throw badRequest(`${label} cannot be before the previous step (${notBefore.toISOString()})`,
      `${labelZh}不能早于上一步（${localMinute(notBefore)}）`)
  }
  return t
}

/**
 * When a hazard given only its day was found: the start of that day in the district, or of the
 * premises' own day when it is the same (a step never comes before the premises were found); none
 * for today, which is now. A day after today is refused; one before the premises were found is
 * refused by the step's own check.
 */
function foundOnTime(foundOn: string | undefined, premisesFoundOn: string): string | undefined {
  if (!foundOn || foundOn === today()) return undefined
  if (foundOn > today()) throw new HttpError(400, `the hazard cannot be found on a day after today (${foundOn})`, 'found-on-future', `发现日期（${foundOn}）不能晚于今天`)
  if (foundOn < premisesFoundOn) {
    throw new HttpError(400, `the hazard cannot be found (${foundOn}) before the premises were (${premisesFoundOn})`, 'found-on-before-premises',
      `隐患发现日期（${foundOn}）不能早于房屋发现日期（${premisesFoundOn}）`)
  }
  return startOfDay(foundOn).toISOString()
}

export function inspectionRepository(sql: Sql) {
  /** The premises row inside the jurisdiction, locked for the transaction, or 404. */
  async function lockPremises(tx: Tx, scope: Jurisdiction, id: number) {
    const [p] = await tx<{ id: number; foundOn: string }[]>`
      select p.id, p.found_on from premises p where p.id = ${id} and ${inJurisdiction(tx, scope)} for update`
    if (!p) throw notFound(`there is no premises with id ${id}`, `没有编号为 ${id} 的房屋`)
    return p
  }

  /** The hazard inside the jurisdiction (locked for the transaction when `lock`), or 404. */
  async function hazardRow(tx: Tx, scope: Jurisdiction, id: number, lock = true): Promise<HazardRow> {
    const [h] = await tx<HazardRow[]>`
      select h.id, h.premises_id, h.item_code, i.category_code, h.other_text, h.severity, h.status, h.department_code,
             h.found_at, h.referred_at, h.rectified_at, h.verified_at, h.deadline
      from hazard h join premises p on p.id = h.premises_id join hazard_item i on i.code = h.item_code
      where h.id = ${id} and ${inJurisdiction(tx, scope)}
      ${lock ? tx`for update of h` : tx``}`
    if (!h) throw notFound(`there is no hazard with id ${id}`, `没有编号为 ${id} 的隐患`)
    return h
  }
  const lockHazard = (tx: Tx, scope: Jurisdiction, id: number) => hazardRow(tx, scope, id)

  /** After a write: the premises must still lie in the user's jurisdiction (a town user cannot move it out). */
  async function assertInJurisdiction(tx: Tx, scope: Jurisdiction, id: number) {
    const [p] = await tx`select 1 from premises p where p.id = ${id} and ${inJurisdiction(tx, scope)}`
    if (!p) throw new HttpError(403, 'That location is outside your jurisdiction; premises there are recorded by the town or police station responsible.', 'outside-jurisdiction',
      '该位置不在您的辖区内；那里的房屋由所属镇（街道）或派出所登记。')
  }

  async function premisesSnapshot(tx: Tx, id: number) {
    const [row] = await tx<Record<string, unknown>[]>`
      select id, kind, address, st_x(geom) as lon, st_y(geom) as lat, town_id, community_id, police_station_id,
             rooms_let, beds_let, occupants, owner_name, owner_phone, second_landlord_name, second_landlord_phone,
             second_landlord_collected_on, statement_signed_on, lease_filed_on, found_on, registered_on, deregistered_on
      from premises where id = ${id}`
    return row!
  }

  /**
   * The hazards of premises with their status histories, oldest first; overdue judged on a day. For
   * a reader who does not see people, ID and phone numbers typed into the hazard's description and
   * the notes of its steps are masked. The caller has checked the premises' jurisdiction.
   */
  async function hazardsOfPremises(premisesIds: number[], on: string, withPeople: boolean, db: Sql | Tx = sql) {
    if (!premisesIds.length) return []
    const until = endOfDay(on)
    const hazards = await db<(HazardRow & { itemNameZh: string; itemNameEn: string; overdue: boolean })[]>`
      select h.id, h.premises_id, h.item_code, i.category_code, i.name_zh as item_name_zh, i.name_en as item_name_en,
             h.other_text, h.severity, h.status, h.department_code, h.found_at, h.referred_at, h.rectified_at,
             h.verified_at, h.deadline,
             (h.deadline < ${on} and (h.rectified_at is null or h.rectified_at >= ${until})) as overdue
      from hazard h join hazard_item i on i.code = h.item_code
      where h.premises_id in ${db(premisesIds)}
      order by h.found_at, h.id`
    const events = hazards.length
      ? await db<{ hazardId: number; status: string; at: Date; departmentCode: string | null; note: string | null; username: string | null }[]>`
          select e.hazard_id, e.status, e.at, e.department_code, e.note, u.username
          from hazard_event e left join app_user u on u.id = e.user_id
          where e.hazard_id in ${db(hazards.map(h => h.id))}
          order by e.at, e.id`
      : []
    const byHazard = new Map<number, typeof events[number][]>()
    for (const e of events) byHazard.set(e.hazardId, [...byHazard.get(e.hazardId) ?? [], e])
    const text = <T extends string | null>(v: T) => (v === null || withPeople ? v : maskPersonalText(v)) as T
    return hazards.map(h => ({
      ...h,
      otherText: text(h.otherText),
      events: (byHazard.get(h.id) ?? []).map(({ hazardId: _, ...e }) => ({ ...e, note: text(e.note) })),
    }))
  }

  return {
    premisesSnapshot,

    /** One hazard inside the jurisdiction as it stands, or 404 (a replayed write answers it). */
    hazard: (tx: Tx, scope: Jurisdiction, id: number) => hazardRow(tx, scope, id, false),

    async createPremises(tx: Tx, scope: Jurisdiction, input: Required<Pick<PremisesInput, 'kind' | 'address' | 'lon' | 'lat' | 'foundOn'>> & PremisesInput) {
      const values: Record<string, unknown> = {}
      for (const [k, col] of Object.entries(premisesColumns)) {
        const v = input[k as keyof PremisesInput]
        if (v !== undefined) values[col] = v
      }
      // EWKT is a geometry's text form, so the point travels as an ordinary parameter.
      values.geom = ewktPoint(input.lon, input.lat)
      const [row] = await tx<{ id: number }[]>`insert into premises ${tx(values as Record<string, string>)} returning id`
      await assertInJurisdiction(tx, scope, row!.id)
      return premisesSnapshot(tx, row!.id)
    },

    /**
     * Changes premises. `expected` holds the changed fields as the client saw them (an edit made
     * offline, sent later): a field somebody else changed meanwhile refuses the change with 412
     * `premises-changed`, naming the fields, instead of overwriting their work.
     */
    async updatePremises(tx: Tx, scope: Jurisdiction, id: number, input: PremisesInput, expected?: Record<string, unknown>) {
      await lockPremises(tx, scope, id)
      const before = await premisesSnapshot(tx, id)
      const changed = Object.entries(expected ?? {})
        .filter(([k, v]) => k in premisesColumns && v !== undefined && (before[k] ?? null) !== v)
        .map(([k]) => k)
      if (changed.length) {
        throw new HttpError(412, `Somebody else changed these facts of the premises since you saw them: ${changed.join(', ')}. Look at the premises as it is now and make your change again.`,
          'premises-changed', `您查看之后，他人已修改了该房屋的以下信息：${changed.map(k => factZh[k] ?? k).join('、')}。请查看最新信息后重新修改。`)
      }
      const values: Record<string, unknown> = {}
      for (const [k, col] of Object.entries(premisesColumns)) {
        const v = input[k as keyof PremisesInput]
        if (v !== undefined) values[col] = v
      }
      if (input.lon !== undefined && input.lat !== undefined) values.geom = ewktPoint(input.lon, input.lat)
      if (Object.keys(values).length) await tx`update premises set ${tx(values as Record<string, string>)} where id = ${id}`
      await assertInJurisdiction(tx, scope, id)
      return { before, after: await premisesSnapshot(tx, id) }
    },

    async addHazard(tx: Tx, scope: Jurisdiction, premisesId: number, input: {
      itemCode: string; otherText?: string | null; severity: 'general' | 'major'; foundAt?: string; foundOn?: string; deadline?: string | null; departmentCode?: string
    }): Promise<HazardRow> {
      const p = await lockPremises(tx, scope, premisesId)
      const [item] = await tx<{ needsText: boolean; departmentCode: string }[]>`
        select i.needs_text, coalesce(i.department_code, c.department_code) as department_code
        from hazard_item i join hazard_category c on c.code = i.category_code where i.code = ${input.itemCode}`
      if (!item) throw badRequest(`"${input.itemCode}" is not an item of the hazard dictionary`, `“${input.itemCode}”不是隐患字典中的项目`)
      const text = input.otherText?.trim() || null
      if (item.needsText && !text) throw badRequest(`hazard item ${input.itemCode} needs a description of the hazard`, `隐患字典项 ${input.itemCode} 须填写隐患说明`)
      if (!item.needsText && text) throw badRequest(`hazard item ${input.itemCode} takes no free text; choose an "other" item to describe a hazard`, `隐患字典项 ${input.itemCode} 不填说明；描述其他隐患请选择“其他”项`)
      const foundAt = stepTime(input.foundAt ?? foundOnTime(input.foundOn, p.foundOn), new Date(`${p.foundOn}T00:00:00+08:00`), 'foundAt', '发现时间')
      const foundDay = localDay(foundAt)
      if (input.deadline && input.deadline < foundDay) throw badRequest(`the deadline (${input.deadline}) cannot be before the hazard was found (${foundDay})`, `整改期限（${input.deadline}）不能早于发现日期（${foundDay}）`)
      if (input.departmentCode) {
        const [d] = await tx`select 1 from department where code = ${input.departmentCode}`
        if (!d) throw badRequest(`"${input.departmentCode}" is not a department`, `“${input.departmentCode}”不是责任部门`)
      }
      const [h] = await tx<{ id: number }[]>`
        insert into hazard (premises_id, item_code, other_text, severity, status, department_code, found_at, deadline)
        values (${premisesId}, ${input.itemCode}, ${text}, ${input.severity}, 'found', ${input.departmentCode ?? item.departmentCode},
                ${foundAt}, ${input.deadline ?? null})
        returning id`
      return lockHazard(tx, scope, h!.id)
    },

    /** One step of a hazard's life, or 409 when the step cannot follow its current status. */
    async transition(tx: Tx, scope: Jurisdiction, id: number, action: HazardAction, input: {
      at?: string; note?: string | null; departmentCode?: string; deadline?: string | null
    }): Promise<{ before: HazardRow; after: HazardRow }> {
      const h = await lockHazard(tx, scope, id)
      if (!allowedFrom[action].includes(h.status)) {
        const [en, zh] = refusal[action][h.status] ?? [`A hazard that is ${h.status} cannot be ${action === 'refer' ? 'referred' : action === 'rectify' ? 'rectified' : 'verified'}.`, '此隐患当前状态不能进行这一步。']
        throw conflict(en, zh)
      }
      if (action === 'verify' && await afterPhotoMissing(tx, id)) throw afterPhotoRequired()
      const previous = h.verifiedAt ?? h.rectifiedAt ?? h.referredAt ?? h.foundAt
      const at = stepTime(input.at, previous, 'the time of this step', '此步骤的时间')
      if (action === 'refer') {
        if (input.departmentCode) {
          const [d] = await tx`select 1 from department where code = ${input.departmentCode}`
          if (!d) throw badRequest(`"${input.departmentCode}" is not a department`, `“${input.departmentCode}”不是责任部门`)
        }
        const foundDay = localDay(h.foundAt)
        if (input.deadline && input.deadline < foundDay) throw badRequest(`the deadline (${input.deadline}) cannot be before the hazard was found (${foundDay})`, `整改期限（${input.deadline}）不能早于发现日期（${foundDay}）`)
        await tx`update hazard set status = 'referred', referred_at = ${at},
                   department_code = ${input.departmentCode ?? h.departmentCode},
                   deadline = ${input.deadline === undefined ? h.deadline : input.deadline}
                 where id = ${id}`
      }
      else if (action === 'rectify') {
        await tx`update hazard set status = 'rectified', rectified_at = ${at} where id = ${id}`
      }
      else {
        await tx`update hazard set status = 'verified', verified_at = ${at} where id = ${id}`
      }
      const status = action === 'refer' ? 'referred' : action === 'rectify' ? 'rectified' : 'verified'
      if (input.note) await tx`update hazard_event set note = ${input.note} where hazard_id = ${id} and status = ${status}`
      return { before: h, after: await lockHazard(tx, scope, id) }
    },

    async setDeadline(tx: Tx, scope: Jurisdiction, id: number, deadline: string | null) {
      const h = await lockHazard(tx, scope, id)
      if (h.rectifiedAt) throw conflict('The hazard is already rectified; its deadline no longer applies.', '此隐患已整改，整改期限不再适用。')
      const foundDay = localDay(h.foundAt)
      if (deadline && deadline < foundDay) throw badRequest(`the deadline (${deadline}) cannot be before the hazard was found (${foundDay})`, `整改期限（${deadline}）不能早于发现日期（${foundDay}）`)
      await tx`update hazard set deadline = ${deadline} where id = ${id}`
      return { before: h, after: await lockHazard(tx, scope, id) }
    },

    /**
     * A premises' hazards with their status histories, oldest first; overdue judged on a day. For a
     * reader who does not see people, ID and phone numbers typed into the hazard's description and
     * the notes of its steps are masked.
     */
    async hazardsOf(scope: Jurisdiction, premisesId: number, on: string, withPeople: boolean, db: Sql | Tx = sql) {
      const [p] = await db`select p.id from premises p where p.id = ${premisesId} and ${inJurisdiction(db, scope)}`
      if (!p) return undefined
      return hazardsOfPremises([premisesId], on, withPeople, db)
    },

    /** The hazards of premises the caller has found inside the jurisdiction, as {@link hazardsOf} answers them. */
    hazardsOfPremises,

    async enforcementOf(scope: Jurisdiction, premisesId: number, db: Sql | Tx = sql) {
      const [p] = await db`select p.id from premises p where p.id = ${premisesId} and ${inJurisdiction(db, scope)}`
      if (!p) return undefined
      return [...await db<{ id: number; kind: EnforcementKind; occurredOn: string; count: number }[]>`
        select id, kind, occurred_on, count from enforcement_event where premises_id = ${premisesId} and voided_at is null order by occurred_on, id`]
    },
  }
}

export type InspectionRepository = ReturnType<typeof inspectionRepository>

declare module 'fastify' {
  interface FastifyInstance {
    inspection: InspectionRepository
  }
}

export default fp(async (app) => {
  app.decorate('inspection', inspectionRepository(app.db.sql))
}, { name: 'inspection', dependencies: ['db'] })
