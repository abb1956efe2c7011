import postgres from 'postgres'
import { dbscanLonLat } from '../server/domain/dbscan.js'
import { clusterPoints } from '../server/domain/clustering.js'
const sql = postgres(process.env.DATABASE_URL!, { transform: postgres.camel }) as any
const t = () => performance.now()
let s = t()
const pts = await sql`select st_x(p.geom) as lon, st_y(p.geom) as lat from premises p where is_group_rental_candidate(p.kind, p.meets_rule) and p.deregistered_on is null order by p.id`
console.log('sql 2 cols', pts.length, (t() - s).toFixed(0))
s = t()
const raw = await sql`select st_x(p.geom) as lon, st_y(p.geom) as lat from premises p where is_group_rental_candidate(p.kind, p.meets_rule) and p.deregistered_on is null order by p.id`.values()
console.log('sql 2 cols values()', raw.length, (t() - s).toFixed(0))
const places = await sql`select st_x(geom) as lon, st_y(geom) as lat from poi where kind in ('campus','factory','urban_village') order by id`
const lons = Float64Array.from(pts, (p: any) => p.lon), lats = Float64Array.from(pts, (p: any) => p.lat)
for (let i = 0; i < 3; i++) {
  s = t(); const l = dbscanLonLat(lons, lats, 150, 8); const d = t() - s
  s = t(); clusterPoints({ lons, lats, eps: 150, minPoints: 8, placeLons: Float64Array.from(places, (p: any) => p.lon), placeLats: Float64Array.from(places, (p: any) => p.lat) })
  console.log('dbscan', d.toFixed(0), 'clusterPoints', (t() - s).toFixed(0), new Set(l).size)
}
await sql.end()
