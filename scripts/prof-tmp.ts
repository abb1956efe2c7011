import postgres from 'postgres'
import { analysisRepository } from '../server/plugins/app/analysis.js'
import { clusterPoints } from '../server/domain/clustering.js'
const url = process.env.DATABASE_URL!
const sql = postgres(url, { transform: postgres.camel, max: 4 }) as any
const [camp] = await (postgres(process.env.DATABASE_URL!) as any)`select ends_on::text as e from campaign order by id limit 1`; const day = process.argv[2] ?? camp.e
import { wholeDistrict as scope } from '../server/domain/access.js'
const t = () => performance.now()
let s = t()
const pts = await sql`select p.id, p.id as premises_id, st_x(p.geom) as lon, st_y(p.geom) as lat, p.open_major_count > 0 as major, p.town_id, true as group_rental, p.open_count, p.open_major_count, p.occupants from premises p where (is_group_rental_candidate(p.kind, p.meets_rule) and p.found_on <= ${day} and (p.deregistered_on is null or p.deregistered_on > ${day})) order by p.id`
console.log('sql rows', pts.length, (t() - s).toFixed(0), 'ms')
s = t()
const r = clusterPoints({ lons: Float64Array.from(pts, (p: any) => p.lon), lats: Float64Array.from(pts, (p: any) => p.lat), eps: 150, minPoints: 8, placeLons: new Float64Array([119.9]), placeLats: new Float64Array([31.9]) })
console.log('clusterPoints', (t() - s).toFixed(0), 'ms', r.hulls.length, 'clusters')
const a = analysisRepository(sql)
for (const of of ['group-rentals', 'open-hazards'] as const) for (let i = 0; i < 2; i++) {
  s = t()
  const c = await a.clusters(scope, {}, day, of, 150, 8)
  console.log('clusters', of, (t() - s).toFixed(0), 'ms', c.features.length, c.parameters.points)
}
for (let i = 0; i < 2; i++) {
  s = t()
  const rr = await a.rings(scope, {}, day, ['campus', 'factory', 'urban_village'], [300, 500, 1000])
  console.log('rings', (t() - s).toFixed(0), 'ms', rr.features.length)
}
await sql.end()
process.exit(0)
