import { createReadStream, createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Backend, Sql } from '../server/db/index.js'
import { wholeDistrict } from '../server/domain/access.js'
import { leadsRepository } from '../server/plugins/app/leads.js'
import { readingsRepository } from '../server/plugins/app/readings.js'
import { hiddenTruth, seedDemoReadings } from '../server/seed/readings.js'

/**
 * The leads' benchmark (part of npm run bench): the demo's readings and one refresh of every
 * signal and score, the leads queries, how good the leads are against the generator's truth
 * (beside the ≈ 55% that Jiangsu's grid company reported), and a streamed readings import of
 * `readingRows` daily rows, then the same file again.
 */

interface Row { measure: string; value: string; note: string }

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!
async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now()
  const r = await fn()
  return [r, performance.now() - t0]
}

export async function benchLeads(sql: Sql, opts: { seed: number; runs: number; readingRows: number; backend: Backend }): Promise<Row[]> {
  const rows: Row[] = []
  const leads = leadsRepository(sql)
  const [seeded, seedMs] = await time(() => seedDemoReadings(sql, { seed: opts.seed, batch: 5000 }))
  rows.push({ measure: 'demo readings (a year of daily electricity, monthly water)', value: `${(seedMs / 1000).toFixed(1)} s`,
    note: `${seeded.accounts.toLocaleString('en')} accounts, ${seeded.months.toLocaleString('en')} account-months` })
  const [refreshed, refreshMs] = await time(() => leads.refresh())
  rows.push({ measure: 'leads refresh: signals, norms, scores (set-wise)', value: `${(refreshMs / 1000).toFixed(1)} s`,
    note: `${refreshed.scored.toLocaleString('en')} leads, ${refreshed.accounts.toLocaleString('en')} accounts; statistics ${(refreshed.phases.statsMs / 1000).toFixed(1)} s, signals and norms ${(refreshed.phases.signalsMs / 1000).toFixed(1)} s, scores ${(refreshed.phases.scoreMs / 1000).toFixed(1)} s` })
  await sql`analyze lead`

  // The leads queries a commander's page makes: the first page, a town's, and the map layer.
  const [town] = await sql<{ id: number }[]>`select town_id as id from lead group by 1 order by count(*) desc limit 1`
  const queries: [string, () => Promise<unknown>][] = [
    ['leads list, whole district, first 50', () => leads.list(wholeDistrict, { statuses: ['active'] }, 50, 0, false)],
    ['leads list, one town, first 50', () => leads.list(wholeDistrict, { statuses: ['active'], towns: [town!.id] }, 50, 0, false)],
    ['leads map layer, 5,000 points', () => leads.points(wholeDistrict, { statuses: ['active'] }, 5000)],
  ]
  for (const [label, fn] of queries) {
    await fn()
    const ms: number[] = []
    for (let i = 0; i < opts.runs; i++) ms.push((await time(fn))[1])
    rows.push({ measure: `${label} p50 / p95`, value: `${percentile(ms, 50).toFixed(1)} / ${percentile(ms, 95).toFixed(1)} ms`, note: 'target p95 ≤ 200 ms' })
  }

  // How good: against the generator's truth, which the model never sees.
  const truth = await hiddenTruth(sql, opts.seed)
  const ranked = await sql<{ premisesId: number | null; accounts: string[] }[]>`
    select l.premises_id, coalesce((select array_agg(a.account_no) from meter_account a where a.site_key = l.site_key), '{}') as accounts
    from lead l where l.candidate order by l.score desc, l.id`
  const hit = ranked.map(l => (l.premisesId !== null ? truth.premises.has(l.premisesId) : l.accounts.some(a => truth.siteAccounts.has(a))))
  const hidden = hit.filter(Boolean).length
  const at = (k: number) => hit.slice(0, k).filter(Boolean).length
  rows.push({ measure: 'precision@100 / @500', value: `${(at(100) / Math.min(100, ranked.length)).toFixed(3)} / ${(at(500) / Math.min(500, ranked.length)).toFixed(3)}`,
    note: `Jiangsu grid company: ≈ 0.55 (12,000 of 22,000 confirmed); base rate ${(hidden / ranked.length).toFixed(3)}` })
  rows.push({ measure: 'recall@1000', value: (at(1000) / Math.max(1, hidden)).toFixed(3), note: `${hidden.toLocaleString('en')} hidden group rentals among ${ranked.length.toLocaleString('en')} candidates` })

  if (opts.readingRows > 0) rows.push(...await benchReadingsImport(sql, opts.backend, leads, opts.readingRows))
  return rows
}

/**
 * A daily electricity file of `n` rows for accounts at premises (by their ledger ref, given to the
 * premises that had none), written to disk as a stream, then uploaded, checked and committed.
 */
async function benchReadingsImport(sql: Sql, backend: Backend, leads: ReturnType<typeof leadsRepository>, n: number): Promise<Row[]> {
  const rows: Row[] = []
  const days = 366
  const accounts = Math.ceil(n / days)
  await sql`update premises set external_ref = 'BR-' || id where external_ref is null and id in (select id from premises order by id limit ${accounts})`
  const refs = (await sql<{ ref: string }[]>`select external_ref as ref from premises where external_ref is not null order by id limit ${accounts}`).map(r => r.ref)
  const [user] = await sql<{ id: number }[]>`
    insert into app_user (username, display_name, password_hash, role) values ('bench-readings', 'bench', 'x', 'commander')
    on conflict (username) do update set username = excluded.username returning id`
  const file = join(tmpdir(), `bench-readings-${n}.csv`)
  const [, writeMs] = await time(() => new Promise<void>((resolve, reject) => {
    const out = createWriteStream(file)
    out.on('error', reject)
    out.write('户号,台账编号,日期,用电量,谷电量\n')
    let written = 0
    let a = 0
    let d = 0
    const start = Date.UTC(2020, 0, 1)
    const dates = Array.from({ length: days }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10))
    const pump = () => {
      while (written < n) {
        const use = 5 + ((a * 7 + d * 13) % 200) / 10
        const ok = out.write(`BR-${a},${refs[a % refs.length]},${dates[d]},${use.toFixed(2)},${(use * 0.3).toFixed(2)}\n`)
        written++
        if (++d === days) {
          d = 0
          a++
        }
        if (!ok) {
          out.once('drain', pump)
          return
        }
      }
      out.end(resolve)
    }
    pump()
  }))
  const repo = readingsRepository(sql, backend)
  const run = { mapping: { accountNo: '户号', premisesRef: '台账编号', date: '日期', value: '用电量', night: '谷电量' }, crs: 'wgs84' as const, matchDistance: 30 }
  const once = async () => {
    const [job, up] = await time(() => repo.upload({ id: user!.id, jurisdiction: wholeDistrict }, 'electricity', 'bench.csv', createReadStream(file)))
    repo.run(job.id, user!.id, false, run)
    const [dry, dryMs] = await time(() => repo.settled(job.id))
    repo.run(job.id, user!.id, true, run)
    const [done, commitMs] = await time(() => repo.settled(job.id))
    if (done?.status !== 'committed') throw new Error(`readings import did not commit: ${done?.message} ${JSON.stringify(done?.errors.slice(0, 3))} (dry run: ${dry?.errorCount} problems)`)
    await repo.discard(job.id, user!.id)
    return { up, dryMs, commitMs, done }
  }
  const first = await once()
  const total = first.up + first.dryMs + first.commitMs
  rows.push({ measure: `readings import ${n.toLocaleString('en')} daily rows: write the file`, value: `${(writeMs / 1000).toFixed(1)} s`, note: `${accounts.toLocaleString('en')} accounts × ${days} days` })
  rows.push({ measure: '  upload + dry run (read, check, stage, match)', value: `${((first.up + first.dryMs) / 1000).toFixed(1)} s`, note: '' })
  rows.push({ measure: '  commit (match again, write, one transaction)', value: `${(first.commitMs / 1000).toFixed(1)} s`, note: '' })
  rows.push({ measure: '  rows per second, upload to commit', value: Math.round(n / (total / 1000)).toLocaleString('en'), note: 'target: 10,000,000 rows, streamed' })
  const [, refreshMs] = await time(() => leads.refresh())
  rows.push({ measure: '  leads refresh after the import', value: `${(refreshMs / 1000).toFixed(1)} s`, note: '' })
  const again = await once()
  rows.push({ measure: '  the same file again: upload + dry run + commit', value: `${((again.up + again.dryMs + again.commitMs) / 1000).toFixed(1)} s`,
    note: `${again.done.summary?.readings.changed ?? '?'} changed, ${again.done.summary?.readings.new ?? '?'} new` })
  await rm(file, { force: true })
  return rows
}
