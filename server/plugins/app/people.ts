import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import type { FlagCategory } from '../../domain/lists.js'
import { HttpError } from '../../lib/http-errors.js'
import { normaliseIdNumber } from '../../domain/id-number.js'
import { decryptIdNumber, hmacIdNumber, type PiiKeys } from '../../domain/pii.js'
import { maskPersonalText } from '../../domain/redact.js'
import type { PremisesDetail } from '../../schemas/people.js'

export interface ResidentView {
  id: number
  premisesId: number
  name: string
  idType: string
  idNumberMasked: string
  phone: string | null
  floating: boolean
  movedInOn: string
  movedOutOn: string | null
  registeredOn: string | null
  deregisteredOn: string | null
  /** Present only for roles allowed to see the special categories. */
  specialCategories?: string[]
}

/** One flag of a resident, in force from flaggedOn until the day before clearedOn. */
export interface FlagView {
  id: number
  category: FlagCategory
  flaggedOn: string
  clearedOn: string | null
  reason: string | null
  clearedReason: string | null
  setBy: string | null
  clearedBy: string | null
}

/**
 * Premises facts and the people in them. Every query carries the user's jurisdiction in its WHERE
 * clause; what a role may see of people is decided by the caller and passed in as flags, and
 * fields a role may not see are never selected. Free text a role without people reads (the
 * address) has ID and phone numbers typed into it masked.
 */
export function peopleRepository(sql: Sql, keys: PiiKeys) {
  /** Premises facts as the panel shows them; `where` selects them (with the jurisdiction) and may order and limit. */
  async function premisesDetails(db: Sql | Tx, where: ReturnType<Sql>, withPeople: boolean): Promise<PremisesDetail[]> {
    const rows = await db<PremisesDetail[]>`
      select p.id, p.kind, p.address, st_x(p.geom) as lon, st_y(p.geom) as lat,
             p.town_id, t.name_zh as town_name_zh, t.name_en as town_name_en,
             p.community_id, c.name_zh as community_name_zh, c.name_en as community_name_en,
             p.grid_id, p.police_station_id, s.name_zh as police_station_name_zh, s.name_en as police_station_name_en,
             p.rooms_let, p.beds_let, p.occupants, p.meets_rule,
             p.second_landlord_name is not null as has_second_landlord, p.second_landlord_collected_on,
             p.statement_signed_on, p.lease_filed_on, p.found_on, p.registered_on, p.deregistered_on,
             p.hazard_count, p.open_count, p.open_major_count, p.open_min_deadline,
             (select count(*)::int from resident r where r.premises_id = p.id and r.moved_out_on is null) as residents_living,
             (select count(*)::int from resident r where r.premises_id = p.id and r.moved_out_on is null and r.registered_on is not null) as residents_registered
             ${withPeople ? db`, p.owner_name, p.owner_phone, p.second_landlord_name, p.second_landlord_phone` : db``}
      from premises p
      join admin_area t on t.id = p.town_id
      left join admin_area c on c.id = p.community_id
      left join police_station s on s.id = p.police_station_id
      where ${where}`
    if (!withPeople) for (const row of rows) row.address = maskPersonalText(row.address)
    return rows
  }

  return {
    async premises(scope: Jurisdiction, id: number, withPeople: boolean, db: Sql | Tx = sql) {
      const [row] = await premisesDetails(db, db`p.id = ${id} and ${inJurisdiction(db, scope)}`, withPeople)
      return row
    },

    /**
     * Premises in a box (WGS-84) inside the jurisdiction, as GET /api/premises/:id answers each, by
     * id, at most `limit` (the offline package of an inspector's area).
     */
    async premisesInBox(scope: Jurisdiction, box: [number, number, number, number], withPeople: boolean, limit: number, db: Sql | Tx = sql) {
      return premisesDetails(db, db`p.geom && st_makeenvelope(${box[0]}, ${box[1]}, ${box[2]}, ${box[3]}, 4326) and ${inJurisdiction(db, scope)}
        order by p.id limit ${limit}`, withPeople)
    },

    async residentsOf(scope: Jurisdiction, premisesId: number, withSpecial: boolean, db: Sql | Tx = sql): Promise<ResidentView[] | undefined> {
      const [p] = await db`select p.id from premises p where p.id = ${premisesId} and ${inJurisdiction(db, scope)}`
      if (!p) return undefined
      return [...await db<ResidentView[]>`
        select r.id, r.premises_id, r.name, r.id_type, r.id_number_masked, r.phone, r.floating,
               r.moved_in_on, r.moved_out_on, r.registered_on, r.deregistered_on
               ${withSpecial ? db`, coalesce((select array_agg(f.category order by f.category) from resident_flag f
                   where f.resident_id = r.id and f.cleared_on is null), '{}') as special_categories` : db``}
        from resident r
        where r.premises_id = ${premisesId}
        order by r.moved_out_on nulls first, r.id`]
    },

    /** The full ID number of a resident inside the jurisdiction, or undefined when there is none. */
    async revealIdNumber(scope: Jurisdiction, residentId: number, db: Sql | Tx = sql): Promise<{ idNumber: string; premisesId: number } | undefined> {
      const [r] = await db<{ idNumberCipher: Uint8Array; premisesId: number }[]>`
        select r.id_number_cipher, r.premises_id from resident r join premises p on p.id = r.premises_id
        where r.id = ${residentId} and ${inJurisdiction(db, scope)}`
      return r ? { idNumber: decryptIdNumber(keys, r.idNumberCipher), premisesId: r.premisesId } : undefined
    },

    /**
     * A resident's flags (the special categories), current and past; undefined when the resident
     * is not in the jurisdiction. Only for roles that may see the special categories.
     */
    async flagsOf(db: Sql | Tx, scope: Jurisdiction, residentId: number): Promise<FlagView[] | undefined> {
      const [r] = await db`select r.id from resident r join premises p on p.id = r.premises_id where r.id = ${residentId} and ${inJurisdiction(db, scope)}`
      if (!r) return undefined
      return [...await db<FlagView[]>`
        select f.id, f.category, f.flagged_on, f.cleared_on, f.reason, f.cleared_reason, a.username as set_by, b.username as cleared_by
        from resident_flag f left join app_user a on a.id = f.set_by left join app_user b on b.id = f.cleared_by
        where f.resident_id = ${residentId} order by f.flagged_on desc, f.id desc`]
    },

    /**
     * Sets a flag from a day. Refused while the same flag is in force, and from a day before it
     * was last cleared (the history has no overlaps).
     */
    async setFlag(tx: Tx, scope: Jurisdiction, residentId: number, userId: number, f: { category: FlagCategory; flaggedOn: string; reason: string }) {
      const flags = await this.flagsOf(tx, scope, residentId)
      if (!flags) return undefined
      const same = flags.filter(x => x.category === f.category)
      if (same.some(x => x.clearedOn === null)) {
        throw new HttpError(409, 'this flag is already set on the resident; clear it first', 'flag-set', '该人员已有此标记，请先解除')
      }
      const lastCleared = same.map(x => x.clearedOn!).sort().pop()
      if (lastCleared && f.flaggedOn < lastCleared) {
        throw new HttpError(400, `the flag was cleared on ${lastCleared}; it can be set again from that day on`, 'flag-overlap',
          `此标记已于 ${lastCleared} 解除，只能自该日起重新标记`)
      }
      const [row] = await tx<{ id: number }[]>`
        insert into resident_flag (resident_id, category, flagged_on, reason, set_by)
        values (${residentId}, ${f.category}, ${f.flaggedOn}, ${f.reason.trim()}, ${userId}) returning id`
      return row!.id
    },

    /** Clears a flag in force from a day (the first day it no longer holds). */
    async clearFlag(tx: Tx, scope: Jurisdiction, residentId: number, userId: number, f: { category: FlagCategory; clearedOn: string; reason: string }) {
      const flags = await this.flagsOf(tx, scope, residentId)
      if (!flags) return undefined
      const open = flags.find(x => x.category === f.category && x.clearedOn === null)
      if (!open) throw new HttpError(409, 'this flag is not set on the resident', 'flag-not-set', '该人员没有此标记')
      if (f.clearedOn <= open.flaggedOn) {
        throw new HttpError(400, `the flag holds from ${open.flaggedOn}; it is cleared on a later day`, 'flag-overlap', `此标记自 ${open.flaggedOn} 起生效，解除日期须晚于该日`)
      }
      await tx`update resident_flag set cleared_on = ${f.clearedOn}, cleared_reason = ${f.reason.trim()}, cleared_by = ${userId} where id = ${open.id}`
      return open.id
    },

    /** Residents with exactly this ID number (found by its HMAC; nothing is decrypted). */
    async findByIdNumber(scope: Jurisdiction, idNumber: string, withSpecial: boolean, db: Sql | Tx = sql): Promise<ResidentView[]> {
      return [...await db<ResidentView[]>`
        select r.id, r.premises_id, r.name, r.id_type, r.id_number_masked, r.phone, r.floating,
               r.moved_in_on, r.moved_out_on, r.registered_on, r.deregistered_on
               ${withSpecial ? db`, coalesce((select array_agg(f.category order by f.category) from resident_flag f
                   where f.resident_id = r.id and f.cleared_on is null), '{}') as special_categories` : db``}
        from resident r join premises p on p.id = r.premises_id
        where r.id_number_hmac = ${hmacIdNumber(keys, normaliseIdNumber(idNumber))} and ${inJurisdiction(db, scope)}
        order by r.id`]
    },
  }
}

export type PeopleRepository = ReturnType<typeof peopleRepository>

declare module 'fastify' {
  interface FastifyInstance {
    people: PeopleRepository
  }
}

export default fp<{ keys: PiiKeys }>(async (app, opts) => {
  app.decorate('people', peopleRepository(app.db.sql, opts.keys))
}, { name: 'people', dependencies: ['db'] })
