import fp from 'fastify-plugin'
import type { Sql, Tx } from '../../db/index.js'
import type { PlaceKind } from '../../domain/lists.js'

export type AreaLevel = 'district' | 'town' | 'community' | 'grid'

/** Places and dictionaries: what every screen needs to name things. Geometry comes as GeoJSON text from PostGIS. */
export function referenceRepository(sql: Sql) {
  return {
    /** Current areas of one level, optionally under one parent. */
    async areas(level: AreaLevel, parentId?: number, db: Sql | Tx = sql) {
      const rows = await db<{ id: number; code: string; level: AreaLevel; subkind: string | null; parentId: number | null; nameZh: string; nameEn: string; geometry: string; centre: string }[]>`
        select id, code, level, subkind, parent_id, name_zh, name_en,
               st_asgeojson(geom, 6) as geometry, st_asgeojson(st_pointonsurface(geom), 6) as centre
        from admin_area
        where level = ${level} and valid_to is null ${parentId === undefined ? db`` : db`and parent_id = ${parentId}`}
        order by code`
      return featureCollection(rows.map(({ geometry, centre, ...props }) => ({
        type: 'Feature' as const, id: props.id, geometry: JSON.parse(geometry), properties: { ...props, labelPoint: JSON.parse(centre).coordinates },
      })))
    },

    async area(id: number, db: Sql | Tx = sql) {
      const [row] = await db<{ id: number; level: AreaLevel }[]>`select id, level from admin_area where id = ${id}`
      return row
    },

    async policeStations(db: Sql | Tx = sql) {
      const rows = await db<{ id: number; code: string; nameZh: string; nameEn: string; geometry: string; centre: string }[]>`
        select id, code, name_zh, name_en, st_asgeojson(geom, 6) as geometry, st_asgeojson(st_pointonsurface(geom), 6) as centre
        from police_station where valid_to is null order by code`
      return featureCollection(rows.map(({ geometry, centre, ...props }) => ({
        type: 'Feature' as const, id: props.id, geometry: JSON.parse(geometry), properties: { ...props, labelPoint: JSON.parse(centre).coordinates },
      })))
    },

    async pois(kinds?: string[], db: Sql | Tx = sql) {
      const rows = await db<{ id: number; kind: PlaceKind; nameZh: string; nameEn: string; townId: number | null; geometry: string }[]>`
        select id, kind, name_zh, name_en, town_id, st_asgeojson(geom, 6) as geometry
        from poi ${kinds ? db`where kind in ${db(kinds)}` : db``} order by kind, id`
      return featureCollection(rows.map(({ geometry, ...props }) => ({
        type: 'Feature' as const, id: props.id, geometry: JSON.parse(geometry), properties: props,
      })))
    },

    async hazardDictionary(db: Sql | Tx = sql) {
      const departments = await db<{ code: string; nameZh: string; nameEn: string; remitEn: string }[]>`
        select code, name_zh, name_en, remit_en from department order by code`
      const categories = await db<{ code: string; seq: number; nameZh: string; nameEn: string; departmentCode: string }[]>`
        select code, seq, name_zh, name_en, department_code from hazard_category order by seq`
      const items = await db<{ code: string; categoryCode: string; seq: number; nameZh: string; nameEn: string; needsText: boolean; departmentCode: string }[]>`
        select i.code, i.category_code, i.seq, i.name_zh, i.name_en, i.needs_text,
               coalesce(i.department_code, c.department_code) as department_code
        from hazard_item i join hazard_category c on c.code = i.category_code
        order by c.seq, i.seq`
      return {
        departments: [...departments],
        categories: categories.map(c => ({ ...c, items: items.filter(i => i.categoryCode === c.code) })),
      }
    },
  }
}

function featureCollection<F>(features: F[]) {
  return { type: 'FeatureCollection' as const, features }
}

export type ReferenceRepository = ReturnType<typeof referenceRepository>

declare module 'fastify' {
  interface FastifyInstance {
    reference: ReferenceRepository
  }
}

export default fp(async (app) => {
  app.decorate('reference', referenceRepository(app.db.sql))
}, { name: 'reference', dependencies: ['db'] })
