import type { PendingQuery, Row } from 'postgres'
import { pgArray } from '../../db/arrays.js'
import { setBulkLoad } from '../../db/bulk-load.js'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import { maskIdNumber } from '../../domain/id-number.js'
import type { EnforcementRecord, HazardRecord, LedgerKind, LedgerRecord, PremisesRecord, ResidentRecord } from '../../domain/ledger.js'
import { encryptIdNumber, hmacIdNumber, type PiiKeys } from '../../domain/pii.js'
import { conflict } from '../../lib/http-errors.js'
import type { CoordinateSystem } from '../../domain/coords.js'
import { today as todayInDistrict } from '../../domain/calendar.js'
import { auditRepository } from './audit.js'
import type { Job } from './imports-state.js'
import type { UploadStore } from './imports-uploads.js'

/**
 * How a ledger import writes: staged, then merged.
 *
 * A commit first stages every checked row in `import_stage_*` (migration 014), one batch per
 * statement, with everything slow done there: each point's town, community, grid and police
 * station, ID numbers encrypted. No transaction spans the batches, so between two of them other
 * requests get the connection (on the embedded database the app has only one).
 *
 * Then one transaction merges the staged rows into premises, residents or hazards: it locks the
 * rows whose ledger refs exist, updates them in one statement, inserts the rest in another, and
 * marks the job committed: all of it, or (on any error, or if the process dies) none of it. The
 * staged rows are deleted after it (a committed job's are never merged again, and the sweep takes
 * any left behind), which keeps that work out of the transaction. A merge of up to
 * `bulkRows` rows leaves the derived data to the row triggers. A larger one switches them off for
 * its transaction (`setBulkLoad`) and does what they do set-wise, for the rows it wrote only: the
 * rows it replaces are locked and kept first, so every daily change, tile cell and summary is
 * adjusted by (new - old) with the rules the triggers use (`premises_delta_rows`,
 * `resident_delta_rows`, `hazard_delta_rows`, `premises_cell_x/y`, `refresh_hazard_summaries`).
 * Nothing is rebuilt from the whole table, so the merge costs what the file changes, and other
 * writers' own triggers may add to the same change tables meanwhile.
 */

/** A checked row: its line in the file, what it says, and (residents, hazards) its premises. */
export interface Staged {
  line: number
  record: LedgerRecord
  premisesId?: number
}

/** The job a merge writes for. */
export interface MergeJob {
  id: string
  kind: LedgerKind
  userId: number
  scope: Jurisdiction
}

type Fragment = PendingQuery<Row[]>

const col = <T>(rows: Staged[], f: (r: T, s: Staged) => string | number | boolean | null) => pgArray(rows.map(s => f(s.record as T, s)))

export function importStaging(sql: Sql, keys: PiiKeys) {
  // -------------------------------------------------------------------------------------------
  // Staging: a batch per statement, no transaction around them.
  // -------------------------------------------------------------------------------------------

  /** Stages a batch of checked rows, and says the job is alive. */
  async function stage(kind: LedgerKind, jobId: string, rows: Staged[], town: number | null = null, db: Sql = sql) {
    const lines = col(rows, (_r, s) => s.line)
    if (kind === 'premises') {
      type R = PremisesRecord
      await db`
        with beat as (update import_job set heartbeat_at = now() where id = ${jobId})
        insert into import_stage_premises (job_id, line, external_ref, kind, address, geom, town_id, community_id, grid_id, police_station_id,
          rooms_let, beds_let, occupants, owner_name, owner_phone, second_landlord_name, second_landlord_phone, second_landlord_collected_on,
          statement_signed_on, lease_filed_on, found_on, registered_on, deregistered_on)
        select ${jobId}::uuid, t.line, t.ref, t.kind, t.address, g.geom, a.town_id, a.community_id, a.grid_id, a.police_station_id,
          t.rooms, t.beds, t.occupants, t.owner_name, t.owner_phone, t.sl_name, t.sl_phone, t.sl_collected, t.statement, t.lease, t.found, t.registered, t.deregistered
        from unnest(${lines}::int[], ${col<R>(rows, r => r.ref)}::text[], ${col<R>(rows, r => r.kind)}::text[], ${col<R>(rows, r => r.address)}::text[],
          ${col<R>(rows, r => r.lon)}::float8[], ${col<R>(rows, r => r.lat)}::float8[], ${col<R>(rows, r => r.roomsLet)}::int[],
          ${col<R>(rows, r => r.bedsLet)}::int[], ${col<R>(rows, r => r.occupants)}::int[], ${col<R>(rows, r => r.ownerName)}::text[],
          ${col<R>(rows, r => r.ownerPhone)}::text[], ${col<R>(rows, r => r.secondLandlordName)}::text[], ${col<R>(rows, r => r.secondLandlordPhone)}::text[],
          ${col<R>(rows, r => r.secondLandlordCollectedOn)}::date[], ${col<R>(rows, r => r.statementSignedOn)}::date[], ${col<R>(rows, r => r.leaseFiledOn)}::date[],
          ${col<R>(rows, r => r.foundOn)}::date[], ${col<R>(rows, r => r.registeredOn)}::date[], ${col<R>(rows, r => r.deregisteredOn)}::date[])
          as t(line, ref, kind, address, lon, lat, rooms, beds, occupants, owner_name, owner_phone, sl_name, sl_phone, sl_collected, statement, lease, found, registered, deregistered)
        cross join lateral (select st_setsrid(st_makepoint(t.lon, t.lat), 4326) as geom) g
        cross join lateral premises_areas(g.geom) a`
    }
    else if (kind === 'residents') {
      type R = ResidentRecord
      const cipher = rows.map(s => encryptIdNumber(keys, (s.record as R).idNumber).toString('base64'))
      const hmac = rows.map(s => hmacIdNumber(keys, (s.record as R).idNumber).toString('base64'))
      await db`
        with beat as (update import_job set heartbeat_at = now() where id = ${jobId})
        insert into import_stage_resident (job_id, line, external_ref, premises_id, name, id_type, id_number_cipher, id_number_hmac, id_number_masked,
          phone, floating, moved_in_on, moved_out_on, registered_on, deregistered_on, special_categories, flagged_on)
        select ${jobId}::uuid, t.line, t.ref, t.premises, t.name, t.id_type, decode(t.cipher, 'base64'), decode(t.hmac, 'base64'), t.masked,
          t.phone, t.floating, t.moved_in, t.moved_out, t.registered, t.deregistered,
          case when t.cats is not null then string_to_array(t.cats, ',') end, t.flagged
        from unnest(${lines}::int[], ${col<R>(rows, r => r.ref)}::text[], ${col<R>(rows, (_r, s) => s.premisesId!)}::bigint[], ${col<R>(rows, r => r.name)}::text[],
          ${col<R>(rows, r => r.idType)}::text[], ${pgArray(cipher)}::text[], ${pgArray(hmac)}::text[], ${col<R>(rows, r => maskIdNumber(r.idNumber))}::text[],
          ${col<R>(rows, r => r.phone)}::text[], ${col<R>(rows, r => r.floating)}::bool[], ${col<R>(rows, r => r.movedInOn)}::date[],
          ${col<R>(rows, r => r.movedOutOn)}::date[], ${col<R>(rows, r => r.registeredOn)}::date[], ${col<R>(rows, r => r.deregisteredOn)}::date[],
          ${col<R>(rows, r => (r.specialCategories === undefined ? null : r.specialCategories.join(',')))}::text[], ${col<R>(rows, r => r.flaggedOn ?? null)}::date[])
          as t(line, ref, premises, name, id_type, cipher, hmac, masked, phone, floating, moved_in, moved_out, registered, deregistered, cats, flagged)`
    }
    else if (kind === 'enforcement') {
      type R = EnforcementRecord
      await db`
        with beat as (update import_job set heartbeat_at = now() where id = ${jobId})
        insert into import_stage_enforcement (job_id, line, external_ref, kind, occurred_on, count, case_number, premises_id, police_station_id, town_id, note)
        select ${jobId}::uuid, t.line, t.ref, t.kind, t.day, t.count, t.case_no, t.premises, t.station, t.town, t.note
        from unnest(${lines}::int[], ${col<R>(rows, r => r.ref)}::text[], ${col<R>(rows, r => r.enforcementKind)}::text[], ${col<R>(rows, r => r.occurredOn)}::date[],
          ${col<R>(rows, r => r.count)}::int[], ${col<R>(rows, r => r.caseNumber)}::text[], ${col<R>(rows, (_r, s) => s.premisesId || null)}::bigint[],
          ${col<R>(rows, r => r.policeStationId)}::int[], ${col<R>(rows, () => town ?? null)}::int[], ${col<R>(rows, r => r.note)}::text[])
          as t(line, ref, kind, day, count, case_no, premises, station, town, note)`
    }
    else {
      type R = HazardRecord
      await db`
        with beat as (update import_job set heartbeat_at = now() where id = ${jobId})
        insert into import_stage_hazard (job_id, line, external_ref, premises_id, item_code, other_text, severity, status, department_code,
          found_at, referred_at, rectified_at, verified_at, deadline)
        select ${jobId}::uuid, t.line, t.ref, t.premises, t.item, t.other, t.severity, t.status, t.department, t.found, t.referred, t.rectified, t.verified, t.deadline
        from unnest(${lines}::int[], ${col<R>(rows, r => r.ref)}::text[], ${col<R>(rows, (_r, s) => s.premisesId!)}::bigint[], ${col<R>(rows, r => r.itemCode)}::text[],
          ${col<R>(rows, r => r.otherText)}::text[], ${col<R>(rows, r => r.severity)}::text[], ${col<R>(rows, r => r.status)}::text[],
          ${col<R>(rows, r => r.departmentCode)}::text[], ${col<R>(rows, r => r.foundAt)}::timestamptz[], ${col<R>(rows, r => r.referredAt)}::timestamptz[],
          ${col<R>(rows, r => r.rectifiedAt)}::timestamptz[], ${col<R>(rows, r => r.verifiedAt)}::timestamptz[], ${col<R>(rows, r => r.deadline)}::date[])
          as t(line, ref, premises, item, other, severity, status, department, found, referred, rectified, verified, deadline)`
    }
  }

  /** Forgets a job's staged rows (after its merge, or a commit that found problems or failed). */
  async function drop(jobId: string) {
    await sql`delete from import_stage_premises where job_id = ${jobId}`
    await sql`delete from import_stage_resident where job_id = ${jobId}`
    await sql`delete from import_stage_hazard where job_id = ${jobId}`
    await sql`delete from import_stage_enforcement where job_id = ${jobId}`
  }

  /**
   * Staged rows nobody will merge: those of jobs no longer committing, and of commits whose
   * heartbeat stopped `staleMinutes` ago (their process died; `live` are this process's own).
   * Returns the jobs found dead, now marked failed.
   */
  async function sweep(live: string[], staleMinutes: number): Promise<string[]> {
    const dead = await sql<{ id: string }[]>`
      update import_job set status = 'failed', summary = ${sql.json({ message: 'the commit was interrupted (the server stopped): nothing was written' })}
      where status = 'committing' and coalesce(heartbeat_at, created_at) < now() - make_interval(mins => ${staleMinutes})
        and not (id = any(${pgArray(live)}::uuid[]))
      returning id`
    for (const t of ['import_stage_premises', 'import_stage_resident', 'import_stage_hazard', 'import_stage_enforcement']) {
      await sql`delete from ${sql(t)} s where not exists (select 1 from import_job j where j.id = s.job_id and j.status = 'committing')`
    }
    return dead.map(d => d.id)
  }

  // -------------------------------------------------------------------------------------------
  // Merging: one transaction.
  // -------------------------------------------------------------------------------------------

  /**
   * Writes the staged rows of a job into the shared tables, inside the caller's transaction.
   * `bulk`: switch the row triggers off and keep derived data set-wise (see the module's note).
   */
  async function merge(tx: Tx, job: MergeJob, bulk: boolean) {
    // The switch first: its lock before any weaker one, so that no writer holds what it waits for.
    if (bulk) await setBulkLoad(tx, true)
    if (job.kind === 'premises') await mergePremises(tx, job, bulk)
    else if (job.kind === 'residents') {
      await mergeResidents(tx, job, bulk)
      await mergeFlags(tx, job)
    }
    else if (job.kind === 'enforcement') await mergeEnforcement(tx, job)
    else await mergeHazards(tx, job, bulk)
    if (bulk && job.kind !== 'enforcement') await keyAreaCellChanges(tx, job.kind)
    if (bulk) {
      if (job.kind !== 'residents') await tx`update data_version set version = version + 1`
      await setBulkLoad(tx, false)
    }
  }

  /**
   * The key-area cells' daily changes of every premises the merge wrote, or whose residents or
   * hazards it wrote, counted again from their rows: what premises_cell_day_sync does per statement.
   */
  async function keyAreaCellChanges(tx: Tx, kind: 'premises' | 'residents' | 'hazards') {
    const ids = kind === 'premises'
      ? tx`select id from import_change`
      : tx`select (old_row).premises_id from import_change where existed union select (new_row).premises_id from import_change`
    await tx`select refresh_premises_cell_days(array(${ids}))`
  }

  /** Refuses the merge when a record it would change has left the user's jurisdiction since the check. */
  async function refuseOutside(tx: Tx) {
    const [n] = await tx<{ n: number }[]>`select count(*)::int as n from import_old where not mine`
    if (n!.n > 0) {
      throw conflict(`${n!.n} record(s) of the file were moved out of your jurisdiction since the check; nothing was written`,
        `自检查以来，文件中有 ${n!.n} 条记录已不在您的管辖范围内；未写入任何数据`)
    }
  }

  async function mergePremises(tx: Tx, job: MergeJob, bulk: boolean) {
    // The rows the file replaces, locked until the commit and kept as they were.
    await tx`create temporary table import_old (id bigint primary key, ref text not null unique, mine boolean not null, old_row premises not null) on commit drop`
    await tx`
      insert into import_old
      select p.id, p.external_ref, ${inJurisdiction(sql, job.scope)}, p
      from premises p join import_stage_premises s on s.external_ref = p.external_ref
      where s.job_id = ${job.id} and p.external_ref is not null
      order by p.id for no key update of p`
    await refuseOutside(tx)
    // What each written row was and is now, straight from the writes (no second pass over premises).
    await tx`create temporary table import_change (id bigint primary key, existed boolean not null, old_row premises, new_row premises not null) on commit drop`
    await tx`
      with up as (
        update premises p set
          kind = s.kind, address = s.address, geom = s.geom, town_id = s.town_id, community_id = s.community_id, grid_id = s.grid_id,
          police_station_id = s.police_station_id, rooms_let = s.rooms_let, beds_let = s.beds_let, occupants = s.occupants,
          owner_name = s.owner_name, owner_phone = s.owner_phone, second_landlord_name = s.second_landlord_name,
          second_landlord_phone = s.second_landlord_phone, second_landlord_collected_on = s.second_landlord_collected_on,
          statement_signed_on = s.statement_signed_on, lease_filed_on = s.lease_filed_on, found_on = s.found_on,
          registered_on = s.registered_on, deregistered_on = s.deregistered_on, updated_at = now()
        from import_stage_premises s join import_old o on o.ref = s.external_ref
        where s.job_id = ${job.id} and p.id = o.id
        returning p.id, p as new_row)
      insert into import_change select u.id, true, o.old_row, u.new_row from up u join import_old o on o.id = u.id`
    // A plain insert for the rest: no row of theirs existed when the others were locked. One that
    // someone inserted since breaks the unique ref, and the merge runs again.
    await tx`
      with ins as (
        insert into premises as p (external_ref, kind, address, geom, town_id, community_id, grid_id, police_station_id, rooms_let, beds_let, occupants,
          owner_name, owner_phone, second_landlord_name, second_landlord_phone, second_landlord_collected_on, statement_signed_on, lease_filed_on,
          found_on, registered_on, deregistered_on)
        select external_ref, kind, address, geom, town_id, community_id, grid_id, police_station_id, rooms_let, beds_let, occupants,
          owner_name, owner_phone, second_landlord_name, second_landlord_phone, second_landlord_collected_on, statement_signed_on, lease_filed_on,
          found_on, registered_on, deregistered_on
        from import_stage_premises s where s.job_id = ${job.id} and not exists (select 1 from import_old o where o.ref = s.external_ref)
        order by s.line
        returning p.id, p as new_row)
      insert into import_change select id, false, null, new_row from ins`
    if (!bulk) return

    await premisesCellChanges(tx)
    // A premises' own daily changes; and where what its residents' and hazards' changes depend on
    // moved (town, station, kind, the rule, its dates), theirs too: as measure_premises_trg does.
    const moved = tx`((c.old_row).town_id, (c.old_row).police_station_id, (c.old_row).kind, (c.old_row).meets_rule, (c.old_row).found_on,
        (c.old_row).deregistered_on, (c.old_row).group_rental_since)
      is distinct from ((c.new_row).town_id, (c.new_row).police_station_id, (c.new_row).kind, (c.new_row).meets_rule, (c.new_row).found_on,
        (c.new_row).deregistered_on, (c.new_row).group_rental_since)`
    const own = tx`(${moved} or ((c.old_row).registered_on, (c.old_row).statement_signed_on, (c.old_row).second_landlord_collected_on)
      is distinct from ((c.new_row).registered_on, (c.new_row).statement_signed_on, (c.new_row).second_landlord_collected_on))`
    await premisesDeltas(tx, tx`
      select c.new_row as p, 1 as sign from import_change c where not c.existed or ${own}
      union all select c.old_row, -1 from import_change c where c.existed and ${own}`)
    await residentDeltas(tx, tx`
      select c.new_row as p, r, 1 as sign from import_change c join resident r on r.premises_id = c.id where c.existed and ${moved}
      union all select c.old_row, r, -1 from import_change c join resident r on r.premises_id = c.id where c.existed and ${moved}`)
    await hazardDeltas(tx, tx`
      select c.new_row as p, h, 1 as sign from import_change c join hazard h on h.premises_id = c.id where c.existed and ${moved}
      union all select c.old_row, h, -1 from import_change c join hazard h on h.premises_id = c.id where c.existed and ${moved}`)
  }

  async function mergeResidents(tx: Tx, job: MergeJob, bulk: boolean) {
    await tx`create temporary table import_old (id bigint primary key, ref text not null unique, mine boolean not null, old_row resident not null,
      premises premises not null) on commit drop`
    await tx`
      insert into import_old
      select r.id, r.external_ref, ${inJurisdiction(sql, job.scope)}, r, p
      from resident r join import_stage_resident s on s.external_ref = r.external_ref join premises p on p.id = r.premises_id
      where s.job_id = ${job.id} and r.external_ref is not null
      order by r.id for no key update of r`
    await refuseOutside(tx)
    await refuseMovedPremises(tx, job, tx`import_stage_resident`)
    await tx`create temporary table import_change (id bigint primary key, existed boolean not null, old_row resident, new_row resident not null,
      old_premises premises, new_premises premises not null) on commit drop`
    // The ref holds the ID number's HMAC: an existing resident keeps its number, the rest may change.
    await tx`
      with up as (
        update resident r set
          premises_id = s.premises_id, name = s.name, id_type = s.id_type, phone = s.phone, floating = s.floating, moved_in_on = s.moved_in_on,
          moved_out_on = s.moved_out_on, registered_on = s.registered_on, deregistered_on = s.deregistered_on
        from import_stage_resident s join import_old o on o.ref = s.external_ref
        where s.job_id = ${job.id} and r.id = o.id
        returning r.id, r as new_row)
      insert into import_change
      select u.id, true, o.old_row, u.new_row, o.premises, p from up u join import_old o on o.id = u.id join premises p on p.id = (u.new_row).premises_id`
    await tx`
      with ins as (
        insert into resident as r (external_ref, premises_id, name, id_type, id_number_cipher, id_number_hmac, id_number_masked, phone, floating,
          moved_in_on, moved_out_on, registered_on, deregistered_on)
        select external_ref, premises_id, name, id_type, id_number_cipher, id_number_hmac, id_number_masked, phone, floating,
          moved_in_on, moved_out_on, registered_on, deregistered_on
        from import_stage_resident s where s.job_id = ${job.id} and not exists (select 1 from import_old o where o.ref = s.external_ref)
        order by s.line
        returning r.id, r as new_row)
      insert into import_change select i.id, false, null, i.new_row, null, p from ins i join premises p on p.id = (i.new_row).premises_id`
    if (!bulk) return

    // A resident counts under its premises: take away what the old row brought, add the new one.
    const counts = tx`((c.old_row).premises_id, (c.old_row).floating, (c.old_row).moved_in_on, (c.old_row).moved_out_on, (c.old_row).registered_on, (c.old_row).deregistered_on)
      is distinct from ((c.new_row).premises_id, (c.new_row).floating, (c.new_row).moved_in_on, (c.new_row).moved_out_on, (c.new_row).registered_on, (c.new_row).deregistered_on)`
    await residentDeltas(tx, tx`
      select c.new_premises as p, c.new_row as r, 1 as sign from import_change c where not c.existed or ${counts}
      union all select c.old_premises, c.old_row, -1 from import_change c where c.existed and ${counts}`)
  }

  /**
   * The residents ledger's special categories, when the column was mapped: the flags a row names are
   * set from its day (unless in force already); a person's open flags it no longer names are
   * cleared on the day of the import. Flags feed no derived data, so bulk or not is the same.
   */
  async function mergeFlags(tx: Tx, job: MergeJob) {
    await tx`
      update resident_flag f set cleared_on = greatest(${todayInDistrict()}::date, f.flagged_on + 1), cleared_reason = '台账导入', cleared_by = ${job.userId}
      from import_stage_resident s join resident r on r.external_ref = s.external_ref
      where s.job_id = ${job.id} and s.special_categories is not null and f.resident_id = r.id and f.cleared_on is null
        and not (f.category = any(s.special_categories))`
    await tx`
      insert into resident_flag (resident_id, category, flagged_on, reason, set_by)
      select r.id, c.cat, greatest(s.flagged_on, (select max(f.cleared_on) from resident_flag f where f.resident_id = r.id and f.category = c.cat)),
             '台账导入', ${job.userId}
      from import_stage_resident s join resident r on r.external_ref = s.external_ref
      cross join unnest(s.special_categories) as c(cat)
      where s.job_id = ${job.id} and s.special_categories is not null
        and not exists (select 1 from resident_flag f where f.resident_id = r.id and f.category = c.cat and f.cleared_on is null)`
  }

  /** Enforcement records: placed by their premises, or by their police station (and a town user's town). */
  async function mergeEnforcement(tx: Tx, job: MergeJob) {
    const [outside] = await tx<{ n: number }[]>`
      select count(*)::int as n from enforcement_event e join import_stage_enforcement s on s.external_ref = e.external_ref
      where s.job_id = ${job.id} and not ${inJurisdiction(sql, job.scope, 'e')}`
    if (outside!.n > 0) {
      throw conflict(`${outside!.n} record(s) of the file were moved out of your jurisdiction since the check; nothing was written`,
        `自检查以来，文件中有 ${outside!.n} 条记录已不在您的管辖范围内；未写入任何数据`)
    }
    await tx`
      insert into enforcement_event as e (external_ref, kind, occurred_on, count, case_number, premises_id, geom, town_id, police_station_id, note, created_by)
      select s.external_ref, s.kind, s.occurred_on, s.count, s.case_number, p.id, p.geom, coalesce(p.town_id, s.town_id),
             coalesce(p.police_station_id, s.police_station_id), s.note, ${job.userId}
      from import_stage_enforcement s left join premises p on p.id = s.premises_id
      where s.job_id = ${job.id}
      order by s.line
      on conflict (external_ref) where external_ref is not null do update set
        kind = excluded.kind, occurred_on = excluded.occurred_on, count = excluded.count, case_number = excluded.case_number,
        premises_id = excluded.premises_id, geom = excluded.geom, town_id = excluded.town_id, police_station_id = excluded.police_station_id,
        note = excluded.note`
  }

  async function mergeHazards(tx: Tx, job: MergeJob, bulk: boolean) {
    await tx`select set_config('app.user_id', ${String(job.userId)}, true)`
    await tx`create temporary table import_old (id bigint primary key, ref text not null unique, mine boolean not null, old_row hazard not null,
      premises premises not null) on commit drop`
    await tx`
      insert into import_old
      select h.id, h.external_ref, ${inJurisdiction(sql, job.scope)}, h, p
      from hazard h join import_stage_hazard s on s.external_ref = h.external_ref join premises p on p.id = h.premises_id
      where s.job_id = ${job.id} and h.external_ref is not null
      order by h.id for no key update of h`
    await refuseOutside(tx)
    await refuseMovedPremises(tx, job, tx`import_stage_hazard`)
    await tx`create temporary table import_change (id bigint primary key, existed boolean not null, old_row hazard, new_row hazard not null,
      old_premises premises, new_premises premises not null) on commit drop`
    await tx`
      with up as (
        update hazard h set
          premises_id = s.premises_id, item_code = s.item_code, other_text = s.other_text, severity = s.severity, status = s.status,
          department_code = s.department_code, found_at = s.found_at, referred_at = s.referred_at, rectified_at = s.rectified_at,
          verified_at = s.verified_at, deadline = s.deadline, updated_at = now()
        from import_stage_hazard s join import_old o on o.ref = s.external_ref
        where s.job_id = ${job.id} and h.id = o.id
        returning h.id, h as new_row)
      insert into import_change
      select u.id, true, o.old_row, u.new_row, o.premises, p from up u join import_old o on o.id = u.id join premises p on p.id = (u.new_row).premises_id`
    await tx`
      with ins as (
        insert into hazard as h (external_ref, premises_id, item_code, other_text, severity, status, department_code, found_at, referred_at,
          rectified_at, verified_at, deadline)
        select external_ref, premises_id, item_code, other_text, severity, status, department_code, found_at, referred_at,
          rectified_at, verified_at, deadline
        from import_stage_hazard s where s.job_id = ${job.id} and not exists (select 1 from import_old o where o.ref = s.external_ref)
        order by s.line
        returning h.id, h as new_row)
      insert into import_change select i.id, false, null, i.new_row, null, p from ins i join premises p on p.id = (i.new_row).premises_id`
    if (!bulk) return

    // The history hazard_history writes: each step that gains a time gets its event.
    await tx`
      insert into hazard_event (hazard_id, status, at, user_id, department_code)
      select c.id, v.status, v.at, ${job.userId}, v.department_code
      from import_change c
      cross join lateral (values
        (1, 'found', (c.new_row).found_at, null::text, not c.existed),
        (2, 'referred', (c.new_row).referred_at, (c.new_row).department_code, not c.existed or (c.old_row).referred_at is null),
        (3, 'rectified', (c.new_row).rectified_at, null, not c.existed or (c.old_row).rectified_at is null),
        (4, 'verified', (c.new_row).verified_at, null, not c.existed or (c.old_row).verified_at is null)) as v(seq, status, at, department_code, fresh)
      where v.fresh and v.at is not null
      order by c.id, v.seq`
    const counts = tx`((c.old_row).premises_id, (c.old_row).item_code, (c.old_row).severity, (c.old_row).department_code, (c.old_row).found_at,
      (c.old_row).rectified_at, (c.old_row).deadline)
      is distinct from ((c.new_row).premises_id, (c.new_row).item_code, (c.new_row).severity, (c.new_row).department_code, (c.new_row).found_at,
      (c.new_row).rectified_at, (c.new_row).deadline)`
    await hazardDeltas(tx, tx`
      select c.new_premises as p, c.new_row as h, 1 as sign from import_change c where not c.existed or ${counts}
      union all select c.old_premises, c.old_row, -1 from import_change c where c.existed and ${counts}`)

    // The summaries of every premises that gained or lost hazards, and the tile cells they colour.
    await tx`create temporary table import_summary (id bigint primary key, old_row premises not null) on commit drop`
    await tx`
      insert into import_summary
      select p.id, p from premises p
      where p.id in (select (new_row).premises_id from import_change union select (old_row).premises_id from import_change where existed)
      order by p.id for no key update of p`
    await tx`select refresh_hazard_summaries(array(select id from import_summary))`
    await tx`
      create temporary table import_change_premises on commit drop as
      select s.id, true as existed, s.old_row, p as new_row from import_summary s join premises p on p.id = s.id`
    await premisesCellChanges(tx, tx`import_change_premises`)
  }

  /** Refuses the merge when a premises a staged row goes to has left the user's jurisdiction since the check. */
  async function refuseMovedPremises(tx: Tx, job: MergeJob, staged: Fragment) {
    const [n] = await tx<{ n: number }[]>`
      select count(*)::int as n from ${staged} s join premises p on p.id = s.premises_id
      where s.job_id = ${job.id} and not ${inJurisdiction(sql, job.scope)}`
    if (n!.n > 0) {
      throw conflict(`${n!.n} row(s) of the file belong to premises moved out of your jurisdiction since the check; nothing was written`,
        `自检查以来，文件中有 ${n!.n} 行所属的房屋已不在您的管辖范围内；未写入任何数据`)
    }
  }

  // The set-wise forms of the row triggers' bookkeeping. Each takes rows with a sign (+1 a row as it
  // is now, -1 as it was) and adds them up per key, as premises_cell_sync and measure_apply_* do
  // one row at a time; groups that add up to nothing are left alone.

  /**
   * Tile cells of premises whose cell (place, town, station, kind, status) changed, from a table of
   * (old_row, new_row); and the cells by category of premises with hazards (premises_cat_cell), whose
   * key adds the categories.
   */
  async function premisesCellChanges(tx: Tx, table: Fragment = tx`import_change`) {
    await cellChanges(tx, table, false)
    await cellChanges(tx, table, true)
  }

  async function cellChanges(tx: Tx, table: Fragment, byCategory: boolean) {
    const mask = (r: 'old_row' | 'new_row') => tx`hazard_categories_mask((c.${tx(r)}).first_public_security_found_on, (c.${tx(r)}).first_fire_found_on,
      (c.${tx(r)}).first_housing_found_on, (c.${tx(r)}).first_other_found_on)`
    const key = (r: 'old_row' | 'new_row') => tx`premises_cell_x(st_x((c.${tx(r)}).geom_m)), premises_cell_y(st_y((c.${tx(r)}).geom_m)),
      (c.${tx(r)}).town_id, coalesce((c.${tx(r)}).police_station_id, 0), (c.${tx(r)}).kind, (c.${tx(r)}).hazard_count > 0, (c.${tx(r)}).open_count > 0,
      (c.${tx(r)}).open_major_count > 0, coalesce((c.${tx(r)}).open_min_deadline, 'infinity')${byCategory ? tx`, ${mask(r)}` : tx``}`
    const changed = tx`(not c.existed or ((c.old_row).geom_m, (c.old_row).town_id, (c.old_row).police_station_id, (c.old_row).kind,
      (c.old_row).hazard_count > 0, (c.old_row).open_count > 0, (c.old_row).open_major_count > 0, (c.old_row).open_min_deadline${byCategory ? tx`, ${mask('old_row')}` : tx``})
      is distinct from ((c.new_row).geom_m, (c.new_row).town_id, (c.new_row).police_station_id, (c.new_row).kind,
      (c.new_row).hazard_count > 0, (c.new_row).open_count > 0, (c.new_row).open_major_count > 0, (c.new_row).open_min_deadline${byCategory ? tx`, ${mask('new_row')}` : tx``}))`
    // The cells by category hold premises with hazards only.
    const held = (r: 'old_row' | 'new_row') => byCategory ? tx`and ${mask(r)} <> 0` : tx``
    const cells = byCategory ? tx`premises_cat_cell` : tx`premises_cell`
    const columns = tx`cx, cy, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline${byCategory ? tx`, categories` : tx``}`
    const groups = byCategory ? tx`1, 2, 3, 4, 5, 6, 7, 8, 9, 10` : tx`1, 2, 3, 4, 5, 6, 7, 8, 9`
    // Added first, then taken away, so a cell both leave and enter is never emptied on the way.
    await tx`
      insert into ${cells} as cell (${columns}, n, sum_x, sum_y)
      select ${key('new_row')}, count(*), sum(st_x((c.new_row).geom_m)), sum(st_y((c.new_row).geom_m))
      from ${table} c where ${changed} ${held('new_row')}
      group by ${groups}
      on conflict (${columns})
      do update set n = cell.n + excluded.n, sum_x = cell.sum_x + excluded.sum_x, sum_y = cell.sum_y + excluded.sum_y`
    await tx`
      update ${cells} cell set n = cell.n - d.n, sum_x = cell.sum_x - d.sx, sum_y = cell.sum_y - d.sy
      from (
        select ${key('old_row')}, count(*) as n, sum(st_x((c.old_row).geom_m)) as sx, sum(st_y((c.old_row).geom_m)) as sy
        from ${table} c where c.existed and ${changed} ${held('old_row')}
        group by ${groups}
      ) as d(${columns}, n, sx, sy)
      where (cell.cx, cell.cy, cell.town_id, cell.police_station_id, cell.kind, cell.has_hazard, cell.has_open, cell.has_open_major, cell.open_min_deadline${byCategory ? tx`, cell.categories` : tx``})
          = (d.cx, d.cy, d.town_id, d.police_station_id, d.kind, d.has_hazard, d.has_open, d.has_open_major, d.open_min_deadline${byCategory ? tx`, d.categories` : tx``})`
    await tx`
      delete from ${cells} cell
      where cell.n = 0 and (cell.cx, cell.cy) in (
        select premises_cell_x(st_x((c.old_row).geom_m)), premises_cell_y(st_y((c.old_row).geom_m)) from ${table} c where c.existed and ${changed})`
  }

  /** Daily changes of premises, from rows (p premises, sign). */
  async function premisesDeltas(tx: Tx, rows: Fragment) {
    await tx`
      insert into measure_delta as m (day, town_id, police_station_id, kind, gr_found, gr_registered,
                                      ev_gr_registered, ev_gr_deregistered, ev_statements_signed, ev_second_landlords)
      select d.day, (x.p).town_id, coalesce((x.p).police_station_id, 0), (x.p).kind, sum(x.sign * d.gr_found), sum(x.sign * d.gr_registered),
             sum(x.sign * d.ev_reg), sum(x.sign * d.ev_dereg), sum(x.sign * d.ev_statement), sum(x.sign * d.ev_second)
      from (${rows}) x cross join lateral premises_delta_rows(x.p) d
      group by 1, 2, 3, 4
      having (sum(x.sign * d.gr_found), sum(x.sign * d.gr_registered), sum(x.sign * d.ev_reg), sum(x.sign * d.ev_dereg),
              sum(x.sign * d.ev_statement), sum(x.sign * d.ev_second)) <> (0, 0, 0, 0, 0, 0)
      on conflict (day, town_id, police_station_id, kind) do update
        set gr_found = m.gr_found + excluded.gr_found, gr_registered = m.gr_registered + excluded.gr_registered,
            ev_gr_registered = m.ev_gr_registered + excluded.ev_gr_registered,
            ev_gr_deregistered = m.ev_gr_deregistered + excluded.ev_gr_deregistered,
            ev_statements_signed = m.ev_statements_signed + excluded.ev_statements_signed,
            ev_second_landlords = m.ev_second_landlords + excluded.ev_second_landlords`
  }

  /** Daily changes of residents, from rows (p premises, r resident, sign). */
  async function residentDeltas(tx: Tx, rows: Fragment) {
    await tx`
      insert into measure_delta as m (day, town_id, police_station_id, kind, res_counted, res_registered,
                                      ev_gr_res_registered, ev_gr_res_deregistered, ev_floating_registered, ev_floating_deregistered)
      select d.day, (x.p).town_id, coalesce((x.p).police_station_id, 0), (x.p).kind, sum(x.sign * d.res_counted), sum(x.sign * d.res_registered),
             sum(x.sign * d.ev_gr_reg), sum(x.sign * d.ev_gr_dereg), sum(x.sign * d.ev_fl_reg), sum(x.sign * d.ev_fl_dereg)
      from (${rows}) x cross join lateral resident_delta_rows(x.p, x.r) d
      group by 1, 2, 3, 4
      having (sum(x.sign * d.res_counted), sum(x.sign * d.res_registered), sum(x.sign * d.ev_gr_reg), sum(x.sign * d.ev_gr_dereg),
              sum(x.sign * d.ev_fl_reg), sum(x.sign * d.ev_fl_dereg)) <> (0, 0, 0, 0, 0, 0)
      on conflict (day, town_id, police_station_id, kind) do update
        set res_counted = m.res_counted + excluded.res_counted, res_registered = m.res_registered + excluded.res_registered,
            ev_gr_res_registered = m.ev_gr_res_registered + excluded.ev_gr_res_registered,
            ev_gr_res_deregistered = m.ev_gr_res_deregistered + excluded.ev_gr_res_deregistered,
            ev_floating_registered = m.ev_floating_registered + excluded.ev_floating_registered,
            ev_floating_deregistered = m.ev_floating_deregistered + excluded.ev_floating_deregistered`
  }

  /** Daily changes of hazards, from rows (p premises, h hazard, sign). */
  async function hazardDeltas(tx: Tx, rows: Fragment) {
    await tx`
      insert into hazard_delta as m (day, town_id, police_station_id, kind, category_code, department_code,
                                     found, rectified, major_found, major_rectified, overdue)
      select d.day, (x.p).town_id, coalesce((x.p).police_station_id, 0), (x.p).kind, d.category_code, (x.h).department_code,
             sum(x.sign * d.found), sum(x.sign * d.rectified), sum(x.sign * d.major_found), sum(x.sign * d.major_rectified), sum(x.sign * d.overdue)
      from (${rows}) x cross join lateral hazard_delta_rows(x.h) d
      group by 1, 2, 3, 4, 5, 6
      having (sum(x.sign * d.found), sum(x.sign * d.rectified), sum(x.sign * d.major_found), sum(x.sign * d.major_rectified),
              sum(x.sign * d.overdue)) <> (0, 0, 0, 0, 0)
      on conflict (day, town_id, police_station_id, kind, category_code, department_code) do update
        set found = m.found + excluded.found, rectified = m.rectified + excluded.rectified,
            major_found = m.major_found + excluded.major_found, major_rectified = m.major_rectified + excluded.major_rectified,
            overdue = m.overdue + excluded.overdue`
    await tx`
      insert into group_rental_hazard_delta as m (day, town_id, police_station_id, category_code, found, rectified)
      select d.day, (x.p).town_id, coalesce((x.p).police_station_id, 0), d.category_code, sum(x.sign * d.found), sum(x.sign * d.rectified)
      from (${rows}) x cross join lateral hazard_delta_rows(x.h) d
      where is_group_rental_candidate((x.p).kind, (x.p).meets_rule)
        and ((x.p).group_rental_since is null or local_day((x.h).found_at) >= (x.p).group_rental_since)
      group by 1, 2, 3, 4
      having (sum(x.sign * d.found), sum(x.sign * d.rectified)) <> (0, 0)
      on conflict (day, town_id, police_station_id, category_code) do update
        set found = m.found + excluded.found, rectified = m.rectified + excluded.rectified`
  }

  return { stage, drop, sweep, merge }
}

/**
 * Whether a failed merge may simply run again: a deadlock, a serialisation failure, or a ledger
 * ref that someone else inserted after the merge locked the rows it replaces (the unique index on
 * external_ref refuses the second insert; the next attempt finds the row and updates it).
 */
export function mergeMayRetry(e: unknown): boolean {
  const code = (e as { code?: string }).code
  return code === '40P01' || code === '40001' || code === '23505'
}

/** Rows per staging statement: short enough that other requests never wait long for the connection. */
const stageRows = 250

/** What a commit works with: the database, the staging, the upload, and the row check that feeds it. */
export interface CommitDeps {
  sql: Sql
  staging: ReturnType<typeof importStaging>
  store: UploadStore
  /** Rows above which the merge switches the row triggers off and does their work set-wise. */
  bulkRows: number
  /** Checks every row of the job's file again, handing each batch of rows to write to `write`. */
  check: (db: Sql, job: Job, mapping: Record<string, string>, crs: CoordinateSystem, write?: (rows: Staged[]) => Promise<void>) => Promise<void>
  /** Runs a background job's statements with no time limit (a lock may keep it waiting longer than a request may). */
  withoutTimeLimit: <T>(work: (db: Sql) => Promise<T>) => Promise<T>
  /** Told once the merge is committed. */
  written?: () => void
}

/**
 * Checks every row again and stages the rows to write, batch by batch, outside any transaction;
 * then, if no row has a problem, merges them into the shared tables in one transaction with the
 * job's status and audit row. A single row problem, an error or the end of the process leaves the
 * shared tables as they were (staged rows are dropped here, or swept once their job is dead).
 */
export async function commitImport({ sql, staging, store, bulkRows, check, withoutTimeLimit, written }: CommitDeps, job: Job, mapping: Record<string, string>, crs: CoordinateSystem) {
  await sql`update import_job set status = 'committing', heartbeat_at = now(), mapping = ${sql.json(mapping)}, crs = ${crs} where id = ${job.id}`
  let staged = 0
  try {
    await withoutTimeLimit(db => check(db, job, mapping, crs, async (rows) => {
      // After the first problem nothing more is staged: none of it would be merged.
      if (job.errorCount > 0) return
      for (let i = 0; i < rows.length; i += stageRows) await staging.stage(job.kind, job.id, rows.slice(i, i + stageRows), job.scope.kind === 'town' ? job.scope.id : null, db)
      staged += rows.length
    }))
    if (job.errorCount > 0) {
      await staging.drop(job.id)
      return
    }
    job.phase = 'merging'
    job.done = job.total
    const summary = { ...job.summary!, committed: true }
    const audit = auditRepository(sql)
    for (let attempt = 1; ; attempt++) {
      try {
        await sql.begin(async (tx) => {
          // A merge of a million rows runs set-wise refreshes of a minute or more; requests have a
          // time limit, this background job has none (other writers wait for it, or time out themselves).
          await tx`set local statement_timeout = 0`
          // A file that changes nothing writes nothing (not even the statement triggers' data version).
          if (staged > 0) await staging.merge(tx, job, staged > bulkRows)
          // Fault injection for tests/server/crash-import.test.ts: the merge of the named file holds its
          // transaction open, uncommitted, so that the test's kill -9 lands inside it however fast it ran.
          if (process.env.GRD_FAULT_HOLD_MERGE_OF === job.fileName) {
            process.stderr.write(`fault: holding the merge of ${job.fileName}\n`)
            await new Promise(resolve => setTimeout(resolve, 120_000))
          }
          await tx`update import_job set status = 'committed', committed_at = now(), summary = ${tx.json(summary)}, rows_total = ${summary.rows},
            rows_invalid = 0 where id = ${job.id}`
          // No request stands behind a background commit: the row names the user who started it.
          const [user] = await tx<{ username: string }[]>`select username from app_user where id = ${job.userId}`
          await audit.write(tx, {
            userId: job.userId, username: user?.username ?? null, action: `import.${job.kind}`, entity: 'import', entityId: job.id,
            after: { fileName: job.fileName, sha256: job.sha256, ...summary },
          })
        })
        break
      }
      catch (e) {
        if (attempt >= 3 || !mergeMayRetry(e)) throw e
      }
    }
    job.summary!.committed = true
    written?.()
    await store.remove(job.id)
    // Outside the merge's transaction; should this fail, the sweep deletes them (the job is committed).
    await staging.drop(job.id).catch(() => undefined)
  }
  catch (e) {
    await staging.drop(job.id).catch(() => undefined)
    throw e
  }
}
