import { gzipSync } from 'node:zlib'
import { GeoJSONVT, type GeoJSONVTFeature, type GeoJSONVTTile } from '@maplibre/geojson-vt'
import { fromGeojsonVt } from '@maplibre/vt-pbf'
import { tileRange } from '../domain/tiles.js'
import { type StreetFeature, streetLayers } from './streets.js'

/** The zooms the street map is cut into; the map overzooms the deepest past it. */
export const streetTileZooms = { min: 10, max: 16 } as const

export interface EncodedTile {
  z: number
  x: number
  y: number
  /** A gzip-compressed Mapbox vector tile. */
  data: Buffer
}

const extent = 4096

/** The tags a tile carries: minzoom only chose the tiles a feature enters. */
function withoutMinzoom(tags: Record<string, unknown> | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(tags ?? {}).filter(([k]) => k !== 'minzoom'))
}

/**
 * Cuts the street map into gzip-compressed vector tiles, zoom 10 to 16, leaving out the tiles with
 * nothing in them. Each layer is its own tile index; a feature enters a tile from its minzoom on.
 */
export function streetTiles(features: StreetFeature[]): EncodedTile[] {
  const indexes = streetLayers.map((layer) => {
    const collection: GeoJSON.FeatureCollection = {
      type: 'FeatureCollection',
      features: features.filter(f => f.properties.layer === layer).map(f => ({
        ...f,
        properties: Object.fromEntries(Object.entries({ class: f.properties.class, name: f.properties.name, name_en: f.properties.nameEn, minzoom: f.properties.minzoom }).filter(([, v]) => v !== null)),
      })),
    }
    return [layer, new GeoJSONVT(collection, { maxZoom: streetTileZooms.max, indexMaxZoom: 5, extent, buffer: 64, tolerance: 2 })] as const
  })
  const bounds = features.reduce((b, f) => {
    const rings = f.geometry.type === 'Polygon' ? f.geometry.coordinates : [f.geometry.coordinates]
    for (const ring of rings) for (const [x, y] of ring) b = [Math.min(b[0], x!), Math.min(b[1], y!), Math.max(b[2], x!), Math.max(b[3], y!)]
    return b
  }, [Infinity, Infinity, -Infinity, -Infinity] as [number, number, number, number])

  const out: EncodedTile[] = []
  for (let z = streetTileZooms.min; z <= streetTileZooms.max; z++) {
    const { x0, y0, x1, y1 } = tileRange(bounds, z)
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) {
        const layers: Record<string, GeoJSONVTTile> = {}
        for (const [layer, index] of indexes) {
          const tile = index.getTile(z, x, y)
          const kept = tile?.features.filter((f: GeoJSONVTFeature) => Number(f.tags?.minzoom ?? 0) <= z) ?? []
          if (kept.length > 0) layers[layer] = { ...tile!, features: kept.map((f: GeoJSONVTFeature) => ({ ...f, tags: withoutMinzoom(f.tags) })) }
        }
        if (Object.keys(layers).length === 0) continue
        out.push({ z, x, y, data: gzipSync(fromGeojsonVt(layers, { version: 2, extent }), { level: 6 }) })
      }
    }
  }
  return out
}
