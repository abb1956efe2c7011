import { type Static, Type } from 'typebox'
import { HazardSchema } from './inspection.js'
import { PremisesDetailSchema } from './people.js'

/** West, south, east, north in WGS-84 degrees. */
const Box = Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()])

/**
 * What an inspector takes out for a day without network: the premises of the area around their
 * open visits (each as GET /api/premises/:id answers it) and their hazards with their histories
 * (as GET /api/premises/:id/hazards). The phone adds the dictionary, its visits and the tiles.
 */
export const OfflinePackageSchema = Type.Object({
  generatedAt: Type.String({ description: 'ISO time the package was made' }),
  bbox: Type.Union([Box, Type.Null()], { description: 'The area: the open visits\' premises with a margin of about 300 m (null: no open visit)' }),
  openTasks: Type.Integer({ minimum: 0 }),
  premises: Type.Array(PremisesDetailSchema),
  hazards: Type.Array(HazardSchema),
  truncated: Type.Boolean({ description: 'The area holds more premises than a package takes (5,000): the nearest to the visits are the ones left out last' }),
  tiles: Type.Object({
    minZoom: Type.Integer(), maxZoom: Type.Integer(),
  }, { description: 'The zoom levels of the premises tiles to download over bbox (/api/tiles/premises/{z}/{x}/{y}.mvt)' }),
})
export type OfflinePackage = Static<typeof OfflinePackageSchema>

/** The street map's tiles over my jurisdiction, for the phone to keep (GET /api/offline/basemap). */
export const OfflineBasemapSchema = Type.Object({
  minZoom: Type.Integer(),
  maxZoom: Type.Integer(),
  tiles: Type.Array(Type.Tuple([Type.Integer(), Type.Integer(), Type.Integer()]), { description: 'z, x, y of each tile at /basemap/tiles/{z}/{x}/{y}.mvt' }),
  bytes: Type.Integer({ minimum: 0, description: 'Their total size as sent gzip-encoded' }),
})
export type OfflineBasemap = Static<typeof OfflineBasemapSchema>
