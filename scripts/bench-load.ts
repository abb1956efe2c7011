/**
 * `npm run bench -- --load`: the application as `npm start` runs it on PostgreSQL (its pool size,
 * connect and statement time limits from the environment), listening on a loopback port, under
 * many concurrent signed-in clients for a while. The clients are a separate process
 * (bench-load-client.ts), so that they do not share the server's event loop.
 *
 * The mix is what a room of map users does: mostly vector tiles at zooms 10-16, the campaign
 * summary, the legend's counts, premises details, the live counts of a key area being drawn, and now and then a
 * town-sized bbox of premises as GeoJSON. Users of four roles and two jurisdictions (the district,
 * the town with most premises) share the load.
 */
import { fork } from 'node:child_process'
import { cpus } from 'node:os'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { buildApp } from '../server/app.js'
import { loadConfig } from '../server/lib/config.js'
import { appConnection } from '../server/db/configured.js'
import { openDatabase } from '../server/db/index.js'
import { type Jurisdiction, type Role, wholeDistrict } from '../server/domain/access.js'
import { hashPassword } from '../server/domain/passwords.js'
import type { PiiKeys } from '../server/domain/pii.js'
import { usersRepository } from '../server/plugins/app/users.js'
import type { LoadPlan, LoadRequest, LoadResult } from './bench-load-client.js'

export interface LoadOptions {
  seconds: number
  connections: number
  /** Seconds of load before the measured ones. */
  warmupSeconds: number
  /** Mean think time of a connection between an answer and its next request (0: a closed loop). */
  thinkMs: number
  /**
   * Premises written a second while the load runs, each a random one of the district, through a
   * connection of the bench's own (as inspectors' writes reach the database): every write moves the
   * data and figures versions, so cached tiles over it and the figures are made again.
   */
  writesPerSecond?: number
}

interface Row { measure: string; value: string; note: string }

/** How often each endpoint comes in the mix (out of their sum). */
const weights = { tile: 12, detail: 3, summary: 2, counts: 2, preview: 2, bbox: 1 }
type Endpoint = keyof typeof weights

/** The bench's own district-wide bbox over the dense south-east streets (about 5 x 5 km), as in its query timings. */
const townBbox = '119.955,31.82,120.008,31.865'
const password = 'bench-load-password'

/** CPU time of the whole machine so far (all cores): busy and in all, in milliseconds. */
function machineTimes(): { busy: number; all: number } {
  let busy = 0
  let all = 0
  for (const { times } of cpus()) {
    const sum = times.user + times.nice + times.sys + times.idle + times.irq
    all += sum
    busy += sum - times.idle
  }
  return { busy, all }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : Number.NaN
}

/** Runs a load plan in a process of its own (bench-load-client.ts), so that it does not share the server's event loop. */
export function loadInClient(plan: LoadPlan): Promise<LoadResult> {
  const client = fork(new URL('./bench-load-client.ts', import.meta.url), { serialization: 'advanced' })
  return new Promise<LoadResult>((resolve, reject) => {
    client.once('message', m => resolve(m as LoadResult))
    client.once('error', reject)
    client.once('exit', code => reject(new Error(`the load client stopped (exit code ${code}) without a result`)))
    client.send(plan)
  })
}

/** Seeds, signs in, loads and returns the table rows: per endpoint and overall. */
export async function benchLoad(url: string, keys: PiiKeys, opts: LoadOptions): Promise<Row[]> {
  const config = loadConfig()
  const db = await openDatabase(appConnection(config, url))
  const sql = db.sql
  const app = await buildApp({ db, keys })
  try {
    const [town] = await sql<{ id: number; nameEn: string }[]>`
      select a.id, a.name_en from premises p join admin_area a on a.id = p.town_id group by a.id, a.name_en order by count(*) desc limit 1`
    const townScope: Jurisdiction = { kind: 'town', id: town!.id }
    const people: [string, Role, Jurisdiction][] = [
      ['bench-leader', 'leader', wholeDistrict], ['bench-analyst', 'analyst', wholeDistrict],
      ['bench-commander', 'commander', townScope], ['bench-inspector', 'inspector', townScope],
    ]
    const users = usersRepository(sql)
    const passwordHash = await hashPassword(password)
    for (const [username, role, jurisdiction] of people) {
      if (await users.byUsername(username)) continue
      await sql.begin(tx => users.create(tx, { username, displayName: username, role, jurisdiction, passwordHash, createdBy: null }))
    }
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    // Two sessions per user, as two browsers would have.
    const sessions: Record<string, string[]> = {}
    for (const [username] of people) {
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })
        const cookie = res.headers.getSetCookie().find(c => c.startsWith('grd_session='))
        if (!cookie) throw new Error(`sign-in as ${username} failed: ${res.status} ${await res.text()}`)
        ;(sessions[username] ??= []).push(cookie.split(';')[0]!)
      }
    }

    // A seeded sample, so that runs compare.
    let seed = 20191227
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
    const inTown = await sql<{ id: number; lon: number; lat: number }[]>`
      select id, st_x(geom) as lon, st_y(geom) as lat from premises where town_id = ${town!.id} order by random() limit 500`
    const anywhere = await sql<{ id: number; lon: number; lat: number }[]>`
      select id, st_x(geom) as lon, st_y(geom) as lat from premises order by random() limit 2000`
    const [ext] = await sql<{ x0: number; y0: number; x1: number; y1: number }[]>`
      select st_xmin(e) as x0, st_ymin(e) as y0, st_xmax(e) as x1, st_ymax(e) as y1
      from (select st_extent(geom)::geometry as e from admin_area where level = 'district') s`
    const tileX = (lon: number, z: number) => Math.floor(((lon + 180) / 360) * 2 ** z)
    const tileY = (lat: number, z: number) => {
      const r = (lat * Math.PI) / 180
      return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z)
    }
    // The overview (every tile of the district at zooms 10-12) and zoomed-in views where premises are.
    const overview: string[] = []
    for (let z = 10; z <= 12; z++) {
      for (let x = tileX(ext!.x0, z); x <= tileX(ext!.x1, z); x++) {
        for (let y = tileY(ext!.y1, z); y <= tileY(ext!.y0, z); y++) overview.push(`${z}/${x}/${y}`)
      }
    }
    const tile = (places: typeof anywhere) => {
      if (rand() < 0.25) return pick(overview)
      const p = pick(places)
      const z = 13 + Math.floor(rand() * 4)
      return `${z}/${tileX(p.lon, z)}/${tileY(p.lat, z)}`
    }
    // About 1 km x 1.1 km around a premises of the commander's town, as one drawn on the map.
    const square = (p: { lon: number; lat: number }) => {
      const d = 0.005
      return { type: 'Polygon', coordinates: [[[p.lon - d, p.lat - d], [p.lon + d, p.lat - d], [p.lon + d, p.lat + d], [p.lon - d, p.lat + d], [p.lon - d, p.lat - d]]] }
    }
    const session = (username: string) => pick(sessions[username]!)
    const make: Record<Endpoint, () => LoadRequest> = {
      tile: () => {
        const who = pick(people)
        return { endpoint: 'tile', method: 'GET', path: `/api/tiles/premises/${tile(who[2].kind === 'town' ? inTown : anywhere)}.mvt`, cookie: session(who[0]) }
      },
      summary: () => ({ endpoint: 'summary', method: 'GET', path: '/api/stats/summary', cookie: session(pick(['bench-leader', 'bench-analyst', 'bench-commander'])) }),
      // The legend's counts as the map's filters change: all premises, a kind, a status.
      counts: () => ({ endpoint: 'counts', method: 'GET', path: `/api/premises/counts${pick(['', '?kind=group_rental', '?status=overdue', '?kind=rental,group_rental&major=true'])}`, cookie: session(pick(people)[0]) }),
      bbox: () => ({ endpoint: 'bbox', method: 'GET', path: `/api/premises?bbox=${townBbox}`, cookie: session(pick(['bench-leader', 'bench-analyst'])) }),
      preview: () => ({ endpoint: 'preview', method: 'POST', path: '/api/key-areas/preview', cookie: session('bench-commander'), body: JSON.stringify({ geometry: square(pick(inTown)) }) }),
      detail: () => {
        const who = pick(['bench-inspector', 'bench-commander', 'bench-analyst'])
        return { endpoint: 'detail', method: 'GET', path: `/api/premises/${pick(who === 'bench-analyst' ? anywhere : inTown).id}`, cookie: session(who) }
      },
    }
    const bag = (Object.entries(weights) as [Endpoint, number][]).flatMap(([e, w]) => Array.from({ length: w }, () => e))
    const requests = Array.from({ length: 5000 }, () => make[pick(bag)]())

    const plan: LoadPlan = { base, requests, connections: opts.connections, warmupSeconds: opts.warmupSeconds, seconds: opts.seconds, timeoutMs: 10_000, thinkMs: opts.thinkMs, sampleUrl: url }
    const pacing = opts.thinkMs > 0 ? `, each pausing ${opts.thinkMs} ms on average between requests` : ', each in a closed loop'
    const written = opts.writesPerSecond ? `, ${opts.writesPerSecond} premises written a second` : ''
    console.log(`  load: ${opts.connections} connections${pacing}${written}, for ${opts.warmupSeconds} s warm-up + ${opts.seconds} s against ${base} (pool ${config.databasePoolSize}, statement limit ${config.databaseStatementTimeoutMs} ms)`)
    const loop = monitorEventLoopDelay({ resolution: 10 })
    let machine0 = machineTimes()
    let cpu0 = process.cpuUsage()
    let elu0 = performance.eventLoopUtilization()
    let tiles0 = app.tiles.counts()
    // Writes scattered over the district, at a steady rate, from the start of the warm-up to the end.
    let writes = 0
    let writing = Promise.resolve()
    let writeError: unknown
    const writerDb = (opts.writesPerSecond ?? 0) > 0 ? await openDatabase({ url, max: 1 }) : undefined
    const writer = writerDb
      ? setInterval(() => {
          const { id } = pick(anywhere)
          writing = writing.then(async () => {
            // A centimetre east or west: a change the map shows, so the tiles over it are made again
            // (an update the map cannot tell from none, such as the rooms let, is no new data version).
            await writerDb.sql`update premises set geom = st_translate(geom, ${writes % 2 ? -1e-7 : 1e-7}, 0) where id = ${id}`
            writes++
          }).catch((e: unknown) => { writeError ??= e })
        }, 1000 / opts.writesPerSecond!)
      : undefined
    const running = loadInClient(plan)
    // The server process is measured over the measured seconds only.
    const measuring = setTimeout(() => {
      loop.enable()
      cpu0 = process.cpuUsage()
      elu0 = performance.eventLoopUtilization()
      machine0 = machineTimes()
      tiles0 = app.tiles.counts()
    }, opts.warmupSeconds * 1000)
    const result = await running.finally(() => {
      clearTimeout(measuring)
      clearInterval(writer)
    })
    await writing
    await writerDb?.close()
    if (writeError) throw writeError
    loop.disable()
    const pool = result.pool
    const cpu = process.cpuUsage(cpu0)
    const elu = performance.eventLoopUtilization(elu0)
    const tiles = app.tiles.counts()
    const machine = machineTimes()
    const machineBusy = (machine.busy - machine0.busy) / Math.max(1, machine.all - machine0.all)

    const rows: Row[] = []
    const all: number[] = []
    let errors = 0
    let count = 0
    const describeErrors = (e: Record<string, number>) => Object.entries(e).map(([k, n]) => `${n} x ${k}`).join(', ')
    for (const endpoint of Object.keys(weights)) {
      const r = result.endpoints[endpoint]
      if (!r) continue
      const sorted = [...r.latencies].sort((a, b) => a - b)
      all.push(...sorted)
      const n = sorted.length + Object.values(r.errors).reduce((a, b) => a + b, 0)
      const e = n - sorted.length
      errors += e
      count += n
      rows.push({
        measure: `load: ${endpoint} p50 / p99`, value: `${percentile(sorted, 50).toFixed(1)} / ${percentile(sorted, 99).toFixed(1)} ms`,
        note: `${n.toLocaleString('en')} requests, ${(n / result.seconds).toFixed(0)}/s, ${(r.bytes / Math.max(1, sorted.length) / 1024).toFixed(1)} KiB each, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms, ${e} errors${e ? ` (${describeErrors(r.errors)})` : ''}`,
      })
    }
    all.sort((a, b) => a - b)
    rows.push({
      measure: `load: all, ${opts.connections} connections${opts.thinkMs > 0 ? ` (think ${opts.thinkMs} ms)` : ''}, ${result.seconds} s, p50 / p99`, value: `${percentile(all, 50).toFixed(1)} / ${percentile(all, 99).toFixed(1)} ms`,
      note: `${count.toLocaleString('en')} requests, ${(count / result.seconds).toFixed(0)}/s, ${errors} errors; target p99 <= 500 ms, 0 errors`,
    })
    if (writer) {
      rows.push({
        measure: '  writes during the load', value: `${(writes / (opts.warmupSeconds + result.seconds)).toFixed(1)}/s`,
        note: `${writes} premises written one by one over the district, each moving the data and figures versions`,
      }, {
        measure: '  tiles made during the load', value: `${tiles.made - tiles0.made}`,
        note: `${tiles.patched - tiles0.patched} of them overview tiles made from their cells kept, reading again those over the areas changed`,
      })
    }
    rows.push({
      measure: '  server process during the load', value: `${(100 * (cpu.user + cpu.system) / 1e6 / result.seconds).toFixed(0)} % CPU`,
      note: `event loop busy ${(100 * elu.utilization).toFixed(0)} %, its delay p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms (max ${(loop.max / 1e6).toFixed(0)} ms)`,
    })
    rows.push({
      measure: '  the machine during the load', value: `${(100 * machineBusy).toFixed(0)} % busy`,
      note: `${cpus().length} cores shared by the server, PostgreSQL and the load client (${(100 * result.cpuSeconds / result.seconds).toFixed(0)} % CPU)`,
    })
    if (pool) {
      rows.push({
        measure: '  the app\'s pool during the load', value: `${pool.meanActive.toFixed(1)} of ${config.databasePoolSize} busy`,
        note: `on average over ${pool.samples} samples of pg_stat_activity; the statements holding it below`,
      })
      for (const t of pool.top) rows.push({ measure: `    ${(100 * t.share).toFixed(1)} %`, value: '', note: t.query.slice(0, 160) })
    }
    return rows
  }
  finally {
    await app.close()
    await db.close()
  }
}
