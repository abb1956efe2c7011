import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { appendFile, chmod, lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline as pipelineCallback, Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import fp from 'fastify-plugin'
import { pgArray } from '../../db/arrays.js'
import type { Backend, Sql, Tx } from '../../db/index.js'
import type { Jurisdiction } from '../../domain/access.js'
import type { CoordinateSystem } from '../../domain/coords.js'
import type { RowError } from '../../domain/ledger.js'
import {
  absurdAbove, type AccountFacts, accountFactsDiffer, type Granularity, layoutOf, otherUtilityOf, type Reading,
  type ReadingLayout, readingFields, readReadingRow, suggestReadingMapping, type Utility,
} from '../../domain/readings.js'
import { type ByteSource, type Encoding, sniffFile, streamRecords } from '../../domain/readings-file.js'
import { openingStream, sealChunk, SealedFileError, sealingStream } from '../../domain/sealed-stream.js'
import type { Cell, FileKind } from '../../domain/tabular.js'
import { badRequest, conflict, HttpError, notFound } from '../../lib/http-errors.js'
import { today as todayInDistrict } from '../../domain/calendar.js'

/**
 * Importing utility readings: a file of millions of rows is streamed from disk, each row checked
 * and staged (COPY on PostgreSQL, multi-row inserts on the embedded database, a batch at a time),
 * then checked set-wise in SQL — repeated days, meter resets, accounts that match two premises —
 * and matched to premises by ledger ref, by address, or by the nearest premises within a distance.
 * The commit writes accounts and readings in one transaction, or nothing; the same file again
 * changes nothing. Account holders' names are personal data and are shown only to roles that see
 * people (this repository returns none of them).
 */

export interface ReadingsOptions {
  /** Where uploaded files and error reports wait. */
  dir?: string
  /** Rows staged per statement. */
  batchRows?: number
  /** The largest file accepted, in bytes. */
  maxBytes?: number
  /** Called once a job's readings are committed (the app forgets its data versions: the uploader's next request sees them). */
  written?: () => void
}

export type ReadingJobStatus = 'uploaded' | 'checking' | 'checked' | 'committing' | 'committed' | 'failed'

export interface UnmatchedAccount {
  accountNo: string
  address: string | null
  reason: 'no-premises' | 'no-location'
}

export interface ReadingSummary {
  rows: number
  valid: number
  invalid: number
  granularity: Granularity | null
  from: string | null
  to: string | null
  readings: { new: number; changed: number; unchanged: number }
  accounts: { total: number; new: number; ref: number; address: number; distance: number; visit: number; unmatched: number; noLocation: number }
  committed: boolean
}

export interface ReadingJobState {
  id: string
  utility: Utility
  fileName: string
  status: ReadingJobStatus
  phase: 'reading' | 'checking' | 'matching' | 'writing' | 'signals' | null
  bytesRead: number
  bytes: number
  rowsRead: number
  fileKind: FileKind
  encoding: Encoding
  headings: string[]
  suggestedMapping: Record<string, string>
  mapping: Record<string, string> | null
  crs: CoordinateSystem | null
  matchDistance: number | null
  summary: ReadingSummary | null
  errors: RowError[]
  errorCount: number
  unmatched: UnmatchedAccount[]
  unmatchedCount: number
  message: string | null
  messageZh: string | null
  createdAt: string
}

interface Job extends ReadingJobState {
  userId: number
  scope: Jurisdiction
  file: string
  errorsFile: string
  /** Sealed chunks appended to the error report so far. */
  errorsChunks: number
  sha256: string
  /** The mapping, system and distance the staged rows were read with; null when nothing is staged. */
  stagedWith: string | null
  running?: Promise<void>
}

export interface RunOptions {
  mapping: Record<string, string>
  crs: CoordinateSystem
  /** Metres within which the nearest premises is taken as the account's. */
  matchDistance: number
}

const keptErrors = 200

/** A value as COPY's text format writes it. */
const copyText = (v: string | number | boolean | null) => (v === null ? '\\N'
  : typeof v === 'string' ? v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : String(v))

/** What happens after a commit: the leads' signals and scores are refreshed for the accounts it touched. */
export type AfterCommit = (accountIds: 'all') => Promise<void>

const dirPrefix = 'grd-readings-'
/** Left alone this long, a directory of waiting readings belongs to a process that is gone. */
const abandonedAfterMs = 24 * 3_600_000

/**
 * Deletes what stopped processes left under the temporary directory: their files are sealed under
 * keys that died with them, so nobody can read them, but they take disk space (a readings file
 * runs to gigabytes). A live process writes into its directory whenever a job runs.
 */
export async function sweepReadingsDirs(root = tmpdir(), now = Date.now()): Promise<number> {
  let removed = 0
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!name.startsWith(dirPrefix) && name !== 'grd-readings') continue
    const path = join(root, name)
    const info = await lstat(path).catch(() => null)
    if (!info?.isDirectory() || info.uid !== process.getuid?.() || now - info.mtimeMs < abandonedAfterMs) continue
    await rm(path, { recursive: true, force: true })
    removed++
  }
  return removed
}

export function readingsRepository(sql: Sql, backend: Backend, opts: ReadingsOptions = {}) {
  // A directory of this process's own: what a stopped process left is swept (sweepReadingsDirs).
  const dir = opts.dir ?? join(tmpdir(), `${dirPrefix}${process.pid}-${randomUUID().slice(0, 8)}`)
  const batchRows = opts.batchRows ?? 20_000
  const maxBytes = opts.maxBytes ?? 4 * 1024 ** 3
  const jobs = new Map<string, Job>()
  let afterCommit: AfterCommit | null = null
  // Uploads and error reports carry account holders' names: on disk they are sealed under a key
  // that lives only in this process's memory (sealed-stream.ts), so a file left by a crash or
  // copied off the disk reads as nothing; the next start cannot open it either, as with ledgers.
  const key = randomBytes(32)

  /** The upload's plain bytes, opened from its sealed file as they are read. */
  const plainOf = (job: Pick<Job, 'id' | 'file'>): ByteSource => () =>
    pipelineCallback(createReadStream(job.file, { highWaterMark: 256 * 1024 }), openingStream(key, job.id), () => {})

  /** Appends text to the job's sealed error report, in chunks a reader accepts. */
  async function appendErrors(job: Job, text: string) {
    const plain = Buffer.from(text)
    const parts: Buffer[] = []
    for (let at = 0; at < plain.length; at += 60 * 1024) parts.push(sealChunk(key, `${job.id}:errors`, job.errorsChunks++, false, plain.subarray(at, at + 60 * 1024)))
    await appendFile(job.errorsFile, Buffer.concat(parts), { mode: 0o600 })
  }

  const publicState = (j: Job): ReadingJobState => {
    const { userId: _u, scope: _s, file: _f, errorsFile: _e, sha256: _h, stagedWith: _w, running: _r, ...state } = j
    return { ...state }
  }

  function jobOf(id: string, userId: number): Job {
    const j = jobs.get(id)
    if (!j || j.userId !== userId) throw notFound(`there is no readings import ${id} of yours (uploads are kept until the server restarts; upload the file again)`, '找不到您的这次读数导入（上传的文件在服务器重启后不再保留），请重新上传文件')
    return j
  }

  /** The heading row (the first with text in it) and the data rows after it, with their line numbers. */
  async function* dataRows(job: Pick<Job, 'id' | 'file' | 'fileKind' | 'encoding'>, onBytes?: (b: number) => void): AsyncGenerator<{ line: number; cells: Cell[]; headings: string[] }> {
    let line = 0
    let headings: string[] | null = null
    for await (const r of streamRecords(plainOf(job), job.fileKind, job.encoding, onBytes)) {
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

  /** Stages a batch of readings: COPY where the driver can, a multi-row insert on the embedded database. */
  async function stageReadings(job: Job, layout: ReadingLayout, rows: Reading[]) {
    if (!rows.length) return
    const g = layout.granularity
    if (backend === 'postgres') {
      const text = `${rows.map(r => [job.id, r.line, copyText(r.accountNo), r.period, g, r.hour === null ? '\\N' : r.hour, r.value, r.night === null ? '\\N' : r.night, layout.index ? 't' : 'f'].join('\t')).join('\n')  }\n`
      const w = await sql`copy reading_stage (job, line, account_no, period, granularity, hour, value, night, is_index) from stdin`.writable()
      await pipeline(Readable.from([text]), w)
      return
    }
    await sql`
      insert into reading_stage (job, line, account_no, period, granularity, hour, value, night, is_index)
      select ${job.id}, t.line, t.account_no, t.period, ${g}, t.hour, t.value, t.night, ${layout.index}
      from unnest(${pgArray(rows.map(r => r.line))}::int[], ${pgArray(rows.map(r => r.accountNo))}::text[], ${pgArray(rows.map(r => r.period))}::date[],
        ${pgArray(rows.map(r => r.hour))}::smallint[], ${pgArray(rows.map(r => r.value))}::bigint[], ${pgArray(rows.map(r => r.night))}::bigint[])
        as t(line, account_no, period, hour, value, night)`
  }

  async function stageAccounts(job: Job, rows: (AccountFacts & { line: number })[]) {
    if (!rows.length) return
    await sql`
      insert into reading_account_stage (job, line, account_no, holder_name, address, premises_ref, lon, lat)
      select ${job.id}, t.* from unnest(${pgArray(rows.map(r => r.line))}::int[], ${pgArray(rows.map(r => r.accountNo))}::text[],
        ${pgArray(rows.map(r => r.holderName))}::text[], ${pgArray(rows.map(r => r.address))}::text[], ${pgArray(rows.map(r => r.premisesRef))}::text[],
        ${pgArray(rows.map(r => r.lon))}::float8[], ${pgArray(rows.map(r => r.lat))}::float8[]) as t`
  }

  async function clearStage(jobId: string, db: Sql | Tx = sql) {
    await db`delete from reading_stage where job = ${jobId}`
    await db`delete from reading_account_stage where job = ${jobId}`
    await db`delete from reading_match where job = ${jobId}`
  }

  /** The days readings may cover: the campaign's, and none after today. */
  async function window(): Promise<{ from: string; to: string }> {
    const [c] = await sql<{ startsOn: string; endsOn: string }[]>`select starts_on, ends_on from campaign order by starts_on desc limit 1`
    if (!c) throw new Error('no campaign is defined')
    const today = todayInDistrict()
    return { from: c.startsOn, to: c.endsOn < today ? c.endsOn : today }
  }

  function addError(job: Job, e: RowError, pending: RowError[]) {
    job.errorCount++
    if (job.errors.length < keptErrors) job.errors.push(e)
    pending.push(e)
  }

  async function flushErrors(job: Job, pending: RowError[]) {
    if (!pending.length) return
    const csv = `${pending.map(e => [e.line, e.column, e.value, e.reason].map(v => `"${String(v).replace(/"/g, '""')}"`).join(',')).join('\r\n')  }\r\n`
    pending.length = 0
    await appendErrors(job, csv)
  }

  /** Reads every row of the file, checks it and stages it; answers the layout and row counts. */
  async function stage(job: Job, run: RunOptions): Promise<{ layout: ReadingLayout; rows: number; valid: number }> {
    const layout = layoutOf(run.mapping)
    if ('problem' in layout) throw badRequest(layout.problem[0], layout.problem[1])
    const known = new Set(readingFields.map(f => f.key))
    const unknown = Object.keys(run.mapping).filter(k => !known.has(k))
    if (unknown.length) throw badRequest(`unknown field(s) in the mapping: ${unknown.join(', ')}`, `列对应中有未知字段：${unknown.join('、')}`)
    const { from, to } = await window()
    const ctx = { utility: job.utility, layout, crs: run.crs, from, to }
    await clearStage(job.id)
    job.phase = 'reading'
    job.bytesRead = 0
    job.rowsRead = 0
    const pending: RowError[] = []
    const accounts = new Map<string, AccountFacts & { line: number }>()
    let newAccounts: (AccountFacts & { line: number })[] = []
    let readings: Reading[] = []
    let index: number[] | null = null
    let rows = 0
    let valid = 0
    const flush = async () => {
      await stageAccounts(job, newAccounts)
      await stageReadings(job, layout, readings)
      await flushErrors(job, pending)
      newAccounts = []
      readings = []
    }
    for await (const { line, cells, headings } of dataRows(job, (b) => { job.bytesRead = b })) {
      if (!index) {
        index = readingFields.map((f) => {
          const h = run.mapping[f.key]
          if (h === undefined || h === '') return -1
          const i = headings.indexOf(h)
          if (i < 0) throw badRequest(`the file has no column "${h}" (mapped to ${f.zh})`, `文件中没有“${h}”列（对应${f.zh}）`)
          return i
        })
      }
      rows++
      const mapped: Record<string, Cell> = {}
      readingFields.forEach((f, i) => { if (index![i]! >= 0) mapped[f.key] = cells[index![i]!] ?? null })
      const r = readReadingRow(line, mapped, run.mapping, ctx)
      if ('errors' in r) {
        for (const e of r.errors) addError(job, e, pending)
      }
      else {
        const seen = accounts.get(r.account.accountNo)
        const differs = seen && accountFactsDiffer(seen, r.account)
        if (differs) {
          addError(job, { line, column: run.mapping[differs] ?? differs, value: String(r.account[differs] ?? ''),
            reason: `与第 ${seen.line} 行同一户号的${differs === 'lon' ? '坐标' : differs === 'address' ? '地址' : differs === 'holderName' ? '户名' : '房屋台账编号'}不同 (differs from line ${seen.line} of the same account)` }, pending)
        }
        else {
          if (!seen) {
            const facts = { ...r.account, line }
            accounts.set(r.account.accountNo, facts)
            newAccounts.push(facts)
          }
          readings.push(r.reading)
          valid++
        }
      }
      if (readings.length >= batchRows) await flush()
      job.rowsRead = rows
    }
    await flush()
    job.rowsRead = rows
    return { layout, rows, valid }
  }

  /** Set-wise checks of the staged readings: a period given twice, a meter index that went down. */
  async function checkStaged(job: Job, run: RunOptions, layout: ReadingLayout) {
    const pending: RowError[] = []
    const col = (k: string) => run.mapping[k] ?? k
    const periodColumn = layout.granularity === 'm' ? col('month') : col('date')
    for await (const batch of sql<{ line: number; firstLine: number; period: string; hour: number | null }[]>`
      select line, first_line, period::text as period, hour from (
        select line, period, hour, min(line) over (partition by account_no, period, coalesce(hour, -1)) as first_line
        from reading_stage where job = ${job.id}
      ) s where line <> first_line order by line`.cursor(1000)) {
      for (const d of batch) {
        addError(job, { line: d.line, column: periodColumn, value: d.hour === null ? d.period : `${d.period} ${d.hour}`,
          reason: `与第 ${d.firstLine} 行重复：同一户号同一时段只能有一个读数 (the same account and ${d.hour === null ? (layout.granularity === 'm' ? 'month' : 'day') : 'hour'} as line ${d.firstLine})` }, pending)
      }
    }
    await flushErrors(job, pending)
    if (layout.index) {
      // Use is the difference between consecutive indexes; an index lower than the one before is a
      // meter reset or replacement, whose use cannot be known from the indexes.
      const limit = absurdAbove[job.utility][layout.granularity] * 100
      for await (const batch of sql<{ line: number; value: number; prev: number; prevLine: number }[]>`
        select line, value, prev, prev_line from (
          select line, value, lag(value) over w as prev, lag(line) over w as prev_line
          from reading_stage where job = ${job.id} and is_index
          window w as (partition by account_no order by period, hour, line)
        ) s where prev is not null and (value < prev or value - prev > ${limit}) order by line`.cursor(1000)) {
        for (const d of batch) {
          addError(job, d.value < d.prev
            ? { line: d.line, column: col('index'), value: String(d.value / 100), reason: `表码比第 ${d.prevLine} 行的 ${d.prev / 100} 小：电表是否更换或清零？请改填该时段的用量 (the meter index went down from ${d.prev / 100} on line ${d.prevLine}: a meter reset or replacement; give this period's consumption instead)` }
            : { line: d.line, column: col('index'), value: String(d.value / 100), reason: `与第 ${d.prevLine} 行表码之差大得不可信 (an unbelievable use since line ${d.prevLine})` }, pending)
        }
      }
      await flushErrors(job, pending)
    }
    // A month already held at another granularity (a bill where days are stored, or days where a bill is).
    for await (const batch of sql<{ line: number; period: string }[]>`
      select min(s.line) as line, date_trunc('month', s.period)::date::text as period
      from reading_stage s
      join meter_account a on a.utility = ${job.utility} and a.account_no = s.account_no
      join meter_reading r on r.account_id = a.id and r.month = date_trunc('month', s.period)::date
      where s.job = ${job.id}
        and case s.granularity when 'm' then r.daily is not null or r.hourly is not null
                               when 'd' then r.hourly is not null or r.daily is null
                               else r.hourly is null end
      group by s.account_no, date_trunc('month', s.period) order by 1`.cursor(1000)) {
      for (const d of batch) {
        addError(job, { line: d.line, column: periodColumn, value: d.period.slice(0, 7),
          reason: `该户号此月已有${layout.granularity === 'm' ? '按日或按小时' : '其他粒度'}的读数，不能混合 (this account's readings for the month are held at another granularity already)` }, pending)
      }
    }
    await flushErrors(job, pending)
  }

  /**
   * Matches every staged account to premises (set-wise) into reading_match: by the ledger ref the
   * file gives; else by the address; else the nearest premises within the distance — when a second
   * one is not far behind, the account is ambiguous. An account linked at a visit keeps its premises
   * unless the file names one. Also places accounts in the district and the user's jurisdiction.
   */
  async function match(db: Sql | Tx, job: Job, run: RunOptions) {
    await db`delete from reading_match where job = ${job.id}`
    const degrees = run.matchDistance / 90_000
    await db`
      insert into reading_match (job, account_no, premises_id, method, distance_m, candidates, problem, unmatched_reason, geom, town_id, community_id, police_station_id)
      with f as (
        select s.account_no, coalesce(s.premises_ref, o.premises_ref) as ref, coalesce(s.address, o.address) as address,
               coalesce(case when s.lon is not null then st_setsrid(st_makepoint(s.lon, s.lat), 4326) end, o.geom) as geom,
               o.match_method as old_method, o.premises_id as old_premises
        from reading_account_stage s
        left join meter_account o on o.utility = ${job.utility} and o.account_no = s.account_no
        where s.job = ${job.id}
      ),
      c as (
        select f.*,
          (select array_agg(p.id order by p.id) from premises p where f.ref is not null and p.external_ref = f.ref) as by_ref,
          (select array_agg(p.id order by p.id) from premises p
            where f.address is not null and address_key(p.address) = address_key(f.address) and p.deregistered_on is null) as by_address,
          near.ids as near_ids, near.ds as near_ds
        from f
        left join lateral (
          select array_agg(n.id order by n.d) as ids, array_agg(n.d order by n.d) as ds from (
            select p.id, st_distance(p.geom::geography, f.geom::geography) as d from premises p
            where f.geom is not null and st_dwithin(p.geom, f.geom, ${degrees}) and p.deregistered_on is null
            order by p.geom <-> f.geom limit 3
          ) n where n.d <= ${run.matchDistance}
        ) near on true
      ),
      m as (
        select c.*,
          case
            when c.ref is not null and cardinality(c.by_ref) = 1 then 'ref'
            when c.ref is not null then 'unknown-ref'
            when c.old_method = 'visit' then 'visit'
            when cardinality(c.by_address) = 1 then 'address'
            when cardinality(c.by_address) > 1 then 'ambiguous-address'
            when cardinality(c.near_ids) = 1 or (cardinality(c.near_ids) > 1 and c.near_ds[1] < c.near_ds[2] / 2) then 'distance'
            when cardinality(c.near_ids) > 1 then 'ambiguous'
          end as how
        from c
      ),
      r as (
        select m.account_no, m.geom,
          case m.how when 'ref' then m.by_ref[1] when 'visit' then m.old_premises when 'address' then m.by_address[1] when 'distance' then m.near_ids[1] end as premises_id,
          case when m.how in ('ref', 'visit', 'address', 'distance') then m.how end as method,
          case when m.how = 'distance' then m.near_ds[1] end as distance_m,
          case m.how when 'ambiguous' then m.near_ids when 'ambiguous-address' then m.by_address end as candidates,
          case when m.how in ('ambiguous', 'ambiguous-address') then 'ambiguous' when m.how = 'unknown-ref' then 'unknown-ref' end as problem,
          m.ref
        from m
      )
      select ${job.id}, r.account_no, r.premises_id, r.method, r.distance_m, r.candidates, r.problem,
        case when r.premises_id is null and r.problem is null then case when r.geom is null then 'no-location' else 'no-premises' end end,
        r.geom, areas.town_id, areas.community_id, areas.police_station_id
      from r
      left join premises p on p.id = r.premises_id
      cross join lateral (
        select coalesce(p.town_id, (select a.id from admin_area a where r.geom is not null and a.level = 'town' and a.valid_to is null and st_intersects(a.geom, r.geom) order by a.id limit 1)) as town_id,
               coalesce(p.community_id, (select a.id from admin_area a where r.geom is not null and a.level = 'community' and a.valid_to is null and st_intersects(a.geom, r.geom) order by a.id limit 1)) as community_id,
               coalesce(p.police_station_id, (select s.id from police_station s where r.geom is not null and s.valid_to is null and st_intersects(s.geom, r.geom) order by s.id limit 1)) as police_station_id
      ) areas`
    // Placed outside every town: not in the district. Outside the user's area: not theirs to import.
    await db`update reading_match set problem = 'outside-district' where job = ${job.id} and problem is null and geom is not null and town_id is null`
    if (job.scope.kind !== 'district') {
      const column = job.scope.kind === 'town' ? db`town_id` : db`police_station_id`
      await db`update reading_match set problem = 'outside-jurisdiction' where job = ${job.id} and problem is null
        and (geom is not null or premises_id is not null) and ${column} is distinct from ${job.scope.id!}`
    }
  }

  async function matchErrors(job: Job, run: RunOptions, db: Sql | Tx = sql): Promise<number> {
    const pending: RowError[] = []
    let n = 0
    const reasons: Record<string, (c: number[] | null) => string> = {
      'ambiguous': c => `可能属于多处房屋（编号 ${c?.join('、')}），请在文件中给出房屋台账编号 (matches more than one premises: ${c?.join(', ')}; give the premises ledger ref)`,
      'unknown-ref': () => '没有此台账编号的房屋 (no premises has this ledger ref)',
      'outside-district': () => '坐标不在本区范围内 (the point lies outside the district)',
      'outside-jurisdiction': () => '该户不在您的管辖范围内 (the account lies outside your jurisdiction)',
    }
    for await (const batch of db<{ line: number; accountNo: string; problem: string; candidates: number[] | null }[]>`
      select s.line, m.account_no, m.problem, m.candidates from reading_match m
      join reading_account_stage s on s.job = m.job and s.account_no = m.account_no
      where m.job = ${job.id} and m.problem is not null order by s.line`.cursor(1000)) {
      for (const m of batch) {
        n++
        const column = m.problem === 'unknown-ref' ? run.mapping.premisesRef ?? '' : m.problem === 'ambiguous' ? run.mapping.address ?? run.mapping.lon ?? '' : run.mapping.lon ?? run.mapping.accountNo ?? ''
        addError(job, { line: m.line, column, value: m.accountNo, reason: reasons[m.problem]!(m.candidates) }, pending)
      }
    }
    await flushErrors(job, pending)
    return n
  }

  /** How the staged rows compare with what is stored, and how the accounts match. */
  async function summarise(job: Job, layout: ReadingLayout, rows: number, valid: number): Promise<ReadingSummary> {
    const [r] = await sql<{ new: number; changed: number; unchanged: number; from: string | null; to: string | null }[]>`
      select count(*) filter (where o.old is null)::int as new,
             count(*) filter (where o.old is not null and (o.old <> s.value or o.old_night is distinct from coalesce(s.night, o.old_night)))::int as changed,
             count(*) filter (where o.old = s.value and o.old_night is not distinct from coalesce(s.night, o.old_night))::int as unchanged,
             min(s.period)::text as from, max(s.period)::text as to
      from reading_stage s
      left join meter_account a on a.utility = ${job.utility} and a.account_no = s.account_no
      left join meter_reading m on m.account_id = a.id and m.month = date_trunc('month', s.period)::date
      cross join lateral (select
        case s.granularity when 'd' then m.daily[extract(day from s.period)::int]::bigint
                           when 'h' then m.hourly[(extract(day from s.period)::int - 1) * 24 + s.hour + 1]::bigint
                           else case when m.daily is null and m.hourly is null then m.total end end as old,
        case s.granularity when 'd' then m.night[extract(day from s.period)::int]::bigint end as old_night) o
      where s.job = ${job.id} and not s.is_index`
    const [a] = await sql<{ total: number; new: number; ref: number; address: number; distance: number; visit: number; unmatched: number; noLocation: number }[]>`
      select count(*)::int as total,
             count(*) filter (where o.id is null)::int as new,
             count(*) filter (where m.method = 'ref')::int as ref,
             count(*) filter (where m.method = 'address')::int as address,
             count(*) filter (where m.method = 'distance')::int as distance,
             count(*) filter (where m.method = 'visit')::int as visit,
             count(*) filter (where m.unmatched_reason = 'no-premises')::int as unmatched,
             count(*) filter (where m.unmatched_reason = 'no-location')::int as no_location
      from reading_match m left join meter_account o on o.utility = ${job.utility} and o.account_no = m.account_no
      where m.job = ${job.id}`
    const unmatched = await sql<UnmatchedAccount[]>`
      select m.account_no, s.address, m.unmatched_reason as reason from reading_match m
      join reading_account_stage s on s.job = m.job and s.account_no = m.account_no
      where m.job = ${job.id} and m.unmatched_reason is not null order by s.line limit ${keptErrors}`
    job.unmatched = [...unmatched]
    job.unmatchedCount = a!.unmatched + a!.noLocation
    return {
      rows, valid, invalid: rows - valid, granularity: layout.granularity, from: r!.from, to: r!.to,
      readings: { new: r!.new, changed: r!.changed, unchanged: r!.unchanged }, accounts: a!, committed: false,
    }
  }

  /** Turns staged meter indexes into the use between consecutive readings (the first of each account has none). */
  async function indexesToUse(db: Sql, job: Job) {
    await db`
      with d as (select ctid, value - lag(value) over w as used from reading_stage where job = ${job.id} and is_index
                 window w as (partition by account_no order by period, hour, line))
      update reading_stage s set value = d.used, is_index = false from d where s.ctid = d.ctid and d.used is not null`
    await db`delete from reading_stage where job = ${job.id} and is_index`
  }

  /** Writes accounts and readings (inside the commit's transaction); answers the accounts written. */
  async function merge(tx: Tx, job: Job, layout: ReadingLayout): Promise<{ accounts: number; readings: number }> {
    const accounts = await tx`
      insert into meter_account as o (utility, account_no, holder_name, address, premises_ref, geom, town_id, community_id, police_station_id,
        premises_id, match_method, match_distance_m, unmatched_reason, site_key)
      select ${job.utility}, s.account_no, s.holder_name, s.address, s.premises_ref, m.geom, m.town_id, m.community_id, m.police_station_id,
        m.premises_id, m.method, m.distance_m, m.unmatched_reason, null
      from reading_account_stage s join reading_match m on m.job = s.job and m.account_no = s.account_no
      where s.job = ${job.id}
      on conflict (utility, account_no) do update set
        holder_name = coalesce(excluded.holder_name, o.holder_name), address = coalesce(excluded.address, o.address),
        premises_ref = coalesce(excluded.premises_ref, o.premises_ref), geom = excluded.geom, town_id = excluded.town_id,
        community_id = excluded.community_id, police_station_id = excluded.police_station_id, premises_id = excluded.premises_id,
        match_method = excluded.match_method, match_distance_m = excluded.match_distance_m, unmatched_reason = excluded.unmatched_reason,
        site_key = case when excluded.premises_id is null then o.site_key end, updated_at = now()
      where (o.holder_name, o.address, o.premises_ref, o.geom, o.town_id, o.community_id, o.police_station_id, o.premises_id, o.match_method, o.match_distance_m, o.unmatched_reason)
        is distinct from (coalesce(excluded.holder_name, o.holder_name), coalesce(excluded.address, o.address), coalesce(excluded.premises_ref, o.premises_ref),
          excluded.geom, excluded.town_id, excluded.community_id, excluded.police_station_id, excluded.premises_id, excluded.match_method,
          excluded.match_distance_m, excluded.unmatched_reason)`
    let written: { count: number }
    if (layout.granularity === 'm') {
      written = await tx`
        insert into meter_reading as r (account_id, month, total)
        select a.id, s.period, s.value from reading_stage s join meter_account a on a.utility = ${job.utility} and a.account_no = s.account_no
        where s.job = ${job.id}
        on conflict (account_id, month) do update set total = excluded.total
        where r.total <> excluded.total`
    }
    else {
      const hourly = layout.granularity === 'h'
      // Each touched month's array again: the file's values where it has them, the stored ones elsewhere.
      // Hourly readings also fill the days and their night (valley-tariff) part: 21:00 to 08:00.
      written = await tx`
        with s as (
          select a.id as account_id, date_trunc('month', st.period)::date as month,
                 case when ${hourly} then (extract(day from st.period)::int - 1) * 24 + st.hour + 1 else extract(day from st.period)::int end as i,
                 st.value, st.night
          from reading_stage st join meter_account a on a.utility = ${job.utility} and a.account_no = st.account_no
          where st.job = ${job.id}
        ),
        touched as (select distinct account_id, month from s),
        slots as (
          select t.account_id, t.month, g.i, coalesce(s.value, (case when ${hourly} then r.hourly else r.daily end)[g.i]::bigint) as v,
                 coalesce(s.night, case when not ${hourly} then r.night[g.i]::bigint end) as n
          from touched t
          left join meter_reading r on r.account_id = t.account_id and r.month = t.month
          cross join lateral generate_series(1, extract(day from t.month + interval '1 month' - interval '1 day')::int * case when ${hourly} then 24 else 1 end) g(i)
          left join s on s.account_id = t.account_id and s.month = t.month and s.i = g.i
        ),
        arrays as (
          select account_id, month, array_agg(v::int order by i) as a, array_agg(n::int order by i) as n, count(n) as nights, coalesce(sum(v), 0) as total
          from slots group by account_id, month
        ),
        shaped as (
          select account_id, month, total,
            case when ${hourly} then (select array_agg(d.v::int order by d.day) from (
              select (i - 1) / 24 + 1 as day, sum(x) as v from unnest(a) with ordinality h(x, i) group by 1) d) else a end as daily,
            case when ${hourly} then (select array_agg(d.v::int order by d.day) from (
              select (i - 1) / 24 + 1 as day, sum(x) filter (where (i - 1) % 24 >= 21 or (i - 1) % 24 < 8) as v from unnest(a) with ordinality h(x, i) group by 1) d)
              when nights > 0 then n end as night,
            case when ${hourly} then a end as hourly
          from arrays
        )
        insert into meter_reading as r (account_id, month, daily, night, hourly, total)
        select account_id, month, daily, night, hourly, total from shaped
        on conflict (account_id, month) do update set daily = excluded.daily, night = excluded.night, hourly = excluded.hourly, total = excluded.total
        where (r.daily, r.night, r.hourly, r.total) is distinct from (excluded.daily, excluded.night, excluded.hourly, excluded.total)`
    }
    return { accounts: accounts.count, readings: written.count }
  }

  /** The whole check (a dry run), or the check and the write in one transaction (a commit). */
  async function runJob(job: Job, run: RunOptions, commit: boolean) {
    const key = JSON.stringify([run.mapping, run.crs])
    job.errors = []
    job.errorCount = 0
    job.unmatched = []
    job.unmatchedCount = 0
    await writeFile(job.errorsFile, '', { mode: 0o600 })
    job.errorsChunks = 0
    await appendErrors(job, '\uFEFF"行号 line","列 column","内容 value","问题 reason"\r\n')
    let counts: { layout: ReadingLayout; rows: number; valid: number }
    if (job.stagedWith === key && job.summary) {
      // A dry run read every row without a problem: its staged rows are used as they are.
      counts = { layout: layoutOf(run.mapping) as ReadingLayout, rows: job.summary.rows, valid: job.summary.valid }
    }
    else {
      job.stagedWith = null
      counts = await stage(job, run)
    }
    const rowErrors = job.errorCount
    job.phase = 'checking'
    await checkStaged(job, run, counts.layout)
    if (counts.layout.index && job.errorCount === 0) await indexesToUse(sql, job)
    // Rows read without a problem may be written by a commit without reading the file again.
    if (rowErrors === 0) job.stagedWith = key
    job.phase = 'matching'
    await match(sql, job, run)
    await matchErrors(job, run)
    job.summary = await summarise(job, counts.layout, counts.rows, counts.valid)
    if (!commit || job.errorCount > 0) return
    job.phase = 'writing'
    const done = await sql.begin(async (tx) => {
      // A commit of millions of readings runs longer than a request may; other writers wait for it.
      await tx`set local statement_timeout = 0`
      await tx`select set_config('app.user_id', ${String(job.userId)}, true)`
      // The premises may have changed since the dry run: match again inside the transaction.
      await match(tx, job, run)
      const [problems] = await tx<{ n: number }[]>`select count(*)::int as n from reading_match where job = ${job.id} and problem is not null`
      if (problems!.n > 0) return null
      const written = await merge(tx, job, counts.layout)
      await clearStage(job.id, tx)
      await tx`insert into audit_log (user_id, username, action, entity, entity_id, after)
        select id, username, 'readings.import', 'readings-import', ${job.id},
               ${JSON.stringify({ fileName: job.fileName, sha256: job.sha256, utility: job.utility, ...job.summary!, written })}::text::jsonb
        from app_user where id = ${job.userId}`
      return written
    })
    if (!done) {
      await matchErrors(job, run)
      return
    }
    opts.written?.()
    job.stagedWith = null
    job.summary.committed = true
    // Written: the upload (with its holders' names) is not kept a moment longer than needed.
    await rm(job.file, { force: true })
    if (afterCommit) {
      job.phase = 'signals'
      // The readings are written whatever happens here: a failed refresh is said, not undone.
      try {
        await afterCommit('all')
      }
      catch (e) {
        job.message = `the readings were written, but the leads could not be recomputed: ${(e as Error).message}`
        job.messageZh = `读数已写入，但线索未能重新计算：${(e as Error).message}`
      }
    }
  }

  function start(job: Job, run: RunOptions, commit: boolean) {
    job.status = commit ? 'committing' : 'checking'
    job.mapping = run.mapping
    job.crs = run.crs
    job.matchDistance = run.matchDistance
    job.message = null
    job.messageZh = null
    const go = async () => {
      try {
        await runJob(job, run, commit)
        if (job.summary?.committed) job.status = 'committed'
        else {
          job.status = 'checked'
          if (commit) {
            job.message = `nothing was written: ${job.errorCount} problem(s) to fix first`
            job.messageZh = `未写入任何数据：须先改正 ${job.errorCount} 处问题`
          }
        }
      }
      catch (e) {
        job.status = 'failed'
        job.stagedWith = null
        if (job.summary) job.summary.committed = false
        if (e instanceof SealedFileError) {
          job.message = 'the uploaded file kept on the server no longer reads back as it was uploaded (changed or damaged on disk); nothing was written: upload the file again'
          job.messageZh = '服务器上暂存的上传文件已无法按原样读出（在磁盘上被改动或损坏），未写入任何数据：请重新上传文件'
        }
        else {
          job.message = e instanceof HttpError ? e.message : `the import failed and nothing was written: ${(e as Error).message}`
          job.messageZh = e instanceof HttpError ? e.zh ?? e.message : `导入失败，未写入任何数据：${(e as Error).message}`
        }
        await clearStage(job.id).catch(() => undefined)
      }
      finally {
        job.phase = null
      }
    }
    job.running = go()
    return publicState(job)
  }

  return {
    /** The directory where uploads and error reports wait, sealed (mode 0700). */
    dir,

    /** Sets what runs after every commit (the leads' refresh). */
    onCommit(fn: AfterCommit) {
      afterCommit = fn
    },

    /**
     * Stores an upload as it streams in (never whole in memory), then reads its headings. A file
     * whose headings are another utility's is refused here, before any row is read.
     */
    async upload(user: { id: number; jurisdiction: Jurisdiction }, utility: Utility, fileName: string, body: NodeJS.ReadableStream): Promise<ReadingJobState> {
      const id = randomUUID()
      // Account holders' names are personal data: the waiting files are this process's user's alone.
      await mkdir(dir, { recursive: true, mode: 0o700 })
      // A directory left by an earlier version (or made under another umask) is closed too.
      await chmod(dir, 0o700)
      const file = join(dir, id)
      const hash = createHash('sha256')
      let bytes = 0
      const meter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length
          if (bytes > maxBytes) {
            cb(new HttpError(413, `the file is larger than ${Math.round(maxBytes / 1024 ** 2)} MB`, 'too-large', `文件超过 ${Math.round(maxBytes / 1024 ** 2)} MB`))
            return
          }
          hash.update(chunk)
          cb(null, chunk)
        },
      })
      try {
        await pipeline(body, meter, sealingStream(key, id), createWriteStream(file, { mode: 0o600 }))
        if (!bytes) throw badRequest('the file is empty', '文件是空的')
        const sniffed = await sniffFile(plainOf({ id, file }))
        const job: Job = {
          id, utility, fileName, status: 'uploaded', phase: null, bytesRead: 0, bytes, rowsRead: 0, fileKind: sniffed.kind, encoding: sniffed.encoding,
          headings: [], suggestedMapping: {}, mapping: null, crs: null, matchDistance: null, summary: null, errors: [], errorCount: 0,
          unmatched: [], unmatchedCount: 0, message: null, messageZh: null, createdAt: new Date().toISOString(),
          userId: user.id, scope: user.jurisdiction, file, errorsFile: `${file}.errors`, errorsChunks: 0, sha256: hash.digest('hex'), stagedWith: null,
        }
        let headings: string[] | null = null
        try {
          // eslint-disable-next-line no-unreachable-loop -- the first row only: it carries the headings
          for await (const r of dataRows(job)) {
            headings = r.headings
            break
          }
        }
        catch (e) {
          if (e instanceof HttpError) throw e
          throw badRequest(`the file cannot be read as CSV or XLSX: ${(e as Error).message}`, `无法按 CSV 或 XLSX 读取此文件：${(e as Error).message}`)
        }
        if (!headings) throw badRequest('the file has a heading row but no data rows', '文件只有标题行，没有数据行')
        const other = otherUtilityOf(utility, headings)
        if (other) {
          const zh = { electricity: '电力', water: '供水', gas: '燃气' }
          throw new HttpError(400, `the headings (${headings.join(', ')}) look like a ${other} utility's export, not ${utility}: choose ${other}, or check the file`,
            'other-utility-format', `表头（${headings.join('、')}）看起来是${zh[other]}公司的导出文件，不是${zh[utility]}：请改选${zh[other]}，或检查文件`)
        }
        job.headings = headings
        job.suggestedMapping = suggestReadingMapping(headings)
        jobs.set(id, job)
        return publicState(job)
      }
      catch (e) {
        await rm(file, { force: true })
        throw e
      }
    },

    state: (id: string, userId: number) => publicState(jobOf(id, userId)),

    run(id: string, userId: number, commit: boolean, run: RunOptions) {
      const job = jobOf(id, userId)
      if (job.status === 'checking' || job.status === 'committing') throw conflict('this import is already running; wait for it to finish', '此导入正在进行，请等待完成')
      if (job.status === 'committed') throw conflict('this import was committed already; importing the file again would change nothing', '此导入已完成；再次导入同一文件不会改变任何数据')
      return start(job, run, commit)
    },

    /** Waits for a job's background run (tests and the benchmark). */
    async settled(id: string) {
      await jobs.get(id)?.running
      return jobs.get(id) ? publicState(jobs.get(id)!) : undefined
    },

    /** The error report (CSV with a byte-order mark for Excel), opened from its sealed file; null before the first run. */
    errorReport(id: string, userId: number): Readable | null {
      const job = jobOf(id, userId)
      if (!job.errorsChunks) return null
      return pipelineCallback(createReadStream(job.errorsFile), openingStream(key, `${job.id}:errors`, { requireEnd: false }), () => {})
    },

    /** Every account matched to no premises, with why (CSV rows). */
    async unmatched(id: string, userId: number): Promise<UnmatchedAccount[]> {
      const job = jobOf(id, userId)
      return [...await sql<UnmatchedAccount[]>`
        select m.account_no, s.address, m.unmatched_reason as reason from reading_match m
        join reading_account_stage s on s.job = m.job and s.account_no = m.account_no
        where m.job = ${job.id} and m.unmatched_reason is not null order by s.line`]
    },

    async discard(id: string, userId: number) {
      const job = jobOf(id, userId)
      if (job.status === 'checking' || job.status === 'committing') throw conflict('this import is running; wait for it to finish', '此导入正在进行，请等待完成')
      jobs.delete(id)
      await clearStage(job.id)
      await rm(job.file, { force: true })
      await rm(job.errorsFile, { force: true })
    },
  }
}

export type ReadingsRepository = ReturnType<typeof readingsRepository>

declare module 'fastify' {
  interface FastifyInstance {
    readings: ReadingsRepository
  }
}

export default fp<{ readings?: ReadingsOptions }>(async (app, opts) => {
  app.decorate('readings', readingsRepository(app.db.sql, app.db.backend, { written: () => app.versions.forget(), ...opts.readings }))
  // In the background: a start-up is not held up by a slow disk.
  if (!opts.readings?.dir) void sweepReadingsDirs().catch(err => app.log.warn({ err }, 'sweeping abandoned readings uploads failed'))
  app.addHook('onClose', async () => {
    if (!opts.readings?.dir) await rm(app.readings.dir, { recursive: true, force: true })
  })
}, { name: 'readings', dependencies: ['db', 'versions'] })
