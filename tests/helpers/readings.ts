import type { FastifyInstance } from 'fastify'
import { expect } from 'vitest'
import type { Sql } from '../../server/db/index.js'
import type { ReadingJobState } from '../../server/plugins/app/readings.js'

/** Metres east and north of a point, as degrees (good enough within a few kilometres at 32° N). */
export function shifted([lon, lat]: [number, number], east: number, north: number): [number, number] {
  return [lon + east / (111_320 * Math.cos((lat * Math.PI) / 180)), lat + north / 110_540]
}

/** A point inside the town with no premises within `clear` metres, to build cases on without the demo's premises in the way. */
export async function emptySpot(sql: Sql, townId: number, clear = 300): Promise<[number, number]> {
  const [p] = await sql<{ lon: number; lat: number }[]>`
    with t as (select geom from admin_area where id = ${townId}),
    g as (
      select st_setsrid(st_makepoint(x, y), 4326) as pt
      from t, generate_series(st_xmin(t.geom)::numeric, st_xmax(t.geom)::numeric, 0.002) x, generate_series(st_ymin(t.geom)::numeric, st_ymax(t.geom)::numeric, 0.002) y
    )
    select st_x(g.pt) as lon, st_y(g.pt) as lat from g, t
    where st_contains(t.geom, st_buffer(g.pt::geography, ${clear})::geometry)
      and not exists (select 1 from premises p where st_dwithin(p.geom::geography, g.pt::geography, ${clear}))
    order by st_x(g.pt), st_y(g.pt) limit 1`
  if (!p) throw new Error(`no spot in town ${townId} is ${clear} m clear of premises`)
  return [p.lon, p.lat]
}

/** Uploads a readings file as the user, answering the job (201 expected). */
export async function uploadReadings(app: FastifyInstance, cookie: string, utility: string, body: string | Buffer, fileName = 'r.csv'): Promise<ReadingJobState> {
  const res = await app.inject({ method: 'POST', url: `/api/readings?utility=${utility}&fileName=${fileName}`, headers: { cookie, 'content-type': 'text/csv' }, payload: body })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

/** Runs a dry run or commit and waits for it to finish. */
export async function runReadings(app: FastifyInstance, cookie: string, id: string, action: 'dry-run' | 'commit', payload: Record<string, unknown>): Promise<ReadingJobState> {
  const res = await app.inject({ method: 'POST', url: `/api/readings/${id}/${action}`, headers: { cookie }, payload })
  expect(res.statusCode, res.body).toBe(202)
  const done = await app.readings.settled(id)
  return done!
}

/** A CSV text from rows (the first is the headings), with CRLF line ends as Excel writes them. */
export const csv = (rows: (string | number)[][]) => `${rows.map(r => r.join(',')).join('\r\n')}\r\n`
