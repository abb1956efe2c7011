import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import { inJurisdiction } from '../../db/scope.js'
import { keyAreaNameFor, keyAreaScope, type KeyAreaViewer } from './key-areas-scope.js'
import { statusSql } from './premises.js'

/**
 * The feature collections of the OGC API (routes/ogc): premises (no personal data), key areas,
 * areas and points of interest, a page at a time, for the viewer who asks.
 */

/** One page of a collection's features, as (id, geometry as GeoJSON text, properties), and how many match. */
export interface FeaturePage {
  rows: { id: number; geometry: string; properties: Record<string, unknown> }[]
  matched: number
}

/** Which features of a collection: inside a box, one by id, a page of them, statuses judged on a day. */
export interface FeatureQuery {
  bbox?: [number, number, number, number]
  limit: number
  offset: number
  id?: number
  on: string
}

interface Collection {
  id: string
  title: string
  description: string
  items: (db: Sql | Tx, viewer: KeyAreaViewer, q: FeatureQuery) => Promise<FeaturePage>
}

/** What the service says of a collection. */
export type CollectionInfo = Omit<Collection, 'items'>

const envelope = (sql: Sql | Tx, b: [number, number, number, number] | undefined, column: string) =>
  (b ? sql`${sql(column)} && st_makeenvelope(${b[0]}, ${b[1]}, ${b[2]}, ${b[3]}, 4326) and st_intersects(${sql(column)}, st_makeenvelope(${b[0]}, ${b[1]}, ${b[2]}, ${b[3]}, 4326))` : sql`true`)
const byId = (sql: Sql | Tx, id: number | undefined, column: string) => (id === undefined ? sql`true` : sql`${sql(column)} = ${id}`)

async function page<T extends { id: number; geometry: string }>(count: () => Promise<{ n: number }[]>, rows: () => Promise<T[]>): Promise<FeaturePage> {
  const [r, [c]] = await Promise.all([rows(), count()])
  return { rows: r.map(({ id, geometry, ...properties }) => ({ id, geometry, properties })), matched: c!.n }
}

/** The collections, in the order the service lists them. */
const collections: Collection[] = [
  {
    id: 'premises',
    title: '场所 Premises',
    description: 'Every premises where people live together, with its kind and hazard status on the campaign\'s reference day. No personal data: no address, owner, landlord or resident.',
    items: (sql, viewer, q) => {
      const where = sql`${inJurisdiction(sql, viewer.jurisdiction)} and ${envelope(sql, q.bbox, 'p.geom')} and ${byId(sql, q.id, 'p.id')}`
      return page(() => sql<{ n: number }[]>`select count(*)::int as n from premises p where ${where}`, () => sql<{ id: number; geometry: string }[]>`
        select p.id, st_asgeojson(p.geom, 7) as geometry, p.kind, ${statusSql(sql, q.on)} as status, p.town_id, p.community_id,
               p.police_station_id, p.rooms_let, p.beds_let, p.occupants, p.meets_rule, p.found_on, p.registered_on, p.deregistered_on,
               p.hazard_count, p.open_count, p.open_major_count
        from premises p where ${where} order by p.id limit ${q.limit} offset ${q.offset}`)
    },
  },
  {
    id: 'key-areas',
    title: '重点地区 Key areas',
    description: 'Key areas listed for targeted remediation, with their status, listing date and deadline (drafts only for the commanders who may list them).',
    items: async (sql, viewer, q) => {
      const where = sql`k.deleted_at is null and ${keyAreaScope(sql, viewer)} and ${envelope(sql, q.bbox, 'k.geom')} and ${byId(sql, q.id, 'k.id')}`
      const rows = await sql<{ id: number; geometry: string; nameZh: string; nameEn: string | null }[]>`
        select k.id, st_asgeojson(k.geom, 7) as geometry, k.name_zh, k.name_en, k.town_id, k.police_station_id, k.status,
               k.listed_on, k.deadline, k.cleared_on
        from key_area k where ${where} order by k.id limit ${q.limit} offset ${q.offset}`
      return page(() => sql<{ n: number }[]>`select count(*)::int as n from key_area k where ${where}`,
        async () => rows.map(r => ({ ...r, nameZh: keyAreaNameFor(viewer, r.nameZh), nameEn: keyAreaNameFor(viewer, r.nameEn) })))
    },
  },
  {
    id: 'areas',
    title: '行政区划 Areas',
    description: 'The district, its towns and streets, communities and villages, and grid cells, as they are now.',
    items: (sql, _scope, q) => {
      const where = sql`a.valid_to is null and ${envelope(sql, q.bbox, 'a.geom')} and ${byId(sql, q.id, 'a.id')}`
      return page(() => sql<{ n: number }[]>`select count(*)::int as n from admin_area a where ${where}`, () => sql<{ id: number; geometry: string }[]>`
        select a.id, st_asgeojson(a.geom, 7) as geometry, a.level, a.subkind, a.code, a.parent_id, a.name_zh, a.name_en
        from admin_area a where ${where} order by a.id limit ${q.limit} offset ${q.offset}`)
    },
  },
  {
    id: 'pois',
    title: '重点部位 Points of interest',
    description: 'Campuses, labour-intensive enterprises, urban villages, urban-rural fringe, resettlement estates and underground spaces.',
    items: (sql, _scope, q) => {
      const where = sql`${envelope(sql, q.bbox, 'o.geom')} and ${byId(sql, q.id, 'o.id')}`
      return page(() => sql<{ n: number }[]>`select count(*)::int as n from poi o where ${where}`, () => sql<{ id: number; geometry: string }[]>`
        select o.id, st_asgeojson(o.geom, 7) as geometry, o.kind, o.name_zh, o.name_en, o.town_id
        from poi o where ${where} order by o.id limit ${q.limit} offset ${q.offset}`)
    },
  },
]

export function ogcRepository(sql: Sql) {
  let extent: number[] | null = null
  return {
    /** A collection's description by id, or undefined. */
    collection: (id: string): CollectionInfo | undefined => {
      const c = collections.find(x => x.id === id)
      return c && { id: c.id, title: c.title, description: c.description }
    },

    /** Every collection's description. */
    collections: (): CollectionInfo[] => collections.map(({ id, title, description }) => ({ id, title, description })),

    /** A page of a collection's features as the viewer may see them. */
    async items(collectionId: string, viewer: KeyAreaViewer, q: FeatureQuery, db: Sql | Tx = sql): Promise<FeaturePage> {
      const c = collections.find(x => x.id === collectionId)
      if (!c) throw new Error(`there is no collection "${collectionId}"`)
      return c.items(db, viewer, q)
    },

    /** The district's bounding box [x0, y0, x1, y1], read once (the whole earth while there is no district). */
    async districtExtent(db: Sql | Tx = sql): Promise<number[]> {
      if (!extent) {
        const [e] = await db<{ x0: number; y0: number; x1: number; y1: number }[]>`
          select st_xmin(b) as x0, st_ymin(b) as y0, st_xmax(b) as x1, st_ymax(b) as y1
          from (select st_extent(geom)::box2d as b from admin_area where level = 'district' and valid_to is null) s`
        extent = e?.x0 === null || e?.x0 === undefined ? [-180, -90, 180, 90] : [e.x0, e.y0, e.x1, e.y1]
      }
      return extent
    },
  }
}

export type OgcRepository = ReturnType<typeof ogcRepository>

declare module 'fastify' {
  interface FastifyInstance {
    ogc: OgcRepository
  }
}

export default fp(async (app) => {
  app.decorate('ogc', ogcRepository(app.db.sql))
}, { name: 'ogc', dependencies: ['db'] })
