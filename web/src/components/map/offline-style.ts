import type { StyleSpecification } from 'maplibre-gl'

/**
 * The base style: a plain background of the theme's colour and nothing fetched from anywhere. Our
 * own areas are added as GeoJSON layers; labels are HTML markers, so no glyph server is needed either.
 * The colour is the theme's from the start: changed after the style has loaded, it fades for 300 ms,
 * drawing a frame each time while the first tiles are still being cut.
 */
export function offlineStyle(background: string): StyleSpecification {
  return {
    version: 8,
    sources: {},
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': background } },
    ],
  }
}

/** The Yangtze north of the district, drawn for orientation (approximate, decorative). */
export const riverPolygon: GeoJSON.Feature<GeoJSON.Polygon> = {
  type: 'Feature',
  properties: {},
  geometry: {
    type: 'Polygon',
    coordinates: [[
      [119.70, 32.020], [119.785, 32.021], [119.805, 32.036], [119.830, 32.044], [119.860, 32.046], [119.890, 32.042],
      [119.915, 32.048], [119.940, 32.052], [119.965, 32.046], [119.990, 32.034], [120.008, 32.018], [120.03, 32.005],
      [120.10, 31.99], [120.10, 32.08], [119.70, 32.08], [119.70, 32.020],
    ]],
  },
}
