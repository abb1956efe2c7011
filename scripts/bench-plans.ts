/**
 * `npm run bench -- --plans-only`: the prepared-plan cliff. The driver prepares every statement; from
 * the sixth execution on one connection PostgreSQL may switch to a generic plan, made without the
 * parameters' values, which for a box, a town or a day can be far slower than the plans before it.
 * Each read query of the map and the dashboard runs 8 times on one connection, with the server's
 * default plan cache (`auto`), with the app's (`force_custom_plan`, server/db/index.ts) and with one
 * plan kept (`force_generic_plan`, db.planned's, which the key-area preview runs on): the table gives
 * runs 1-5 against runs 6-8, and flags a query whose later runs are more than twice as slow.
 */
import { type Database, openDatabase } from '../server/db/index.js'
import { type Jurisdiction, wholeDistrict } from '../server/domain/access.js'
import { campaignRepository } from '../server/plugins/app/campaign.js'
import { keyAreasRepository } from '../server/plugins/app/key-areas.js'
import { premisesRepository } from '../server/plugins/app/premises.js'
import { reportsRepository } from '../server/plugins/app/reports.js'
import { statsRepository } from '../server/plugins/app/stats.js'
import { type TileRequest, tilesRepository } from '../server/plugins/app/tiles.js'

interface Row { measure: string; value: string; note: string }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** The queries, each a function of the connection it runs on; varied arguments, as users send them. */
async function queries(db: Database): Promise<[string, (i: number) => Promise<unknown>][]> {
  const sql = db.sql
  const campaigns = campaignRepository(sql)
  const campaign = await campaigns.current()
  const day = campaigns.referenceDate(campaign)
  const premises = premisesRepository(sql)
  const stats = statsRepository(sql)
  const keyAreas = keyAreasRepository(sql)
  const reports = reportsRepository(sql)
  const tiles = tilesRepository(db)
  const towns = await sql<{ id: number }[]>`select id from admin_area where level = 'town' and valid_to is null order by code`
  const points = await sql<{ lon: number; lat: number }[]>`select st_x(geom) as lon, st_y(geom) as lat from premises order by id limit 8`
  const town = (i: number): Jurisdiction => ({ kind: 'town', id: towns[i % towns.length]!.id })
  const box = (i: number, d: number): [number, number, number, number] => {
    const p = points[i % points.length]!
    return [p.lon - d, p.lat - d, p.lon + d, p.lat + d]
  }
  const tileAt = (i: number, z: number) => {
    const p = points[i % points.length]!
    const n = 2 ** z
    const x = Math.floor(((p.lon + 180) / 360) * n)
    const r = (p.lat * Math.PI) / 180
    const y = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)
    return { z, x, y, scope: wholeDistrict, filter: {}, on: day }
  }
  const encode = (t: TileRequest) => db.mvt ? tiles.encodeInDatabase(t) : tiles.encodeInNode(t)
  const square = (i: number) => {
    const [a, b, c, d] = box(i, 0.005)
    return { type: 'Polygon', coordinates: [[[a, b], [c, b], [c, d], [a, d], [a, b]]] }
  }
  return [
    ['premises GeoJSON of a bbox', i => premises.pointsJson(wholeDistrict, { bbox: box(i, 0.01 + (i % 3) * 0.01) }, day, 10_000)],
    ['legend counts of a town', i => premises.counts(town(i), { kinds: ['group_rental'] }, day)],
    ['stats summary of a town', i => stats.summary(campaign, day, town(i))],
    ['stats series of a town', i => stats.series(campaign, day, town(i))],
    ['tile z10 (pre-grouped cells)', i => encode(tileAt(i, 10))],
    ['tile z13 (pre-grouped cells)', i => encode(tileAt(i, 13))],
    ['tile z15 (points)', i => encode(tileAt(i, 15))],
    ['tile z12, hazard-category filter (cells by category)', i => encode({ ...tileAt(i, 12), filter: { categories: ['fire'] }, categoriesFound: true })],
    // As on a day before some categories were first found, which the cells by category do not serve.
    ['tile z12, hazard-category filter (grouped from points)', i => encode({ ...tileAt(i, 12), filter: { categories: ['fire'] } })],
    ['key-area preview counts (~1 km²)', async (i) => {
      const checked = await keyAreas.check(square(i), { jurisdiction: wholeDistrict, drafts: true, people: true })
      return keyAreas.counts(checked.geojson!, wholeDistrict, day)
    }],
    // As the route runs it: one statement, on connections that keep one plan (db.planned).
    ['key-area preview, one statement (~1 km²)', i => keyAreas.preview(square(i), { jurisdiction: wholeDistrict, drafts: true, people: true }, {}, day)],
    ['attachment 5 of a town', i => reports.table('attachment-5', campaign, reports.latestReportDay(campaign, day), town(i))],
  ]
}

/** Runs 1-5 and 6-8 of every query with each plan cache mode, on a connection of its own. */
export async function benchPlans(url: string): Promise<Row[]> {
  const rows: Row[] = []
  const results = new Map<string, Record<string, [number, number]>>()
  for (const mode of ['auto', 'force_custom_plan', 'force_generic_plan']) {
    const db = await openDatabase({ url, max: 1 })
    try {
      await db.sql.unsafe(`set plan_cache_mode = ${mode}`)
      for (const [label, run] of await queries(db)) {
        const ms: number[] = []
        for (let i = 0; i < 8; i++) {
          const t0 = performance.now()
          await run(i)
          ms.push(performance.now() - t0)
        }
        results.set(label, { ...results.get(label), [mode]: [median(ms.slice(0, 5)), median(ms.slice(5))] })
      }
    }
    finally {
      await db.close()
    }
  }
  for (const [label, r] of results) {
    const [early, late] = r.auto!
    const [, forced] = r.force_custom_plan!
    const [, generic] = r.force_generic_plan!
    rows.push({
      measure: `plans: ${label}, runs 1-5 / 6-8 (auto) / 6-8 (custom) / 6-8 (generic)`,
      value: `${early.toFixed(1)} / ${late.toFixed(1)} / ${forced.toFixed(1)} / ${generic.toFixed(1)} ms`,
      note: late > 2 * early && late - early > 5 ? 'CLIFF: a generic plan from the 6th run' : '',
    })
  }
  return rows
}
