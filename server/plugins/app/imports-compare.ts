import { pgArray } from '../../db/arrays.js'
import type { Sql } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { type EnforcementRecord, type HazardRecord, type LedgerKind, ledgerValueText as shown, type PremisesRecord, type ResidentRecord } from '../../domain/ledger.js'
import type { FieldChange } from '../../schemas/imports.js'
import type { Staged } from './imports-merge.js'

/**
 * The comparison of a ledger's checked rows with the database: which records exist already, whether
 * the user may change them, and which fields the file would change, shown as a ledger writes them.
 */

const sameMoment = (a: Date | null, b: string | null) => (a === null ? b === null : b !== null && a.getTime() === Date.parse(b))
/** A record already in the database: whether the user may change it, and what the file would change. */
export interface Existing { mine: boolean; diff: FieldChange[] }

/** Police stations a jurisdiction may record at: any, its own, or those reaching into its town. */
export function stationServes(db: Sql, scope: Jurisdiction) {
  switch (scope.kind) {
    case 'district': return db`true`
    case 'police_station': return db`s.id = ${scope.id!}`
    case 'town': return db`exists (select 1 from admin_area t where t.id = ${scope.id!} and t.geom && s.geom
      and st_intersects(t.geom, s.geom) and not st_touches(t.geom, s.geom))`
  }
}

/** The premises a batch of residents or hazards belongs to, by ledger reference. */
export async function premisesByRef(db: Sql, scope: Jurisdiction, refs: string[]) {
  const rows = await db<{ externalRef: string; id: number; mine: boolean }[]>`
    select p.external_ref, p.id, ${inJurisdiction(db, scope)} as mine
    from premises p where p.external_ref = any(${pgArray(refs)}::text[])`
  return new Map(rows.map(r => [r.externalRef, r]))
}

/** The fields whose values differ, compared as stored and shown as a ledger writes them. */
function differences(pairs: [field: string, before: unknown, after: unknown, same?: boolean][]): FieldChange[] {
  return pairs.filter(([, a, b, same]) => !(same ?? (a ?? null) === (b ?? null)))
    .map(([field, a, b]) => ({ field, before: shown(field, a), after: shown(field, b) }))
}

/** What already exists for each reference of a batch, and what the file would change in it. */
export async function existingRecords(db: Sql, kind: LedgerKind, scope: Jurisdiction, batch: Staged[]): Promise<Map<string, Existing>> {
  const refs = batch.map(b => b.record.ref)
  const out = new Map<string, Existing>()
  if (kind === 'premises') {
    const rows = await db<(Omit<PremisesRecord, 'ref'> & { externalRef: string; mine: boolean })[]>`
      select p.external_ref, ${inJurisdiction(db, scope)} as mine, p.kind, p.address, st_x(p.geom) as lon, st_y(p.geom) as lat,
             p.rooms_let, p.beds_let, p.occupants, p.owner_name, p.owner_phone, p.second_landlord_name, p.second_landlord_phone,
             p.second_landlord_collected_on, p.statement_signed_on, p.lease_filed_on, p.found_on, p.registered_on, p.deregistered_on
      from premises p where p.external_ref = any(${pgArray(refs)}::text[])`
    const byRef = new Map(batch.map(b => [b.record.ref, b.record as PremisesRecord]))
    for (const r of rows) {
      const f = byRef.get(r.externalRef)!
      const diff = differences([
        ...(['kind', 'address'] as const).map(k => [k, r[k], f[k]] as [string, unknown, unknown]),
        ['lon', r.lon, f.lon, Math.abs(r.lon - f.lon) < 1e-9], ['lat', r.lat, f.lat, Math.abs(r.lat - f.lat) < 1e-9],
        ...(['roomsLet', 'bedsLet', 'occupants', 'ownerName', 'ownerPhone', 'secondLandlordName', 'secondLandlordPhone', 'secondLandlordCollectedOn',
          'statementSignedOn', 'leaseFiledOn', 'foundOn', 'registeredOn', 'deregisteredOn'] as const).map(k => [k, r[k], f[k]] as [string, unknown, unknown]),
      ])
      out.set(r.externalRef, { mine: r.mine, diff })
    }
  }
  else if (kind === 'residents') {
    const rows = await db<{ externalRef: string; mine: boolean; premisesId: number; premisesRef: string | null; name: string; idType: string; phone: string | null
      floating: boolean; movedInOn: string; movedOutOn: string | null; registeredOn: string | null; deregisteredOn: string | null; specialCategories: string[] }[]>`
      select r.external_ref, ${inJurisdiction(db, scope)} as mine, r.premises_id, p.external_ref as premises_ref, r.name, r.id_type, r.phone, r.floating,
             r.moved_in_on, r.moved_out_on, r.registered_on, r.deregistered_on,
             coalesce((select array_agg(f.category order by f.category) from resident_flag f where f.resident_id = r.id and f.cleared_on is null), '{}') as special_categories
      from resident r join premises p on p.id = r.premises_id where r.external_ref = any(${pgArray(refs)}::text[])`
    const byRef = new Map(batch.map(b => [b.record.ref, b]))
    for (const r of rows) {
      const b = byRef.get(r.externalRef)!
      const f = b.record as ResidentRecord
      const diff = differences([
        ['premisesRef', r.premisesRef, f.premisesRef, r.premisesId === b.premisesId],
        ...(['name', 'idType', 'phone', 'floating', 'movedInOn', 'movedOutOn', 'registeredOn', 'deregisteredOn'] as const)
          .map(k => [k, r[k], f[k]] as [string, unknown, unknown]),
        ['specialCategories', r.specialCategories, f.specialCategories, f.specialCategories === undefined || f.specialCategories.join() === r.specialCategories.join()],
      ])
      out.set(r.externalRef, { mine: r.mine, diff })
    }
  }
  else if (kind === 'enforcement') {
    const rows = await db<{ externalRef: string; mine: boolean; premisesId: number | null; premisesRef: string | null; enforcementKind: string; occurredOn: string
      count: number; caseNumber: string | null; policeStationId: number | null; note: string | null }[]>`
      select e.external_ref, ${inJurisdiction(db, scope, 'e')} as mine, e.premises_id, p.external_ref as premises_ref, e.kind as enforcement_kind,
             e.occurred_on, e.count, e.case_number, e.police_station_id, e.note
      from enforcement_event e left join premises p on p.id = e.premises_id where e.external_ref = any(${pgArray(refs)}::text[])`
    const byRef = new Map(batch.map(b => [b.record.ref, b]))
    for (const r of rows) {
      const b = byRef.get(r.externalRef)!
      const f = b.record as EnforcementRecord
      const diff = differences([
        ['premisesRef', r.premisesRef, f.premisesRef, r.premisesId === (b.premisesId || null)],
        ['enforcementKind', r.enforcementKind, f.enforcementKind], ['occurredOn', r.occurredOn, f.occurredOn], ['count', r.count, f.count],
        ['caseNumber', r.caseNumber, f.caseNumber], ['note', r.note, f.note],
        ['policeStation', r.policeStationId, f.policeStationId, f.premisesRef !== null || r.policeStationId === f.policeStationId],
      ])
      out.set(r.externalRef, { mine: r.mine, diff })
    }
  }
  else {
    const rows = await db<{ externalRef: string; mine: boolean; premisesId: number; premisesRef: string | null; itemCode: string; otherText: string | null; severity: string
      departmentCode: string; foundAt: Date; referredAt: Date | null; rectifiedAt: Date | null; verifiedAt: Date | null; deadline: string | null }[]>`
      select h.external_ref, ${inJurisdiction(db, scope)} as mine, h.premises_id, p.external_ref as premises_ref, h.item_code, h.other_text, h.severity,
             h.department_code, h.found_at, h.referred_at, h.rectified_at, h.verified_at, h.deadline
      from hazard h join premises p on p.id = h.premises_id where h.external_ref = any(${pgArray(refs)}::text[])`
    const byRef = new Map(batch.map(b => [b.record.ref, b]))
    for (const r of rows) {
      const b = byRef.get(r.externalRef)!
      const f = b.record as HazardRecord
      const diff = differences([
        ['premisesRef', r.premisesRef, f.premisesRef, r.premisesId === b.premisesId],
        ['item', r.itemCode, f.itemCode], ['otherText', r.otherText, f.otherText], ['severity', r.severity, f.severity],
        ['department', r.departmentCode, f.departmentCode],
        ['foundAt', r.foundAt, f.foundAt, sameMoment(r.foundAt, f.foundAt)], ['referredAt', r.referredAt, f.referredAt, sameMoment(r.referredAt, f.referredAt)],
        ['rectifiedAt', r.rectifiedAt, f.rectifiedAt, sameMoment(r.rectifiedAt, f.rectifiedAt)],
        ['verifiedAt', r.verifiedAt, f.verifiedAt, sameMoment(r.verifiedAt, f.verifiedAt)], ['deadline', r.deadline, f.deadline],
      ])
      out.set(r.externalRef, { mine: r.mine, diff })
    }
  }
  return out
}
