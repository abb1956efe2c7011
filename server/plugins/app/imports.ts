import { createHash, randomUUID } from 'node:crypto'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { bbox as turfBbox } from '@turf/bbox'
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon'
import { point as turfPoint } from '@turf/helpers'
import fp from 'fastify-plugin'
import type { MultiPolygon } from 'geojson'
import { pgArray } from '../../db/arrays.js'
import type { Sql } from '../../db/index.js'
import type { Jurisdiction } from '../../domain/access.js'
import type { CoordinateSystem } from '../../domain/coords.js'
import {
  type EnforcementRecord, type HazardRecord, type LedgerContext, ledgerFields, type LedgerKind, ledgerRecordLabel as recordLabel,
  readRow, type ResidentRecord, type RowError, suggestMapping,
} from '../../domain/ledger.js'
import { hmacIdNumber, type PiiKeys } from '../../domain/pii.js'
import { type Cell, ledgerRecords } from '../../domain/tabular.js'
import { badRequest, conflict, HttpError } from '../../lib/http-errors.js'
import { today as todayInDistrict } from '../../domain/calendar.js'
import { existingRecords, premisesByRef, stationServes } from './imports-compare.js'
import { commitImport, importStaging, type Staged } from './imports-merge.js'
import { type Job, type JobState, jobRegistry, maxChangesKept, maxErrorsKept } from './imports-state.js'
import { uploadStore } from './imports-uploads.js'
import type { RecentImport, RowChange } from '../../schemas/imports.js'

/**
 * Ledger imports: a file is uploaded, its columns mapped, every row checked (a dry run says what
 * would be created, updated or left as it is), then committed all or nothing. Rows are matched on
 * their ledger reference, so importing the same file again changes nothing.
 *
 * This file reads and checks the rows and runs the jobs. A job runs in the background and reports
 * its progress in memory (`imports-state.ts`; the page polls it without touching the database).
 * Each batch of checked rows is compared with what the database holds (`imports-compare.ts`). The
 * uploaded file waits encrypted (`imports-uploads.ts`) and is removed after the commit, a discard,
 * or a day. A commit stages the checked rows outside the shared tables and merges them in one
 * short transaction (`imports-merge.ts`), so other users keep working while a large file is read
 * and checked.
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
  /** Whether to sweep at start and every few minutes: off only where the app never serves (the OpenAPI script opens no database). */
  sweep?: boolean
  /**
   * Whether statements have a time limit (DATABASE_STATEMENT_TIMEOUT_MS, real PostgreSQL): a job then
   * reserves a connection without one, since the limit is for requests, and a job that waits for a
   * lock longer than that must wait, not fail.
   */
  statementLimit?: boolean
  /** Called once a job's merge is committed (the app forgets its data versions: the uploader's next request sees the merge). */
  written?: () => void
}

/** How often uploads, jobs and staged rows are swept (and this process's upload directory marked alive). */
export const sweepEveryMs = 5 * 60_000
/** A committing job whose heartbeat is this old died with its process. */
const staleCommitMinutes = 15

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
  const jobs = jobRegistry()
  const { jobOf, isRunning, publicState } = jobs

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
      const there = await existingRecords(db, job.kind, job.scope, ok)
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
        if (commit) await commitImport({ sql, staging, store, bulkRows, check, withoutTimeLimit, written: opts.written }, job, mapping, crs)
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

    async recent(userId: number): Promise<RecentImport[]> {
      const rows = await sql<(Omit<RecentImport, 'createdAt' | 'committedAt'> & { createdAt: Date; committedAt: Date | null })[]>`
        select id, kind, file_name, status, rows_total, rows_invalid, created_at, committed_at
        from import_job where created_by = ${userId} order by created_at desc limit 50`
      return rows.map(r => ({ ...r, createdAt: r.createdAt.toISOString(), committedAt: r.committedAt?.toISOString() ?? null }))
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
  const imports = importsRepository(app.db.sql, opts.keys, {
    statementLimit: app.db.backend === 'postgres',
    written: () => app.versions.forget(),
    ...opts.imports,
  })
  // What a previous process left behind goes first; then the sweep keeps going while the app runs.
  // A database away at start-up delays the sweep to its next round instead of stopping the app
  // (which then answers 503 until the database is back).
  const sweep = () => imports.sweep().catch((e: unknown) => app.log.warn({ err: e }, 'sweeping ledger imports failed'))
  const sweeps = opts.imports?.sweep ?? true
  if (sweeps) await sweep()
  const timer = sweeps ? setInterval(sweep, sweepEveryMs).unref() : undefined
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await imports.close()
  })
  app.decorate('imports', imports)
}, { name: 'imports', dependencies: ['db', 'versions'] })
