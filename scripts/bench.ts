/**
 * Benchmarks on real PostgreSQL + PostGIS (PGlite is 2-3x slower and not what production runs):
 *   DATABASE_URL=postgres://user@host:port/postgres npm run bench -- --premises 100000
 * Creates (and afterwards drops, unless --keep) a database of its own on that server, seeds the
 * demo district at the given size and prints a table of timings. With --load, instead of the
 * timings: the HTTP server under --connections concurrent clients for --load-seconds (bench-load.ts).
 * `--embedded` runs on a throw-away in-memory embedded database instead (for the import's stall
 * figures there). --leads-only: the leads alone (bench-leads.ts); --readings sets the rows of its
 * readings import. --escalations N: only the day's escalation of N supervision items (bench-supervision.ts);
 * --sse N: only the live stream, N open connections receiving one notice (bench-sse.ts).
 * --points-only: the premises GeoJSON of a town-sized box through HTTP, first byte and total (bench-points.ts).
 * --db NAME: another database than grd_bench_<premises> (with --reuse --keep, a copy made earlier, so
 * that two benchmarks at one size need not share a database); --leads-rewrite: with --leads-only,
 * every lead blanked before the refresh, so that the refresh writes them all.
 * --basemap-only: the street basemap and the first map paint; --shell-only: the phone app shell
 * opened offline from the service worker's cache (bench-shell.ts). Both need `npm run build`.
 */
import { createServer, request } from 'node:http'
import { gunzipSync } from 'node:zlib'
import { parseArgs } from 'node:util'
import { openDatabase, type Sql } from '../server/db/index.js'
import { migrate } from '../server/db/migrate.js'
import { campaignRepository } from '../server/plugins/app/campaign.js'
import { premisesRepository } from '../server/plugins/app/premises.js'
import { tileBounds } from '../server/plugins/app/tiles.js'
import { statsRepository } from '../server/plugins/app/stats.js'
import { wholeDistrict } from '../server/domain/access.js'
import { piiKeysFrom } from '../server/domain/pii.js'
import { seedDemo } from '../server/seed/demo.js'

const { values } = parseArgs({
  options: {
    premises: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '30' },
    keep: { type: 'boolean', default: false },
    db: { type: 'string', description: 'the database to run against instead of grd_bench_<premises>[_h<scale>] (created and seeded unless --reuse finds it; dropped at the end unless --keep)' },
    reuse: { type: 'boolean', default: false },
    tiles: { type: 'string', default: '40', description: 'sampled tiles per zoom from 13 to 16' },
    'tiles-only': { type: 'boolean', default: false },
    'hazard-scale': { type: 'string', default: '1' },
    import: { type: 'string', default: '1000000', description: 'rows of the ledger import measured last (0: none)' },
    'import-only': { type: 'boolean', default: false },
    'search-only': { type: 'boolean', default: false, description: 'only the search and near timings' },
    'offline-only': { type: 'boolean', default: false, description: 'only the offline package of a community of ~2,000 premises' },
    'basemap-only': { type: 'boolean', default: false, description: 'only the street basemap: tiles, bytes per zoom, first map paint (needs npm run build)' },
    'paints': { type: 'string', default: '5', description: 'page loads for the first map paint with the basemap' },
    'shell-only': { type: 'boolean', default: false, description: 'only the phone app shell loaded from the service worker\'s cache, offline (needs npm run build)' },
    'shell-loads': { type: 'string', default: '5', description: 'offline reloads of the phone app shell' },
    'readings': { type: 'string', default: '1000000', description: 'daily rows of the readings import in the leads benchmark (0: none; the target is 10000000)' },
    'readings-set-wise': { type: 'boolean', default: false, description: 'the leads benchmark writes its readings set-wise in SQL at any size (always above 200,000 premises)' },
    'leads-queries-only': { type: 'boolean', default: false, description: 'with --leads-only: only the leads queries and quality, on the leads as they are (no readings, no refresh)' },
    'leads-only': { type: 'boolean', default: false, description: 'only the leads: demo readings, refresh, queries, quality, readings import' },
    'skip-leads': { type: 'boolean', default: false, description: 'the whole benchmark but the leads (measured on their own with --leads-only)' },
    'leads-rewrite': { type: 'boolean', default: false, description: 'with --leads-only: every lead\'s signals and score blanked (and the leads vacuumed) before the refresh, so that it writes every lead, as new readings for everyone would' },
    'load': { type: 'boolean', default: false, description: 'only the HTTP load test' },
    'plans-only': { type: 'boolean', default: false, description: 'only the prepared-plan check: each read query 8 times on one connection' },
    'reports-only': { type: 'boolean', default: false, description: 'only the key-area preview and the biweekly tables (attachments 5 and 4)' },
    'analysis-only': { type: 'boolean', default: false, description: 'only the clusters and the rings, computed (no cache)' },
    'setup-only': { type: 'boolean', default: false, description: 'only create and seed the database (with --keep, for later runs with --reuse)' },
    'load-seconds': { type: 'string', default: '60' },
    'load-warmup': { type: 'string', default: '10', description: 'seconds of load before the measured ones' },
    'connections': { type: 'string', default: '200' },
    'think-ms': { type: 'string', default: '0', description: 'mean pause of a load connection between requests (0: closed loop)' },
    'load-writes': { type: 'string', default: '0', description: 'premises written a second during the load, scattered over the district (inspectors at work)' },
    'sse': { type: 'string', default: '0', description: 'only the live stream: this many open connections receive one notice (bench-sse.ts)' },
    'points-only': { type: 'boolean', default: false, description: 'only the premises GeoJSON of a town-sized box through HTTP: first byte and total (bench-points.ts)' },
    'escalations': { type: 'string', default: '0', description: 'only the day\'s escalation of this many open supervision items (bench-supervision.ts)' },
    embedded: { type: 'boolean', default: false },
  },
})
const embedded = values.embedded
const url = process.env.DATABASE_URL ?? ''
if (!url && !embedded) {
  console.error('npm run bench measures real PostgreSQL + PostGIS: set DATABASE_URL to a server where it may create a database (or pass --embedded).')
  process.exit(1)
}
const premises = Number(values.premises)
const runs = Number(values.runs)
const hazardScale = Number(values['hazard-scale'])
const name = values.db ?? `grd_bench_${premises}${hazardScale !== 1 ? `_h${String(hazardScale).replace('.', '_')}` : ''}`
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

let reuse = false
if (!embedded) {
  const admin = await openDatabase({ url: withDb('postgres'), max: 1 })
  const [existing] = await admin.sql`select 1 from pg_database where datname = ${name}`
  reuse = values.reuse && !!existing
  if (!reuse) {
    await admin.sql.unsafe(`drop database if exists "${name}" with (force)`)
    await admin.sql.unsafe(`create database "${name}"`)
  }
  await admin.close()
}

/** The bench's pool: its connections serve the app it builds too (benchTiles). */
const poolSize = 4
const db = embedded ? await openDatabase({}) : await openDatabase({ url: withDb(name), max: poolSize })
// Where an app the bench serves gets its own pool, as `npm start` configures it (PostgreSQL only).
const appUrl = embedded ? undefined : withDb(name)
const sql: Sql = db.sql
try {
  await migrate(sql)
  if (reuse) {
    console.log(`  reusing ${name}`)
  }
  else {
    const nodeCpu = process.cpuUsage()
    const [summary, seedMs] = await time(() => seedDemo(sql, {
      premises, seed: 20191227, keys: piiKeysFrom(Buffer.alloc(32, 1)), batch: 10_000, hazardScale,
      log: m => console.log(`  ${m}`),
    }))
    const [, analyzeMs] = await time(() => sql`analyze`)
    const used = process.cpuUsage(nodeCpu)
    const serverCpu = embedded ? null : await serverCpuSeconds(sql)
    rows.push({ measure: 'seed (premises, residents, hazards, events)', value: `${(seedMs / 1000).toFixed(1)} s`,
      note: `${summary.premises.toLocaleString('en')} premises, ${summary.residents.toLocaleString('en')} residents, ${summary.hazards.toLocaleString('en')} hazards` })
    rows.push({ measure: 'set-up: seed + analyze, wall / CPU of Node / CPU of the database', value: `${((seedMs + analyzeMs) / 1000).toFixed(1)} s`,
      note: `Node ${((used.user + used.system) / 1e6).toFixed(1)} s, database ${serverCpu === null ? 'n/a' : `${serverCpu.toFixed(1)} s`} (a busy machine stretches the wall time, not the CPU)` })
  }

  const campaigns = campaignRepository(sql)
  const campaign = await campaigns.current()
  const day = campaigns.referenceDate(campaign)

  if (values['setup-only']) {
    // Nothing to measure beyond the set-up.
  }
  else if (values.load) {
    const { benchLoad } = await import('./bench-load.js')
    rows.push(...await benchLoad(withDb(name), piiKeysFrom(Buffer.alloc(32, 1)), {
      seconds: Number(values['load-seconds']), connections: Number(values.connections), warmupSeconds: Number(values['load-warmup']),
      thinkMs: Number(values['think-ms']), writesPerSecond: Number(values['load-writes']),
    }))
  }
  else {
    if (Number(values.sse) > 0) {
      const { benchSse } = await import('./bench-sse.js')
      rows.push(...await benchSse(db, Number(values.sse)))
    }
    else if (values['points-only']) {
      const { benchPoints } = await import('./bench-points.js')
      rows.push(...await benchPoints(db, Math.min(runs, 5)))
    }
    else if (Number(values.escalations) > 0) {
      const { benchEscalations } = await import('./bench-supervision.js')
      rows.push(...await benchEscalations(sql, Number(values.escalations)))
    }
    else if (values['reports-only']) {
      await benchReports(campaign, day)
    }
    else if (values['analysis-only']) {
      await benchAnalysis(day)
    }
    else if (values['search-only']) {
      await benchSearch(day)
    }
    else if (values['plans-only']) {
      const { benchPlans } = await import('./bench-plans.js')
      rows.push(...await benchPlans(withDb(name)))
    }
    else if (values['offline-only']) {
      await benchOffline(db)
    }
    else if (values['basemap-only']) {
      const { benchBasemap } = await import('./bench-basemap.js')
      rows.push(...await benchBasemap(db, { paints: Number(values.paints), seed: 20191227, url: appUrl }))
    }
    else if (values['shell-only']) {
      const { benchPhoneShell } = await import('./bench-shell.js')
      rows.push(...await benchPhoneShell(db, { loads: Number(values['shell-loads']) }))
    }
    else if (values['leads-only']) {
      const { benchLeads } = await import('./bench-leads.js')
      rows.push(...await benchLeads(db, { seed: 20191227, runs, readingRows: Number(values.readings), backend: db.backend, setWise: values['readings-set-wise'], queriesOnly: values['leads-queries-only'], rewrite: values['leads-rewrite'] }))
    }
    else {
      if (!values['import-only']) {
        if (!values['tiles-only']) {
          await benchQueries(campaign, day)
          await benchSearch(day)
        }
        await benchTiles(db, Number(values.tiles))
        if (!values['tiles-only']) {
          await benchOffline(db)
          const { benchBasemap } = await import('./bench-basemap.js')
          rows.push(...await benchBasemap(db, { paints: Number(values.paints), seed: 20191227, url: appUrl }))
          const { benchPhoneShell } = await import('./bench-shell.js')
          rows.push(...await benchPhoneShell(db, { loads: Number(values['shell-loads']) }))
        }
      }
      if (Number(values.import) > 0 && !values['tiles-only']) await benchImport(Number(values.import))
      if (!values['tiles-only'] && !values['import-only'] && !values['skip-leads']) {
        const { benchLeads } = await import('./bench-leads.js')
        rows.push(...await benchLeads(db, { seed: 20191227, runs, readingRows: Number(values.readings), backend: db.backend, setWise: values['readings-set-wise'], queriesOnly: values['leads-queries-only'], rewrite: values['leads-rewrite'] }))
      }
    }
  }
}
finally {
  await db.close()
  if (!values.keep && !embedded) {
    const a = await openDatabase({ url: withDb('postgres'), max: 1 })
    await a.sql.unsafe(`drop database if exists "${name}" with (force)`)
    await a.close()
  }
}

/**
 * CPU seconds of the server processes serving this database now (their /proc entries when the
 * server runs on this machine; null when it does not): on a machine shared with other work, what
 * the set-up cost apart from waiting for a core.
 */
async function serverCpuSeconds(db: Sql): Promise<number | null> {
  const pids = await db<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database()`
  const { readFileSync } = await import('node:fs')
  let ticks = 0
  for (const { pid } of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
      // utime and stime, fields 14 and 15 of the line (11 and 12 after the command's name).
      ticks += Number(fields[11]) + Number(fields[12])
    }
    catch {
      return null
    }
  }
  return ticks / 100
}

async function benchQueries(campaign: Awaited<ReturnType<ReturnType<typeof campaignRepository>['current']>>, day: string) {
  // A town-sized box (about 5 x 5 km) over the dense south-east streets.
  const bbox: [number, number, number, number] = [119.955, 31.82, 120.008, 31.865]
  const repo = premisesRepository(sql)
  await repeat('premises in a town-sized bbox (GeoJSON text)', () => repo.pointsJson(wholeDistrict, { bbox }, day, 100_000),
    r => `${(JSON.parse(r as string) as { numberReturned: number }).numberReturned.toLocaleString('en')} premises`)

  const stats = statsRepository(sql)
  await repeat('stats summary (district + 10 towns)', () => stats.summary(campaign, day, wholeDistrict),
    r => `as of ${day}, ${(r as { district: { counts: { hazardsFound: number } } }).district.counts.hazardsFound.toLocaleString('en')} hazards counted`)
  await repeat('stats summary on a past report day', () => stats.summary(campaign, '2020-06-29', wholeDistrict), () => 'as of 2020-06-29')
  const [town] = await sql<{ id: number; nameEn: string }[]>`select id, name_en from admin_area where level = 'town' order by code limit 1`
  await repeat('stats summary of one town (town user)', () => stats.summary(campaign, day, { kind: 'town', id: town!.id }), () => town!.nameEn)
  await repeat('stats summary filtered to group rentals of one town', () => stats.summary(campaign, day, wholeDistrict, { kinds: ['group_rental'], towns: [town!.id] }), () => 'kind and town filters')
  await repeat('stats series (every report day)', () => stats.series(campaign, day, wholeDistrict), r => `${(r as { points: unknown[] }).points.length} report days`)
  await repeat('stats hazards by category, overdue by town and department', () => stats.hazards(day, wholeDistrict), () => '')
  await benchReports(campaign, day)
  await benchAnalysis(day)
}

/** The key-area preview and the biweekly tables (also alone: --reports-only). */
async function benchReports(campaign: Awaited<ReturnType<ReturnType<typeof campaignRepository>['current']>>, day: string) {
  // The live counts while a key area is drawn: a ~1 km² square over the densest premises.
  const { keyAreasRepository } = await import('../server/plugins/app/key-areas.js')
  const keyAreas = keyAreasRepository(sql)
  const [c] = await sql<{ lon: number; lat: number }[]>`select st_x(geom) as lon, st_y(geom) as lat from premises order by id limit 1`
  // Squares of about 1, 4 and 25 km² (a town's size) around it.
  for (const [d, km2] of [[0.005, 1], [0.01, 4], [0.025, 25]] as const) {
    const square = { type: 'Polygon', coordinates: [[[c!.lon - d, c!.lat - d], [c!.lon + d, c!.lat - d], [c!.lon + d, c!.lat + d], [c!.lon - d, c!.lat + d], [c!.lon - d, c!.lat - d]]] }
    await repeat(`key-area preview (check + counts, ~${km2} km²)`, async () => {
      const checked = await keyAreas.check(square, { jurisdiction: wholeDistrict, drafts: true, people: true })
      return keyAreas.counts(checked.geojson!, wholeDistrict, day)
    }, r => `${(r as { houses: number }).houses.toLocaleString('en')} premises inside`)
  }
  const { reportsRepository } = await import('../server/plugins/app/reports.js')
  const reports = reportsRepository(sql)
  const period = reports.latestReportDay(campaign, '2020-06-29')
  await repeat(`attachment 5 (every station, period + cumulative, ${period})`, () => reports.table('attachment-5', campaign, period, wholeDistrict),
    r => `${(r as { rows: unknown[] }).rows.length} rows`)
  const [ka] = await sql<{ id: number }[]>`select id from key_area where deleted_at is null order by id limit 1`
  if (ka) await repeat('attachment 4 (one key area)', () => reports.table('attachment-4', campaign, period, wholeDistrict, ka.id), () => `key area ${ka.id}`)
}

async function benchAnalysis(day: string) {
  const { analysisRepository } = await import('../server/plugins/app/analysis.js')
  const analysis = analysisRepository(sql)
  const clusterRuns = Math.max(3, Math.min(runs, 5))
  for (const [of, eps, minPoints] of [['group-rentals', 150, 8], ['open-hazards', 150, 8]] as const) {
    const ms: number[] = []
    let last: Awaited<ReturnType<typeof analysis.clusters>> | undefined
    for (let i = 0; i < clusterRuns; i++) {
      const [r, t] = await time(() => analysis.clusters(wholeDistrict, {}, day, of, eps, minPoints))
      ms.push(t)
      last = r
    }
    rows.push({ measure: `clusters of ${of}, whole district (eps ${eps} m, min ${minPoints}) p50 / max`, value: `${percentile(ms, 50).toFixed(0)} / ${Math.max(...ms).toFixed(0)} ms`,
      note: `${last!.parameters.points.toLocaleString('en')} points, ${last!.features.length} clusters, ${clusterRuns} runs` })
  }
  await repeat('rings: 3 kinds of place x 3 radii', () => analysis.rings(wholeDistrict, {}, day, ['campus', 'factory', 'urban_village'], [300, 500, 1000]),
    r => `${(r as { features: unknown[] }).features.length} rings`)
  const [{ hazards }] = await sql<{ hazards: number }[]>`select count(*)::int as hazards from hazard` as unknown as [{ hazards: number }]
  rows.push({ measure: 'hazards in the database', value: hazards.toLocaleString('en'), note: '' })
}

/**
 * The header's search and "premises near me", as a district-wide commander (who sees people) and a
 * town's inspector: texts sampled from the data (seeded, so runs compare), each searched once after
 * one warm-up pass over all of them.
 */
async function benchSearch(day: string) {
  const { searchRepository } = await import('../server/plugins/app/search.js')
  const { parseSearchText } = await import('../server/domain/search.js')
  const { decryptIdNumber } = await import('../server/domain/pii.js')
  const keys = piiKeysFrom(Buffer.alloc(32, 1))
  const repo = searchRepository(sql, keys)
  let seed = 4242
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from premises` as unknown as [{ n: number }]
  const step = Math.max(1, Math.floor(n / 120))
  const sample = await sql<{ address: string; lon: number; lat: number }[]>`
    select address, st_x(geom) as lon, st_y(geom) as lat from premises where id % ${step} = 0 order by id limit 120`
  /** A run of `len` Chinese characters from a sampled address. */
  const fragment = (address: string, len: number) => {
    const runs = address.match(/\p{Script=Han}+/gu)?.filter(r => [...r].length >= len) ?? []
    const run = [...runs[Math.floor(rand() * runs.length)] ?? address]
    const at = Math.floor(rand() * (run.length - len + 1))
    return run.slice(at, at + len).join('')
  }
  const addressTexts = sample.map((p, i) => fragment(p.address, 2 + (i % 3)))
  const roadNumbers = sample.slice(0, 40).map(p => /\p{Script=Han}{2}[路街道]\d+/u.exec(p.address)?.[0] ?? fragment(p.address, 3))
  const residents = await sql<{ name: string; phone: string | null; idNumberCipher: Uint8Array }[]>`
    select name, phone, id_number_cipher from resident where id % ${Math.max(1, step * 8)} = 0 order by id limit 60`
  const peopleTexts = residents.flatMap((r, i) => [
    [...r.name].slice(0, 2).join(''),
    ...(r.phone ? [r.phone.slice(0, 7)] : []),
    ...(i % 3 === 0 ? [decryptIdNumber(keys, r.idNumberCipher)] : []),
  ])
  const [town] = await sql<{ id: number }[]>`select town_id as id from premises group by 1 order by count(*) desc limit 1`
  const district = { jurisdiction: wholeDistrict, drafts: true, people: true }
  const inTown = { jurisdiction: { kind: 'town' as const, id: town!.id }, drafts: false, people: true }

  async function measure(label: string, texts: string[], viewer: typeof district, idNumber: boolean) {
    const run = (q: string) => repo.search(viewer, parseSearchText(q), 10, { idNumber })
    for (const q of texts) await run(q)
    const ms: number[] = []
    let found = 0
    for (const q of texts) {
      const [r, took] = await time(() => run(q))
      ms.push(took)
      if (r.results.length) found++
    }
    rows.push({ measure: `${label} p50 / p95`, value: `${percentile(ms, 50).toFixed(1)} / ${percentile(ms, 95).toFixed(1)} ms`,
      note: `${texts.length} texts, ${found} with results, 10 best` })
  }
  await measure('search: address fragments of 2-4 characters, district', addressTexts, district, false)
  await measure('search: road and house number, district', roadNumbers, district, false)
  await measure('search: names, phones, ID numbers (HMAC), district', peopleTexts, district, true)
  await measure('search: address fragments, one town\'s inspector', addressTexts, inTown, false)
  const ms: number[] = []
  for (const p of sample) await repo.near(district, p.lon + 0.0003, p.lat, 20, day)
  for (const p of sample) ms.push((await time(() => repo.near(district, p.lon + 0.0003, p.lat, 20, day)))[1])
  rows.push({ measure: 'premises near a point (20 nearest, metres) p50 / p95', value: `${percentile(ms, 50).toFixed(1)} / ${percentile(ms, 95).toFixed(1)} ms`, note: `${sample.length} points` })
}

/**
 * A ledger of new premises (a CSV like the template's) imported end to end: upload (read and
 * count), dry run, commit, then the same file again (every row unchanged). Runs last: the
 * premises it adds stay in a database kept with --keep.
 *
 * While the first commit runs, another user asks for GET /api/auth/me every 100 ms and a third
 * records a hazard every 100 ms: the longest wait of each is what a large import costs everybody
 * else (on the embedded database, one connection serves the whole app).
 */
async function benchImport(n: number) {
  const { buildApp } = await import('../server/app.js')
  const { hashPassword } = await import('../server/domain/passwords.js')
  const { fromWgs84 } = await import('../server/domain/coords.js')
  const [user] = await sql<{ id: number }[]>`
    insert into app_user (username, display_name, password_hash, role) values ('bench-import', 'bench', ${await hashPassword('bench-password')}, 'commander')
    on conflict (username) do update set password_hash = excluded.password_hash returning id`
  const app = await buildApp({ db, keys: piiKeysFrom(Buffer.alloc(32, 1)) })
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'bench-import', password: 'bench-password' } })
  const cookie = `grd_session=${login.cookies.find(c => c.name === 'grd_session')!.value}`
  const [target] = await sql<{ id: number }[]>`select id from premises order by id limit 1`
  // Places of existing premises (inside the district by construction), written as GCJ-02 like a phone app's.
  const places = await sql<{ lon: number; lat: number }[]>`select st_x(geom) as lon, st_y(geom) as lat from premises order by id limit 200000`
  const kinds = ['群租房', '出租房屋', '民宿', '厂企集中宿舍']
  const stamp = Date.now().toString(36)
  const lines = ['台账编号,类型,地址,经度,纬度,出租间数,出租床位数,居住人数,出租人,出租人电话,签订责任书日期,发现日期,登记日期']
  for (let i = 0; i < n; i++) {
    const p = places[i % places.length]!
    const [x, y] = fromWgs84(p.lon, p.lat, 'gcj02')
    const day = `2020-${String(1 + (i % 11)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`
    lines.push(`B${stamp}-${i},${kinds[i % 4]},新北区台账路${i}号,${x.toFixed(7)},${y.toFixed(7)},${i % 15},${i % 20},${i % 18},业主${i % 1000},1380000${String(i % 10000).padStart(4, '0')},${day},${day},${i % 3 ? day : ''}`)
  }
  const file = Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8')
  const repo = app.imports
  const who = { id: user!.id, jurisdiction: wholeDistrict }
  /**
   * Runs `work` (a commit) while the two other users poll: their longest waits while the rows are
   * checked and staged, and while they are merged, and how long the merge took.
   */
  const meanwhile = async <T>(jobId: () => string | undefined, work: () => Promise<T>) => {
    let stop = false
    const phase = (): 'staging' | 'merging' => {
      const id = jobId()
      return id && repo.state(id, who.id).phase === 'merging' ? 'merging' : 'staging'
    }
    const longest = { me: { staging: 0, merging: 0 }, hazard: { staging: 0, merging: 0 } }
    const merge = { from: 0, to: 0 }
    // Measured from when the request was due, so that a blocked event loop (the embedded database
    // runs in this process) counts too, not only a request waiting for the connection.
    const every100ms = async (what: keyof typeof longest, ask: () => Promise<unknown>) => {
      let due = performance.now()
      let during = phase()
      while (!stop) {
        await ask()
        const answered = performance.now()
        longest[what][during] = Math.max(longest[what][during], answered - due)
        due = answered + 100
        await new Promise(r => setTimeout(r, 100))
        during = phase()
      }
    }
    const others = [
      every100ms('me', () => app.inject({ url: '/api/auth/me', headers: { cookie } })),
      every100ms('hazard', () => app.inject({ method: 'POST', url: `/api/premises/${target!.id}/hazards`, headers: { cookie }, payload: { itemCode: 'FIRE-01', severity: 'general' } })),
      (async () => {
        while (!stop) {
          const now = phase()
          if (now === 'merging' && !merge.from) merge.from = performance.now()
          if (now !== 'merging' && merge.from && !merge.to) merge.to = performance.now()
          await new Promise(r => setTimeout(r, 10))
        }
      })(),
    ]
    try {
      return { result: await work(), longest, mergeMs: (merge.to || performance.now()) - merge.from }
    }
    finally {
      stop = true
      await Promise.all(others)
    }
  }
  const mapping = { ref: '台账编号', kind: '类型', address: '地址', lon: '经度', lat: '纬度', roomsLet: '出租间数', bedsLet: '出租床位数', occupants: '居住人数',
    ownerName: '出租人', ownerPhone: '出租人电话', statementSignedOn: '签订责任书日期', foundOn: '发现日期', registeredOn: '登记日期' }
  const once = async () => {
    const [job, up] = await time(() => repo.upload(who, 'premises', 'bench.csv', file))
    repo.run(job.id, who.id, false, mapping, 'gcj02')
    const [dry, dryMs] = await time(() => repo.settled(job.id))
    const { result: [done, commitMs], longest, mergeMs } = await meanwhile(() => job.id, () => {
      repo.run(job.id, who.id, true, mapping, 'gcj02')
      return time(() => repo.settled(job.id))
    })
    if (done?.status !== 'committed') throw new Error(`import did not commit: ${done?.message} ${JSON.stringify(done?.errors.slice(0, 3))}`)
    await repo.discard(job.id, who.id)
    return { up, dryMs, commitMs, dry: dry!, done: done!, longest, mergeMs }
  }
  const first = await once()
  const mb = (file.length / 1048576).toFixed(0)
  rows.push({ measure: `import ${n.toLocaleString('en')} premises rows: upload (read, count)`, value: `${(first.up / 1000).toFixed(1)} s`, note: `${mb} MB CSV, GCJ-02` })
  rows.push({ measure: '  dry run (check every row, compare)', value: `${(first.dryMs / 1000).toFixed(1)} s`, note: `${first.dry.summary?.create.toLocaleString('en')} to create` })
  const s2 = (ms: number) => (ms / 1000).toFixed(1)
  rows.push({ measure: '  commit (check and stage, then merge)', value: `${s2(first.commitMs)} s`, note: `of which the merge (one transaction) ${s2(first.mergeMs)} s` })
  rows.push({ measure: '  longest wait for /api/auth/me while staging / merging', value: `${s2(first.longest.me.staging)} / ${s2(first.longest.me.merging)} s`,
    note: `another user asking every 100 ms (${db.backend})` })
  rows.push({ measure: '  longest hazard write while staging / merging', value: `${s2(first.longest.hazard.staging)} / ${s2(first.longest.hazard.merging)} s`,
    note: `another user recording one every 100 ms (${db.backend})` })
  rows.push({ measure: '  total: upload + dry run + commit', value: `${((first.up + first.dryMs + first.commitMs) / 1000).toFixed(1)} s`, note: 'target: 1,000,000 rows in 5 min' })
  const again = await once()
  rows.push({ measure: '  the same file again: upload + dry run + commit', value: `${((again.up + again.dryMs + again.commitMs) / 1000).toFixed(1)} s`,
    note: `${again.done.summary?.unchanged.toLocaleString('en')} unchanged, ${again.done.summary?.create} created, ${again.done.summary?.update} updated` })
  await app.close()
}

/** The XYZ tile column of a longitude at a zoom (declared, not assigned: the main code above runs first). */
function tileX(lon: number, z: number): number {
  return Math.floor(((lon + 180) / 360) * 2 ** z)
}
/** The XYZ tile row of a latitude at a zoom. */
function tileY(lat: number, z: number): number {
  const r = (lat * Math.PI) / 180
  return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z)
}

/**
 * "Download for offline" as the phone does it, over HTTP on a loopback port: an inspector with
 * visits spread over the community nearest 2,000 premises downloads the package (premises and
 * hazards), the reference data and the premises tiles of its area, six requests at a time.
 */
async function benchOffline(database: typeof db) {
  const { buildApp } = await import('../server/app.js')
  const { hashPassword } = await import('../server/domain/passwords.js')
  const [community] = await database.sql<{ id: number; townId: number; n: number; name: string }[]>`
    select p.community_id as id, p.town_id, count(*)::int as n, min(c.name_zh) as name from premises p join admin_area c on c.id = p.community_id
    group by p.community_id, p.town_id order by abs(count(*) - 2000), p.community_id limit 1`
  if (!community) throw new Error('no community with premises')
  const [inspector] = await database.sql<{ id: number }[]>`
    insert into app_user (username, display_name, password_hash, role, jurisdiction_kind, jurisdiction_town_id)
    values ('bench.inspector', 'Benchmark inspector', ${await hashPassword('bench-password')}, 'inspector', 'town', ${community.townId})
    on conflict (username) do update set jurisdiction_town_id = excluded.jurisdiction_town_id returning id`
  // Visits at the community's outermost premises and a spread of others: the area is the community.
  await database.sql`update task set status = 'cancelled', closed_at = now(), closed_by_action = 'task.cancel' where assignee_id = ${inspector!.id} and status = 'open'`
  await database.sql`
    insert into task (kind, premises_id, assignee_id, assigned_by, batch_id, due_on)
    select 'revisit', id, ${inspector!.id}, ${inspector!.id}, gen_random_uuid(), current_date + 7 from (
      (select id from premises where community_id = ${community.id} order by st_x(geom) limit 1) union
      (select id from premises where community_id = ${community.id} order by st_x(geom) desc limit 1) union
      (select id from premises where community_id = ${community.id} order by st_y(geom) limit 1) union
      (select id from premises where community_id = ${community.id} order by st_y(geom) desc limit 1) union
      (select id from premises where community_id = ${community.id} and id % 97 = 0 limit 20)) v
    where not exists (select 1 from task t where t.premises_id = v.id and t.kind = 'revisit' and t.status = 'open')`
  const app = await buildApp({ db: database, keys: piiKeysFrom(Buffer.alloc(32, 1)) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as import('node:net').AddressInfo).port}`
  try {
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench.inspector', password: 'bench-password' }) })
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!
    // As a phone's browser asks: gzip accepted. The bytes counted are those on the wire.
    let wireBytes = 0
    const get = (path: string) => new Promise<Buffer>((resolve, reject) => {
      request(`${base}${path}`, { headers: { cookie, 'accept-encoding': 'gzip' } }, (res) => {
        const parts: Buffer[] = []
        res.on('data', (c: Buffer) => parts.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const raw = Buffer.concat(parts)
          wireBytes += raw.length
          if ((res.statusCode ?? 0) >= 400) return reject(new Error(`${path}: ${res.statusCode}`))
          resolve(res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw)
        })
      }).on('error', reject).end()
    })
    app.tiles.clearCache()
    const t0 = performance.now()
    const raw = await get('/api/offline/package')
    const pkg = JSON.parse(raw.toString()) as { bbox: [number, number, number, number]; premises: unknown[]; hazards: unknown[]; tiles: { minZoom: number; maxZoom: number } }
    const packageMs = performance.now() - t0
    let referenceBytes = 0
    for (const path of ['/api/areas?level=district', '/api/areas?level=town', '/api/areas?level=community', '/api/police-stations', '/api/pois',
      '/api/hazard-dictionary', '/api/campaign', '/api/config', '/api/tasks/mine?status=open', '/api/tasks/mine?status=done']) referenceBytes += (await get(path)).length
    const tiles: string[] = []
    for (let z = pkg.tiles.minZoom; z <= pkg.tiles.maxZoom; z++) {
      for (let x = tileX(pkg.bbox[0], z); x <= tileX(pkg.bbox[2], z); x++) {
        for (let y = tileY(pkg.bbox[3], z); y <= tileY(pkg.bbox[1], z); y++) tiles.push(`/api/tiles/premises/${z}/${x}/${y}.mvt`)
      }
    }
    let tileBytes = 0
    const queue = [...tiles]
    await Promise.all(Array.from({ length: 6 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) tileBytes += (await get(next)).length
    }))
    const totalMs = performance.now() - t0
    const mb = (b: number) => (b / 1048576).toFixed(1)
    rows.push({
      measure: `offline package, community of ${community.n.toLocaleString('en')} premises: size, download`,
      value: `${mb(wireBytes)} MB on the wire (${mb(raw.length + referenceBytes + tileBytes)} MB unpacked), ${(totalMs / 1000).toFixed(2)} s`,
      note: `${pkg.premises.length.toLocaleString('en')} premises and ${pkg.hazards.length.toLocaleString('en')} hazards ${mb(raw.length)} MB in ${(packageMs / 1000).toFixed(2)} s; reference ${mb(referenceBytes)} MB; ${tiles.length} tiles z${pkg.tiles.minZoom}-${pkg.tiles.maxZoom} ${mb(tileBytes)} MB (uncached); loopback, 6 at a time`,
    })
  }
  finally {
    await app.close()
  }
}

/**
 * Tiles through the HTTP route (session, filters, cache and encoding included): every tile of the
 * district at zooms 10-12 and a random sample at 13-16, uncached (cache emptied before each) and
 * cached (the same tile asked for again).
 */
async function benchTiles(database: typeof db, perZoom: number) {
  const { buildApp } = await import('../server/app.js')
  const { hashPassword } = await import('../server/domain/passwords.js')
  const { tileClient } = await import('./bench-tile-client.js')
  const [bench] = await database.sql`select id from app_user where username = 'bench'`
  if (!bench) await database.sql`insert into app_user (username, display_name, password_hash, role) values ('bench', 'Benchmark', ${await hashPassword('bench-password')}, 'leader')`
  const app = await buildApp({ db: database, keys: piiKeysFrom(Buffer.alloc(32, 1)) })
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'bench', password: 'bench-password' } })
  const cookie = `grd_session=${login.cookies.find(c => c.name === 'grd_session')!.value}`
  const [ext] = await database.sql<{ x0: number; y0: number; x1: number; y1: number }[]>`
    select st_xmin(e) as x0, st_ymin(e) as y0, st_xmax(e) as x1, st_ymax(e) as y1
    from (select st_extent(geom)::geometry as e from admin_area where level = 'district') s`
  // A seeded sample so that runs compare.
  let seed = 12345
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const sample: [number, number, number][] = []
  for (let z = 10; z <= 16; z++) {
    const [xa, xb, ya, yb] = [tileX(ext!.x0, z), tileX(ext!.x1, z), tileY(ext!.y1, z), tileY(ext!.y0, z)]
    const all: [number, number, number][] = []
    for (let x = xa; x <= xb; x++) for (let y = ya; y <= yb; y++) all.push([z, x, y])
    if (z <= 12) sample.push(...all)
    else for (let i = 0; i < perZoom; i++) sample.push(all[Math.floor(rand() * all.length)]!)
  }
  // Over loopback HTTP on one kept-alive connection, as a browser asks. Through app.inject a 128 KiB
  // tile took 1.4-3.0 ms p50 cached, where the server spends 0.15-0.25 ms: light-my-request decodes
  // every payload as UTF-8 text, a cost no client pays (0.36-0.77 ms p50 over HTTP).
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as import('node:net').AddressInfo).port
  // From a process of its own (bench-tile-client.ts), as a browser asks: in this process the
  // client's HTTP work shared the server's event loop, 0.6 ms of a zoom-16 tile's 1.6.
  const client = tileClient(`http://127.0.0.1:${port}`)
  const get = async (t: [number, number, number]) => {
    const res = await client.get(`/api/tiles/premises/${t.join('/')}.mvt`, cookie)
    if (res.status !== 200) throw new Error(`tile ${t.join('/')}: ${res.status} ${res.error}`)
    return res
  }
  // What a minimal tile server (Martin, pg_tileserv) does per tile: the path parsed, the tile's query
  // run, its bytes sent; no session, no filters, no cache. The same query as the app's, over the
  // same loopback hop from the same client process: app / minimal is the app's own work around the
  // query, app / bare (the query alone in this process) adds the HTTP hop a tile server cannot skip.
  const [day] = await database.sql<{ d: string }[]>`select ends_on::text as d from campaign order by starts_on desc limit 1`
  const tileOf = (z: number, x: number, y: number) => ({ z, x, y, scope: wholeDistrict, filter: {}, on: day!.d })
  /** The tile's query alone, as the app's repository encodes it on this backend. */
  const encode = (t: ReturnType<typeof tileOf>) => database.mvt ? app.tiles.encodeInDatabase(t) : app.tiles.encodeInNode(t)
  const minimal = createServer((req, res) => {
    const m = /^\/(\d+)\/(\d+)\/(\d+)\.mvt$/.exec(req.url ?? '')
    if (!m) return void res.writeHead(404).end()
    encode(tileOf(Number(m[1]), Number(m[2]), Number(m[3]))).then(
      data => res.writeHead(200, { 'content-type': 'application/vnd.mapbox-vector-tile', 'content-length': data.length }).end(data),
      (e: Error) => res.writeHead(500).end(e.message))
  })
  await new Promise<void>(resolve => minimal.listen(0, '127.0.0.1', resolve))
  const minimalClient = tileClient(`http://127.0.0.1:${(minimal.address() as import('node:net').AddressInfo).port}`)
  const uncached: number[] = []
  const cached: number[] = []
  /** The same tile's rows encoded by the repository alone: no HTTP, session or cache; and through the app again. */
  const bare: number[] = []
  /** The same query behind the minimal tile server, over HTTP from the client process. */
  const minimalMs: number[] = []
  const appWarm: number[] = []
  const sizes: number[] = []
  const gzipped: number[] = []
  let bytes = 0
  let maxBytes = 0
  // The server's first tile pays for its process starting (compiling the route's code, the pool's
  // connections): the first of the sample took 73 ms there and 15 ms asked again. One tile outside
  // the sample (a zoom-9 tile of the district) is asked first and not timed.
  app.tiles.clearCache()
  await get([9, sample[0]![1] >> 1, sample[0]![2] >> 1])
  await minimalClient.get(`/${[9, sample[0]![1] >> 1, sample[0]![2] >> 1].join('/')}.mvt`, '')
  for (const t of sample) {
    app.tiles.clearCache()
    const res = await get(t)
    uncached.push(res.ms)
    bytes += res.bytes
    sizes.push(res.bytes)
    maxBytes = Math.max(maxBytes, res.bytes)
    const again = await get(t)
    if (again.cache !== 'hit') throw new Error('the second request missed the cache')
    cached.push(again.ms)
    const zipped = await app.inject({ url: `/api/tiles/premises/${t.join('/')}.mvt`, headers: { cookie, 'accept-encoding': 'gzip' } })
    gzipped.push(zipped.rawPayload.length)
    // The app against the bare query and the minimal server, each uncached, on the tile's data as
    // the first request left it, in turns which goes first: whichever went first took 1.5-3 ms
    // longer at z16 (5.4 ms bare), so the app always first made the ratio 1.3-1.9 there by its order alone.
    const req = tileOf(...t)
    // Each turn's query on a connection that has read the tile's data before, as a running server's
    // pooled connections have: the tile's query once on each of the pool's connections at once. A
    // PostgreSQL backend faults in each page of the shared buffers (and of its own memory) the first
    // time it touches it, 12 µs a 4 KiB page on this machine, and the turn that drew a connection new
    // to the tile's pages paid it: one app / minimal pair of a tile then differed by 1-2 ms either way.
    await Promise.all(Array.from({ length: poolSize }, () => encode(req)))
    const bareRun = async () => bare.push((await time(() => encode(req)))[1])
    const appRun = async () => {
      app.tiles.clearCache()
      const res = await get(t)
      if (res.cache !== 'miss') throw new Error('the request against the bare query did not miss the cache')
      appWarm.push(res.ms)
    }
    const minimalRun = async () => {
      const res = await minimalClient.get(`/${t.join('/')}.mvt`, '')
      if (res.status !== 200 || res.bytes !== sizes.at(-1)) throw new Error(`the minimal server's tile ${t.join('/')}: ${res.status} ${res.error ?? `${res.bytes} bytes`}`)
      minimalMs.push(res.ms)
    }
    const turns = [appRun, minimalRun, bareRun]
    const first = appWarm.length % turns.length
    for (let k = 0; k < turns.length; k++) await turns[(k + first) % turns.length]!()
  }
  await minimalClient.close()
  await new Promise(resolve => minimal.close(resolve))
  // The map filtered by a hazard category: the district's tiles at zooms 10-12 uncached, from the
  // cells by category (migration 055) on the reference day, and from the premises on a day before
  // some categories were first found (1 June; the cells serve a day only when every premises'
  // categories were found by it). Then the legend's counts of five category filters, each asked first
  // (the counts are kept per filter after).
  for (const [asOf, note] of [['', 'the cells by category'], ['2020-06-01', 'asOf 2020-06-01: premises read, not the cells']] as const) {
    const byCategory: number[] = []
    for (const t of sample.filter(([z]) => z <= 12)) {
      app.tiles.clearCache()
      const res = await client.get(`/api/tiles/premises/${t.join('/')}.mvt?category=fire${asOf ? `&asOf=${asOf}` : ''}`, cookie)
      if (res.status !== 200) throw new Error(`tile ${t.join('/')} with a category: ${res.status} ${res.error}`)
      byCategory.push(res.ms)
    }
    rows.push({ measure: `tile uncached z10-z12 filtered by a hazard category${asOf ? ', a day in the campaign' : ''}, p50 / p95`,
      value: `${percentile(byCategory, 50).toFixed(1)} / ${percentile(byCategory, 95).toFixed(1)} ms`, note: `${byCategory.length} tiles, category=fire (${note})` })
  }
  const countsMs: number[] = []
  for (const category of ['fire', 'housing', 'public_security', 'other', 'fire,housing']) {
    const res = await client.get(`/api/premises/counts?category=${category}`, cookie)
    if (res.status !== 200) throw new Error(`counts with category=${category}: ${res.status} ${res.error}`)
    countsMs.push(res.ms)
  }
  rows.push({ measure: 'legend counts filtered by a hazard category, first of each, p50 / max', value: `${percentile(countsMs, 50).toFixed(0)} / ${Math.max(...countsMs).toFixed(0)} ms`,
    note: `${countsMs.length} filters (fire, housing, public security, other, fire + housing), the whole district` })
  // Hits as another user's map asks for tiles already made: every tile of the sample made once, then
  // asked again in turn for 5 s by a client in a process of its own (bench-load-client.ts: one
  // kept-alive connection, gzip taken, as a browser), so that the client's work is not on the
  // server's event loop. Measured above right after its own miss, a hit also pays for the miss's
  // garbage (in this process, with the client's parsing too, p95 was 2.3-3.6 ms where the server took 1.0).
  // A tile of counts made again after a write in it: read afresh (made the first time), and from its
  // cells kept (made after the write before, then again after one more), each write moving one of its
  // premises a centimetre and back. Zooms 10-13 from the stored cells, and zooms 10-12 filtered by a
  // hazard category (from the cells by category).
  const writeIn = async ([z, x, y]: [number, number, number], dx: number) => {
    const b = tileBounds(z, x, y)
    const [p] = await database.sql<{ id: number }[]>`
      select id from premises where geom_m && st_makeenvelope(${b.minx}, ${b.miny}, ${b.maxx}, ${b.maxy}, 3857) order by id limit 1`
    if (!p) return false
    await database.sql`update premises set geom = st_translate(geom, ${dx}, 0) where id = ${p.id}`
    await app.versions.refresh()
    return true
  }
  for (const [label, tiles, query] of [
    ['z10-z13', sample.filter(([z]) => z <= 13), ''],
    ['z10-z12 filtered by a hazard category', sample.filter(([z]) => z <= 12), '?category=fire'],
  ] as const) {
    const afresh: number[] = []
    const patched: number[] = []
    const patches0 = app.tiles.counts().patched
    const ask = async (t: [number, number, number]) => {
      const res = await client.get(`/api/tiles/premises/${t.join('/')}.mvt${query}`, cookie)
      if (res.status !== 200) throw new Error(`tile ${t.join('/')}${query}: ${res.status} ${res.error}`)
      return res.ms
    }
    for (const t of tiles) {
      app.tiles.clearCache()
      const first = await ask(t)
      if (!(await writeIn(t, 1e-7))) continue
      await ask(t)
      await writeIn(t, -1e-7)
      afresh.push(first)
      patched.push(await ask(t))
    }
    rows.push({ measure: `tile of counts ${label} made afresh / from its cells kept after a write, p50 / p95`, value: `${percentile(afresh, 50).toFixed(1)} / ${percentile(afresh, 95).toFixed(1)} ms -> ${percentile(patched, 50).toFixed(1)} / ${percentile(patched, 95).toFixed(1)} ms`,
      note: `${patched.length} tiles with premises, ${app.tiles.counts().patched - patches0} made from their cells, reading again those over the area written` })
  }
  for (const t of sample) await get(t)
  if ((await get(sample[0]!)).cache !== 'hit') throw new Error('a tile made for the passes of hits missed the cache')
  await client.close()
  const { loadInClient } = await import('./bench-load.js')
  const loaded = await loadInClient({
    base: `http://127.0.0.1:${port}`, connections: 1, warmupSeconds: 1, seconds: 5, timeoutMs: 10_000, thinkMs: 0,
    requests: sample.map(t => ({ endpoint: 'tile', method: 'GET', path: `/api/tiles/premises/${t.join('/')}.mvt`, cookie })),
  })
  const hits = loaded.endpoints.tile!.latencies
  if (Object.keys(loaded.endpoints.tile!.errors).length) throw new Error(`tiles on the passes of hits failed: ${JSON.stringify(loaded.endpoints.tile!.errors)}`)
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
  rows.push({ measure: 'tile uncached p50 / p95', value: `${percentile(uncached, 50).toFixed(1)} / ${percentile(uncached, 95).toFixed(1)} ms`,
    note: `${sample.length} tiles z10-z16, ${(1000 * uncached.length / sum(uncached)).toFixed(0)} tiles/s, mean ${(bytes / sample.length / 1024).toFixed(1)} KiB, max ${(maxBytes / 1024).toFixed(0)} KiB` })
  rows.push({ measure: 'tile cached p50 / p95', value: `${percentile(hits, 50).toFixed(2)} / ${percentile(hits, 95).toFixed(2)} ms`,
    note: `${hits.length} hits from another process, ${(1000 * hits.length / sum(hits)).toFixed(0)} tiles/s; right after its miss ${percentile(cached, 50).toFixed(2)} / ${percentile(cached, 95).toFixed(2)} ms` })
  for (const zs of [[10, 12], [13, 13], [14, 16]] as const) {
    const idx = sample.map((t, i) => [t, i] as const).filter(([t]) => t[0] >= zs[0] && t[0] <= zs[1]).map(([, i]) => i)
    const u = idx.map(i => uncached[i]!)
    if (!u.length) continue
    // The slowest three, to tell a dense tile from a busy moment (the app again, uncached, beside each).
    const slowest = [...idx].sort((a, b) => uncached[b]! - uncached[a]!).slice(0, 3)
      .map(i => `${sample[i]!.join('/')} ${uncached[i]!.toFixed(0)} (${appWarm[i]!.toFixed(0)}) ms`)
    rows.push({ measure: `  tile uncached z${zs[0]}${zs[1] !== zs[0] ? `-z${zs[1]}` : ''} p50 / p95`, value: `${percentile(u, 50).toFixed(1)} / ${percentile(u, 95).toFixed(1)} ms`,
      note: `${u.length} tiles; slowest ${slowest.join(', ')}` })
  }
  // What the app adds to the bare query (HTTP, session, filters, cache): each tile's ratio, whose
  // median is steadier than a ratio of medians (a zoom's tiles run from empty to dense), over all
  // zooms and per zoom, with what a phone downloads.
  const ratios = appWarm.map((a, i) => a / bare[i]!)
  const overMinimal = appWarm.map((a, i) => a / minimalMs[i]!)
  rows.push({ measure: 'tile app / bare, each tile\'s ratio, p50 / p90', value: `${percentile(ratios, 50).toFixed(2)} / ${percentile(ratios, 90).toFixed(2)}`,
    note: `${ratios.length} tiles z10-z16, each uncached through HTTP and as the repository's query alone, in turns which first` })
  rows.push({ measure: 'tile app / minimal tile server, each tile\'s ratio, p50 / p90', value: `${percentile(overMinimal, 50).toFixed(2)} / ${percentile(overMinimal, 90).toFixed(2)}`,
    note: `the same tiles and turns: the same query behind a bare node:http server (path in, bytes out), asked over the same hop` })
  for (let z = 10; z <= 16; z++) {
    const idx = sample.map((t, i) => [t, i] as const).filter(([t]) => t[0] === z).map(([, i]) => i)
    if (!idx.length) continue
    const at = (xs: number[]) => idx.map(i => xs[i]!)
    const kib = (n: number) => (n / 1024).toFixed(1)
    rows.push({
      measure: `  tile z${z}: app / bare p50 (ratio: p50 of each tile's), bytes p50 / max (gzipped p50 / max)`,
      value: `${percentile(at(appWarm), 50).toFixed(1)} / ${percentile(at(bare), 50).toFixed(1)} ms`,
      note: `ratio ${percentile(at(ratios), 50).toFixed(2)} (minimal server ${percentile(at(minimalMs), 50).toFixed(1)} ms, app / minimal ${percentile(at(overMinimal), 50).toFixed(2)}); ${kib(percentile(at(sizes), 50))} / ${kib(Math.max(...at(sizes)))} KiB (${kib(percentile(at(gzipped), 50))} / ${kib(Math.max(...at(gzipped)))} KiB), ${idx.length} tiles`,
    })
  }
  await app.close()
}

// The server's version, and its shared buffers with whether they are asked to sit in huge pages: a
// new connection faults in every page of the shared buffers it reads the first time, one 4 KiB page
// table entry at a time without them (docs/scale.md, thirty-sixth session), which the first tile a
// pool connection makes of an area pays for.
const [server] = embedded ? [{ v: 'embedded PGlite', memory: '' }] : await (async () => {
  const a = await openDatabase({ url: withDb('postgres'), max: 1 })
  const r = await a.sql<{ v: string; memory: string }[]>`
    select version() as v,
           format('shared buffers %s, huge pages %s%s', current_setting('shared_buffers'), current_setting('huge_pages'),
                  ' (' || current_setting('huge_pages_status', true) || ')') as memory`
  await a.close()
  return r
})()
console.log(`\nBenchmark at ${premises.toLocaleString('en')} premises on ${server?.v.split(',')[0]}${server?.memory ? ` (${server.memory})` : ''}, ${runs} runs each\n`)
const w = [Math.max(...rows.map(r => r.measure.length)), Math.max(...rows.map(r => r.value.length))]
console.log(`| ${'measure'.padEnd(w[0]!)} | ${'time'.padEnd(w[1]!)} | note`)
console.log(`|${'-'.repeat(w[0]! + 2)}|${'-'.repeat(w[1]! + 2)}|------`)
for (const r of rows) console.log(`| ${r.measure.padEnd(w[0]!)} | ${r.value.padEnd(w[1]!)} | ${r.note}`)
