/**
 * Benchmarks on real PostgreSQL + PostGIS (PGlite is 2-3x slower and not what production runs):
 *   DATABASE_URL=postgres://user@host:port/postgres npm run bench -- --premises 100000
 * Creates (and afterwards drops, unless --keep) a database of its own on that server, seeds the
 * demo district at the given size and prints a table of timings.
 */
import { parseArgs } from 'node:util'
import { openDatabase, type Sql } from '../server/db/index.js'
import { migrate } from '../server/db/migrate.js'
import { campaignRepository } from '../server/plugins/app/campaign.js'
import { premisesRepository } from '../server/plugins/app/premises.js'
import { statsRepository } from '../server/plugins/app/stats.js'
import { wholeDistrict } from '../server/domain/access.js'
import { piiKeysFrom } from '../server/domain/pii.js'
import { seedDemo } from '../server/seed/demo.js'

const { values } = parseArgs({
  options: {
    premises: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '30' },
    keep: { type: 'boolean', default: false },
  },
})
const url = process.env.DATABASE_URL
if (!url) {
  console.error('npm run bench measures real PostgreSQL + PostGIS: set DATABASE_URL to a server where it may create a database.')
  process.exit(1)
}
const premises = Number(values.premises)
const runs = Number(values.runs)
const name = `grd_bench_${premises}`
const withDb = (db: string) => Object.assign(new URL(url), { pathname: `/${db}` }).toString()

interface Row { measure: string; value: string; note: string }
const rows: Row[] = []

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now()
  const r = await fn()
  return [r, performance.now() - t0]
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

async function repeat(label: string, fn: () => Promise<unknown>, note: (r: unknown) => string) {
  const result = await fn() // warm-up: plan cache and buffers
  const ms: number[] = []
  for (let i = 0; i < runs; i++) ms.push((await time(fn))[1])
  rows.push({ measure: `${label} p50 / p95`, value: `${percentile(ms, 50).toFixed(1)} / ${percentile(ms, 95).toFixed(1)} ms`, note: note(result) })
}

const admin = await openDatabase({ url: withDb('postgres'), max: 1 })
await admin.sql.unsafe(`drop database if exists "${name}" with (force)`)
await admin.sql.unsafe(`create database "${name}"`)
await admin.close()

const db = await openDatabase({ url: withDb(name), max: 4 })
const sql: Sql = db.sql
try {
  await migrate(sql)
  const [summary, seedMs] = await time(() => seedDemo(sql, {
    premises, seed: 20191227, keys: piiKeysFrom(Buffer.alloc(32, 1)), batch: 10_000,
    log: m => console.log(`  ${m}`),
  }))
  await sql`analyze`
  rows.push({ measure: 'seed (premises, residents, hazards, events)', value: `${(seedMs / 1000).toFixed(1)} s`,
    note: `${summary.premises.toLocaleString('en')} premises, ${summary.residents.toLocaleString('en')} residents, ${summary.hazards.toLocaleString('en')} hazards` })

  const campaigns = campaignRepository(sql)
  const campaign = await campaigns.current()
  const day = campaigns.referenceDate(campaign)

  // A town-sized box (about 5 x 5 km) over the dense south-east streets.
  const bbox: [number, number, number, number] = [119.955, 31.82, 120.008, 31.865]
  const repo = premisesRepository(sql)
  await repeat('premises in a town-sized bbox (GeoJSON rows)', () => repo.points(wholeDistrict, { bbox }, day, 100_000),
    r => `${(r as { numberReturned: number }).numberReturned.toLocaleString('en')} premises`)

  const stats = statsRepository(sql)
  await repeat('stats summary (district + 10 towns)', () => stats.summary(campaign, day, wholeDistrict),
    r => `as of ${day}, ${(r as { district: { counts: { hazardsFound: number } } }).district.counts.hazardsFound.toLocaleString('en')} hazards counted`)
  await repeat('stats summary on a past report day', () => stats.summary(campaign, '2020-06-29', wholeDistrict), () => 'as of 2020-06-29')
}
finally {
  await db.close()
  if (!values.keep) {
    const a = await openDatabase({ url: withDb('postgres'), max: 1 })
    await a.sql.unsafe(`drop database if exists "${name}" with (force)`)
    await a.close()
  }
}

const [version] = await (async () => {
  const a = await openDatabase({ url: withDb('postgres'), max: 1 })
  const r = await a.sql<{ v: string }[]>`select version() as v`
  await a.close()
  return r.map(x => x.v)
})()
console.log(`\nBenchmark at ${premises.toLocaleString('en')} premises on ${version?.split(',')[0]}, ${runs} runs each\n`)
const w = [Math.max(...rows.map(r => r.measure.length)), Math.max(...rows.map(r => r.value.length))]
console.log(`| ${'measure'.padEnd(w[0]!)} | ${'time'.padEnd(w[1]!)} | note`)
console.log(`|${'-'.repeat(w[0]! + 2)}|${'-'.repeat(w[1]! + 2)}|------`)
for (const r of rows) console.log(`| ${r.measure.padEnd(w[0]!)} | ${r.value.padEnd(w[1]!)} | ${r.note}`)
