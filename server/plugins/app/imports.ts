import { createHash, randomUUID } from 'node:crypto'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { bbox as turfBbox } from '@turf/bbox'
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon'
import { point as turfPoint } from '@turf/helpers'
import fp from 'fastify-plugin'
import type { MultiPolygon } from 'geojson'
import { pgArray } from '../../db/arrays.js'
import type { Sql } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import type { Jurisdiction } from '../../domain/access.js'
import type { CoordinateSystem } from '../../domain/coords.js'
import {
  type EnforcementRecord, type HazardRecord, type LedgerContext, ledgerFields, type LedgerKind, ledgerRecordLabel as recordLabel,
  ledgerValueText as shown, type PremisesRecord, readRow, type ResidentRecord, type RowError, suggestMapping,
} from '../../domain/ledger.js'
import { hmacIdNumber, type PiiKeys } from '../../domain/pii.js'
import { type Cell, ledgerRecords } from '../../domain/tabular.js'
import { badRequest, conflict, HttpError, notFound } from '../../http-errors.js'
import { todayInDistrict } from './campaign.js'
import { importStaging, mergeMayRetry, type Staged } from './imports-merge.js'
import { uploadStore } from './imports-uploads.js'

/**
 * Ledger imports: a file is uploaded, its columns mapped, every row checked (a dry run says what
 * would be created, updated or left as it is), then committed all or nothing. Rows are matched on
 * their ledger reference, so importing the same file again changes nothing.
 *
 * A job runs in the background and reports its progress in memory (the page polls it without
 * touching the database). The uploaded file waits encrypted (`imports-uploads.ts`) and is removed
 * after the commit, a discard, or a day. A commit stages the checked rows outside the shared tables
 * and merges them in one short transaction (`imports-merge.ts`), so other users keep working while
 * a large file is read and checked.
 */

export interface ImportOptions {
  /** The directory under which this process keeps its uploads (the system's temporary directory). */
  dir?: string
  /** Rows to merge above which the row triggers are switched off and their work done set-wise. */
  bulkRows?: number
  /** Rows checked (and, in a commit, staged) per batch. */
  batchRows?: number
  /** How long an upload and its job are kept when nobody commits or discards them. */
  keepMs?: number
  /**
   * Whether statements have a time limit (DATABASE_STATEMENT_TIMEOUT_MS, real PostgreSQL): a job then
   * reserves a connection without one, since the limit is for requests, and a job that waits for a
   * lock longer than that must wait, not fail.
   */
  statementLimit?: boolean
}

/** How often uploads, jobs and staged rows are swept (and this process's upload directory marked alive). */
export const sweepEveryMs = 5 * 60_000
/** A committing job whose heartbeat is this old died with its process. */
const staleCommitMinutes = 15
/** Rows per staging statement: short enough that other requests never wait long for the connection. */
const stageRows = 250

export type JobStatus = 'uploaded' | 'checking' | 'validated' | 'committing' | 'committed' | 'failed'

export interface JobState {
  id: string
  kind: LedgerKind
  fileName: string
  status: JobStatus
  /** What the job is doing, and how far along. */
  phase: 'reading' | 'checking' | 'writing' | 'merging' | null
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
  sha256: string
  allErrors: RowError[]
  allChanges: RowChange[]
  running?: Promise<void>
}

const maxErrorsKept = 100_000
const maxChangesKept = 100_000

export function importsRepository(sql: Sql, keys: PiiKeys, opts: ImportOptions = {}) {
  const store = uploadStore(opts.dir)
  const staging = importStaging(sql, keys)

  /**
   * Runs a background job's statements with no time limit: on PostgreSQL on a connection reserved
   * for the job with its limit lifted while the job holds it. The embedded database has no limit,
   * and one connection, which a job must not hold between its statements.
   */
  async function withoutTimeLimit<T>(work: (db: Sql) => Promise<T>): Promise<T> {
    if (!opts.statementLimit) return work(sql)
    const reserved = await sql.reserve()
    try {
      await reserved`set statement_timeout = 0`
      return await work(reserved)
    }
    finally {
      await reserved`reset statement_timeout`.catch(() => undefined)
      reserved.release()
    }
  }
  // Up to this many rows the row triggers keep derived data as for any write; above it the merge
  // does their work set-wise (a trigger per row over hundreds of thousands of rows, each adding to
  // the same few change rows, would take minutes).
  const bulkRows = opts.bulkRows ?? 1000
  const batchSize = opts.batchRows ?? 5000
  const keepMs = opts.keepMs ?? 24 * 3_600_000
  const jobs = new Map<string, Job>()

  const publicState = (j: Job): JobState => {
    const { userId: _u, scope: _s, sha256: _h, allErrors: _a, allChanges: _c, running: _r, ...state } = j
    return { ...state, errors: j.allErrors.slice(0, 200), changes: j.allChanges.slice(0, 200) }
  }
  const isRunning = (j: Job) => j.status === 'checking' || j.status === 'committing'

  function jobOf(id: string, userId: number): Job {
    const j = jobs.get(id)
    if (!j || j.userId !== userId) throw notFound(`there is no import ${id} of yours (an upload is kept for a day, and not after the server restarts; upload the file again)`, '找不到您的这次导入（上传的文件最多保留一天，服务器重启后也不再保留），请重新上传文件')
    return j
  }

  /** The heading row: the first row with text in it; rows after it are data. */
  async function* dataRows(buf: Buffer): AsyncGenerator<{ line: number; cells: Cell[]; headings: string[] }> {
    let line = 0
    let headings: string[] | null = null
    for await (const r of ledgerRecords(buf)) {
      line++
      // Reading a large file is CPU work: let other requests in now and then.
      if (line % 2000 === 0) await nextTurn()
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
  async function placeChecker(db: Sql, scope: Jurisdiction) {
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

  async function context(db: Sql, job: Job, crs: CoordinateSystem): Promise<LedgerContext> {
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

  type Pending = Staged
  const sameMoment = (a: Date | null, b: string | null) => (a === null ? b === null : b !== null && a.getTime() === Date.parse(b))
  /** A record already in the database: whether the user may change it, and what the file would change. */
  interface Existing { mine: boolean; diff: FieldChange[] }

  /** Police stations a jurisdiction may record at: any, its own, or those reaching into its town. */
  function stationServes(db: Sql, scope: Jurisdiction) {
    switch (scope.kind) {
      case 'district': return db`true`
      case 'police_station': return db`s.id = ${scope.id!}`
      case 'town': return db`exists (select 1 from admin_area t where t.id = ${scope.id!} and t.geom && s.geom
        and st_intersects(t.geom, s.geom) and not st_touches(t.geom, s.geom))`
    }
  }

  /** The premises a batch of residents or hazards belongs to, by ledger reference. */
  async function premisesByRef(db: Sql, scope: Jurisdiction, refs: string[]) {
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
  async function existing(db: Sql, kind: LedgerKind, scope: Jurisdiction, batch: Pending[]): Promise<Map<string, Existing>> {
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

  /**
   * Reads, checks and compares every row; the job's errors, changes and summary say what was found.
   * Each batch's rows to write go to `write` as soon as they are known (a commit stages them), so no
   * more than a batch of them is ever held in memory.
   */
  async function check(db: Sql, job: Job, mapping: Record<string, string>, crs: CoordinateSystem, write?: (rows: Pending[]) => Promise<void>) {
    const ctx = await context(db, job, crs)
    const buf = await store.get(job.id).catch(() => {
      throw conflict('the uploaded file is no longer kept (it was committed, discarded or kept for a day); upload it again', '上传的文件已不再保留（已导入、已放弃或已超过一天），请重新上传')
    })
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
  // Committing: stage while checking, then merge in one transaction.
  // ---------------------------------------------------------------------------------------------

  /**
   * Checks every row again and stages the rows to write, batch by batch, outside any transaction;
   * then, if no row has a problem, merges them into the shared tables in one transaction with the
   * job's status and audit row. A single row problem, an error or the end of the process leaves the
   * shared tables as they were (staged rows are dropped here, or swept once their job is dead).
   */
  async function commitAll(job: Job, mapping: Record<string, string>, crs: CoordinateSystem) {
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
      for (let attempt = 1; ; attempt++) {
        try {
          await sql.begin(async (tx) => {
            // A merge of a million rows runs set-wise refreshes of a minute or more; requests have a
            // time limit, this background job has none (other writers wait for it, or time out themselves).
            await tx`set local statement_timeout = 0`
            // A file that changes nothing writes nothing (not even the statement triggers' data version).
            if (staged > 0) await staging.merge(tx, job, staged > bulkRows)
            await tx`update import_job set status = 'committed', committed_at = now(), summary = ${tx.json(summary)}, rows_total = ${summary.rows},
              rows_invalid = 0 where id = ${job.id}`
            await tx`insert into audit_log (user_id, username, action, entity, entity_id, after)
              select id, username, ${`import.${job.kind}`}, 'import', ${job.id}, ${tx.json({ fileName: job.fileName, sha256: job.sha256, ...summary })}
              from app_user where id = ${job.userId}`
          })
          break
        }
        catch (e) {
          if (attempt >= 3 || !mergeMayRetry(e)) throw e
        }
      }
      job.summary!.committed = true
      await store.remove(job.id)
      // Outside the merge's transaction; should this fail, the sweep deletes them (the job is committed).
      await staging.drop(job.id).catch(() => undefined)
    }
    catch (e) {
      await staging.drop(job.id).catch(() => undefined)
      throw e
    }
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
        else await withoutTimeLimit(db => check(db, job, mapping, crs))
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
      await store.put(id, buf)
      const sha256 = createHash('sha256').update(buf).digest('hex')
      const job: Job = {
        id, kind, fileName, status: 'uploaded', phase: null, done: 0, total: rows, rows, headings,
        suggestedMapping: suggestMapping(kind, headings), crs: null, mapping: null, summary: null, errors: [], errorCount: 0,
        message: null, messageZh: null, createdAt: new Date().toISOString(), userId: user.id, scope: user.jurisdiction, sha256, allErrors: [],
        changes: [], changeCount: 0, allChanges: [],
      }
      try {
        await sql`insert into import_job (id, kind, file_name, file_sha256, crs, mapping, status, rows_total, created_by)
          values (${id}, ${kind}, ${fileName}, ${sha256}, 'wgs84', ${sql.json({})}, 'uploaded', ${rows}, ${user.id})`
      }
      catch (e) {
        await store.remove(id)
        throw e
      }
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

    /** Forgets an upload: its file is deleted at once; a running import cannot be discarded. */
    async discard(id: string, userId: number) {
      const job = jobOf(id, userId)
      if (isRunning(job)) throw conflict('this import is running; wait for it to finish', '此导入正在进行，请等待完成')
      jobs.delete(id)
      await store.remove(id)
      await sql`update import_job set status = 'discarded' where id = ${id} and status in ('uploaded', 'validated', 'failed')`
    },

    /**
     * Deletes what nobody will use: jobs and uploads older than a day, upload directories of
     * processes that are gone, staged rows of commits that died (at start-up, then every few minutes).
     */
    async sweep(now = Date.now()) {
      const old = [...jobs.values()].filter(j => !isRunning(j) && now - Date.parse(j.createdAt) > keepMs)
      for (const j of old) {
        jobs.delete(j.id)
        await store.remove(j.id)
      }
      await sql`update import_job set status = 'discarded'
        where status in ('uploaded', 'validated') and (id = any(${pgArray(old.map(j => j.id))}::uuid[]) or created_at < now() - make_interval(secs => ${keepMs / 1000}))`
      await store.sweep(now)
      await staging.sweep([...jobs.values()].filter(j => j.status === 'committing').map(j => j.id), staleCommitMinutes)
    },

    /** Deletes this process's uploads (the server is stopping: nobody could read them again). */
    close: () => store.close(),
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    imports: ReturnType<typeof importsRepository>
  }
}

export default fp<{ keys: PiiKeys; imports?: ImportOptions }>(async (app, opts) => {
  const imports = importsRepository(app.db.sql, opts.keys, { statementLimit: app.db.backend === 'postgres', ...opts.imports })
  // What a previous process left behind goes first; then the sweep keeps going while the app runs.
  // A database away at start-up delays the sweep to its next round instead of stopping the app
  // (which then answers 503 until the database is back; `npm run openapi` builds it with none).
  const sweep = () => imports.sweep().catch((e: unknown) => app.log.warn({ err: e }, 'sweeping ledger imports failed'))
  await sweep()
  const timer = setInterval(sweep, sweepEveryMs).unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await imports.close()
  })
  app.decorate('imports', imports)
}, { name: 'imports', dependencies: ['db'] })
