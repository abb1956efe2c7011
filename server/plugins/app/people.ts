import fp from 'fastify-plugin'
import type { Sql } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
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

/**
 * Premises facts and the people in them. Every query carries the user's jurisdiction in its WHERE
 * clause; what a role may see of people is decided by the caller and passed in as flags, and
 * fields a role may not see are never selected. Free text a role without people reads (the
 * address) has ID and phone numbers typed into it masked.
 */
export function peopleRepository(sql: Sql, keys: PiiKeys) {
  /** Premises facts as the panel shows them; `where` selects them (with the jurisdiction) and may order and limit. */
  async function premisesDetails(where: ReturnType<Sql>, withPeople: boolean): Promise<PremisesDetail[]> {
    const rows = await sql<PremisesDetail[]>`
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
             ${withPeople ? sql`, p.owner_name, p.owner_phone, p.second_landlord_name, p.second_landlord_phone` : sql``}
      from premises p
      join admin_area t on t.id = p.town_id
      left join admin_area c on c.id = p.community_id
      left join police_station s on s.id = p.police_station_id
      where ${where}`
    if (!withPeople) for (const row of rows) row.address = maskPersonalText(row.address)
    return rows
  }

  return {
    async premises(scope: Jurisdiction, id: number, withPeople: boolean) {
      const [row] = await premisesDetails(sql`p.id = ${id} and ${inJurisdiction(sql, scope)}`, withPeople)
      return row
    },

    /**
     * Premises in a box (WGS-84) inside the jurisdiction, as GET /api/premises/:id answers each, by
     * id, at most `limit` (the offline package of an inspector's area).
     */
    async premisesInBox(scope: Jurisdiction, box: [number, number, number, number], withPeople: boolean, limit: number) {
      return premisesDetails(sql`p.geom && st_makeenvelope(${box[0]}, ${box[1]}, ${box[2]}, ${box[3]}, 4326) and ${inJurisdiction(sql, scope)}
        order by p.id limit ${limit}`, withPeople)
    },

    async residentsOf(scope: Jurisdiction, premisesId: number, withSpecial: boolean): Promise<ResidentView[] | undefined> {
      const [p] = await sql`select p.id from premises p where p.id = ${premisesId} and ${inJurisdiction(sql, scope)}`
      if (!p) return undefined
      return [...await sql<ResidentView[]>`
        select r.id, r.premises_id, r.name, r.id_type, r.id_number_masked, r.phone, r.floating,
               r.moved_in_on, r.moved_out_on, r.registered_on, r.deregistered_on
               ${withSpecial ? sql`, coalesce((select array_agg(f.category order by f.category) from resident_flag f
                   where f.resident_id = r.id and f.cleared_on is null), '{}') as special_categories` : sql``}
        from resident r
        where r.premises_id = ${premisesId}
        order by r.moved_out_on nulls first, r.id`]
    },

    /** The full ID number of a resident inside the jurisdiction, or undefined when there is none. */
    async revealIdNumber(scope: Jurisdiction, residentId: number): Promise<{ idNumber: string; premisesId: number } | undefined> {
      const [r] = await sql<{ idNumberCipher: Uint8Array; premisesId: number }[]>`
        select r.id_number_cipher, r.premises_id from resident r join premises p on p.id = r.premises_id
        where r.id = ${residentId} and ${inJurisdiction(sql, scope)}`
      return r ? { idNumber: decryptIdNumber(keys, r.idNumberCipher), premisesId: r.premisesId } : undefined
    },

    /** Residents with exactly this ID number (found by its HMAC; nothing is decrypted). */
    async findByIdNumber(scope: Jurisdiction, idNumber: string, withSpecial: boolean): Promise<ResidentView[]> {
      return [...await sql<ResidentView[]>`
        select r.id, r.premises_id, r.name, r.id_type, r.id_number_masked, r.phone, r.floating,
               r.moved_in_on, r.moved_out_on, r.registered_on, r.deregistered_on
               ${withSpecial ? sql`, coalesce((select array_agg(f.category order by f.category) from resident_flag f
                   where f.resident_id = r.id and f.cleared_on is null), '{}') as special_categories` : sql``}
        from resident r join premises p on p.id = r.premises_id
        where r.id_number_hmac = ${hmacIdNumber(keys, normaliseIdNumber(idNumber))} and ${inJurisdiction(sql, scope)}
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
