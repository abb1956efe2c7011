import { createHash, randomUUID } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bbox as turfBbox } from '@turf/bbox'
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon'
import { point as turfPoint } from '@turf/helpers'
import fp from 'fastify-plugin'
import type { MultiPolygon } from 'geojson'
import { pgArray } from '../../db/arrays.js'
import { setBulkLoad } from '../../db/bulk-load.js'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import type { CoordinateSystem } from '../../domain/coords.js'
import { maskIdNumber } from '../../domain/id-number.js'
import {
  type EnforcementRecord, type HazardRecord, type LedgerContext, ledgerFields, type LedgerKind, type LedgerRecord, ledgerRecordLabel as recordLabel,
  ledgerValueText as shown, type PremisesRecord, readRow, type ResidentRecord, type RowError, suggestMapping,
} from '../../domain/ledger.js'
import { encryptIdNumber, hmacIdNumber, type PiiKeys } from '../../domain/pii.js'
import { type Cell, ledgerRecords } from '../../domain/tabular.js'
import { badRequest, conflict, HttpError, notFound } from '../../http-errors.js'
import { todayInDistrict } from './campaign.js'

/**
 * Ledger imports: a file is uploaded, its columns mapped, every row checked (a dry run says what
 * would be created, updated or left as it is), then committed all or nothing. Rows are matched on
 * their ledger reference, so importing the same file again changes nothing.
 *
 * A job runs in the background and reports its progress in memory (the page polls it without
 * touching the database). Large writes (more than `bulkRows` rows) switch the row triggers off and
 * rebuild what they maintain once, set-wise, as the demo loader does.
 */

export interface ImportOptions {
  dir?: string
  /** Rows to write above which the row triggers are replaced by set-wise refreshes. */
  bulkRows?: number
  /** Rows checked (and, in a commit, written) per batch. */
  batchRows?: number
}

export type JobStatus = 'uploaded' | 'checking' | 'validated' | 'committing' | 'committed' | 'failed'

export interface JobState {
  id: string
  kind: LedgerKind
  fileName: string
  status: JobStatus
  /** What the job is doing, and how far along. */
  phase: 'reading' | 'checking' | 'writing' | 'refreshing' | null
  done: number
  total: number
  rows: number
  headings: string[]
  suggestedMapping: Record<string, string>
  crs: CoordinateSystem | null
  mapping: Record<string, string> | null
  /** After a dry run or a commit: what it found / did. */
  summary: null | { rows: number; valid: number; invalid: number; create: number; update: number; unchanged: number; committed: boolean }
  /** The first problems (the full list is the error report). */
  errors: RowError[]
  errorCount: number
  /** The first rows that would change (or did): what each creates or which fields it updates. */
  changes: RowChange[]
  changeCount: number
  message: string | null
  /** The message for the Chinese screen. */
  messageZh: string | null
  createdAt: string
}

/** A field a row changes: its value in the database and in the file, as a person reads them. */
export interface FieldChange {
  field: string
  before: string
  after: string
}

/** A row that creates a record or updates some of its fields. */
export interface RowChange {
  line: number
  ref: string
  action: 'create' | 'update'
  /** What the record is, for the eye: an address, a name (ID number masked), a dictionary item. */
  label: string
  fields: FieldChange[]
}

interface Job extends JobState {
  userId: number
  scope: Jurisdiction
  file: string
  sha256: string
  allErrors: RowError[]
  allChanges: RowChange[]
  running?: Promise<void>
}

/** Where a job's queries run: the pool, or a commit's transaction. */
type Db = Sql | Tx

const maxErrorsKept = 100_000
const maxChangesKept = 100_000

export function importsRepository(sql: Sql, keys: PiiKeys, opts: ImportOptions = {}) {
  const dir = opts.dir ?? join(tmpdir(), 'grd-imports')
  const bulkRows = opts.bulkRows ?? 20_000
  const batchSize = opts.batchRows ?? 5000
  const jobs = new Map<string, Job>()

  const publicState = (j: Job): JobState => {
    const { userId: _u, scope: _s, file: _f, sha256: _h, allErrors: _a, allChanges: _c, running: _r, ...state } = j
    return { ...state, errors: j.allErrors.slice(0, 200), changes: j.allChanges.slice(0, 200) }
  }

  function jobOf(id: string, userId: number): Job {
    const j = jobs.get(id)
    if (!j || j.userId !== userId) throw notFound(`there is no import ${id} of yours (uploads are kept until the server restarts; upload the file again)`, '找不到您的这次导入（上传的文件在服务器重启后不再保留），请重新上传文件')
    return j
  }

  /** The heading row: the first row with text in it; rows after it are data. */
  async function* dataRows(buf: Buffer): AsyncGenerator<{ line: number; cells: Cell[]; headings: string[] }> {
    let line = 0
    let headings: string[] | null = null
    for await (const r of ledgerRecords(buf)) {
      line++
      const empty = r.every(c => c === null || String(c).trim() === '')
      if (!headings) {
        if (!empty) headings = r.map(c => (c === null ? '' : String(c).trim()))
        continue
      }
      if (empty) continue
      yield { line, cells: r, headings }
    }
    if (!headings) throw badRequest('the file has no heading row: is it empty?', '文件没有标题行：是空文件吗？')
  }

  /** Where points may lie: inside a current town of the district, and inside the user's area. */
  async function placeChecker(db: Db, scope: Jurisdiction) {
    type Area = { id: number; geom: MultiPolygon; box: number[] }
    const load = async (rows: { id: number; geometry: string }[]) => rows.map((r): Area => {
      const geom = JSON.parse(r.geometry) as MultiPolygon
      return { id: r.id, geom, box: turfBbox(geom) }
    })
    const towns = await load(await db<{ id: number; geometry: string }[]>`
      select id, st_asgeojson(geom) as geometry from admin_area where level = 'town' and valid_to is null`)
    const own = scope.kind === 'district' ? null : await load(await (scope.kind === 'town'
      ? db<{ id: number; geometry: string }[]>`select id, st_asgeojson(geom) as geometry from admin_area where id = ${scope.id!}`
      : db<{ id: number; geometry: string }[]>`select id, st_asgeojson(geom) as geometry from police_station where id = ${scope.id!}`))
    const [name] = scope.kind === 'district' ? [{ nameZh: '' }] : await (scope.kind === 'town'
      ? db<{ nameZh: string }[]>`select name_zh from admin_area where id = ${scope.id!}`
      : db<{ nameZh: string }[]>`select name_zh from police_station where id = ${scope.id!}`)
    const inside = (areas: Area[], lon: number, lat: number) => areas.some(a =>
      lon >= a.box[0]! && lon <= a.box[2]! && lat >= a.box[1]! && lat <= a.box[3]! && booleanPointInPolygon(turfPoint([lon, lat]), a.geom))
    return {
      name: name?.nameZh ?? '',
      where: (lon: number, lat: number) => (!inside(towns, lon, lat) ? 'outside-district' as const
        : own && !inside(own, lon, lat) ? 'outside-jurisdiction' as const : 'ok' as const),
    }
  }

  async function context(db: Db, job: Job, crs: CoordinateSystem): Promise<LedgerContext> {
    const place = await placeChecker(db, job.scope)
    const items = new Map<string, { code: string; needsText: boolean; departmentCode: string }>()
    for (const i of await db<{ code: string; nameZh: string; needsText: boolean; departmentCode: string }[]>`
      select i.code, i.name_zh, i.needs_text, coalesce(i.department_code, c.department_code) as department_code
      from hazard_item i join hazard_category c on c.code = i.category_code`) {
      const v = { code: i.code, needsText: i.needsText, departmentCode: i.departmentCode }
      items.set(i.code, v)
      items.set(i.nameZh, v)
    }
    const departments = new Map<string, string>()
    for (const d of await db<{ code: string; nameZh: string; nameEn: string }[]>`select code, name_zh, name_en from department`) {
      departments.set(d.code, d.code)
      departments.set(d.nameZh, d.code)
      departments.set(d.nameEn.toLowerCase(), d.code)
    }
    const stations = new Map<string, number>()
    for (const st of await db<{ id: number; code: string; nameZh: string }[]>`select id, code, name_zh from police_station order by valid_from`) {
      stations.set(st.code, st.id)
      stations.set(st.nameZh, st.id)
    }
    return {
      crs, today: todayInDistrict(), where: place.where, jurisdictionName: place.name, items, departments, stations,
      keys: { hmacHex: (id: string) => hmacIdNumber(keys, id).toString('hex') },
    }
  }

  type Pending = { line: number; record: LedgerRecord; premisesId?: number }
  const sameMoment = (a: Date | null, b: string | null) => (a === null ? b === null : b !== null && a.getTime() === Date.parse(b))
  /** A record already in the database: whether the user may change it, and what the file would change. */
  interface Existing { mine: boolean; diff: FieldChange[] }

  /** Police stations a jurisdiction may record at: any, its own, or those reaching into its town. */
  function stationServes(db: Db, scope: Jurisdiction) {
    switch (scope.kind) {
      case 'district': return db`true`
      case 'police_station': return db`s.id = ${scope.id!}`
      case 'town': return db`exists (select 1 from admin_area t where t.id = ${scope.id!} and t.geom && s.geom
        and st_intersects(t.geom, s.geom) and not st_touches(t.geom, s.geom))`
    }
  }

  /** The premises a batch of residents or hazards belongs to, by ledger reference. */
  async function premisesByRef(db: Db, scope: Jurisdiction, refs: string[]) {
    const rows = await db<{ externalRef: string; id: number; mine: boolean }[]>`
      select p.external_ref, p.id, ${inJurisdiction(db as Sql, scope)} as mine
      from premises p where p.external_ref = any(${pgArray(refs)}::text[])`
    return new Map(rows.map(r => [r.externalRef, r]))
  }

  /** The fields whose values differ, compared as stored and shown as a ledger writes them. */
  function differences(pairs: [field: string, before: unknown, after: unknown, same?: boolean][]): FieldChange[] {
    return pairs.filter(([, a, b, same]) => !(same ?? (a ?? null) === (b ?? null)))
      .map(([field, a, b]) => ({ field, before: shown(field, a), after: shown(field, b) }))
  }

  /** What already exists for each reference of a batch, and what the file would change in it. */
  async function existing(db: Db, kind: LedgerKind, scope: Jurisdiction, batch: Pending[]): Promise<Map<string, Existing>> {
    const refs = batch.map(b => b.record.ref)
    const out = new Map<string, Existing>()
    if (kind === 'premises') {
      const rows = await db<(Omit<PremisesRecord, 'ref'> & { externalRef: string; mine: boolean })[]>`
        select p.external_ref, ${inJurisdiction(db as Sql, scope)} as mine, p.kind, p.address, st_x(p.geom) as lon, st_y(p.geom) as lat,
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
        select r.external_ref, ${inJurisdiction(db as Sql, scope)} as mine, r.premises_id, p.external_ref as premises_ref, r.name, r.id_type, r.phone, r.floating,
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
        select e.external_ref, ${inJurisdiction(db as Sql, scope, 'e')} as mine, e.premises_id, p.external_ref as premises_ref, e.kind as enforcement_kind,
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
        select h.external_ref, ${inJurisdiction(db as Sql, scope)} as mine, h.premises_id, p.external_ref as premises_ref, h.item_code, h.other_text, h.severity,
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

  /**
   * Reads, checks and compares every row; the job's errors, changes and summary say what was found.
   * Each batch's rows to write go to `write` as soon as they are known (a commit writes them inside
   * its transaction), so no more than a batch of them is ever held in memory.
   */
  async function check(db: Db, job: Job, mapping: Record<string, string>, crs: CoordinateSystem, write?: (rows: Pending[]) => Promise<void>) {
    const ctx = await context(db, job, crs)
    const buf = await readFile(job.file)
    const fields = ledgerFields[job.kind]
    job.allErrors = []
    job.errorCount = 0
    job.allChanges = []
    job.changeCount = 0
    const addChange = (c: RowChange) => {
      job.changeCount++
      if (job.allChanges.length < maxChangesKept) job.allChanges.push(c)
    }
    const addError = (e: RowError) => {
      job.errorCount++
      if (job.allErrors.length < maxErrorsKept) job.allErrors.push(e)
    }
    const seen = new Map<string, number>()
    let rows = 0
    let valid = 0
    let create = 0
    let update = 0
    let unchanged = 0
    let batch: Pending[] = []
    let index: number[] | null = null

    const flush = async () => {
      if (!batch.length) return
      const current = batch
      batch = []
      // Enforcement records without premises belong to a police station of the jurisdiction.
      const atStation = job.kind === 'enforcement' ? current.filter(b => !(b.record as EnforcementRecord).premisesRef) : []
      if (atStation.length) {
        const ids = [...new Set(atStation.map(b => (b.record as EnforcementRecord).policeStationId!))]
        const ok = new Set((await db<{ id: number }[]>`
          select s.id from police_station s where s.id = any(${pgArray(ids)}::int[]) and ${stationServes(db, job.scope)}`).map(x => x.id))
        for (const b of atStation) {
          const rec = b.record as EnforcementRecord
          if (ok.has(rec.policeStationId!)) b.premisesId = 0
          else addError({ line: b.line, column: mapping.policeStation ?? '派出所', value: String(rec.policeStationId), reason: '该派出所不在您的管辖范围内 (the police station lies outside your jurisdiction)' })
        }
      }
      if (job.kind !== 'premises') {
        const withPremises = current.filter(b => (b.record as ResidentRecord | HazardRecord | EnforcementRecord).premisesRef)
        const refs = [...new Set(withPremises.map(b => (b.record as ResidentRecord | HazardRecord).premisesRef))]
        const found = await premisesByRef(db, job.scope, refs)
        for (const b of withPremises) {
          const ref = (b.record as ResidentRecord | HazardRecord).premisesRef
          const p = found.get(ref)
          if (!p) addError({ line: b.line, column: mapping.premisesRef ?? '房屋台账编号', value: ref, reason: '没有此台账编号的房屋，请先导入房屋台账 (no premises has this ledger ref: import the premises ledger first)' })
          else if (!p.mine) addError({ line: b.line, column: mapping.premisesRef ?? '房屋台账编号', value: ref, reason: '该房屋不在您的管辖范围内 (the premises lies outside your jurisdiction)' })
          else b.premisesId = p.id
        }
      }
      const ok = current.filter(b => job.kind === 'premises' || b.premisesId !== undefined)
      const there = await existing(db, job.kind, job.scope, ok)
      const toWrite: Pending[] = []
      for (const b of ok) {
        const e = there.get(b.record.ref)
        if (e && !e.mine) {
          addError({ line: b.line, column: mapping.ref ?? mapping.premisesRef ?? '', value: b.record.ref.split('|')[0]!, reason: '该记录属于其他辖区 (this record belongs to another jurisdiction)' })
          continue
        }
        valid++
        if (!e) {
          create++
          addChange({ line: b.line, ref: b.record.ref.split('|')[0]!, action: 'create', label: recordLabel(b.record), fields: [] })
        }
        else if (!e.diff.length) {
          unchanged++
          continue
        }
        else {
          update++
          addChange({ line: b.line, ref: b.record.ref.split('|')[0]!, action: 'update', label: recordLabel(b.record), fields: e.diff })
        }
        toWrite.push(b)
      }
      if (write && toWrite.length) await write(toWrite)
      job.done = rows
    }

    job.phase = write ? 'writing' : 'reading'
    job.total = job.rows
    job.done = 0
    for await (const { line, cells, headings } of dataRows(buf)) {
      if (!index) {
        const missing = fields.filter(f => f.required && !mapping[f.key])
        if (missing.length) throw badRequest(`map a column of the file to each required field: ${missing.map(f => `${f.zh} (${f.key})`).join(', ')}`, `请为每个必填字段对应文件中的一列：${missing.map(f => f.zh).join('、')}`)
        index = fields.map((f) => {
          const h = mapping[f.key]
          if (h === undefined || h === '') return -1
          const i = headings.indexOf(h)
          if (i < 0) throw badRequest(`the file has no column "${h}" (mapped to ${f.zh})`, `文件中没有“${h}”列（对应${f.zh}）`)
          return i
        })
      }
      rows++
      const cells2: Record<string, Cell> = {}
      fields.forEach((f, i) => { if (index![i]! >= 0) cells2[f.key] = cells[index![i]!] ?? null })
      const r = readRow(job.kind, line, cells2, mapping, ctx)
      if (!r.record) {
        for (const e of r.errors) addError(e)
      }
      else {
        const before = seen.get(r.record.ref)
        if (before !== undefined) {
          addError({ line, column: mapping.ref ?? mapping.idNumber ?? mapping.premisesRef ?? '', value: r.record.ref.split('|')[0]!,
            reason: `与第 ${before} 行重复 (the same ${job.kind === 'residents' ? 'person in the same premises' : 'ledger ref'} as line ${before})` })
        }
        else {
          seen.set(r.record.ref, line)
          batch.push({ line, record: r.record })
        }
      }
      if (batch.length >= batchSize) await flush()
      if (rows % 1000 === 0) job.done = rows
    }
    await flush()
    job.done = rows
    job.summary = { rows, valid, invalid: rows - valid, create, update, unchanged, committed: false }
  }

  // ---------------------------------------------------------------------------------------------
  // Writing.
  // ---------------------------------------------------------------------------------------------

  const col = <T>(rows: Pending[], f: (r: T, p: Pending) => string | number | boolean | null) => pgArray(rows.map(p => f(p.record as T, p)))

  async function writePremises(tx: Tx, rows: Pending[]) {
    type R = PremisesRecord
    await tx`
      insert into premises as p (external_ref, kind, address, geom, town_id, community_id, grid_id, police_station_id, rooms_let, beds_let, occupants,
        owner_name, owner_phone, second_landlord_name, second_landlord_phone, second_landlord_collected_on, statement_signed_on, lease_filed_on,
        found_on, registered_on, deregistered_on)
      select t.ref, t.kind, t.address, g.geom,
        (select a.id from admin_area a where a.level = 'town' and a.valid_to is null and st_intersects(a.geom, g.geom) order by a.id limit 1),
        (select a.id from admin_area a where a.level = 'community' and a.valid_to is null and st_intersects(a.geom, g.geom) order by a.id limit 1),
        (select a.id from admin_area a where a.level = 'grid' and a.valid_to is null and st_intersects(a.geom, g.geom) order by a.id limit 1),
        (select s.id from police_station s where s.valid_to is null and st_intersects(s.geom, g.geom) order by s.id limit 1),
        t.rooms, t.beds, t.occupants, t.owner_name, t.owner_phone, t.sl_name, t.sl_phone, t.sl_collected, t.statement, t.lease, t.found, t.registered, t.deregistered
      from unnest(${col<R>(rows, r => r.ref)}::text[], ${col<R>(rows, r => r.kind)}::text[], ${col<R>(rows, r => r.address)}::text[],
        ${col<R>(rows, r => r.lon)}::float8[], ${col<R>(rows, r => r.lat)}::float8[], ${col<R>(rows, r => r.roomsLet)}::int[],
        ${col<R>(rows, r => r.bedsLet)}::int[], ${col<R>(rows, r => r.occupants)}::int[], ${col<R>(rows, r => r.ownerName)}::text[],
        ${col<R>(rows, r => r.ownerPhone)}::text[], ${col<R>(rows, r => r.secondLandlordName)}::text[], ${col<R>(rows, r => r.secondLandlordPhone)}::text[],
        ${col<R>(rows, r => r.secondLandlordCollectedOn)}::date[], ${col<R>(rows, r => r.statementSignedOn)}::date[], ${col<R>(rows, r => r.leaseFiledOn)}::date[],
        ${col<R>(rows, r => r.foundOn)}::date[], ${col<R>(rows, r => r.registeredOn)}::date[], ${col<R>(rows, r => r.deregisteredOn)}::date[])
        as t(ref, kind, address, lon, lat, rooms, beds, occupants, owner_name, owner_phone, sl_name, sl_phone, sl_collected, statement, lease, found, registered, deregistered)
      cross join lateral (select st_setsrid(st_makepoint(t.lon, t.lat), 4326) as geom) g
      on conflict (external_ref) where external_ref is not null do update set
        kind = excluded.kind, address = excluded.address, geom = excluded.geom, town_id = excluded.town_id, community_id = excluded.community_id,
        grid_id = excluded.grid_id, police_station_id = excluded.police_station_id, rooms_let = excluded.rooms_let, beds_let = excluded.beds_let,
        occupants = excluded.occupants, owner_name = excluded.owner_name, owner_phone = excluded.owner_phone,
        second_landlord_name = excluded.second_landlord_name, second_landlord_phone = excluded.second_landlord_phone,
        second_landlord_collected_on = excluded.second_landlord_collected_on, statement_signed_on = excluded.statement_signed_on,
        lease_filed_on = excluded.lease_filed_on, found_on = excluded.found_on, registered_on = excluded.registered_on,
        deregistered_on = excluded.deregistered_on, updated_at = now()`
  }

  async function writeResidents(tx: Tx, rows: Pending[]) {
    type R = ResidentRecord
    const cipher = rows.map(p => encryptIdNumber(keys, (p.record as R).idNumber).toString('base64'))
    const hmac = rows.map(p => hmacIdNumber(keys, (p.record as R).idNumber).toString('base64'))
    await tx`
      insert into resident as r (external_ref, premises_id, name, id_type, id_number_cipher, id_number_hmac, id_number_masked, phone, floating,
        moved_in_on, moved_out_on, registered_on, deregistered_on)
      select t.ref, t.premises, t.name, t.id_type, decode(t.cipher, 'base64'), decode(t.hmac, 'base64'), t.masked, t.phone, t.floating,
        t.moved_in, t.moved_out, t.registered, t.deregistered
      from unnest(${col<R>(rows, r => r.ref)}::text[], ${col<R>(rows, (_r, p) => p.premisesId!)}::bigint[], ${col<R>(rows, r => r.name)}::text[],
        ${col<R>(rows, r => r.idType)}::text[], ${pgArray(cipher)}::text[], ${pgArray(hmac)}::text[], ${col<R>(rows, r => maskIdNumber(r.idNumber))}::text[],
        ${col<R>(rows, r => r.phone)}::text[], ${col<R>(rows, r => r.floating)}::bool[], ${col<R>(rows, r => r.movedInOn)}::date[],
        ${col<R>(rows, r => r.movedOutOn)}::date[], ${col<R>(rows, r => r.registeredOn)}::date[], ${col<R>(rows, r => r.deregisteredOn)}::date[])
        as t(ref, premises, name, id_type, cipher, hmac, masked, phone, floating, moved_in, moved_out, registered, deregistered)
      on conflict (external_ref) where external_ref is not null do update set
        premises_id = excluded.premises_id, name = excluded.name, id_type = excluded.id_type, phone = excluded.phone, floating = excluded.floating,
        moved_in_on = excluded.moved_in_on, moved_out_on = excluded.moved_out_on, registered_on = excluded.registered_on,
        deregistered_on = excluded.deregistered_on`
  }

  /** The special categories of residents written with them, when the file's column is mapped (see ledger-fields). */
  async function writeFlags(tx: Tx, rows: Pending[], userId: number) {
    type R = ResidentRecord
    const some = rows.filter(p => (p.record as R).specialCategories !== undefined)
    if (!some.length) return
    const refs = col<R>(some, r => r.ref)
    const cats = col<R>(some, r => r.specialCategories!.join(','))
    const days = col<R>(some, r => r.flaggedOn ?? null)
    await tx`
      update resident_flag f set cleared_on = greatest(${todayInDistrict()}::date, f.flagged_on + 1), cleared_reason = '台账导入', cleared_by = ${userId}
      from unnest(${refs}::text[], ${cats}::text[]) as t(ref, cats) join resident r on r.external_ref = t.ref
      where f.resident_id = r.id and f.cleared_on is null and not (f.category = any(string_to_array(t.cats, ',')))`
    await tx`
      insert into resident_flag (resident_id, category, flagged_on, reason, set_by)
      select r.id, c.cat, greatest(t.day, (select max(f.cleared_on) from resident_flag f where f.resident_id = r.id and f.category = c.cat)), '台账导入', ${userId}
      from unnest(${refs}::text[], ${cats}::text[], ${days}::date[]) as t(ref, cats, day)
      join resident r on r.external_ref = t.ref
      cross join unnest(string_to_array(nullif(t.cats, ''), ',')) as c(cat)
      where not exists (select 1 from resident_flag f where f.resident_id = r.id and f.category = c.cat and f.cleared_on is null)`
  }

  /** Enforcement records: placed by their premises, or by their police station (and a town user's town). */
  async function writeEnforcement(tx: Tx, rows: Pending[], job: Job) {
    type R = EnforcementRecord
    const town = job.scope.kind === 'town' ? job.scope.id : null
    await tx`
      insert into enforcement_event as e (external_ref, kind, occurred_on, count, case_number, premises_id, geom, town_id, police_station_id, note, created_by)
      select t.ref, t.kind, t.day, t.count, t.case_no, p.id, p.geom, coalesce(p.town_id, ${town}::int), coalesce(p.police_station_id, t.station), t.note, ${job.userId}
      from unnest(${col<R>(rows, r => r.ref)}::text[], ${col<R>(rows, r => r.enforcementKind)}::text[], ${col<R>(rows, r => r.occurredOn)}::date[],
        ${col<R>(rows, r => r.count)}::int[], ${col<R>(rows, r => r.caseNumber)}::text[], ${col<R>(rows, (_r, p) => p.premisesId || null)}::bigint[],
        ${col<R>(rows, r => r.policeStationId)}::int[], ${col<R>(rows, r => r.note)}::text[])
        as t(ref, kind, day, count, case_no, premises, station, note)
      left join premises p on p.id = t.premises
      on conflict (external_ref) where external_ref is not null do update set
        kind = excluded.kind, occurred_on = excluded.occurred_on, count = excluded.count, case_number = excluded.case_number,
        premises_id = excluded.premises_id, geom = excluded.geom, town_id = excluded.town_id, police_station_id = excluded.police_station_id,
        note = excluded.note`
  }

  async function writeHazards(tx: Tx, rows: Pending[]) {
    type R = HazardRecord
    return tx<{ id: number }[]>`
      insert into hazard as h (external_ref, premises_id, item_code, other_text, severity, status, department_code, found_at, referred_at,
        rectified_at, verified_at, deadline)
      select t.ref, t.premises, t.item, t.other, t.severity, t.status, t.department, t.found, t.referred, t.rectified, t.verified, t.deadline
      from unnest(${col<R>(rows, r => r.ref)}::text[], ${col<R>(rows, (_r, p) => p.premisesId!)}::bigint[], ${col<R>(rows, r => r.itemCode)}::text[],
        ${col<R>(rows, r => r.otherText)}::text[], ${col<R>(rows, r => r.severity)}::text[], ${col<R>(rows, r => r.status)}::text[],
        ${col<R>(rows, r => r.departmentCode)}::text[], ${col<R>(rows, r => r.foundAt)}::timestamptz[], ${col<R>(rows, r => r.referredAt)}::timestamptz[],
        ${col<R>(rows, r => r.rectifiedAt)}::timestamptz[], ${col<R>(rows, r => r.verifiedAt)}::timestamptz[], ${col<R>(rows, r => r.deadline)}::date[])
        as t(ref, premises, item, other, severity, status, department, found, referred, rectified, verified, deadline)
      on conflict (external_ref) where external_ref is not null do update set
        premises_id = excluded.premises_id, item_code = excluded.item_code, other_text = excluded.other_text, severity = excluded.severity,
        status = excluded.status, department_code = excluded.department_code, found_at = excluded.found_at, referred_at = excluded.referred_at,
        rectified_at = excluded.rectified_at, verified_at = excluded.verified_at, deadline = excluded.deadline, updated_at = now()
      returning id`
  }

  /** Thrown inside a commit's transaction when a row has a problem: everything written is rolled back. */
  class RowProblems extends Error {}

  /**
   * Checks every row again and writes, batch by batch, inside one transaction; a single row problem
   * rolls all of it back. Once more than `bulkRows` rows are written, the row triggers are switched
   * off for the rest of the transaction and what they keep is rebuilt at the end, set-wise (the
   * rebuild covers the rows written before the switch too).
   */
  async function commitAll(job: Job, mapping: Record<string, string>, crs: CoordinateSystem) {
    await sql.begin(async (tx) => {
      // A commit of a million rows runs set-wise refreshes of a minute or more; requests have a time
      // limit, this background job has none (other writers wait for it, or time out themselves).
      await tx`set local statement_timeout = 0`
      await tx`select set_config('app.user_id', ${String(job.userId)}, true)`
      let written = 0
      let bulk = false
      await check(tx, job, mapping, crs, async (rows) => {
        // After the first problem nothing more is written: it would all be rolled back.
        if (job.errorCount > 0) return
        if (!bulk && written + rows.length > bulkRows) {
          bulk = true
          await setBulkLoad(tx, true)
          await tx`create temporary table import_new_hazard (id bigint primary key) on commit drop`
        }
        if (job.kind === 'premises') await writePremises(tx, rows)
        else if (job.kind === 'residents') {
          await writeResidents(tx, rows)
          await writeFlags(tx, rows, job.userId)
        }
        else if (job.kind === 'enforcement') await writeEnforcement(tx, rows, job)
        else {
          const ids = await writeHazards(tx, rows)
          if (bulk) await tx`insert into import_new_hazard select unnest(${pgArray(ids.map(r => r.id))}::bigint[]) on conflict do nothing`
        }
        written += rows.length
      })
      if (job.errorCount > 0) throw new RowProblems()
      if (bulk) {
        job.phase = 'refreshing'
        if (job.kind === 'hazards') {
          // The history the hazard trigger writes: a new hazard's steps (rewritten ones keep theirs).
          await tx`
            insert into hazard_event (hazard_id, status, at, department_code, user_id)
            select h.id, v.status, v.at, v.department_code, ${job.userId}
            from hazard h join import_new_hazard n on n.id = h.id
            cross join lateral (values ('found', h.found_at, null::text), ('referred', h.referred_at, h.department_code),
              ('rectified', h.rectified_at, null), ('verified', h.verified_at, null)) as v(status, at, department_code)
            where v.at is not null and not exists (select 1 from hazard_event e where e.hazard_id = h.id)`
          await tx`select refresh_all_hazard_summaries()`
        }
        // Hazards move their premises' status, which the tile cells hold too.
        if (job.kind === 'premises' || job.kind === 'hazards') await tx`select refresh_premises_cells()`
        await tx`select refresh_measure_deltas()`
        await tx`update data_version set version = version + 1`
        await setBulkLoad(tx, false)
      }
      job.summary!.committed = true
      await tx`update import_job set status = 'committed', committed_at = now(), summary = ${tx.json(job.summary)},
        mapping = ${tx.json(job.mapping ?? {})}, crs = ${job.crs ?? 'wgs84'}, rows_total = ${job.summary?.rows ?? 0}, rows_invalid = 0 where id = ${job.id}`
      await tx`insert into audit_log (user_id, username, action, entity, entity_id, after)
        select id, username, ${`import.${job.kind}`}, 'import', ${job.id}, ${tx.json({ fileName: job.fileName, sha256: job.sha256, ...job.summary })}
        from app_user where id = ${job.userId}`
    }).catch((e: unknown) => {
      if (!(e instanceof RowProblems)) throw e
    })
  }

  /** Runs a dry run or a commit in the background; the job's state tells how it goes. */
  function start(job: Job, commit: boolean, mapping: Record<string, string>, crs: CoordinateSystem) {
    job.status = commit ? 'committing' : 'checking'
    job.mapping = mapping
    job.crs = crs
    job.message = null
    job.messageZh = null
    job.summary = null
    const run = async () => {
      try {
        if (commit) await commitAll(job, mapping, crs)
        else await check(sql, job, mapping, crs)
        if (job.summary?.committed) {
          job.status = 'committed'
          job.message = null
          job.messageZh = null
        }
        else {
          job.status = 'validated'
          if (commit) {
            job.message = `nothing was written: ${job.errorCount} row problem(s) to fix first`
            job.messageZh = `未写入任何数据：须先改正 ${job.errorCount} 处问题`
          }
          await sql`update import_job set status = 'validated', mapping = ${sql.json(mapping)}, crs = ${crs}, rows_total = ${job.summary!.rows},
            rows_invalid = ${job.summary!.invalid}, summary = ${sql.json(job.summary)} where id = ${job.id}`
        }
      }
      catch (e) {
        if (job.summary) job.summary.committed = false
        job.status = 'failed'
        job.message = e instanceof HttpError ? e.message : `the import failed and nothing was written: ${(e as Error).message}`
        job.messageZh = e instanceof HttpError ? e.zh ?? e.message : `导入失败，未写入任何数据：${(e as Error).message}`
        await sql`update import_job set status = 'failed', summary = ${sql.json({ message: job.message })} where id = ${job.id}`.catch(() => undefined)
      }
      finally {
        job.phase = null
      }
    }
    job.running = run()
    return publicState(job)
  }

  return {
    /** Stores an uploaded file, reads its headings and counts its rows. */
    async upload(user: { id: number; jurisdiction: Jurisdiction }, kind: LedgerKind, fileName: string, buf: Buffer): Promise<JobState> {
      if (!buf.length) throw badRequest('the file is empty', '文件是空的')
      let headings: string[] = []
      let rows = 0
      try {
        for await (const r of dataRows(buf)) {
          headings = r.headings
          rows++
        }
      }
      catch (e) {
        if (e instanceof HttpError) throw e
        throw badRequest(`the file cannot be read as CSV or XLSX: ${(e as Error).message}`, `无法按 CSV 或 XLSX 读取此文件：${(e as Error).message}`)
      }
      if (!rows) throw badRequest('the file has a heading row but no data rows', '文件只有标题行，没有数据行')
      const id = randomUUID()
      await mkdir(dir, { recursive: true })
      const file = join(dir, id)
      await writeFile(file, buf)
      const sha256 = createHash('sha256').update(buf).digest('hex')
      const job: Job = {
        id, kind, fileName, status: 'uploaded', phase: null, done: 0, total: rows, rows, headings,
        suggestedMapping: suggestMapping(kind, headings), crs: null, mapping: null, summary: null, errors: [], errorCount: 0,
        message: null, messageZh: null, createdAt: new Date().toISOString(), userId: user.id, scope: user.jurisdiction, file, sha256, allErrors: [],
        changes: [], changeCount: 0, allChanges: [],
      }
      await sql`insert into import_job (id, kind, file_name, file_sha256, crs, mapping, status, rows_total, created_by)
        values (${id}, ${kind}, ${fileName}, ${sha256}, 'wgs84', ${sql.json({})}, 'uploaded', ${rows}, ${user.id})`
      jobs.set(id, job)
      return publicState(job)
    },

    state: (id: string, userId: number) => publicState(jobOf(id, userId)),

    run(id: string, userId: number, commit: boolean, mapping: Record<string, string>, crs: CoordinateSystem) {
      const job = jobOf(id, userId)
      if (job.status === 'checking' || job.status === 'committing') throw conflict('this import is already running; wait for it to finish', '此导入正在进行，请等待完成')
      if (job.status === 'committed') throw conflict('this import was committed already; importing the file again would change nothing', '此导入已完成；再次导入同一文件不会改变任何数据')
      const known = new Set(ledgerFields[job.kind].map(f => f.key))
      const unknown = Object.keys(mapping).filter(k => !known.has(k))
      if (unknown.length) throw badRequest(`unknown field(s) in the mapping: ${unknown.join(', ')}`, `列对应中有未知字段：${unknown.join('、')}`)
      return start(job, commit, mapping, crs)
    },

    /** Waits for a job's background run (tests and the benchmark). */
    async settled(id: string) {
      await jobs.get(id)?.running
      return jobs.get(id) ? publicState(jobs.get(id)!) : undefined
    },

    errors(id: string, userId: number): RowError[] {
      return jobOf(id, userId).allErrors
    },

    changes(id: string, userId: number): RowChange[] {
      return jobOf(id, userId).allChanges
    },

    async recent(userId: number) {
      return sql<{ id: string; kind: string; fileName: string; status: string; rowsTotal: number; rowsInvalid: number; createdAt: Date; committedAt: Date | null }[]>`
        select id, kind, file_name, status, rows_total, rows_invalid, created_at, committed_at
        from import_job where created_by = ${userId} order by created_at desc limit 50`
    },

    async discard(id: string, userId: number) {
      const job = jobOf(id, userId)
      jobs.delete(id)
      await rm(job.file, { force: true })
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    imports: ReturnType<typeof importsRepository>
  }
}

export default fp<{ keys: PiiKeys; imports?: ImportOptions }>(async (app, opts) => {
  app.decorate('imports', importsRepository(app.db.sql, opts.keys, opts.imports))
}, { name: 'imports', dependencies: ['db'] })
