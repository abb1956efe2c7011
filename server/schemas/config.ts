import { type Static, Type } from 'typebox'

/** The basemap the web app draws under our layers (GET /api/config). */
export const BasemapSchema = Type.Object({
  type: Type.Union([Type.Literal('none'), Type.Literal('raster'), Type.Literal('pmtiles'), Type.Literal('vector-pmtiles'), Type.Literal('streets')], {
    description: 'raster: an XYZ tile service; pmtiles / vector-pmtiles: a PMTiles file of raster / vector tiles; streets: the demo district\'s street map',
  }),
  url: Type.Union([Type.String(), Type.Null()]),
  attribution: Type.Union([Type.String(), Type.Null()]),
  glyphs: Type.String({ description: 'Glyph URL template (ours) for the map\'s Latin labels; Chinese is drawn with local fonts' }),
})
export type BasemapAnswer = Static<typeof BasemapSchema>
